"""The Python API: :func:`validate` and :func:`calibrate` compute and return a result object.

Nothing here writes files or prints: :mod:`calibration.report` writes a result's folder
(``report.md``, tables, figures, ``manifest.json``) and :mod:`calibration.cli` wraps both
as ``wijkteam validate`` and ``wijkteam calibrate``::

    from calibration import validate, write_validation
    result = validate(seeds=[1, 2], setup={"n_residents": 2000})
    print(result.to_df()[["pattern", "kpi", "effect", "passed"]])
    write_validation(result, "results/validation")

Sizes are ``setup`` dicts of registry parameters: ``n_residents`` (residents), ``weeks``
(reported weeks) and ``burn_in_weeks`` (weeks before reporting). Times are in seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from calibration import fit as fitting
from calibration.patterns import PatternResult, results_table, run_patterns, world_shares, world_table
from calibration.runs import Simulator, crn_seeds
from calibration.targets import TargetSet, load_targets
from model.params import REGISTRY


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def setup_for(targets: TargetSet, kind: str, given: Mapping[str, int | None] | None = None) -> dict[str, int]:
    """The run size of a ``kind`` (``"fit"`` or ``"validate"``) from the targets file, ``given`` on top.

    ``given`` maps ``n_residents``, ``weeks``, ``burn_in_weeks`` to a value or ``None`` (file value).
    """
    setup = targets.setup(kind)
    setup.update({k: v for k, v in (given or {}).items() if v is not None})
    return setup


def seeds_for(
    targets: TargetSet, kind: str, n: int | None = None, base_seed: int | None = None, offset: int = 0
) -> list[int]:
    """The common seeds: ``n`` (default: the file's, per ``kind``) from ``base_seed`` (default: the file's).

    ``offset=1`` gives a disjoint set (fresh seeds for a check).
    """
    n = n or targets.seeds(kind)
    base = base_seed if base_seed is not None else int(targets.settings.get("base_seed", 0))
    return crn_seeds(n, base + offset)


@dataclass
class ValidationResult:
    """The pattern checks P1-P8 of one validation, with what they were run with.

    ``patterns`` has one :class:`PatternResult` per check; ``runs`` one row per scenario point
    and seed; ``where`` maps each pattern id to its points; ``elapsed_s`` is wall time (s).
    """

    targets: TargetSet
    setup: dict[str, int]
    seeds: list[int]
    base: dict[str, Any]
    patterns: list[PatternResult]
    runs: pd.DataFrame
    where: dict[str, list[int]]
    runs_done: int
    runs_failed: int
    started: str
    elapsed_s: float

    @property
    def n_passed(self) -> int:
        """Checks that pass."""
        return sum(r.passed for r in self.patterns)

    @property
    def passed(self) -> bool:
        """Whether every check passes."""
        return self.n_passed == len(self.patterns)

    def to_df(self) -> pd.DataFrame:
        """The pattern table, one row per check (``patterns.parquet``)."""
        return results_table(self.patterns)


def validate(
    targets: TargetSet | None = None,
    setup: Mapping[str, int] | None = None,
    seeds: Sequence[int] | None = None,
    workers: int | None = None,
    only: Sequence[str] | None = None,
    base: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Run the pattern checks with common random numbers and return them.

    ``targets`` defaults to ``calibration/targets.toml``; ``setup`` and ``seeds`` to its
    ``[settings]``; ``workers`` local processes (default: all cores); ``only`` selects pattern
    ids; ``base`` holds behaviour-parameter values applied to every scenario (candidate defaults).
    """
    targets = load_targets() if targets is None else targets
    setup = dict(setup) if setup is not None else setup_for(targets, "validate")
    seeds = list(seeds) if seeds is not None else seeds_for(targets, "validate")
    started, t0 = now(), time.monotonic()
    with Simulator(setup, workers) as sim:
        results, runs, where = run_patterns(targets, sim, seeds, base=dict(base or {}), only=only)
        done, failed = sim.runs_done, sim.runs_failed
    return ValidationResult(
        targets=targets,
        setup=setup,
        seeds=seeds,
        base=dict(base or {}),
        patterns=results,
        runs=runs,
        where=where,
        runs_done=done,
        runs_failed=failed,
        started=started,
        elapsed_s=time.monotonic() - t0,
    )


@dataclass
class EnsembleValidation:
    """The pattern checks in every world of a plausible ensemble (``wijkteam validate --ensemble``).

    ``worlds`` has one row per member and check (:func:`calibration.patterns.world_table`);
    :meth:`to_df` the share of worlds in which each check holds
    (:func:`calibration.patterns.world_shares`). ``seeds`` are the same in every world.
    """

    targets: TargetSet
    setup: dict[str, int]
    seeds: list[int]
    members: int
    source: str
    ensemble_meta: dict[str, Any]
    worlds: pd.DataFrame
    runs_done: int
    runs_failed: int
    started: str
    elapsed_s: float

    def to_df(self) -> pd.DataFrame:
        """Per check: the share of worlds in which it holds, the strict share and the effects."""
        return world_shares(self.worlds)


def validate_ensemble(
    ensemble: Any,
    targets: TargetSet | None = None,
    setup: Mapping[str, int] | None = None,
    seeds: Sequence[int] | None = None,
    workers: int | None = None,
    only: Sequence[str] | None = None,
    source: str = "in memory",
    progress: Callable[[str], None] | None = None,
) -> EnsembleValidation:
    """Run the pattern checks in every member of ``ensemble`` (a :class:`calibration.ensemble.Ensemble`).

    Each member's parameters apply to every scenario of every pattern (a pattern's own overrides
    win); ``seeds`` (default: two from the file's base seed) are the same in every world.
    """
    targets = load_targets() if targets is None else targets
    setup = dict(setup) if setup is not None else setup_for(targets, "validate")
    seeds = list(seeds) if seeds is not None else seeds_for(targets, "validate", 2)
    started, t0 = now(), time.monotonic()
    with Simulator(setup, workers) as sim:
        worlds = world_table(targets, sim, seeds, list(ensemble.iter_overrides()), only, progress)
        done, failed = sim.runs_done, sim.runs_failed
    return EnsembleValidation(
        targets=targets,
        setup=setup,
        seeds=seeds,
        members=len(ensemble),
        source=source,
        ensemble_meta=dict(ensemble.meta),
        worlds=worlds,
        runs_done=done,
        runs_failed=failed,
        started=started,
        elapsed_s=time.monotonic() - t0,
    )


@dataclass
class CalibrationResult:
    """A fit and its checks: the fit table, loss profiles, identifiability and patterns.

    ``fit`` holds the best vector, its loss and the loss history; ``table`` each target against
    the vectors named in ``labels`` (``defaults``, ``fitted`` and, with fresh seeds, ``fresh``);
    ``budget`` is in parameter vectors; ``elapsed_s`` is wall time (s).
    """

    targets: TargetSet
    setup: dict[str, int]
    seeds: list[int]
    budget: int
    fit: fitting.FitResult
    table: pd.DataFrame
    labels: list[str]
    profiles: pd.DataFrame
    identifiability: pd.DataFrame
    patterns: list[PatternResult]
    runs_done: int
    runs_failed: int
    started: str
    elapsed_s: float
    fresh_seeds: list[int] = field(default_factory=list)

    @property
    def fitted_values(self) -> dict[str, float]:
        """The fitted value of each fitted parameter (registry units)."""
        return {f.name: float(self.fit.best[f.name]) for f in self.targets.fit_parameters}

    def values_df(self) -> pd.DataFrame:
        """Each fitted parameter: default, fitted value, search range and unit (``fitted_values``)."""
        return pd.DataFrame(
            [
                {
                    "parameter": f.name,
                    "default": float(REGISTRY[f.name].default),
                    "fitted": float(self.fit.best[f.name]),
                    "search_low": f.low,
                    "search_high": f.high,
                    "unit": REGISTRY[f.name].unit,
                }
                for f in self.targets.fit_parameters
            ]
        )

    def to_df(self) -> pd.DataFrame:
        """The fit table, one row per target (``fit_table.parquet``)."""
        return self.table


def calibrate(
    targets: TargetSet | None = None,
    setup: Mapping[str, int] | None = None,
    seeds: Sequence[int] | None = None,
    budget: int = 60,
    workers: int | None = None,
    profile_points: int = 4,
    patterns: bool = True,
    fresh_seeds: Sequence[int] | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> CalibrationResult:
    """Fit the behaviour parameters, tabulate, profile and (optionally) check the patterns.

    ``targets``, ``setup`` and ``seeds`` default as in :func:`validate` (the ``[fit]`` section);
    ``budget`` is the number of parameter vectors the optimiser may evaluate; ``profile_points``
    the values per parameter in the loss profiles. With ``fresh_seeds`` the fit table also shows
    the fitted values on seeds the fit never saw (column group ``fresh``), a check against
    fitting the noise of the fit's seeds. ``progress(vectors evaluated, best loss)`` is called
    after each generation.
    """
    targets = load_targets() if targets is None else targets
    setup = dict(setup) if setup is not None else setup_for(targets, "fit")
    seeds = list(seeds) if seeds is not None else seeds_for(targets, "fit")
    started, t0 = now(), time.monotonic()
    with Simulator(setup, workers) as sim:
        result = fitting.fit(targets, sim, seeds, budget=budget, progress=progress)
        table = fitting.fit_table(targets, sim, seeds, {"defaults": {}, "fitted": result.best})
        labels = ["defaults", "fitted"]
        if fresh_seeds:
            fresh = fitting.fit_table(targets, sim, fresh_seeds, {"fresh": result.best})
            table = table.join(fresh[[c for c in fresh if c.startswith("fresh_")]])
            labels.append("fresh")
        prof = fitting.profile(targets, sim, seeds, result.best, points=profile_points)
        ident = fitting.identifiability(prof, targets, result.best_loss)
        pattern_results = run_patterns(targets, sim, seeds, base=result.best)[0] if patterns else []
        done, failed = sim.runs_done, sim.runs_failed
    return CalibrationResult(
        targets=targets,
        setup=setup,
        seeds=seeds,
        budget=budget,
        fit=result,
        table=table,
        labels=labels,
        profiles=prof,
        identifiability=ident,
        patterns=pattern_results,
        runs_done=done,
        runs_failed=failed,
        started=started,
        elapsed_s=time.monotonic() - t0,
        fresh_seeds=list(fresh_seeds or []),
    )
