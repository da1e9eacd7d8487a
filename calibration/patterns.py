"""Pattern-oriented validation: the checks P1-P8 of DESIGN section 7.

Each check is labelled (``kind`` in ``targets.toml``, carried by :class:`PatternResult` into
every table and report) as **verification**, where a rule of the model imposes the pattern (the
check shows that the code does what the rule says; its ``origin`` names the rule, file:function
and equation), or **validation**, where the pattern emerges from mechanisms that do not state it
(``origin`` names them). Only validation checks are evidence that the model reproduces what the
articles describe.

Each pattern in ``calibration/targets.toml`` names the scenarios it compares and, for
each measured KPI, a direction and a minimum effect fixed in advance. All scenarios run
with the same seeds (common random numbers), so a contrast is measured seed by seed:

- ``contrast``: the effect of the treatment against the baseline, relative
  (``(t - b) / b``) or absolute, per seed; mean and 95% t-interval over seeds. A check
  passes when the mean effect reaches ``min_effect`` in the stated direction and the
  interval excludes zero.
- ``level``: a KPI that must stay below a bound (the Speelkamer's "less than half");
  passes when the upper end of its 95% interval is below the bound. P2 costs a collective
  arrangement as the Speelkamer case does (RadarAdvies, 'Sociale teams werken': the provider's
  professional and the team's worker running the group, besides the tariff): the group-support
  tariff plus the team's hours on initiatives at ``worker_hour_cost``, per participant-year
  (``collective_cost_per_participant_year``, :func:`calibration.targets.kpis`, with the hours
  measured beside each run by :func:`calibration.runs.measured_run`). The model's own
  ``cost_collective_per_resident_year`` holds the tariffs only: it books the team's hours as team
  cost.
- ``curve``: a response to one parameter (staffing); the effect is the steepest slope
  between adjacent levels over the slope of the lowest segment (a threshold makes it
  larger than 1), with a bootstrap interval over seeds; the lowest level must also be
  "trapped" (KPI at most ``trapped_below`` times the collective time target).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calibration.runs import Simulator
from calibration.targets import Check, Pattern, TargetSet, kpi_unit
from model.params import REGISTRY

#: Cap on the curve effect (slope ratio) when the lowest segment is flat.
MAX_RATIO = 99.0


@dataclass
class PatternResult:
    """One check of one pattern: what was measured and whether it passes."""

    pattern: str
    title: str
    source: str
    contrast: str
    kpi: str
    baseline: float
    treatment: float
    effect: float
    ci_low: float
    ci_high: float
    criterion: str
    n: int
    passed: bool
    note: str = ""
    per_seed: tuple[float, ...] = ()
    kind: str = "validation"  # verification (a rule imposes it) or validation (it emerges)
    origin: str = ""  # the rule that imposes it, or the mechanisms it emerges from


def pattern_points(pattern: Pattern) -> list[dict[str, Any]]:
    """The parameter overrides a pattern runs, in the order its evaluation expects."""
    if pattern.kind == "contrast":
        return [dict(pattern.baseline), dict(pattern.treatment)]
    if pattern.kind == "level":
        return [dict(pattern.scenario)]
    return [{**pattern.scenario, pattern.parameter: v} for v in pattern.values]


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the two ends of its t-interval (NaN values dropped)."""
    x = np.asarray([v for v in values if not math.isnan(v)], float)
    if x.size == 0:
        return math.nan, math.nan, math.nan
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - half, m + half


def evaluate_pattern(
    pattern: Pattern, runs: Sequence[pd.DataFrame], overrides: dict[str, Any] | None = None
) -> list[PatternResult]:
    """Results of a pattern's checks from its runs (one DataFrame per point, rows by replicate)."""
    results = []
    for check in pattern.checks:
        common = dict(
            pattern=pattern.id,
            title=pattern.title,
            source=pattern.source,
            contrast=pattern.contrast,
            kpi=check.kpi,
            kind=check.kind,
            origin=check.origin,
        )
        if pattern.kind == "contrast":
            results.append(_evaluate_contrast(check, runs, common))
        elif pattern.kind == "level":
            results.append(_evaluate_level(check, runs, common))
        else:
            results.append(_evaluate_curve(pattern, check, runs, common, overrides or {}))
    return results


def _evaluate_contrast(check: Check, runs: Sequence[pd.DataFrame], common: dict[str, Any]) -> PatternResult:
    """Treatment against baseline, seed by seed (relative or absolute effect)."""
    b = runs[0].set_index("replicate")[check.kpi]
    t = runs[1].set_index("replicate")[check.kpi].reindex(b.index)
    if check.effect == "relative":
        per_seed = ((t - b) / b.where(b.abs() > 1e-12)).to_numpy(float)
    else:
        per_seed = (t - b).to_numpy(float)
    m, lo, hi = mean_ci(per_seed)
    sign = -1.0 if check.direction == "decrease" else 1.0
    signed_low = min(sign * lo, sign * hi) if not math.isnan(lo) else math.nan
    passed = (
        not math.isnan(m) and sign * m >= check.min_effect and not math.isnan(signed_low) and signed_low > 0
    )
    unit = "%" if check.effect == "relative" else kpi_unit(check.kpi)
    verb = "falls" if check.direction == "decrease" else "rises"
    relative = check.effect == "relative"
    amount = f"{100 * check.min_effect:.0f}%" if relative else f"{check.min_effect:g}"
    return PatternResult(
        **common,
        baseline=float(np.nanmean(b)),
        treatment=float(np.nanmean(t)),
        effect=m,
        ci_low=lo,
        ci_high=hi,
        criterion=f"{verb} by ≥ {amount}, CI excludes 0 ({unit})",
        n=int(np.isfinite(per_seed).sum()),
        passed=bool(passed),
        per_seed=tuple(float(v) for v in per_seed),
    )


def _evaluate_level(check: Check, runs: Sequence[pd.DataFrame], common: dict[str, Any]) -> PatternResult:
    """A KPI below a bound: the upper end of its 95% interval over seeds."""
    values = runs[0][check.kpi].to_numpy(float)
    m, lo, hi = mean_ci(values)
    bound = float(check.below)
    passed = not math.isnan(hi) and hi < bound
    note = "" if np.isfinite(values).any() else "no participants in any run"
    return PatternResult(
        **common,
        baseline=math.nan,
        treatment=m,
        effect=m,
        ci_low=lo,
        ci_high=hi,
        criterion=f"< {bound:g} (upper CI)",
        n=int(np.isfinite(values).sum()),
        passed=bool(passed),
        note=note,
        per_seed=tuple(float(v) for v in values),
    )


def _slope_ratio(x: np.ndarray, y: np.ndarray) -> float:
    slopes = np.diff(y) / np.diff(x)
    first = slopes[0]
    top = slopes.max()
    if first <= 1e-9:
        return MAX_RATIO if top > 1e-9 else 0.0
    return float(min(top / first, MAX_RATIO))


def _evaluate_curve(
    pattern: Pattern,
    check: Check,
    runs: Sequence[pd.DataFrame],
    common: dict[str, Any],
    overrides: Mapping[str, Any],
) -> PatternResult:
    x = np.asarray(pattern.values, float)
    curves = np.vstack([r.sort_values("replicate")[check.kpi].to_numpy(float) for r in runs]).T
    mean_curve = np.nanmean(curves, axis=0)
    effect = _slope_ratio(x, mean_curve)
    rng = np.random.default_rng(0)
    boot = [
        _slope_ratio(x, np.nanmean(curves[rng.integers(0, len(curves), len(curves))], axis=0))
        for _ in range(500)
    ]
    lo, hi = (float(v) for v in np.percentile(boot, [2.5, 97.5]))
    target = float(overrides.get("collective_time_target", REGISTRY["collective_time_target"].default))
    trapped_at = (check.trapped_below or 0.0) * target
    trapped = mean_curve[0] <= trapped_at
    passed = effect >= check.min_effect and lo > 1.0 and trapped
    return PatternResult(
        **common,
        baseline=float(mean_curve[0]),
        treatment=float(mean_curve[-1]),
        effect=effect,
        ci_low=lo,
        ci_high=hi,
        criterion=(
            f"steepest / lowest slope ≥ {check.min_effect:g} (CI > 1) and "
            f"{check.kpi} ≤ {trapped_at:.2f} at {pattern.parameter} = {x[0]:g}"
        ),
        n=len(curves),
        passed=bool(passed),
        note="" if trapped else f"not trapped at the lowest level ({mean_curve[0]:.3f})",
        per_seed=tuple(_slope_ratio(x, c) for c in curves),
    )


def run_patterns(
    targets: TargetSet,
    simulator: Simulator,
    seeds: Sequence[int],
    base: dict[str, Any] | None = None,
    only: Sequence[str] | None = None,
) -> tuple[list[PatternResult], pd.DataFrame, dict[str, list[int]]]:
    """Run every pattern's scenarios in one batch and evaluate the checks.

    ``base`` overrides apply to every scenario (e.g. candidate behaviour values); ``only``
    selects pattern ids. Identical scenarios are run once. Returns the results, the runs
    (one row per scenario point and seed; ``patterns`` names the patterns that use it) and,
    for each pattern id, its points in :func:`pattern_points` order.
    """
    base = dict(base or {})
    chosen = [p for p in targets.patterns if only is None or p.id in only]
    points: list[dict[str, Any]] = []
    keys: dict[str, int] = {}
    where: dict[str, list[int]] = {}
    for pattern in chosen:
        where[pattern.id] = []
        for pt in pattern_points(pattern):
            full = {**base, **pt}
            key = repr(sorted(full.items()))
            if key not in keys:
                keys[key] = len(points)
                points.append(full)
            where[pattern.id].append(keys[key])
    runs = simulator.batch(points, seeds)
    runs.insert(1, "overrides", [repr(points[i]) for i in runs["point"]])
    results = []
    for pattern in chosen:
        parts = [runs[runs["point"] == i] for i in where[pattern.id]]
        results += evaluate_pattern(pattern, parts, base)
    return results, runs.assign(patterns=[_patterns_of(i, where) for i in runs["point"]]), where


def _patterns_of(point: int, where: dict[str, list[int]]) -> str:
    return ",".join(pid for pid, idx in where.items() if point in idx)


def results_table(results: Sequence[PatternResult]) -> pd.DataFrame:
    """The results as a DataFrame, one row per check."""
    return pd.DataFrame([r.__dict__ for r in results])


# ---- a pattern in one world of a plausible ensemble -----------------------------------------------
#: How :func:`world_holds` decides, for reports.
WORLD_RULE = (
    "a pattern's check holds in a world when the mean over that world's seeds reaches the check's "
    "criterion without its confidence interval: contrast, the mean effect reaches min_effect in the "
    "stated direction; level, the mean is below the bound; curve, the steepest/lowest slope ratio of "
    "the mean curve reaches min_effect and the lowest level is trapped. A world has few seeds, so "
    "the interval is left to the share across worlds; the strict single-world criterion (with the "
    "interval) is reported beside it."
)


def world_holds(pattern: Pattern, check: Check, result: PatternResult, overrides: Mapping[str, Any]) -> bool:
    """Whether ``check`` of ``pattern`` holds in one world, by :data:`WORLD_RULE`.

    ``result`` is the check's :class:`PatternResult` from that world's runs and ``overrides``
    the world's parameters (the trap level of a curve scales with its collective time target).
    """
    if math.isnan(result.effect):
        return False
    if pattern.kind == "contrast":
        sign = -1.0 if check.direction == "decrease" else 1.0
        return bool(sign * result.effect >= check.min_effect)
    if pattern.kind == "level":
        return bool(result.effect < float(check.below))
    target = float(overrides.get("collective_time_target", REGISTRY["collective_time_target"].default))
    trapped = result.baseline <= (check.trapped_below or 0.0) * target
    return bool(result.effect >= check.min_effect and trapped)


def world_table(
    targets: TargetSet,
    simulator: Simulator,
    seeds: Sequence[int],
    worlds: Sequence[tuple[int, Mapping[str, Any]]],
    only: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every pattern check in every world: one row per world and check.

    ``worlds`` are ``(member, overrides)`` pairs (an ensemble's ``iter_overrides()``); each
    world runs every chosen pattern's scenarios with ``seeds`` (the same seeds in every world
    and scenario). Columns: ``member``, the :class:`PatternResult` fields but ``per_seed``,
    ``holds`` (:func:`world_holds`) and ``passed`` (the strict criterion, with the interval).
    """
    chosen = {p.id: p for p in targets.patterns if only is None or p.id in only}
    rows = []
    t0 = time.monotonic()
    for i, (member, overrides) in enumerate(worlds, start=1):
        results, _, _ = run_patterns(targets, simulator, seeds, base=dict(overrides), only=list(chosen))
        holds = 0
        for r in results:
            pattern = chosen[r.pattern]
            check = next(c for c in pattern.checks if c.kpi == r.kpi)
            row = {k: v for k, v in r.__dict__.items() if k != "per_seed"}
            rows.append({"member": int(member), **row, "holds": world_holds(pattern, check, r, overrides)})
            holds += bool(rows[-1]["holds"])
        if progress is not None:
            took = time.monotonic() - t0
            left = took / i * (len(worlds) - i)
            progress(
                f"world {i}/{len(worlds)} (member {int(member)}): {holds} of {len(results)} checks hold "
                f"({took:.0f} s, about {left / 60:.0f} min left)"
            )
    return pd.DataFrame(rows)


def world_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Per pattern check: the share of worlds in which it holds, the strict share, the effect across worlds.

    Columns: ``pattern``, ``title``, ``kpi``, ``kind``, ``criterion``, ``worlds``, ``share_holds``,
    ``share_passed`` (strict), ``median``, ``low`` and ``high`` (5% and 95% of the per-world mean
    effects) and ``seeds`` (per world).
    """
    rows = []
    for (pattern, kpi), sub in table.groupby(["pattern", "kpi"], sort=False):
        effects = sub["effect"].to_numpy(float)
        finite = effects[np.isfinite(effects)]
        low, high = (float(v) for v in np.quantile(finite, (0.05, 0.95))) if finite.size else (math.nan,) * 2
        rows.append(
            {
                "pattern": pattern,
                "title": sub["title"].iloc[0],
                "kpi": kpi,
                "kind": sub["kind"].iloc[0],
                "criterion": sub["criterion"].iloc[0],
                "worlds": len(sub),
                "share_holds": float(sub["holds"].mean()),
                "share_passed": float(sub["passed"].mean()),
                "median": float(np.median(finite)) if finite.size else math.nan,
                "low": low,
                "high": high,
                "seeds": int(sub["n"].max()),
            }
        )
    return pd.DataFrame(rows)
