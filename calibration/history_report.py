"""The folder a history matching writes (``wijkteam calibrate``, issue #18).

Beside the wave folders and ``history.json`` of :mod:`calibration.history`, the output folder gets:

    ensemble.parquet, ensemble.json   the plausible ensemble (calibration.ensemble format)
    waves.parquet / .csv              per wave and fitted target: runs, emulator scores, remaining share
    checks.parquet / .csv             held-out and consistency targets on the ensemble
    member_targets.parquet / .csv     per member and target: the simulated value and whether within
    candidates.parquet / .csv         every final candidate run, with its simulated implausibility
    marginals.png                     the ensemble's marginals against the priors (most constrained first)
    pairs.png                         pairwise projections of the most constrained parameters
    report.md, manifest.json
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kstest

from calibration.ensemble import from_values, save_ensemble
from calibration.history import HistoryResult, stored_runs
from calibration.report import SEED_RULE, write_manifest, write_table, write_text
from calibration.runs import crn_seeds
from calibration.text import markdown, size_text
from model.params import REGISTRY


def constrained(result: HistoryResult) -> pd.DataFrame:
    """Per varied parameter: how far the members' prior-unit coordinates are from uniform
    (Kolmogorov-Smirnov statistic; 0 = the prior unchanged), most constrained first."""
    params = list(result.settings.parameters)
    rows = []
    for j, name in enumerate(params):
        u = result.members[f"u_{j}"].to_numpy(float)
        rows.append(
            {
                "parameter": name,
                "ks": float(kstest(u, "uniform").statistic),
                "prior": REGISTRY[name].prior_text,
                "p5": float(np.quantile(result.members[name], 0.05)),
                "median": float(np.median(result.members[name])),
                "p95": float(np.quantile(result.members[name], 0.95)),
                "default": float(REGISTRY[name].default),
            }
        )
    return pd.DataFrame(rows).sort_values("ks", ascending=False).reset_index(drop=True)


def write_history(
    result: HistoryResult,
    out: str | Path,
    command: str,
    started: str,
    finished: str,
    extra: Mapping[str, Any],
) -> Path:
    """Write the ensemble, tables, figures, ``report.md`` and ``manifest.json`` of a history matching."""
    out = Path(out)
    s = result.settings
    params = list(s.parameters)
    fitted = sorted(set(result.wave_table["target"]))
    remaining = [w.info["remaining_share"] for w in result.waves]
    meta = {
        "method": "history matching",
        "setup": s.setup,
        "cutoff": s.cutoff,
        "discrepancy": s.discrepancy,
        "fitted_targets": fitted,
        "waves": len(result.waves),
        "remaining_share": remaining,
        "seeds": crn_seeds(s.seeds, s.base_seed),
        "created": finished,
        **{k: v for k, v in extra.items() if k in ("targets_file",)},
    }
    ens = from_values(
        result.members[params],
        implausibility=result.members["implausibility"].to_numpy(float),
        wave=len(result.waves),
        meta=meta,
    )
    save_ensemble(out, ens)
    write_table(out, "waves", result.wave_table)
    write_table(out, "checks", result.checks)
    write_table(out, "member_targets", result.member_targets)
    write_table(out, "candidates", result.candidates)
    order = constrained(result)
    write_table(out, "constrained", order)
    figures = _figures(result, out, order)
    write_text(out / "report.md", history_markdown(result, command, order, figures))
    runs = stored_runs(out)
    write_manifest(
        out,
        {
            "name": out.name,
            "kind": "calibration",
            "method": "history matching",
            "command": command,
            "status": "done",
            "started": started,
            "finished": finished,
            "elapsed_s": result.elapsed_s,
            "runs": {"total": runs["done"] + runs["failed"], **runs},
            "setup": s.setup,
            "seeds": {"rule": SEED_RULE, "list": crn_seeds(s.seeds, s.base_seed)},
            "parameters": {"varied": params, "settings": s.to_json()},
            "result": {
                "members": len(result.members),
                "candidates": len(result.candidates),
                "remaining_share": remaining,
            },
            **dict(extra),
        },
    )
    return out


def _figures(result: HistoryResult, out: Path, order: pd.DataFrame) -> list[Path]:
    from matplotlib.figure import Figure  # no pyplot state, no backend selection (as calibration.figures)

    members, cands = result.members, result.candidates
    top = list(order["parameter"][:12])
    cols = 4
    rows = math.ceil(len(top) / cols)
    fig = Figure(figsize=(3.2 * cols, 2.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, name in zip(axes.flat, top, strict=False):
        p = REGISTRY[name]
        lo, hi = p.prior_low, p.prior_high
        if p.prior == "loguniform":  # shown on log10 axes, where the prior is flat
            x, lo, hi, default = (
                np.log10(members[name]),
                math.log10(lo),
                math.log10(hi),
                math.log10(p.default),
            )
            grid = np.linspace(lo, hi, 200)
            density = np.full_like(grid, 1.0 / (hi - lo))
            title = f"log10 {name}"
        else:
            x, default = members[name], float(p.default)
            grid = np.linspace(lo, hi, 200)
            density = p.prior_dist().pdf(grid)
            title = name
        ax.hist(x, bins=np.linspace(lo, hi, 16), density=True, color="C0", alpha=0.7, label="ensemble")
        ax.plot(grid, density, color="k", lw=1, label="prior")
        ax.axvline(default, color="C3", ls="--", lw=1, label="default")
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(top) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(
        f"Plausible ensemble ({len(members)} members) against the priors: most constrained first", fontsize=9
    )
    fig.tight_layout()
    marg = out / "marginals.png"
    fig.savefig(marg, dpi=110)

    four = list(order["parameter"][:4])
    k = len(four)
    fig = Figure(figsize=(2.4 * k, 2.4 * k))
    axes = fig.subplots(k, k, squeeze=False)
    rejected = cands[~cands["accepted"]]
    for i, yname in enumerate(four):
        for j, xname in enumerate(four):
            ax = axes[i][j]
            if i == j:
                p = REGISTRY[xname]
                log = p.prior == "loguniform"
                space = np.geomspace if log else np.linspace
                ax.hist(members[xname], bins=space(p.prior_low, p.prior_high, 16), color="C0", alpha=0.7)
                if log:
                    ax.set_xscale("log")
            else:
                ax.scatter(rejected[xname], rejected[yname], s=4, color="0.75", label="ruled out by its run")
                ax.scatter(members[xname], members[yname], s=5, color="C0", label="member")
                for name, axis in ((xname, "x"), (yname, "y")):
                    if REGISTRY[name].prior == "loguniform":
                        getattr(ax, f"set_{axis}scale")("log")
            if i == k - 1:
                ax.set_xlabel(xname, fontsize=7)
            if j == 0:
                ax.set_ylabel(yname, fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle("Pairwise projections of the most constrained parameters", fontsize=9)
    fig.tight_layout()
    pairs = out / "pairs.png"
    fig.savefig(pairs, dpi=110)
    return [marg, pairs]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.3g}"
    return str(v)


def history_markdown(
    result: HistoryResult, command: str, order: pd.DataFrame, figures: Sequence[Path]
) -> str:
    """The text of ``report.md``."""
    s = result.settings
    waves = result.wave_table.copy()
    shown = ["wave", "runs", "training_points", "target", "emulator", "gp_r2", "gb_r2", "gp_rmse", "gb_rmse"]
    shown += ["gp_coverage2", "gb_coverage2", "remaining_share", "elapsed_s"]
    checks = result.checks[
        [
            "target",
            "role",
            "kpi",
            "value",
            "tolerance",
            "bound",
            "members",
            "share_within",
            "p5",
            "median",
            "p95",
        ]
    ]
    lines = [
        "# Calibration by history matching",
        "",
        f"Command: `{command}`  ",
        f"Neighbourhood: {size_text(s.setup)}; {s.seeds} seed(s) per parameter set, the same everywhere "
        f"(common random numbers); {s.replicate_points} wave-1 points also with {s.replicate_seeds} seeds to "
        "measure the replicate noise.  ",
        f"Varied: {len(s.parameters)} behaviour parameters, from their priors (docs/parameters.md).  ",
        f"Implausibility: I = |E[f(x)] - z| / sqrt(V_emulator + V_tolerance + V_discrepancy + V_replicate), "
        f"V_tolerance = (tolerance/2)², V_discrepancy = ({s.discrepancy:g} z)², the largest I over the"
        f" fitted targets below {s.cutoff:g}.  ",
        f"Runs: {result.runs_done} done, {result.runs_failed} failed; {result.elapsed_s / 60:.1f} min in"
        " this session.",
        "",
        "## Waves",
        "",
        "Emulators are compared on a held-out quarter of the points of each wave (R², RMSE, and the share "
        "of held-out points within two predicted SDs, 'coverage2'); the chosen one is then trained on all "
        "points. Gradient boosting's variance is its out-of-fold mean squared error (5-fold). "
        "'remaining_share' is the share of a fresh Latin hypercube of the priors that is non-implausible "
        "under every wave's emulators so far.",
        "",
        markdown(waves[shown], _fmt),
        "",
        "## The plausible ensemble",
        "",
        f"{len(result.members)} members of {len(result.candidates)} candidates from the final region, each "
        "run with the model and kept because its simulated implausibility is below the cutoff "
        "(`ensemble.parquet`).",
        "",
        "Most constrained parameters (Kolmogorov-Smirnov distance of the members from the prior):",
        "",
        markdown(order.head(12), _fmt),
        "",
        "## Held-out and consistency targets on the ensemble",
        "",
        "Never used to rule anything out. 'share_within': members within tolerance (or on the right "
        "side of a bound); p5, median, p95 across the members.",
        "",
        markdown(checks, _fmt),
        "",
        "## Figures",
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
    ]
    return "\n".join(lines)
