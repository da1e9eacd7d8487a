"""Batches of model runs with common random numbers, on a backend kept open between batches.

The fit evaluates many small batches (one per generation of the optimiser), so the backend
(:mod:`experiments.backends`: a local process pool, or this process with ``workers=1``) is
the same one the sweeps use, kept open for the whole calibration instead of being started
per batch. Tasks are plain dicts of overrides and a seed; every parameter vector gets the
same seed list (common random numbers, seeds from :func:`experiments.executor.run_seed`).
A run that raises, or kills its worker process, is a ``failed`` row and the batch goes on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from calibration.targets import kpis
from experiments.backends import Backend, default_workers, make_backend
from experiments.executor import run_seed
from model import NeighbourhoodModel, validate


def crn_seeds(n: int, base_seed: int = 0) -> list[int]:
    """``n`` run seeds shared by every parameter vector (common random numbers)."""
    return [run_seed(base_seed, r) for r in range(n)]


def measured_run(params: Mapping[str, Any], seed: int) -> tuple[dict[str, float], float]:
    """One run without the weekly series: its summary and the team's hours on initiatives.

    The run is the model's own (``model.run``: same steps, same results); beside it this records
    what the summary does not: the worker hours the team spent running initiatives in the
    reported weeks (its collective hours less outreach, M7), in hours per resident per year. The
    model books these hours as team cost, not as collective cost, so P2's Speelkamer costing
    (:func:`calibration.targets.kpis`) needs them.
    """
    p = validate(dict(params))
    model = NeighbourhoodModel(p, rng=seed, collect=False)
    total = p.burn_in_weeks + p.weeks
    hours = 0.0
    while model.week < total:
        model.step()
        if model.reporting and model.workers:
            capacity = sum(w.capacity for w in model.workers)
            used = model.now["collective_time_share"] * capacity  # initiatives + outreach (M7, M2)
            outreach = model.outreach_per_1000 * p.n_residents / 1000.0
            hours += max(0.0, used - outreach)
    years = max(model.tally.weeks, 1) / 52.0
    return model.summary(), hours / p.n_residents / years


def run_one(params: Mapping[str, Any], seed: int) -> dict[str, float]:
    """One run without the weekly series; its summary and derived KPIs (or ``error``)."""
    start = time.perf_counter()
    try:
        p = validate(dict(params))
        summary, group_hours = measured_run(p, seed)
        row: dict[str, Any] = {**kpis(summary, p, group_hours), "status": "ok", "error": ""}
    except Exception as exc:  # a failing run is recorded, the batch goes on
        row = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:300]}
    row["elapsed_s"] = time.perf_counter() - start
    return row


Job = tuple[int, dict[str, Any], int]  # (position in the batch, overrides, seed)


def _run_many(jobs: Sequence[Job]) -> list[tuple[int, dict[str, Any]]]:
    return [(i, run_one(params, seed)) for i, params, seed in jobs]


def _failed(jobs: Sequence[Job], error: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows for jobs whose worker failed or died as a whole."""
    return [(i, {"status": "failed", "error": error[:300], "elapsed_s": math.nan}) for i, _, _ in jobs]


class Simulator:
    """Runs batches of (overrides, seed) on one backend kept open between batches.

    Use as a context manager; ``workers=1`` runs in this process; ``scheduler`` (an address or a
    ``dask.distributed`` client) runs on a Dask cluster instead.
    """

    def __init__(
        self, setup: Mapping[str, Any] | None = None, workers: int | None = None, scheduler: Any = None
    ) -> None:
        self.setup = dict(setup or {})
        self.workers = workers or default_workers()
        self.scheduler = scheduler
        self.backend: Backend | None = None
        self.runs_done = 0
        self.runs_failed = 0

    def __enter__(self) -> Simulator:
        self.backend = make_backend(self.workers, self.scheduler, preload=["calibration.runs"]).__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.backend is not None:
            self.backend.__exit__(*exc)
            self.backend = None

    def batch(self, points: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> pd.DataFrame:
        """Run every point with every seed; one row per run with ``point``, ``seed`` and the KPIs."""
        jobs = [
            (k, {**self.setup, **dict(pt)}, int(s))
            for k, (pt, s) in enumerate((pt, s) for pt in points for s in seeds)
        ]
        index = [(i, r, int(s)) for i in range(len(points)) for r, s in enumerate(seeds)]
        df = pd.DataFrame.from_records(self._rows(jobs))
        df.insert(0, "seed", [s for _, _, s in index])
        df.insert(0, "replicate", [r for _, r, _ in index])
        df.insert(0, "point", [i for i, _, _ in index])
        failed = int((df["status"] != "ok").sum())
        self.runs_done += len(df) - failed
        self.runs_failed += failed
        return df

    def _rows(self, jobs: list[Job]) -> list[dict[str, Any]]:
        """The rows of ``jobs`` in their order, run in chunks of about a quarter per worker."""
        backend = self.backend or make_backend(1)
        size = max(1, math.ceil(len(jobs) / (4 * backend.size)))
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        rows: dict[int, dict[str, Any]] = {}
        for chunk, result, error in backend.run(_run_many, chunks):
            rows.update(_failed(chunk, error) if error is not None else result)
        return [rows[k] for k in range(len(jobs))]
