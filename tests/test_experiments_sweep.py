"""The batch executor: sweeps end to end, locally and on Dask, resume, failures, determinism."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments import execute, make_tasks, run_scenarios, sweep
from experiments.designs import DesignError, build_design, parse_param, parse_params
from experiments.executor import chunk_size_for, guided_chunks
from experiments.store import StoreError
from model import SUMMARY_FIELDS, ParameterError
from model import run as model_run

TINY = {"residents": 200, "weeks": 16, "burn_in": 4}
TINY_SETUP = {"n_residents": 200, "weeks": 16, "burn_in_weeks": 4}
CALLS: list[int] = []


def results_only(df: pd.DataFrame) -> pd.DataFrame:
    """Drop what legitimately differs between two executions of the same design (timing)."""
    return df.drop(columns=["elapsed_s"]).sort_values("run_id").reset_index(drop=True)


def counting_runner(params, seed, collect):
    CALLS.append(seed)
    return model_run(params, seed=seed, collect=collect)


def failing_runner(params, seed, collect):
    """Fails for one design point (mandate = 1), like a model bug in one corner."""
    if params["mandate"] == 1.0:
        raise ValueError("simulated failure\nsecond line")
    return model_run(params, seed=seed, collect=collect)


class Interrupt:
    """A runner that raises KeyboardInterrupt (Ctrl-C) at its n-th call."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0

    def __call__(self, params, seed, collect):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return model_run(params, seed=seed, collect=collect)


# ---- designs ---------------------------------------------------------------------------
def test_param_forms():
    assert parse_param("mandate=0:1:3")[1].grid() == [0.0, 0.5, 1.0]
    assert parse_param("min_cluster=2:4:5")[1].grid() == [2, 3, 4]  # integers, no duplicates
    assert parse_param("steering=0,1")[1].values == (0.0, 1.0)
    assert parse_param("independence=1") == ("independence", 1.0)
    assert parse_param("pre_2015=true") == ("pre_2015", True)
    axis = parse_param("training_hours")[1]
    assert (axis.low, axis.high) == (0.0, 120.0)  # bounds from the registry


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("mandat=0:1:3", ParameterError, "unknown parameter 'mandat'"),
        ("mandate=0:2:3", ParameterError, r"'mandate' = 2\.0 is out of range: expected a number in \[0, 1\]"),
        ("mandate=0:1:x", DesignError, "'x' is not a number"),
        ("mandate=1:0:3", DesignError, "LO must not exceed HI"),
        ("mandate=0:1:2:3", DesignError, "malformed --param"),
        ("=1", DesignError, "malformed --param"),
        ("n_residents=100:200:2", DesignError, "setup parameter"),
    ],
)
def test_param_errors(text, error, match):
    with pytest.raises(error, match=match):
        parse_param(text)


def test_designs():
    axes, fixed = parse_params(["mandate=0:1:3", "steering=0,1", "independence=1"])
    grid = build_design(axes, fixed)
    assert len(grid) == 6 and all(p["independence"] == 1.0 for p in grid)
    lhs = build_design(axes[:1], sample=10, design="lhs", seed=1)
    assert len(lhs) == 10 and all(0 <= p["mandate"] <= 1 for p in lhs)
    assert lhs == build_design(axes[:1], sample=10, design="lhs", seed=1)  # reproducible
    levers = build_design([], sample=4, design="sobol")
    assert len(levers) == 4 and "fte_per_1000" in levers[0] and "pre_2015" not in levers[0]
    with pytest.raises(DesignError, match="nothing to sweep"):
        build_design([])
    with pytest.raises(DesignError, match="needs --sample"):
        build_design(axes, design="lhs")


def test_seeds_are_common_random_numbers():
    tasks = make_tasks([{"mandate": 0.0}, {"mandate": 1.0}], replicates=3, base_seed=7)
    assert [t.seed for t in tasks[:3]] == [t.seed for t in tasks[3:]]
    assert len({t.seed for t in tasks[:3]}) == 3
    assert [t.run_id for t in tasks] == list(range(6))
    other = make_tasks([{"mandate": 0.0}], replicates=3, base_seed=8)
    assert not {t.seed for t in other} & {t.seed for t in tasks}


# ---- execution -------------------------------------------------------------------------
def test_small_sweep_end_to_end_on_two_workers(tmp_path):
    out = tmp_path / "sweep"
    df = sweep(
        {"fte_per_1000": (0.4, 2.0, 3), "mandate": [0.0, 1.0]},
        replicates=2,
        workers=2,
        out=out,
        progress=False,
        **TINY,
    )
    assert len(df) == 12 and (df["status"] == "ok").all()
    assert set(SUMMARY_FIELDS) <= set(df.columns)
    assert {"run_id", "seed", "replicate", "p_fte_per_1000", "p_mandate", "p_n_residents"} <= set(df.columns)
    assert (df["p_n_residents"] == 200).all()
    stored = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(results_only(stored), results_only(df))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done"
    assert manifest["runs"] == {"total": 12, "done": 12, "failed": 0, "todo": 0}
    assert manifest["versions"]["mesa"] and "commit" in manifest["git"]
    assert manifest["executor"]["workers"] == 2
    assert len(manifest["parameters"]["points"]) == 6
    assert not (out / "parts").exists()


def test_same_results_whatever_the_number_of_workers(tmp_path):
    kwargs = dict(params={"mandate": (0.0, 1.0, 3)}, replicates=2, progress=False, **TINY)
    one = sweep(workers=1, **kwargs)
    two = sweep(workers=2, chunk_size=1, **kwargs)
    pd.testing.assert_frame_equal(results_only(one), results_only(two))


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    tasks = make_tasks([{"mandate": 0.0}, {"mandate": 1.0}], replicates=2, setup=TINY_SETUP)
    outcome = execute(tasks, tmp_path / "f", workers=2, progress=False, runner=failing_runner)
    assert outcome.failed == 2 and outcome.computed == 4
    runs = pd.read_parquet(tmp_path / "f" / "runs.parquet")
    bad = runs[runs["status"] == "failed"]
    assert list(bad["p_mandate"]) == [1.0, 1.0] and bad["seed"].notna().all()
    assert (bad["error"] == "ValueError: simulated failure").all()
    assert bad["escalations_per_1000_year"].isna().all()
    assert (runs.loc[runs["status"] == "ok", "p_mandate"] == 0.0).all()
    manifest = json.loads((tmp_path / "f" / "manifest.json").read_text())
    assert manifest["runs"]["failed"] == 2 and manifest["runs"]["done"] == 2


def test_resume_after_interruption_loses_nothing_and_recomputes_nothing(tmp_path):
    out = tmp_path / "r"
    tasks = make_tasks([{"mandate": m} for m in (0.0, 0.5, 1.0)], replicates=3, setup=TINY_SETUP)
    reference = execute(tasks, None, workers=1, progress=False).runs
    interrupt = Interrupt(after=5)
    with pytest.raises(KeyboardInterrupt):
        execute(tasks, out, workers=1, chunk_size=1, progress=False, runner=interrupt)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["runs"]["done"] == 5
    with pytest.raises(StoreError, match="--resume"):
        execute(tasks, out, workers=1, progress=False)
    CALLS.clear()
    resumed = execute(tasks, out, workers=1, resume=True, progress=False, runner=counting_runner)
    assert resumed.computed == 4 and len(CALLS) == 4  # only the missing runs
    pd.testing.assert_frame_equal(results_only(resumed.runs), results_only(reference))
    CALLS.clear()
    again = execute(tasks, out, workers=1, resume=True, progress=False, runner=counting_runner)
    assert again.computed == 0 and CALLS == []
    assert json.loads((out / "manifest.json").read_text())["runs"]["done"] == 9
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 3


def interrupt_at_last_point(params, seed, collect):
    """Ctrl-C arriving while a worker process runs the last design point."""
    if params["mandate"] == 1.0:
        raise KeyboardInterrupt
    return model_run(params, seed=seed, collect=collect)


def test_interrupted_local_pool_stores_what_finished(tmp_path):
    out = tmp_path / "p"
    tasks = make_tasks([{"mandate": m} for m in (0.0, 0.5, 1.0)], replicates=2, setup=TINY_SETUP)
    with pytest.raises(KeyboardInterrupt):
        execute(tasks, out, workers=2, chunk_size=1, progress=False, runner=interrupt_at_last_point)
    stored = json.loads((out / "manifest.json").read_text())["runs"]["done"]
    assert stored <= 4
    resumed = execute(tasks, out, workers=2, resume=True, progress=False)
    assert resumed.computed == len(tasks) - stored
    reference = execute(tasks, None, workers=1, progress=False).runs
    pd.testing.assert_frame_equal(results_only(resumed.runs), results_only(reference))


def test_resume_refuses_a_different_design(tmp_path):
    tasks = make_tasks([{"mandate": 0.0}], replicates=1, setup=TINY_SETUP)
    execute(tasks, tmp_path / "d", workers=1, progress=False)
    other = make_tasks([{"mandate": 0.5}], replicates=1, setup=TINY_SETUP)
    with pytest.raises(StoreError, match="different design"):
        execute(other, tmp_path / "d", workers=1, resume=True, progress=False)


def test_run_scenarios_with_series(tmp_path):
    runs, series = run_scenarios(
        ["pre_2015_equal_staff", "mandate"], replicates=2, workers=1, progress=False, **TINY
    )
    assert list(runs["scenario"]) == ["pre_2015_equal_staff"] * 2 + ["mandate"] * 2
    # common random numbers: replicate i has the same seed in every scenario
    assert list(runs["seed"][:2]) == list(runs["seed"][2:])
    assert len(series) == 4 * 16 and {"run_id", "scenario", "replicate", "week"} <= set(series.columns)


@pytest.mark.slow
def test_sweep_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    kwargs = dict(params={"mandate": (0.0, 1.0, 3)}, replicates=2, progress=False, **TINY)
    local = sweep(workers=1, **kwargs)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        by_address = sweep(scheduler=cluster.scheduler_address, out=tmp_path / "dask", **kwargs)
        by_client = sweep(scheduler=client, **kwargs)
    pd.testing.assert_frame_equal(results_only(by_address), results_only(local))
    pd.testing.assert_frame_equal(results_only(by_client), results_only(local))
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["executor"]["backend"] == "dask"
    assert manifest["executor"]["scheduler"].startswith("tcp://127.0.0.1")


@pytest.mark.parametrize(("n", "workers"), [(1, 1), (200, 2), (2000, 2), (37, 3), (500, 8)])
def test_guided_chunks_cover_every_run_once_and_shrink_at_the_end(n, workers):
    tasks = list(range(n))
    size = chunk_size_for(n, workers)
    chunks = guided_chunks(tasks, size, workers)
    assert [t for c in chunks for t in c] == tasks  # every run once, in order
    sizes = [len(c) for c in chunks]
    assert max(sizes) <= size
    assert sizes == sorted(sizes, reverse=True)  # never grows
    assert sizes[-1] == 1  # the tail is single runs: no worker waits on a big last chunk
