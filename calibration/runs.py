"""Batches of model runs with common random numbers, on a persistent process pool.

The fit evaluates many small batches (one per generation of the optimiser), so the pool
is kept open for the whole calibration instead of being started per batch. Tasks are
plain dicts of overrides and a seed; every parameter vector gets the same seed list
(common random numbers, seeds from :func:`experiments.executor.run_seed`).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from calibration.targets import kpis
from experiments.executor import default_workers, run_seed
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


def _run_many(jobs: Sequence[tuple[dict[str, Any], int]]) -> list[dict[str, float]]:
    return [run_one(params, seed) for params, seed in jobs]


class Simulator:
    """Runs batches of (overrides, seed) on a process pool kept open between batches.

    Use as a context manager; ``workers=1`` runs in this process.
    """

    def __init__(self, setup: Mapping[str, Any] | None = None, workers: int | None = None) -> None:
        self.setup = dict(setup or {})
        self.workers = workers or default_workers()
        self.pool: ProcessPoolExecutor | None = None
        self.runs_done = 0
        self.runs_failed = 0

    def __enter__(self) -> Simulator:
        if self.workers > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["calibration.runs"])
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def batch(self, points: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> pd.DataFrame:
        """Run every point with every seed; one row per run with ``point``, ``seed`` and the KPIs."""
        jobs = [({**self.setup, **dict(pt)}, int(s)) for pt in points for s in seeds]
        index = [(i, r, int(s)) for i in range(len(points)) for r, s in enumerate(seeds)]
        if self.pool is None:
            rows = _run_many(jobs)
        else:
            size = max(1, math.ceil(len(jobs) / (4 * self.workers)))
            chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
            rows = [row for part in self.pool.map(_run_many, chunks) for row in part]
        df = pd.DataFrame.from_records(rows)
        df.insert(0, "seed", [s for _, _, s in index])
        df.insert(0, "replicate", [r for _, r, _ in index])
        df.insert(0, "point", [i for i, _, _ in index])
        failed = int((df["status"] != "ok").sum())
        self.runs_done += len(df) - failed
        self.runs_failed += failed
        return df
