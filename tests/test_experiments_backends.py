"""The execution backends (``experiments/backends.py``): one interface, the same results on
each, one pool kept open between batches (sweeps, sensitivity analysis and calibration), and
the fault guarantees of the pool also for the calibration's batches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest

from calibration.runs import Simulator, crn_seeds
from experiments import execute, make_tasks
from experiments.backends import Backend, DaskCluster, InProcess, LocalPool, default_workers, make_backend
from tests.test_faults import KILLED, TINY_SETUP, results_only

POINTS = [{"mandate": m} for m in (0.0, 0.5, 1.0)]


def test_make_backend_follows_workers_and_scheduler():
    assert isinstance(make_backend(1), InProcess)
    assert isinstance(make_backend(2), LocalPool if default_workers() > 1 else InProcess)
    assert isinstance(make_backend(2, scheduler="tcp://127.0.0.1:1"), DaskCluster)  # not connected yet
    with InProcess() as backend:
        assert backend.describe() == {"backend": "in-process", "workers": 1, "scheduler": None}


def test_every_backend_yields_each_chunk_once_with_its_result():
    chunks = [[1, 2], [3], [4, 5, 6]]
    for backend in (InProcess(), LocalPool(2, preload=())):
        with backend:
            got = sorted((tuple(c), r, e) for c, r, e in backend.run(sum, chunks))
        assert got == [((1, 2), 3, None), ((3,), 3, None), ((4, 5, 6), 15, None)], backend.name


def test_a_chunk_that_raises_on_a_pool_comes_back_as_one_line():
    with LocalPool(2, preload=()) as backend:
        got = {tuple(c): (r, e) for c, r, e in backend.run(sum, [[1, 2], ["a", 1]])}
    assert got[(1, 2)] == (3, None)
    assert got[("a", 1)][0] is None and got[("a", 1)][1].startswith("worker failed: TypeError")


def test_one_pool_serves_several_batches_with_the_same_results():
    tasks = make_tasks(POINTS, replicates=2, setup=TINY_SETUP)
    reference = execute(tasks, None, workers=1, progress=False).runs
    with LocalPool(2) as pool:
        first = execute(tasks, None, backend=pool, progress=False)
        workers = set(pool._pool._processes) if pool._pool is not None else set()
        second = execute(tasks, None, backend=pool, progress=False)
        assert pool._pool is not None and set(pool._pool._processes) == workers  # not restarted
    assert first.manifest["executor"]["backend"] == "local"
    for outcome in (first, second):
        pd.testing.assert_frame_equal(results_only(outcome.runs), results_only(reference))
    assert pool._pool is None  # closed with the block


def _killer(jobs):
    """A calibration chunk whose job at mandate 0.5 kills its worker process."""
    from calibration.runs import _run_many

    if any(params.get("mandate") == 0.5 for _, params, _ in jobs):
        os.kill(os.getpid(), signal.SIGKILL)
    return _run_many(jobs)


def test_calibration_batches_survive_a_worker_that_dies(monkeypatch):
    """The calibration's pool is the sweeps' pool: a run that kills its worker is a failed row
    with the reason, the other runs are kept, and the next batch runs on a rebuilt pool."""
    import calibration.runs as runs

    seeds = crn_seeds(1)
    with Simulator(TINY_SETUP, workers=1) as sim:
        reference = sim.batch(POINTS, seeds)
    monkeypatch.setattr(runs, "_run_many", _killer)
    with Simulator(TINY_SETUP, workers=2) as sim:
        if sim.backend.size < 2:
            pytest.skip("needs two cores")
        batch = sim.batch(POINTS, seeds)
        after = sim.batch([POINTS[0]], seeds)
    bad = batch[batch["status"] != "ok"]
    assert list(bad["point"]) == [1]
    assert set(bad["error"]) <= {KILLED, "worker process died (exit 255)"}
    good = batch[batch["status"] == "ok"].drop(columns="elapsed_s")
    expected = reference[reference["point"] != 1].drop(columns="elapsed_s")
    pd.testing.assert_frame_equal(good, expected)
    assert after["status"].tolist() == ["ok"]
    assert sim.runs_failed == 1


def test_no_module_chooses_the_matplotlib_backend_at_import():
    code = (
        "import matplotlib, experiments.plots, experiments.tipping, experiments.sensitivity, "
        "experiments.caseload_trap, experiments.mandate_vs_steering, calibration; "
        "print(matplotlib.get_backend())"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "svg", out.stderr


def test_a_backend_is_one_small_interface():
    assert all(issubclass(cls, Backend) for cls in (InProcess, LocalPool, DaskCluster))
    with pytest.raises(NotImplementedError):
        next(Backend().run(sum, [[1]]))
