"""Global sensitivity analysis of the policy levers: Morris screening and Sobol' indices (SALib).

The pipeline, each step a function so that it can be tested on its own:

1. :func:`problem` - the SALib problem (names, bounds) from the parameter registry;
2. :func:`draw_sample` - a Morris (trajectories) or Saltelli/Sobol' sample;
3. :func:`run_sensitivity` - the sample as tasks for the batch executor (replicates with
   common random numbers, local processes or a Dask cluster, a resumable results store);
4. :func:`analyse` - a function of the results table only: replicate means per sample
   point, the noise level, SALib's indices at N/4, N/2 and N (convergence), warnings;
5. :func:`write_results` - indices as CSV/Parquet, figures and ``report.md``.

Units: Sobol' indices are shares of the output variance (0-1). Morris μ* and σ are in the
output's unit per full range of the lever (SALib's elementary effect on the unit
hypercube): "moving this lever from its low to its high bound changes the KPI by about μ*".

Stochastic noise: each sample point runs ``replicates`` times (replicate *i* has the same
seed at every point); the indices use the replicate means. The noise share of an output is
the mean within-point variance over the total variance of single runs; the noise left in
the replicate means is about that share divided by the number of replicates.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from SALib import ProblemSpec  # noqa: E402
from scipy.stats import norm  # noqa: E402

from experiments.designs import DesignError  # noqa: E402
from experiments.executor import Outcome, Runner, execute, make_tasks  # noqa: E402
from experiments.labels import effect_unit, lever_name, output_label  # noqa: E402
from experiments.store import DB_NAME, atomic_write_bytes, atomic_write_parquet, update_manifest  # noqa: E402
from model import REGISTRY, SUMMARY_FIELDS  # noqa: E402
from model.params import policy_levers, salib_problem  # noqa: E402

METHODS = ("morris", "sobol")

#: The KPIs analysed by default (DESIGN section 6): prevention, reliance, collective work,
#: cost and unmet need.
DEFAULT_OUTPUTS: tuple[str, ...] = (
    "escalations_per_1000_year",
    "caught_early_share",
    "self_reliance_mean",
    "collective_time_share",
    "cost_total_per_resident_year",
    "unmet_need_per_1000_year",
)

CONF_LEVEL = 0.95
NUM_RESAMPLES = 200


class SensitivityError(DesignError):
    """A sensitivity analysis that cannot be set up or analysed; one line for the user."""


# ---- 1. the problem and 2. the sample ----------------------------------------------------------
def resolve_params(params: str | Sequence[str] | None) -> list[str]:
    """Lever names from ``None``/``"policy"`` (all numeric policy levers) or names/"a,b,c"."""
    if params is None or params == "policy":
        return policy_levers()
    if isinstance(params, str):
        params = [p.strip() for p in params.split(",") if p.strip()]
    chosen: list[str] = []
    for name in params:
        if name == "policy":
            chosen += [n for n in policy_levers() if n not in chosen]
        elif name not in chosen:
            chosen.append(name)
    for name in chosen:
        if name in REGISTRY and REGISTRY[name].kind == "setup":
            raise SensitivityError(f"'{name}' is a setup parameter and cannot be analysed")
    if len(chosen) < 2:
        raise SensitivityError("a sensitivity analysis needs at least two parameters")
    return chosen


def resolve_outputs(outputs: str | Sequence[str] | None) -> list[str]:
    """KPI names (default :data:`DEFAULT_OUTPUTS`), checked against the summary fields."""
    if outputs is None:
        return list(DEFAULT_OUTPUTS)
    if isinstance(outputs, str):
        outputs = [o.strip() for o in outputs.split(",") if o.strip()]
    unknown = [o for o in outputs if o not in SUMMARY_FIELDS]
    if unknown:
        raise SensitivityError(
            f"unknown output {', '.join(repr(u) for u in unknown)}; choose from the summary KPIs: "
            + ", ".join(SUMMARY_FIELDS)
        )
    if not outputs:
        raise SensitivityError("no outputs to analyse")
    return list(dict.fromkeys(outputs))


def problem(params: str | Sequence[str] | None = None) -> dict[str, Any]:
    """The SALib problem dict (``num_vars``, ``names``, ``bounds``) from the registry."""
    return salib_problem(resolve_params(params))


def _spec(prob: Mapping[str, Any], outputs: Sequence[str] | None = None) -> ProblemSpec:
    spec = {"names": list(prob["names"]), "bounds": [list(b) for b in prob["bounds"]]}
    if outputs is not None:
        spec["outputs"] = list(outputs)
    return ProblemSpec(spec)


def check_n(method: str, n: int) -> None:
    """Sobol' needs N a power of two (at least 4); Morris at least 2 trajectories."""
    if method not in METHODS:
        raise SensitivityError(f"unknown method '{method}'; choose {' or '.join(METHODS)}")
    if method == "sobol" and (n < 4 or n & (n - 1)):
        raise SensitivityError(f"Sobol' analysis needs --n a power of two (4, 8, ..., 256), not {n}")
    if method == "morris" and n < 2:
        raise SensitivityError(f"Morris screening needs at least 2 trajectories, not {n}")


def draw_sample(
    method: str,
    prob: Mapping[str, Any],
    n: int,
    *,
    seed: int = 0,
    second_order: bool = False,
    num_levels: int = 4,
) -> np.ndarray:
    """The SALib sample: Morris ``n`` trajectories of D+1 rows, or Saltelli/Sobol' with
    ``n`` base rows of D+2 (2D+2 with second order) rows each, clipped to the bounds."""
    check_n(method, n)
    if method == "morris" and num_levels < 2:
        raise SensitivityError(f"Morris screening needs at least 2 levels per lever, not {num_levels}")
    sp = _spec(prob)
    if method == "morris":
        sp.sample_morris(n, num_levels=num_levels, seed=seed)
    else:
        sp.sample_sobol(n, calc_second_order=second_order, seed=seed)
    bounds = np.asarray(prob["bounds"], dtype=float)
    return np.clip(np.asarray(sp.samples, dtype=float), bounds[:, 0], bounds[:, 1])


def block_size(method: str, num_vars: int, second_order: bool = False) -> int:
    """Rows per trajectory (Morris) or per base row (Saltelli, SALib's row order)."""
    if method == "morris":
        return num_vars + 1
    return 2 * num_vars + 2 if second_order else num_vars + 2


def sample_points(sample: np.ndarray, names: Sequence[str]) -> list[dict[str, Any]]:
    """One parameter dict per sample row (integers rounded for integer parameters)."""
    types = [REGISTRY[n].type if n in REGISTRY else float for n in names]
    return [
        {n: (int(round(v)) if t is int else float(v)) for n, t, v in zip(names, types, row, strict=True)}
        for row in sample
    ]


# ---- 4. analysis ----------------------------------------------------------------------------
@dataclass
class Analysis:
    """Indices, convergence and noise of one sensitivity analysis (a function of the runs)."""

    method: str
    problem: dict[str, Any]
    outputs: list[str]
    n: int
    replicates: int
    sample: np.ndarray
    means: pd.DataFrame
    indices: pd.DataFrame
    convergence: pd.DataFrame
    noise: pd.DataFrame
    second_order: pd.DataFrame | None = None
    num_levels: int = 4
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.problem["names"])

    def ranking(self, output: str) -> pd.DataFrame:
        """The levers for one output, most influential first."""
        key = "ST" if self.method == "sobol" else "mu_star"
        sub = self.indices[self.indices["output"] == output]
        return sub.sort_values(key, ascending=False, kind="stable").reset_index(drop=True)


def replicate_means(runs: pd.DataFrame, outputs: Sequence[str], n_points: int) -> pd.DataFrame:
    """Mean of each output over the successful replicates of each sample point, in point order."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[list(outputs)].mean().reindex(range(n_points))
    missing = means.index[means.isna().all(axis=1)].tolist()
    if missing:
        raise SensitivityError(
            f"{len(missing)} of {n_points} sample points have no successful run (e.g. point "
            f"{missing[0]}); run again with --resume to retry them"
        )
    return means


def noise_table(runs: pd.DataFrame, outputs: Sequence[str]) -> pd.DataFrame:
    """The noise level of each output, from a two-way analysis of variance (point × replicate).

    Columns: ``within_variance``, the mean variance between replicates at a fixed point
    (the noise a single run carries); ``total_variance``, the variance of single runs;
    ``noise_share``, the noise over the variance of single runs (estimated as noise plus
    the variance between points, so it lies in [0, 1]); ``common_share``, the part of the
    noise shared by all points because replicate *i* has the same seed everywhere (common
    random numbers: it shifts every point alike and so does not blur the indices);
    ``noise_share_in_means``, the rest of the noise, divided by the replicates, over the
    variance of the replicate means that the indices analyse. NaN with one replicate.
    """
    ok = runs[runs["status"] == "ok"]
    rows = []
    for out in outputs:
        wide = ok.pivot_table(index="point", columns="replicate", values=out).dropna()
        points, reps = wide.shape
        row = {"output": out, "replicates": reps, "total_variance": float(ok[out].var(ddof=1))}
        if reps < 2 or points < 2:
            row.update(within_variance=math.nan, noise_share=math.nan, common_share=math.nan)
            row["noise_share_in_means"] = math.nan
            rows.append(row)
            continue
        y = wide.to_numpy(dtype=float)
        grand, by_point, by_rep = y.mean(), y.mean(axis=1), y.mean(axis=0)
        ms_point = reps * ((by_point - grand) ** 2).sum() / (points - 1)
        ms_rep = points * ((by_rep - grand) ** 2).sum() / (reps - 1)
        resid = y - by_point[:, None] - by_rep[None, :] + grand
        ms_err = (resid**2).sum() / ((points - 1) * (reps - 1))
        signal = max((ms_point - ms_err) / reps, 0.0)
        common = max((ms_rep - ms_err) / points, 0.0)
        noise = common + ms_err
        row.update(
            within_variance=float(y.var(axis=1, ddof=1).mean()),
            noise_share=noise / (noise + signal) if noise + signal > 0 else math.nan,
            common_share=common / noise if noise > 0 else math.nan,
            noise_share_in_means=(ms_err / reps) / (signal + ms_err / reps)
            if signal + ms_err > 0
            else math.nan,
        )
        rows.append(row)
    return pd.DataFrame(rows)


def subset_sizes(n: int, minimum: int) -> list[int]:
    """N/4, N/2 and N (those of at least ``minimum``)."""
    return sorted({k for k in (n // 4, n // 2, n) if k >= minimum})


def _results_by_output(sp: ProblemSpec, outputs: Sequence[str]) -> dict[str, Any]:
    analysis = sp.analysis
    return dict(analysis) if len(outputs) > 1 else {outputs[0]: analysis}


def analyse_sobol(
    prob: Mapping[str, Any],
    sample: np.ndarray,
    means: pd.DataFrame,
    outputs: Sequence[str],
    n: int,
    *,
    second_order: bool = False,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """SALib Sobol' indices at N/4, N/2 and N (the first base rows of the Saltelli sample).

    Returns ``(indices, convergence, second_order_indices)``.
    """
    names = list(prob["names"])
    block = block_size("sobol", len(names), second_order)
    conv_rows, s2_rows, final = [], [], []
    for size in subset_sizes(n, 2):
        rows = size * block
        y = means[list(outputs)].to_numpy(dtype=float)[:rows]
        sp = _spec(prob, outputs).set_samples(sample[:rows]).set_results(y if len(outputs) > 1 else y[:, 0])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sp.analyze_sobol(
                calc_second_order=second_order,
                num_resamples=NUM_RESAMPLES,
                conf_level=CONF_LEVEL,
                seed=np.random.default_rng(seed),
            )
        for k, out in enumerate(outputs):
            res = _results_by_output(sp, outputs)[out]
            constant = not np.nanstd(y[:, k]) > 0
            for j, name in enumerate(names):
                row = {"output": out, "parameter": name, "n": size}
                for key in ("S1", "S1_conf", "ST", "ST_conf"):
                    row[key] = 0.0 if constant else float(res[key][j])
                conv_rows.append(row)
                if size == n:
                    final.append(dict(row))
            if size == n and second_order and not constant:
                for a in range(len(names)):
                    for b in range(a + 1, len(names)):
                        s2_rows.append(
                            {
                                "output": out,
                                "parameter_1": names[a],
                                "parameter_2": names[b],
                                "S2": float(res["S2"][a, b]),
                                "S2_conf": float(res["S2_conf"][a, b]),
                            }
                        )
    indices = pd.DataFrame(final).drop(columns="n")
    indices["rank"] = indices.groupby("output")["ST"].rank(ascending=False, method="first").astype(int)
    indices["ci_wider_than_index"] = indices["ST_conf"] > indices["ST"].abs()
    return indices, pd.DataFrame(conv_rows), pd.DataFrame(s2_rows) if second_order else None


def elementary_effects(prob: Mapping[str, Any], sample: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Morris elementary effects, shape (trajectories, parameters), in output units per full
    range of the parameter (the definition SALib uses)."""
    names = list(prob["names"])
    d = len(names)
    bounds = np.asarray(prob["bounds"], dtype=float)
    unit = (sample - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    t = len(sample) // (d + 1)
    x = unit.reshape(t, d + 1, d)
    dx = np.diff(x, axis=1)  # (t, d steps, d params): one parameter moves per step
    moved = np.abs(dx).argmax(axis=2)
    step = np.take_along_axis(dx, moved[:, :, None], axis=2)[:, :, 0]
    dy = np.diff(y.reshape(t, d + 1), axis=1)
    ee = np.zeros((t, d))
    np.put_along_axis(ee, moved, dy / step, axis=1)
    return ee


def analyse_morris(
    prob: Mapping[str, Any],
    sample: np.ndarray,
    means: pd.DataFrame,
    outputs: Sequence[str],
    n: int,
    *,
    num_levels: int = 4,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SALib Morris μ, μ*, σ and μ*'s confidence interval at N/4, N/2 and N trajectories;
    σ's interval (which SALib does not give) from a bootstrap over trajectories.

    Returns ``(indices, convergence)``.
    """
    names = list(prob["names"])
    block = block_size("morris", len(names))
    z = norm.ppf(0.5 + CONF_LEVEL / 2)
    conv_rows, final = [], []
    for size in subset_sizes(n, 2):
        rows = size * block
        y = means[list(outputs)].to_numpy(dtype=float)[:rows]
        sp = _spec(prob, outputs).set_samples(sample[:rows]).set_results(y if len(outputs) > 1 else y[:, 0])
        sp.analyze_morris(
            num_levels=num_levels, num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL, seed=seed
        )
        rng = np.random.default_rng(seed)
        for k, out in enumerate(outputs):
            res = _results_by_output(sp, outputs)[out]
            ee = elementary_effects(prob, sample[:rows], y[:, k])
            boot = rng.integers(size, size=(NUM_RESAMPLES, size))
            sigma_conf = z * ee[boot].std(axis=1, ddof=1).std(axis=0, ddof=1)
            for j, name in enumerate(names):
                row = {
                    "output": out,
                    "parameter": name,
                    "n": size,
                    "mu": float(res["mu"][j]),
                    "mu_star": float(res["mu_star"][j]),
                    "mu_star_conf": float(res["mu_star_conf"][j]),
                    "sigma": float(res["sigma"][j]),
                    "sigma_conf": float(sigma_conf[j]),
                }
                conv_rows.append(row)
                if size == n:
                    final.append(dict(row))
    indices = pd.DataFrame(final).drop(columns="n")
    indices["rank"] = indices.groupby("output")["mu_star"].rank(ascending=False, method="first").astype(int)
    indices["ci_wider_than_index"] = indices["mu_star_conf"] > indices["mu_star"]
    return indices, pd.DataFrame(conv_rows)


def analyse(
    method: str,
    prob: Mapping[str, Any],
    sample: np.ndarray,
    runs: pd.DataFrame,
    outputs: Sequence[str] | None = None,
    *,
    second_order: bool = False,
    num_levels: int = 4,
    seed: int = 0,
) -> Analysis:
    """Analyse a results table (one row per run with ``point``, ``replicate``, ``status`` and
    the outputs as columns; ``point`` indexes the rows of ``sample``)."""
    outputs = resolve_outputs(outputs)
    missing = [o for o in outputs if o not in runs]
    if missing:
        raise SensitivityError(f"the results have no column {', '.join(missing)}")
    d = len(prob["names"])
    block = block_size(method, d, second_order)
    if len(sample) % block:
        raise SensitivityError(f"a {method} sample of {len(sample)} rows does not fit blocks of {block}")
    n = len(sample) // block
    means = replicate_means(runs, outputs, len(sample))
    if method == "sobol":
        indices, convergence, s2 = analyse_sobol(
            prob, sample, means, outputs, n, second_order=second_order, seed=seed
        )
    else:
        indices, convergence = analyse_morris(
            prob, sample, means, outputs, n, num_levels=num_levels, seed=seed
        )
        s2 = None
    noise = noise_table(runs, outputs)
    reps = int(noise["replicates"].min()) if not noise.empty else 0
    result = Analysis(
        method=method,
        problem=dict(prob),
        outputs=list(outputs),
        n=n,
        replicates=reps,
        sample=sample,
        means=means,
        indices=indices,
        convergence=convergence,
        noise=noise,
        second_order=s2,
        num_levels=num_levels,
    )
    result.warnings = _warnings(result)
    return result


def _warnings(a: Analysis) -> list[str]:
    """Plain-language warnings: wide intervals, unsettled indices, much noise."""
    out = []
    for output in a.outputs:
        ranked = a.ranking(output)
        wide = ranked[ranked["ci_wider_than_index"]]
        if not wide.empty:
            top = wide[wide["rank"] <= 3]
            levers = ", ".join(lever_name(p) for p in wide["parameter"])
            text = (
                f"{output_label(output)}: the 95% interval is wider than the index for {levers}; "
                "their influence cannot be told apart from zero"
            )
            if not top.empty:
                leaders = ", ".join(lever_name(p) for p in top["parameter"])
                verb = "ranks" if len(top) == 1 else "rank"
                text += f". {leaders} {verb} among the top three: increase --n (or --replicates)"
            out.append(text + ".")
        change = _last_change(a, output)
        if a.method == "sobol" and change > 0.1:
            out.append(
                f"{output_label(output)}: ST still moves by up to {change:.2f} between N/2 and N; "
                "the indices have not settled (increase --n)."
            )
    if a.replicates < 2:
        out.append("Only one replicate per sample point: the noise level is not measured.")
    for row in a.noise.itertuples():
        if row.noise_share_in_means == row.noise_share_in_means and row.noise_share_in_means > 0.2:
            out.append(
                f"{output_label(row.output)}: {row.noise_share_in_means:.0%} of the variance of the "
                "replicate means is noise; indices of this output are blurred (add --replicates)."
            )
    return out


def _last_change(a: Analysis, output: str) -> float:
    """Largest change of ST (Sobol') or relative μ* (Morris) between the last two sizes."""
    conv = a.convergence[a.convergence["output"] == output]
    sizes = sorted(conv["n"].unique())
    if len(sizes) < 2:
        return math.nan
    key = "ST" if a.method == "sobol" else "mu_star"
    last = conv[conv["n"] == sizes[-1]].set_index("parameter")[key]
    prev = conv[conv["n"] == sizes[-2]].set_index("parameter")[key]
    diff = (last - prev).abs()
    if a.method == "morris":
        scale = last.abs().max()
        return float(diff.max() / scale) if scale > 0 else 0.0
    return float(diff.max())


# ---- 3. running it ---------------------------------------------------------------------------------
@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` did: the analysis, the runs and the files written."""

    analysis: Analysis
    outcome: Outcome
    files: list[Path] = field(default_factory=list)

    @property
    def runs(self) -> pd.DataFrame:
        return self.outcome.runs


def run_sensitivity(
    method: str,
    params: str | Sequence[str] | None = None,
    outputs: str | Sequence[str] | None = None,
    *,
    n: int | None = None,
    replicates: int = 2,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
    second_order: bool = False,
    num_levels: int = 4,
    out: str | Path | None = None,
    runner: Runner | None = None,
    command: str | None = None,
    **execute_options: Any,
) -> SensitivityResult:
    """Sample, run (through :func:`experiments.executor.execute`), analyse and report.

    ``params``: lever names or ``"policy"`` (default: all numeric policy levers), bounds from
    the registry. ``outputs``: summary KPIs (default :data:`DEFAULT_OUTPUTS`). ``n``: Morris
    trajectories (default 20) or Sobol' base samples (a power of two, default 256).
    ``fixed``: other parameters held at a value in every run (e.g. a switch). ``runner``:
    what runs one task (default the model). Further keyword arguments (``workers``,
    ``scheduler``, ``resume``, ``overwrite``, ``progress``) go to the executor; with
    ``out`` the results store, indices, figures and ``report.md`` are written there.
    """
    if method not in METHODS:
        raise SensitivityError(f"unknown method '{method}'; choose {' or '.join(METHODS)}")
    n = n or (20 if method == "morris" else 256)
    prob = problem(params)
    chosen = resolve_outputs(outputs)
    fixed = dict(fixed or {})
    clash = sorted(set(fixed) & set(prob["names"]))
    if clash:
        raise SensitivityError(f"{', '.join(clash)} cannot be both sampled and fixed")
    sample = draw_sample(method, prob, n, seed=seed, second_order=second_order, num_levels=num_levels)
    setup = {
        k: v
        for k, v in {"n_residents": residents, "weeks": weeks, "burn_in_weeks": burn_in}.items()
        if v is not None
    }
    tasks = make_tasks(
        sample_points(sample, prob["names"]),
        replicates=replicates,
        base_seed=seed,
        setup={**setup, **fixed},
    )
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "sensitivity": {
            "method": method,
            "n": n,
            "sample_rows": len(sample),
            "second_order": second_order if method == "sobol" else None,
            "num_levels": num_levels if method == "morris" else None,
            "problem": prob,
            "outputs": chosen,
            "fixed": fixed,
            "sample_seed": seed,
            "salib": "ProblemSpec.sample_morris / sample_sobol, analyze_morris / analyze_sobol",
        },
    }
    outcome = execute(
        tasks, out, kind=f"sa-{method}", info=info, runner=runner, command=command, **execute_options
    )
    result = analyse(
        method,
        prob,
        sample,
        outcome.runs,
        chosen,
        second_order=second_order,
        num_levels=num_levels,
        seed=seed,
    )
    files: list[Path] = []
    if out is not None:
        files = write_results(result, out, outcome.runs, command=command, setup={**setup, **fixed})
    return SensitivityResult(result, outcome, files)


def morris(
    params: str | Sequence[str] | None = None, outputs: str | Sequence[str] | None = None, **kwargs: Any
) -> SensitivityResult:
    """Morris screening (elementary effects); see :func:`run_sensitivity`."""
    return run_sensitivity("morris", params, outputs, **kwargs)


def sobol(
    params: str | Sequence[str] | None = None, outputs: str | Sequence[str] | None = None, **kwargs: Any
) -> SensitivityResult:
    """Sobol' indices from a Saltelli sample; see :func:`run_sensitivity`."""
    return run_sensitivity("sobol", params, outputs, **kwargs)


# ---- 5. files, figures, report ------------------------------------------------------------------
def write_results(
    a: Analysis,
    out: str | Path,
    runs: pd.DataFrame | None = None,
    *,
    command: str | None = None,
    setup: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write samples, indices, convergence, noise, figures and ``report.md`` to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    samples = pd.DataFrame(a.sample, columns=a.names)
    samples.insert(0, "point", np.arange(len(samples)))
    samples = pd.concat([samples, a.means.reset_index(drop=True).add_prefix("mean_")], axis=1)
    atomic_write_parquet(out / "samples.parquet", samples)
    files.append(out / "samples.parquet")
    tables = {"indices": a.indices, "convergence": a.convergence, "noise": a.noise}
    if a.second_order is not None:
        tables["second_order"] = a.second_order
    else:  # from an earlier analysis in this folder
        (out / "second_order.csv").unlink(missing_ok=True)
    for name, table in tables.items():
        atomic_write_bytes(out / f"{name}.csv", table.to_csv(index=False).encode())
        files.append(out / f"{name}.csv")
    atomic_write_parquet(out / "indices.parquet", a.indices)
    files.append(out / "indices.parquet")
    figures = plot_analysis(a, out)
    files += figures
    files.append(write_report(a, out / "report.md", figures, runs=runs, command=command, setup=setup))
    if (out / DB_NAME).exists():  # the analysis of a batch stored here
        update_manifest(
            out,
            {
                "analysis": {
                    "files": [f.name for f in files],
                    "warnings": a.warnings,
                    "noise_share": dict(zip(a.noise["output"], a.noise["noise_share"], strict=True)),
                }
            },
        )
    return files


def plot_analysis(a: Analysis, out: Path) -> list[Path]:
    """The figures of an analysis (Morris: μ*-σ; Sobol': bars and ST heat map) and convergence."""
    if a.method == "morris":
        figures = [plot_morris(a, out / "morris_mu_sigma.png")]
    else:
        figures = [
            plot_sobol_bars(a, out / "sobol_indices.png"),
            plot_sobol_heatmap(a, out / "sobol_st_heatmap.png"),
        ]
    figures.append(plot_convergence(a, out / "convergence.png"))
    return figures


def _grid(count: int, width: float, height: float):
    cols = min(3, count)
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width * cols, height * rows), squeeze=False, constrained_layout=True
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, axes.flat


def plot_morris(a: Analysis, path: Path) -> Path:
    """μ* against σ per output, with 95% intervals and the σ = μ* line."""
    fig, axes = _grid(len(a.outputs), 5.2, 4.4)
    for ax, output in zip(axes, a.outputs, strict=False):
        scale, unit = effect_unit(output)
        sub = a.ranking(output)
        x, y = sub["mu_star"] * scale, sub["sigma"] * scale
        ax.errorbar(
            x,
            y,
            xerr=sub["mu_star_conf"] * scale,
            yerr=sub["sigma_conf"] * scale,
            fmt="o",
            color="tab:blue",
            ecolor="tab:gray",
            elinewidth=0.8,
            capsize=2,
            markersize=5,
        )
        right = max(float(np.nanmax(x + sub["mu_star_conf"] * scale)), 1e-12) * 1.15
        top = max(float(np.nanmax(y + sub["sigma_conf"] * scale)), 1e-12) * 1.15
        ax.plot([0, right], [0, right], color="tab:red", linewidth=0.8, linestyle="--", label="σ = μ*")
        # label the influential levers; a crowd of near-zero labels would hide each other
        labelled = (x >= 0.1 * x.max()) | (np.arange(len(x)) < 3)
        for xi, yi, name, show in zip(x, y, sub["parameter"], labelled, strict=True):
            if show:
                ax.annotate(lever_name(name), (xi, yi), xytext=(4, 3), textcoords="offset points", fontsize=8)
        if not labelled.all():
            ax.text(
                0.98,
                0.02,
                f"{int((~labelled).sum())} levers with μ* < 10% of the largest unlabelled",
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                fontsize=7,
                color="dimgray",
            )
        ax.set_xlim(0, right)
        ax.set_ylim(0, top)
        ax.set_title(output_label(output), fontsize=11)
        ax.set_xlabel(f"μ*: mean |effect| over the lever's range\n({unit})", fontsize=9)
        ax.set_ylabel(f"σ: spread of the effect ({unit})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", frameon=False)
    fig.suptitle(
        f"Morris screening: {a.n} trajectories × {_reps(a.replicates)}; bars are 95% intervals. "
        "Right = influential; above the dashed line = non-linear or interacting",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sobol_bars(a: Analysis, path: Path) -> Path:
    """S1 and ST with 95% intervals per output, levers sorted by ST."""
    fig, axes = _grid(len(a.outputs), 5.4, 0.42 * len(a.names) + 1.6)
    for ax, output in zip(axes, a.outputs, strict=False):
        sub = a.ranking(output).iloc[::-1]
        y = np.arange(len(sub))
        ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], color="tab:blue", capsize=2, label="total (ST)")
        ax.barh(
            y - 0.2,
            sub["S1"],
            0.4,
            xerr=sub["S1_conf"],
            color="tab:orange",
            capsize=2,
            label="first order (S1)",
        )
        ax.set_yticks(y, [lever_name(p) for p in sub["parameter"]], fontsize=9)
        ax.axvline(0, color="black", linewidth=0.6)
        right = max(1.0, float((sub["ST"] + sub["ST_conf"]).max()), float((sub["S1"] + sub["S1_conf"]).max()))
        ax.set_xlim(min(-0.05, float((sub["S1"] - sub["S1_conf"]).min()) - 0.02), right + 0.02)
        ax.set_xlabel("share of output variance", fontsize=9)
        ax.set_title(output_label(output), fontsize=11)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right", frameon=False)
    fig.suptitle(
        f"Sobol' indices: N = {a.n} base samples × {_reps(a.replicates)}; bars are 95% intervals",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_sobol_heatmap(a: Analysis, path: Path) -> Path:
    """Total-order indices, levers × outputs, with the values written in the cells."""
    table = a.indices.pivot(index="parameter", columns="output", values="ST").reindex(
        index=a.names, columns=a.outputs
    )
    order = table.mean(axis=1).sort_values(ascending=False).index
    table = table.loc[order]
    fig, ax = plt.subplots(
        figsize=(max(7.5, 1.5 * len(a.outputs) + 4.5), 0.45 * len(a.names) + 2.4), constrained_layout=True
    )
    values = table.to_numpy(dtype=float)
    image = ax.imshow(np.clip(values, 0, 1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(
                j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black"
            )
    ax.set_xticks(
        range(len(a.outputs)), [output_label(o) for o in a.outputs], rotation=30, ha="right", fontsize=9
    )
    ax.set_yticks(range(len(order)), [lever_name(p) for p in order], fontsize=9)
    fig.colorbar(image, ax=ax, label="ST (share of output variance)")
    ax.set_title(f"Total-order Sobol' indices, levers × outcomes (N = {a.n})", fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_convergence(a: Analysis, path: Path) -> Path:
    """Indices against the sample size (N/4, N/2, N) with 95% bands, per output."""
    key, conf = ("ST", "ST_conf") if a.method == "sobol" else ("mu_star", "mu_star_conf")
    fig, axes = _grid(len(a.outputs), 5.0, 3.8)
    colours = plt.get_cmap("tab10")
    handles = None
    for ax, output in zip(axes, a.outputs, strict=False):
        scale, unit = (1.0, "share of variance") if a.method == "sobol" else effect_unit(output)
        conv = a.convergence[a.convergence["output"] == output]
        for i, name in enumerate(a.names):
            sub = conv[conv["parameter"] == name].sort_values("n")
            v, c = sub[key] * scale, sub[conf] * scale
            colour, style = colours(i % 10), ("-", "--", ":")[(i // 10) % 3]
            ax.plot(
                sub["n"], v, marker="o", markersize=3, color=colour, linestyle=style, label=lever_name(name)
            )
            ax.fill_between(sub["n"], v - c, v + c, color=colour, alpha=0.12, linewidth=0)
        ax.set_xscale("log", base=2)
        sizes = sorted(conv["n"].unique())
        ax.set_xticks(sizes, [str(s) for s in sizes])
        what = "base samples N" if a.method == "sobol" else "trajectories"
        ax.set_xlabel(f"{what} used", fontsize=9)
        ax.set_ylabel(f"{'ST' if a.method == 'sobol' else 'μ*'} ({unit})", fontsize=9)
        if a.method == "sobol":  # estimates with wide intervals can leave [0, 1]; keep the scale readable
            low, high = ax.get_ylim()
            ax.set_ylim(max(low, -0.25), min(high, 1.25))
        ax.set_title(output_label(output), fontsize=11)
        ax.grid(alpha=0.3)
        handles = ax.get_legend_handles_labels()
    if handles:
        fig.legend(*handles, loc="outside right center", fontsize=8, frameon=False)
    fig.suptitle(
        "Convergence: indices recomputed on the first N/4, N/2 and all samples (bands: 95% intervals)",
        fontsize=11,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pct(v: float) -> str:
    return "-" if v != v else f"{v:.0%}"


def _num(v: float) -> str:
    if v != v:
        return "-"
    size = abs(v)
    return (
        f"{v:.0f}" if size >= 100 else f"{v:.1f}" if size >= 10 else f"{v:.2f}" if size >= 0.1 else f"{v:.3f}"
    )


def _sobol_words(row) -> str:
    st = row.ST
    level = (
        "a major driver"
        if st >= 0.25
        else "important"
        if st >= 0.1
        else "minor"
        if st >= 0.02
        else "negligible"
    )
    if row.ci_wider_than_index:
        level += " (not distinguishable from zero)"
    elif st >= 0.05 and st - max(row.S1, 0.0) > 0.5 * st:
        level += ", mostly through interactions with other levers"
    return level


def _morris_words(row, top: float) -> str:
    rel = row.mu_star / top if top > 0 else 0.0
    level = "strong" if rel >= 0.5 else "moderate" if rel >= 0.2 else "weak" if rel >= 0.05 else "negligible"
    if row.ci_wider_than_index or rel < 0.05:
        return level + (" (not distinguishable from zero)" if row.ci_wider_than_index else "")
    if abs(row.mu) >= 0.8 * row.mu_star:
        level += "; raising the lever " + ("raises" if row.mu > 0 else "lowers") + " it"
    else:
        level += "; the direction depends on the other levers"
    if row.sigma > row.mu_star:
        level += "; non-linear or interacting"
    return level


def write_report(
    a: Analysis,
    path: Path,
    figures: Sequence[Path],
    *,
    runs: pd.DataFrame | None = None,
    command: str | None = None,
    setup: Mapping[str, Any] | None = None,
) -> Path:
    """``report.md``: what ran, the noise level, a ranked table of levers per output, warnings."""
    title = "Morris screening" if a.method == "morris" else "Sobol' sensitivity analysis"
    n_runs = len(runs) if runs is not None else len(a.sample) * a.replicates
    failed = int((runs["status"] != "ok").sum()) if runs is not None else 0
    size = (
        f"{a.n} trajectories of {len(a.names) + 1} points ({a.num_levels} levels)"
        if a.method == "morris"
        else f"N = {a.n} base samples, {len(a.sample)} sample points (Saltelli scheme"
        f"{', with second-order indices' if a.second_order is not None else ''})"
    )
    lines = [
        f"# {title} of the policy levers",
        "",
        f"Command: `{command or 'python API (experiments.sensitivity)'}`  ",
        f"Design: {size}; {_reps(a.replicates)} per point (common random numbers), "
        f"{n_runs} runs ({failed} failed).  ",
        f"Fixed for every run: {_fixed_text(setup)}.  ",
        "Levers and bounds (from the parameter registry): "
        + "; ".join(
            f"{lever_name(n)} (`{n}`) {lo:g} to {hi:g}" + (f" ({REGISTRY[n].unit})" if n in REGISTRY else "")
            for n, (lo, hi) in zip(a.names, a.problem["bounds"], strict=True)
        )
        + ".",
        "",
        "## How to read this",
        "",
    ]
    if a.method == "sobol":
        lines += [
            "ST (total-order index) is the share of an outcome's variance that would disappear if the lever "
            "were fixed: its own effect plus all its interactions. S1 is the share due to the lever alone. "
            "0.25 means a quarter of the spread in the outcome across plausible policies comes from "
            "this lever. "
            "Intervals are 95% bootstrap intervals (SALib).",
        ]
    else:
        lines += [
            "μ* is the mean absolute change of an outcome when a lever moves across its whole range "
            "(elementary effects, in the outcome's unit); μ is the same with sign; σ is the spread of "
            "these effects: σ larger than μ* means the effect depends on the other levers or is non-linear. "
            "Morris ranks levers; it does not divide the variance. Intervals are 95% bootstrap intervals "
            "(μ*: SALib; σ: over trajectories).",
        ]
    lines += ["", "## Noise", ""]
    lines += [
        "Replicates are averaged per sample point before the analysis. *Noise share*: the share of the "
        "variance of single runs that lies between replicates at fixed parameters. *Common*: the part of "
        "that noise shared by all sample points (replicate *i* has the same seed everywhere), which shifts "
        "every point alike and does not blur the indices. *In the means*: the remaining noise, divided by "
        "the replicates, as a share of the variance of the replicate means that the indices divide up "
        "(from a two-way analysis of variance, point × replicate; see `noise.csv`).",
        "",
        "| outcome | noise share (single runs) | of which common | noise share in the means |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {output_label(r.output)} | {_pct(r.noise_share)} | {_pct(r.common_share)} | "
        f"{_pct(r.noise_share_in_means)} |"
        for r in a.noise.itertuples()
    ]
    lines += ["", "## Warnings", ""]
    lines += [f"- {w}" for w in a.warnings] or ["None: every top-ranked index is larger than its interval."]
    lines += ["", "## Levers ranked per outcome", ""]
    for output in a.outputs:
        ranked = a.ranking(output)
        noise = a.noise.set_index("output").loc[output]
        lines += [f"### {output_label(output)} (`{output}`)", ""]
        if a.method == "sobol":
            first = ranked.iloc[0]
            lines += [
                f"{lever_name(first.parameter)} matters most: alone it explains {_pct(max(first.S1, 0))} of "
                f"the variance, with its interactions {_pct(first.ST)}. {_noise_words(noise)}",
                "",
                "| rank | lever | ST ± 95% | S1 ± 95% | in plain words |",
                "|---|---|---|---|---|",
            ]
            lines += [
                f"| {r.rank} | {lever_name(r.parameter)} (`{r.parameter}`) | {r.ST:.3f} ± {r.ST_conf:.3f} | "
                f"{r.S1:.3f} ± {r.S1_conf:.3f} | {_sobol_words(r)} |"
                for r in ranked.itertuples()
            ]
        else:
            scale, unit = effect_unit(output)
            top = float(ranked["mu_star"].max())
            first = ranked.iloc[0]
            lines += [
                f"{lever_name(first.parameter)} matters most: moving it across its range changes the "
                f"outcome by about {_num(first.mu_star * scale)} {unit}. {_noise_words(noise)}",
                "",
                f"| rank | lever | μ* ± 95% ({unit}) | μ | σ ± 95% | in plain words |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {r.rank} | {lever_name(r.parameter)} (`{r.parameter}`) | {_num(r.mu_star * scale)} ± "
                f"{_num(r.mu_star_conf * scale)} | {_num(r.mu * scale)} | {_num(r.sigma * scale)} ± "
                f"{_num(r.sigma_conf * scale)} | {_morris_words(r, top)} |"
                for r in ranked.itertuples()
            ]
        lines.append("")
    lines += ["## Convergence", ""]
    what = "ST" if a.method == "sobol" else "μ* (relative to the largest)"
    units = "base samples" if a.method == "sobol" else "trajectories"
    lines += [
        f"Indices were recomputed on the first N/4, N/2 and all {units} "
        f"(see `convergence.png`, `convergence.csv`). Largest change of {what} between the last two sizes:",
        "",
    ]
    lines += [f"- {output_label(o)}: {_num(_last_change(a, o))}" for o in a.outputs]
    lines += ["", "## Files", ""]
    lines += [
        "`runs.parquet` (one row per run), `samples.parquet` (the SALib sample with replicate means), "
        "`indices.csv`/`indices.parquet`, `convergence.csv`, `noise.csv`"
        + (", `second_order.csv`" if a.second_order is not None else "")
        + ", `manifest.json`.",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in figures]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())
    return path


def _reps(count: int) -> str:
    return f"{count} replicate{'s' if count != 1 else ''}"


def _noise_words(noise: pd.Series) -> str:
    if noise["noise_share"] != noise["noise_share"]:
        return "Noise: not measured (one replicate per point)."
    return (
        f"Noise: {_pct(noise['noise_share'])} of the variance of single runs, "
        f"{_pct(noise['noise_share_in_means'])} of the variance of the replicate means analysed."
    )


def _fixed_text(setup: Mapping[str, Any] | None) -> str:
    values = {k: REGISTRY[k].default for k in ("n_residents", "weeks", "burn_in_weeks")}
    values.update(setup or {})
    return ", ".join(f"`{k} = {str(v).lower() if isinstance(v, bool) else v}`" for k, v in values.items())


__all__ = [
    "DEFAULT_OUTPUTS",
    "Analysis",
    "SensitivityError",
    "SensitivityResult",
    "analyse",
    "draw_sample",
    "morris",
    "problem",
    "run_sensitivity",
    "sobol",
    "write_results",
]
