"""Every scenario result across a plausible ensemble (issue #18, item 4).

``wijkteam run --ensemble DIR`` runs the scenarios on every member of an ensemble
(:mod:`calibration.ensemble`: parameter sets consistent with the calibration targets, or a
stand-in drawn from the registry ranges) and reports, per KPI and scenario, the effect
against the reference scenario across the members ("plausible worlds"):

- **per world**: the effect of a scenario in one member is the mean over the member's
  replicates of the paired difference ``scenario - reference`` (common random numbers: the
  member's replicate *i* has the same seed in every scenario); its standard error over the
  replicates is the **replicate noise** of that world's effect;
- **across worlds**: the median of the per-world effects, their 5-95% range (the **90%
  interval across plausible worlds**, which holds parameter uncertainty *and* what replicate
  noise is left in each world's mean), and the **share of worlds in which the scenario is
  better** (its per-world effect has the sign the KPI's ``better`` direction in the output
  table asks for, :data:`model.outputs.SUMMARY`).

Seeds: run seed = ``SeedSequence([base_seed, replicate, member])`` (:func:`member_seed`): the
same in every scenario of a member (common random numbers across scenarios), different between
members, so the noise of one world does not repeat in every world.

Everything here is a function of the results table (:func:`world_effects`,
:func:`summarise`); :func:`run_ensemble` runs the batch through the executor and store
(resumable, manifest, progress, local pool or Dask) and :func:`write_results` writes the
tables, the figure and ``report.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from calibration.ensemble import Ensemble, EnsembleError, load_ensemble
from experiments.api import setup_overrides
from experiments.executor import Outcome, Task, execute, run_seed
from experiments.labels import effect_unit, output_label
from experiments.plots import scenario_colours
from experiments.scenario import Scenario, load_many
from experiments.store import atomic_write_bytes
from model import validate
from model.outputs import OUTPUTS, SUMMARY

#: Replicates per member and scenario when none are asked (the spread across members, not
#: within them, is what the ensemble is for).
DEFAULT_REPLICATES = 2
#: The lower and upper quantile of the interval across plausible worlds (a 90% interval).
INTERVAL = (0.05, 0.95)
#: KPIs in the headline sentences, the report's tables and the figure (each has a direction).
HEADLINE: tuple[str, ...] = (
    "escalations_per_1000_year",
    "referrals_per_1000_year",
    "unmet_need_per_1000_year",
    "cost_total_per_resident_year",
    "caught_early_share",
    "self_reliance_mean",
    "wait_weeks_mean",
    "hidden_need_per_1000",
)
#: The KPIs whose effects are computed: every summary field but the reported weeks.
KPIS: tuple[str, ...] = tuple(o.name for o in SUMMARY if o.name != "reported_weeks")
#: Files :func:`write_results` writes (besides the store's).
FILES = ("world_effects.csv", "ensemble_summary.csv", "ensemble_effects.png", "report.md")


def member_seed(base_seed: int, member: int, replicate: int) -> int:
    """The seed of a member's replicate: the same in every scenario, different between members."""
    return run_seed(base_seed, replicate, member)


def ensemble_tasks(
    ensemble: Ensemble,
    scenarios: Sequence[Scenario],
    replicates: int = DEFAULT_REPLICATES,
    base_seed: int = 0,
    setup: Mapping[str, Any] | None = None,
) -> list[Task]:
    """One task per member, scenario and replicate; tagged with ``member`` and ``scenario``.

    A run's parameters are the member's overrides, then the scenario's (a scenario that sets a
    parameter the ensemble varies wins: see :func:`overridden`), then ``setup`` (the size asked
    for wins over any the ensemble fixes).
    Raises ``ParameterError`` for a value out of range before anything runs.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, not {replicates}")
    tasks: list[Task] = []
    for m, (member, overrides) in enumerate(ensemble.iter_overrides()):
        for s, scenario in enumerate(scenarios):
            params = validate({**overrides, **scenario.params, **(setup or {})}).overrides()
            point = m * len(scenarios) + s
            for r in range(replicates):
                tasks.append(
                    Task(
                        run_id=len(tasks),
                        params=params,
                        seed=member_seed(base_seed, member, r),
                        replicate=r,
                        point=point,
                        tags={"member": member, "scenario": scenario.name},
                    )
                )
    return tasks


def overridden(ensemble: Ensemble, scenarios: Sequence[Scenario]) -> dict[str, list[str]]:
    """Ensemble parameters a scenario sets itself (its value holds in every member)."""
    varied = set(ensemble.parameters) | set(ensemble.fixed)
    return {s.name: sorted(varied & set(s.params)) for s in scenarios if varied & set(s.params)}


# ---- analysis: a function of the results table ------------------------------------------------
def world_effects(runs: pd.DataFrame, reference: str, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """The effect of every scenario against ``reference`` in every world, per KPI.

    ``runs`` needs ``member``, ``scenario``, ``replicate``, ``status`` and the KPI columns.
    One row per member, scenario (not the reference) and KPI: ``effect`` (mean over the
    member's replicates of the paired difference, in the KPI's unit), ``se`` (its standard
    error over the replicates; NaN with one), ``n`` (replicate pairs), ``reference`` and
    ``scenario_mean`` (the two means), ``relative`` (effect / reference mean; NaN when that
    is 0).
    """
    kpis = [k for k in (kpis or KPIS) if k in runs.columns]
    ok = runs[runs["status"] == "ok"]
    if reference not in set(ok["scenario"]):
        raise EnsembleError(f"ensemble: the reference scenario '{reference}' has no successful runs")
    base = ok[ok["scenario"] == reference].set_index(["member", "replicate"])[kpis]
    rows = []
    for (member, scenario), sub in ok[ok["scenario"] != reference].groupby(
        ["member", "scenario"], sort=False
    ):
        treat = sub.set_index(["member", "replicate"])[kpis]
        paired = treat.merge(base, left_index=True, right_index=True, suffixes=("_t", "_b"))
        for kpi in kpis:
            t, b = paired[f"{kpi}_t"].to_numpy(float), paired[f"{kpi}_b"].to_numpy(float)
            keep = np.isfinite(t) & np.isfinite(b)
            diff = t[keep] - b[keep]
            n = int(diff.size)
            effect = float(diff.mean()) if n else math.nan
            se = float(diff.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            ref = float(b[keep].mean()) if n else math.nan
            rows.append(
                {
                    "member": int(member),
                    "scenario": scenario,
                    "kpi": kpi,
                    "effect": effect,
                    "se": se,
                    "n": n,
                    "reference": ref,
                    "scenario_mean": float(t[keep].mean()) if n else math.nan,
                    "relative": effect / ref if n and ref != 0 else math.nan,
                }
            )
    return pd.DataFrame(
        rows,
        columns=["member", "scenario", "kpi", "effect", "se", "n", "reference", "scenario_mean", "relative"],
    )


def better_sign(kpi: str) -> float:
    """+1 where higher is better, -1 where lower is, NaN where the output table gives no direction."""
    better = OUTPUTS[kpi].better if kpi in OUTPUTS else None
    return {"higher": 1.0, "lower": -1.0}.get(better, math.nan)


def summarise(effects: pd.DataFrame, interval: tuple[float, float] = INTERVAL) -> pd.DataFrame:
    """Per scenario and KPI: the effect across worlds and the share of worlds in which it is better.

    Columns: ``worlds`` (members with an effect), ``median``, ``low`` and ``high`` (the
    ``interval`` quantiles of the per-world effects: 5% and 95% by default), ``better`` (the
    output table's direction), ``share_better`` (worlds whose effect has the better sign; NaN
    without a direction), ``share_worse`` (the worse sign; the other worlds are ties),
    ``share_better_clear`` (worlds whose effect is better by more than
    1.645 replicate standard errors: better beyond that world's replicate noise; NaN with
    one replicate), ``noise_se`` (median replicate standard error of a world's effect) and
    ``spread_sd`` (standard deviation of the per-world effects).
    """
    rows = []
    for (scenario, kpi), sub in effects.groupby(["scenario", "kpi"], sort=False):
        e = sub["effect"].to_numpy(float)
        se = sub["se"].to_numpy(float)
        keep = np.isfinite(e)
        e, se = e[keep], se[keep]
        sign = better_sign(kpi)
        n = int(e.size)
        if n and not math.isnan(sign):
            share = float(np.mean(sign * e > 0))
            worse = float(np.mean(sign * e < 0))
            clear = float(np.mean(sign * e - 1.645 * se > 0)) if np.isfinite(se).all() else math.nan
        else:
            share = worse = clear = math.nan
        low, high = (float(v) for v in np.quantile(e, interval)) if n else (math.nan, math.nan)
        rows.append(
            {
                "scenario": scenario,
                "kpi": kpi,
                "worlds": n,
                "median": float(np.median(e)) if n else math.nan,
                "low": low,
                "high": high,
                "better": OUTPUTS[kpi].better if kpi in OUTPUTS else None,
                "share_better": share,
                "share_worse": worse,
                "share_better_clear": clear,
                "noise_se": float(np.nanmedian(se)) if n and np.isfinite(se).any() else math.nan,
                "spread_sd": float(e.std(ddof=1)) if n > 1 else math.nan,
            }
        )
    return pd.DataFrame(rows)


#: Fewer worlds than this give no "which assumptions decide it" table (too few to score 80+ inputs).
MIN_WORLDS_FOR_DRIVERS = 20


def deciding_assumptions(
    ensemble: Ensemble, effects: pd.DataFrame, kpis: Sequence[str] = HEADLINE[:4], top: int = 3
) -> pd.DataFrame:
    """Per conclusion (scenario and KPI), the ensemble parameters most strongly associated with
    the size of the effect across the plausible worlds.

    Spearman's rank correlation ``rho`` of each varied parameter with the worlds' effects; the
    ``top`` largest ``|rho|`` per conclusion, with the two-sided ``p`` value and whether it
    survives a Bonferroni correction over the parameters tested (``bonferroni``: p < 0.05 / k).
    Rank correlation: cheap, and it reads the effect's size, not only its sign. Columns:
    ``scenario``, ``kpi``, ``share_better``, ``rank``, ``parameter``, ``rho``, ``p``,
    ``bonferroni``; no rows with fewer than :data:`MIN_WORLDS_FOR_DRIVERS` worlds.
    """
    from scipy.stats import rankdata
    from scipy.stats import t as student_t

    columns = ["scenario", "kpi", "share_better", "rank", "parameter", "rho", "p", "bonferroni"]
    table = ensemble.to_df().set_index("member")
    varied = [p for p in ensemble.parameters if table[p].nunique() > 1]
    if len(table) < MIN_WORLDS_FOR_DRIVERS or not varied:
        return pd.DataFrame(columns=columns)
    rows = []
    for (scenario, kpi), sub in effects[effects["kpi"].isin(kpis)].groupby(["scenario", "kpi"], sort=False):
        effect = sub["effect"].to_numpy(float)
        keep = np.isfinite(effect)
        n, sign = int(keep.sum()), better_sign(kpi)
        if n < MIN_WORLDS_FOR_DRIVERS or not np.isfinite(sign) or np.ptp(effect[keep]) == 0:
            continue
        x = table.loc[sub["member"].to_numpy()[keep], varied].to_numpy(float)
        rho = _rank_correlations(rankdata(x, axis=0), rankdata(effect[keep]))
        usable = np.isfinite(rho)
        tstat = rho * np.sqrt((n - 2) / np.maximum(1.0 - rho**2, 1e-300))
        pval = 2.0 * student_t.sf(np.abs(tstat), n - 2)  # as scipy.stats.spearmanr
        order = sorted(np.flatnonzero(usable), key=lambda j: (-abs(rho[j]), varied[j]))
        share = float(np.mean(np.sign(effect[keep]) == sign))
        for rank, j in enumerate(order[:top], start=1):
            rows.append(
                {
                    "scenario": scenario,
                    "kpi": kpi,
                    "share_better": share,
                    "rank": rank,
                    "parameter": varied[j],
                    "rho": float(rho[j]),
                    "p": float(pval[j]),
                    "bonferroni": bool(pval[j] < 0.05 / int(usable.sum())),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _rank_correlations(ranks: np.ndarray, target_ranks: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``ranks`` with ``target_ranks`` (NaN for a constant column)."""
    a = ranks - ranks.mean(axis=0)
    b = target_ranks - target_ranks.mean()
    denom = np.sqrt((a**2).sum(axis=0) * (b**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (a * b[:, None]).sum(axis=0) / denom, np.nan)


def drivers_table(drivers: pd.DataFrame, titles: Mapping[str, str]) -> str:
    """The markdown table of :func:`deciding_assumptions`: one row per conclusion."""
    lines = [
        "| scenario | KPI | better in | parameters most associated with the effect (Spearman rho) |",
        "|---|---|---|---|",
    ]
    for (scenario, kpi), sub in drivers.groupby(["scenario", "kpi"], sort=False):
        names = "; ".join(
            f"`{r.parameter}` {r.rho:+.2f}{'*' if r.bonferroni else ''}" for r in sub.itertuples()
        )
        share = _pct(float(sub["share_better"].iloc[0]))
        lines.append(f"| {titles.get(scenario, scenario)} | {output_label(kpi)} | {share} | {names} |")
    return "\n".join(lines)


def headline(
    summary: pd.DataFrame, titles: Mapping[str, str], reference: str, kpis: Sequence[str]
) -> list[str]:
    """Sentences "<scenario> lowers <KPI> against <reference> in N% of plausible worlds (k of n)"."""
    lines = []
    for kpi in kpis:
        sub = summary[(summary["kpi"] == kpi) & summary["share_better"].notna()]
        for row in sub.itertuples():
            k = round(row.share_better * row.worlds)
            verb = "lowers" if row.better == "lower" else "raises"
            lines.append(
                f"{titles.get(row.scenario, row.scenario)} {verb} {output_label(kpi).lower()} against "
                f"{titles.get(reference, reference)} in {100 * row.share_better:.0f}% of plausible worlds "
                f"({k} of {row.worlds})"
            )
    return lines


# ---- running --------------------------------------------------------------------------------------
@dataclass
class EnsembleResult:
    """What :func:`run_ensemble` did: the runs, the per-world effects and their summary."""

    ensemble: Ensemble
    scenarios: list[Scenario]
    reference: str
    outcome: Outcome
    effects: pd.DataFrame
    summary: pd.DataFrame
    replicates: int
    base_seed: int
    setup: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    @property
    def titles(self) -> dict[str, str]:
        return {s.name: s.title for s in self.scenarios}

    def to_df(self) -> pd.DataFrame:
        """The summary, one row per scenario and KPI."""
        return self.summary.copy()


def resolve_ensemble(ensemble: Ensemble | str | Path, members: int | None = None) -> tuple[Ensemble, str]:
    """An ensemble (its first ``members``, or all) and where it came from (a folder, or ``"in memory"``)."""
    if isinstance(ensemble, Ensemble):
        return ensemble.head(members), "in memory"
    path = Path(ensemble)
    if not path.exists():
        raise EnsembleError(
            f"ensemble: {path} does not exist; `wijkteam calibrate` writes an ensemble folder"
        )
    if not path.is_dir():
        raise EnsembleError(
            f"ensemble: {path} is a file; give the ensemble folder (ensemble.json, ensemble.parquet)"
        )
    return load_ensemble(path).head(members), str(path)


def run_ensemble(
    ensemble: Ensemble | str | Path,
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    reference: str | None = None,
    replicates: int = DEFAULT_REPLICATES,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    series: bool = False,
    members: int | None = None,
    **execute_options: Any,
) -> EnsembleResult:
    """Run the scenarios on every member and summarise the effects across the members.

    ``scenarios`` default to the main ones (:data:`experiments.scenario.MAIN_SCENARIOS`);
    ``reference`` to the first of them (by default the pre-2015 baseline with equal staff,
    the first column of ``wijkteam run``'s comparison). Further keyword arguments
    (``workers``, ``scheduler``, ``backend``, ``resume``, ``overwrite``, ``progress``,
    ``command``) go to :func:`experiments.executor.execute`. ``members`` limits the run to the
    ensemble's first members (all by default).
    """
    ens, source = resolve_ensemble(ensemble, members)
    chosen = load_many(scenarios)
    names = [s.name for s in chosen]
    reference = reference or names[0]
    if reference not in names:
        raise EnsembleError(
            f"ensemble: the reference '{reference}' is not among the scenarios run ({', '.join(names)})"
        )
    if len(chosen) < 2:
        raise EnsembleError("ensemble: compare at least two scenarios (the reference and one more)")
    setup = setup_overrides(residents, weeks, burn_in)
    tasks = ensemble_tasks(ens, chosen, replicates, seed, setup)
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "scenarios": [
            {"name": s.name, "title": s.title, "source": s.source, "params": s.params} for s in chosen
        ],
        "ensemble": {
            "source": source,
            "members": len(ens),
            "parameters": list(ens.parameters),
            "fixed": dict(ens.fixed),
            "meta": dict(ens.meta),
            "reference": reference,
            "set_by_scenario": overridden(ens, chosen),
            "seeds": "SeedSequence([base_seed, replicate, member]): the same in every scenario of a member",
        },
    }
    outcome = execute(tasks, out, kind="ensemble", collect_series=series, info=info, **execute_options)
    effects = world_effects(outcome.runs, reference)
    return EnsembleResult(
        ensemble=ens,
        scenarios=chosen,
        reference=reference,
        outcome=outcome,
        effects=effects,
        summary=summarise(effects),
        replicates=replicates,
        base_seed=seed,
        setup=setup,
        source=source,
    )


# ---- files -----------------------------------------------------------------------------------------
def plot_effects(result: EnsembleResult, path: Path, kpis: Sequence[str] = HEADLINE) -> Path:
    """Per KPI: every world's effect against the reference (dots), the median (bar) and the 90% interval."""
    effects, titles = result.effects, result.titles
    names = [s.name for s in result.scenarios if s.name != result.reference]
    colours = scenario_colours([s.name for s in result.scenarios])
    kpis = [k for k in kpis if k in set(effects["kpi"])]
    cols = 2 if len(kpis) > 1 else 1
    rows = -(-len(kpis) // cols)
    fig = Figure(figsize=(7.5 * cols, 0.45 * len(names) * rows + 1.6 * rows + 1), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(kpis) :]:
        ax.set_visible(False)
    rng = np.random.default_rng(0)
    y = np.arange(len(names))[::-1]
    for k, (ax, kpi) in enumerate(zip(axes, kpis, strict=False)):
        scale, unit = effect_unit(kpi)
        for yi, name in zip(y, names, strict=True):
            e = (
                effects.loc[(effects["kpi"] == kpi) & (effects["scenario"] == name), "effect"].dropna()
                * scale
            )
            if e.empty:
                continue
            ax.scatter(
                e, yi + rng.uniform(-0.18, 0.18, e.size), s=18, alpha=0.75, color=colours[name], linewidths=0
            )
            lo, hi = np.quantile(e, INTERVAL)
            ax.plot([lo, hi], [yi - 0.32, yi - 0.32], color="black", linewidth=1.4)
            ax.plot([np.median(e)] * 2, [yi - 0.4, yi + 0.4], color="black", linewidth=2)
        ax.axvline(0.0, color="grey", linewidth=0.8, linestyle="--")
        better = OUTPUTS[kpi].better
        ax.set_title(f"{output_label(kpi)}" + (f" ({better} is better)" if better else ""), fontsize=11)
        ax.set_xlabel(f"effect against {titles[result.reference]} ({unit})", fontsize=9)
        ax.set_yticks(y, [titles[n] for n in names] if k % cols == 0 else [""] * len(names), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Effects across {len(result.ensemble)} worlds of the ensemble: one dot per world (mean of "
        f"{result.replicates} replicates), median (tall bar) and 90% interval across worlds (line)",
        fontsize=12,
    )
    fig.savefig(path, dpi=100)
    return path


HOW_TO_READ = """\
## How to read "N% of plausible worlds"

Each member of the ensemble is one *world*: one set of the behaviour parameters the data do not
rule out. In every world all scenarios run with the same seeds (common random numbers), and the
world's effect is the mean over its replicates of the paired difference with the reference.

- **N% of plausible worlds** is the share of worlds in which that effect has the better sign
  (the direction of the KPI in the output table). It answers "how sure can we be of the
  direction, given what we do not know about behaviour?" It is not a probability that the
  policy works: it is a share of the parameter sets kept by the calibration, as wide as the
  prior ranges and the targets allow.
- **The 90% interval across worlds** (5th to 95th percentile of the per-world effects) shows
  the *parameter uncertainty*, plus the replicate noise left in each world's mean.
- **Replicate noise** is the standard error of one world's effect over its own replicates
  (`noise SE`). Where the spread across worlds is much wider than the noise SE, the interval
  is parameter uncertainty; where they are similar, more replicates per world would narrow it.
  "Clearly better" counts the worlds better by more than 1.645 noise SE (one-sided 95%).
  Worlds neither better nor worse are ties (e.g. no admissions in either scenario).
- A share near 50% means the conclusion depends on the assumptions; near 0% or 100%, it
  survives them. `wijkteam sa ... --params behaviour` names the assumptions that decide it.
"""


def write_results(result: EnsembleResult, out: str | Path, command: str = "") -> list[Path]:
    """``world_effects.csv``, ``ensemble_summary.csv``, ``ensemble_effects.png`` and ``report.md``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "world_effects.csv", result.effects.to_csv(index=False).encode())
    atomic_write_bytes(out / "ensemble_summary.csv", result.summary.to_csv(index=False).encode())
    drivers = deciding_assumptions(result.ensemble, result.effects)
    atomic_write_bytes(out / "deciding_assumptions.csv", drivers.to_csv(index=False).encode())
    figure = plot_effects(result, out / "ensemble_effects.png")
    report = out / "report.md"
    atomic_write_bytes(report, report_text(result, command, [figure], drivers).encode())
    return [
        out / "world_effects.csv",
        out / "ensemble_summary.csv",
        out / "deciding_assumptions.csv",
        figure,
        report,
    ]


def summary_table(result: EnsembleResult, kpi: str) -> str:
    """The markdown table of one KPI: scenario, median, 90% interval, share better, noise."""
    scale, unit = effect_unit(kpi)
    sub = result.summary[result.summary["kpi"] == kpi].set_index("scenario")
    lines = [
        f"| scenario | median effect ({unit}) | 90% interval across worlds | noise SE of a world | "
        "better in | worse in | clearly better in |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in result.scenarios:
        if s.name not in sub.index:
            continue
        r = sub.loc[s.name]
        lines.append(
            f"| {s.title} | {_num(r['median'] * scale)} | "
            f"{_num(r['low'] * scale)} to {_num(r['high'] * scale)} | "
            f"{_num(r['noise_se'] * scale)} | {_pct(r['share_better'])} | {_pct(r['share_worse'])} | "
            f"{_pct(r['share_better_clear'])} |"
        )
    return "\n".join(lines)


def report_text(
    result: EnsembleResult, command: str, figures: Sequence[Path], drivers: pd.DataFrame | None = None
) -> str:
    """``report.md``: what ran, the headline shares, a table per headline KPI, how to read them,
    and the assumptions that decide each conclusion (``drivers``, :func:`deciding_assumptions`)."""
    ens, runs = result.ensemble, result.outcome.runs
    failed = int((runs["status"] != "ok").sum()) if not runs.empty else 0
    titles = result.titles
    drawn = ens.meta.get("drawn")
    first = runs.iloc[0] if not runs.empty else None
    size = (
        f"{int(first['p_n_residents'])} residents, {int(first['p_weeks'])} reported weeks after a burn-in of "
        f"{int(first['p_burn_in_weeks'])} weeks"
        if first is not None
        else "-"
    )
    lines = [
        "# Scenarios across the plausible ensemble",
        "",
        f"Command: `{command}`  ",
        f"Ensemble: {result.source}, {len(ens)} members varying {len(ens.parameters)} behaviour parameters"
        + (
            f"; fixed in every member: {', '.join(f'`{k} = {v}`' for k, v in ens.fixed.items())}"
            if ens.fixed
            else ""
        )
        + ".  ",
        f"Runs: {len(runs)} ({failed} failed): {len(result.scenarios)} scenarios x {len(ens)} worlds x "
        f"{result.replicates} replicates, base seed {result.base_seed}; the seeds of a world are the same in "
        "every scenario (common random numbers) and differ between worlds.  ",
        f"Neighbourhood: {size}.  ",
        f"Reference: {titles[result.reference]} (`{result.reference}`).",
        "",
    ]
    if drawn:
        lines += [
            f"**Not a calibrated ensemble**: its members were drawn {drawn} (no data ruled any out), so the "
            "shares below are shares of the prior, not of plausible worlds.",
            "",
        ]
    conflicts = overridden(ens, result.scenarios)
    if conflicts:
        lines += [
            "Scenarios that set a parameter the ensemble varies (the scenario's value holds in every world): "
            + "; ".join(f"`{s}`: {', '.join(p)}" for s, p in conflicts.items())
            + ".",
            "",
        ]
    lines += ["## Headline", ""]
    lines += [f"- {line}." for line in headline(result.summary, titles, result.reference, HEADLINE[:4])]
    lines += ["", HOW_TO_READ, "## Effects per KPI", ""]
    for kpi in HEADLINE:
        if kpi not in set(result.summary["kpi"]):
            continue
        better = OUTPUTS[kpi].better
        lines += [f"### {output_label(kpi)} ({better} is better)", "", summary_table(result, kpi), ""]
    lines += ["## Which assumptions decide each conclusion", ""]
    if drivers is not None and not drivers.empty:
        lines += [
            "Per conclusion, the parameters whose value across the plausible worlds goes most with the "
            "size of the effect: Spearman's rank correlation rho (positive: a higher value gives a larger "
            "effect, whatever the KPI's better direction); * where it survives a Bonferroni correction over "
            f"the {len(ens.parameters)} parameters (p < 0.05 / k). These are the assumptions to measure "
            "first; a correlation across worlds is not a cause (parameters are correlated within the "
            "ensemble): `wijkteam sa emulate --contrast` varies them on purpose.",
            "",
            drivers_table(drivers, titles),
            "",
        ]
    else:
        lines += [
            f"Not scored: fewer than {MIN_WORLDS_FOR_DRIVERS} worlds, or no conclusion that differs between "
            "worlds.",
            "",
        ]
    lines += [
        "Every KPI (also those without a direction) is in `ensemble_summary.csv`; every world's effect in "
        "`world_effects.csv`; every run in `runs.parquet`; the deciding assumptions in "
        "`deciding_assumptions.csv`.",
        "",
        "## Figures",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in figures]
    return "\n".join(lines) + "\n"


def summary_text(result: EnsembleResult, kpis: Sequence[str] = HEADLINE[:4]) -> str:
    """A plain-text table for the terminal: per scenario and KPI the median and share better."""
    titles = result.titles
    width = max(len(t) for t in titles.values()) + 2
    header = "scenario".ljust(width) + "".join(f"{output_label(k)[:22]:>26s}" for k in kpis)
    out = [f"effect against {titles[result.reference]}: median [90% across worlds] share better", header]
    s = result.summary.set_index(["scenario", "kpi"])
    for sc in result.scenarios:
        if sc.name == result.reference:
            continue
        cells = ""
        for k in kpis:
            if (sc.name, k) not in s.index:
                cells += f"{'-':>26s}"
                continue
            r = s.loc[(sc.name, k)]
            scale, _ = effect_unit(k)
            interval = f"[{_num(r['low'] * scale)},{_num(r['high'] * scale)}]"
            cell = f"{_num(r['median'] * scale)} {interval} {_pct(r['share_better'])}"
            cells += f"{cell:>26s}"
        out.append(sc.title[: width - 2].ljust(width) + cells)
    return "\n".join(out)


def _num(value: float) -> str:
    if value != value:
        return "-"
    size = abs(value)
    decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
    return f"{value:+.{decimals}f}"


def _pct(share: float) -> str:
    return "-" if share != share else f"{100 * share:.0f}%"
