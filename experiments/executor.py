"""The batch executor: run a list of tasks on local processes or a Dask cluster.

Every experiment (scenario comparisons, sweeps, and later sensitivity analysis and
calibration) goes through :func:`execute`:

- tasks are built once, up front, from explicit parameter dicts (:func:`make_tasks`), with
  seeds derived deterministically from the base seed, so results do not depend on the
  number of workers, the chunking or on resuming;
- tasks run in chunks on one of the backends of :mod:`experiments.backends`: a local
  process pool (default and at most: all cores), this process (``workers=1``), or a
  ``dask.distributed`` cluster (``scheduler=``); or on a backend passed in, kept open by
  the caller between batches;
- this process alone writes the results store (:mod:`experiments.store`): each finished
  chunk is committed as it arrives, a run's row and series in one transaction; with
  ``resume=True`` only runs not stored whole are computed;
- a run that raises is recorded (parameters, seed, error) and the batch goes on; so is a
  run that kills its worker process (the backend rebuilds its pool);
- a progress bar shows runs done, rate and time left; the manifest records the rest.

Example (what :mod:`experiments.sensitivity` does with a SALib sample), and one pool kept
open for several batches::

    points = [dict(zip(names, row)) for row in sample]
    tasks = make_tasks(points, replicates=2, base_seed=0, setup={"n_residents": 2000})
    runs = execute(tasks, out="results/sobol", kind="sa-sobol", resume=True).runs

    with LocalPool(workers=2) as pool:  # from experiments.backends
        first = execute(tasks, backend=pool, progress=False).runs
        again = execute(tasks, backend=pool, progress=False).runs  # the same workers
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from experiments import backends
from experiments.backends import (
    Backend,
    deferred_interrupts,
    error_text,
    make_backend,
    terminate_as_interrupt,
)
from experiments.provenance import git_info, package_versions
from experiments.store import DB_NAME, ResultsStore
from experiments.store import FORMAT as STORE_FORMAT
from model import REGISTRY, SUMMARY_FIELDS, validate
from model import run as model_run

#: Prefix of parameter columns in ``runs.parquet`` (``p_mandate``); KPIs have bare names.
PARAM_PREFIX = "p_"

Runner = Callable[..., tuple[dict[str, float], pd.DataFrame]]


@dataclass(frozen=True)
class Task:
    """One model run: parameter overrides, its seed and where it sits in the design.

    ``tags`` are extra columns for the results table (e.g. ``{"scenario": "mandate"}``).
    """

    run_id: int
    params: dict[str, Any]
    seed: int
    replicate: int = 0
    point: int = 0
    tags: dict[str, Any] = field(default_factory=dict)


def run_seed(base_seed: int, replicate: int, point: int | None = None) -> int:
    """The seed of one run, derived from the base seed with ``numpy.random.SeedSequence``.

    With ``point=None`` (common random numbers) replicate *i* gets the same seed at every
    design point and in every scenario; otherwise each (point, replicate) gets its own.
    """
    entropy = [base_seed, replicate] if point is None else [base_seed, replicate, point]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint32)[0])


def make_tasks(
    points: Sequence[Mapping[str, Any]],
    replicates: int = 1,
    base_seed: int = 0,
    setup: Mapping[str, Any] | None = None,
    tags: Sequence[Mapping[str, Any]] | None = None,
    common_random_numbers: bool = True,
) -> list[Task]:
    """Tasks for every design point times ``replicates``, validated by the registry.

    ``points`` are parameter overrides (one dict per design point); ``setup`` overrides
    apply to every point (e.g. ``n_residents``, ``weeks``). Raises ``ParameterError`` for
    an unknown parameter or a value out of range, before anything runs.
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, not {replicates}")
    if base_seed < 0:
        raise ValueError(f"the seed must be a non-negative integer, not {base_seed}")
    tasks = []
    for i, point in enumerate(points):
        params = validate({**(setup or {}), **point}).overrides()
        for r in range(replicates):
            seed = run_seed(base_seed, r, None if common_random_numbers else i)
            tasks.append(Task(i * replicates + r, params, seed, r, i, dict(tags[i]) if tags else {}))
    return tasks


def design_fingerprint(tasks: Iterable[Task], collect_series: bool) -> str:
    """A hash of everything that determines the results, to check that a resume matches."""
    payload = [[t.run_id, t.seed, sorted(t.params.items()), sorted(t.tags.items())] for t in tasks]
    text = json.dumps([payload, collect_series], default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


# ---- what runs in a worker -----------------------------------------------------------
def run_chunk(
    tasks: Sequence[Task], collect_series: bool = False, runner: Runner | None = None
) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """Run tasks one after another; a task that raises gives a ``failed`` row, not an error."""
    runner = runner or model_run
    rows, series = [], []
    for task in tasks:
        start = time.perf_counter()
        row = _task_row(task)
        try:
            params = validate(task.params)
            row.update({PARAM_PREFIX + k: v for k, v in params.items()})
            summary, weekly = runner(params, seed=task.seed, collect=collect_series)
        except Exception as exc:  # a failing run is recorded and the batch goes on
            _mark_failed(row, error_text(exc))
        else:
            row.update(status="ok", error="")
            row.update({k: float(summary.get(k, math.nan)) for k in SUMMARY_FIELDS})
            if collect_series:
                weekly = weekly.copy()
                for key, value in reversed(
                    [("run_id", task.run_id), *task.tags.items(), ("replicate", task.replicate)]
                ):
                    weekly.insert(0, key, value)
                series.append(weekly)
        row["elapsed_s"] = time.perf_counter() - start
        rows.append(row)
    return rows, series


def _task_row(task: Task) -> dict[str, Any]:
    """The columns that identify a run in the results table."""
    return {
        "run_id": task.run_id,
        **task.tags,
        "point": task.point,
        "replicate": task.replicate,
        "seed": task.seed,
    }


def _mark_failed(row: dict[str, Any], error: str) -> None:
    """Record a run as failed: its status, the error and no summary values."""
    row.update(status="failed", error=error)
    row.update({k: math.nan for k in SUMMARY_FIELDS})


# ---- the executor ---------------------------------------------------------------------
@dataclass
class Outcome:
    """What :func:`execute` did: counts, the store folder and the results."""

    runs: pd.DataFrame
    series: pd.DataFrame
    total: int
    computed: int
    failed: int
    out: Path | None
    manifest: dict[str, Any]


def chunk_size_for(n_tasks: int, workers: int) -> int:
    """Chunks small enough to balance the load and to store progress often (≈8 per worker)."""
    return max(1, min(20, math.ceil(n_tasks / (8 * max(workers, 1)))))


def guided_chunks(tasks: Sequence[Task], size: int, workers: int) -> list[list[Task]]:
    """Chunks of ``size`` that shrink to single runs towards the end (guided scheduling).

    Each chunk takes at most a quarter of the remaining runs per worker, so the last
    chunks are small and no worker idles for long while another finishes a big one.
    """
    chunks, pos, n = [], 0, len(tasks)
    while pos < n:
        k = min(size, max(1, math.ceil((n - pos) / (4 * max(workers, 1)))))
        chunks.append(list(tasks[pos : pos + k]))
        pos += k
    return chunks


@dataclass(frozen=True)
class _Batch:
    """The options of one :func:`execute` call that shape the batch (not where it runs)."""

    kind: str = "sweep"
    chunk_size: int | None = None
    collect_series: bool = False
    resume: bool = False
    overwrite: bool = False
    replace_same_kind: bool = False
    progress: bool = True
    command: str | None = None
    info: Mapping[str, Any] | None = None
    runner: Runner | None = None


def execute(
    tasks: Sequence[Task],
    out: str | Path | None = None,
    *,
    kind: str = "sweep",
    workers: int | None = None,
    scheduler: Any = None,
    backend: Backend | None = None,
    chunk_size: int | None = None,
    collect_series: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    replace_same_kind: bool = False,
    progress: bool = True,
    command: str | None = None,
    info: Mapping[str, Any] | None = None,
    runner: Runner | None = None,
) -> Outcome:
    """Run ``tasks`` and return their results, storing them in ``out`` if given.

    Parameters
    ----------
    tasks:
        From :func:`make_tasks` (or built by hand; run ids must be unique).
    out:
        Results folder (``results/<name>``); ``None`` keeps everything in memory. This
        process holds the folder (its DuckDB database) until the batch ends; a second
        process gets a :class:`~experiments.store.StoreError` naming the holder.
    workers:
        Local processes (default, and at most: all cores); 1 runs in this process.
    scheduler:
        Address of a Dask scheduler (``tcp://host:8786``) or a ``dask.distributed.Client``;
        when given, the chunks run on that cluster and ``workers`` is ignored. The
        workers must be able to import ``experiments`` and ``model`` (install the
        project on every worker machine).
    backend:
        An open :class:`~experiments.backends.Backend` to run on instead (``workers`` and
        ``scheduler`` are then ignored); the caller keeps it open between batches.
    resume:
        Keep runs already stored in ``out`` (which must come from the same design, as
        stored in its database) and compute only the others; runs recorded as failed,
        or stored without their full weekly series, are computed again.
    overwrite:
        Replace earlier results in ``out``; without it (or ``resume``) a folder holding
        results is an error. A folder that holds other files is never cleared.
    replace_same_kind:
        Replace earlier results of the same ``kind`` without ``overwrite`` (``wijkteam run``).
    info:
        Extra entries for the manifest (design, scenarios, ...).
    runner:
        The function run for each task, ``runner(params, seed=, collect=)``; default
        ``model.run``. Must be importable by the workers.
    """
    if len({t.run_id for t in tasks}) != len(tasks):
        raise ValueError("run ids of the tasks are not unique")
    batch = _Batch(
        kind=kind,
        chunk_size=chunk_size,
        collect_series=collect_series,
        resume=resume,
        overwrite=overwrite,
        replace_same_kind=replace_same_kind,
        progress=progress,
        command=command,
        info=info,
        runner=runner,
    )
    if backend is None:
        with make_backend(workers, scheduler) as own:  # a scheduler is connected before anything is written
            return _execute_on(tasks, out, own, batch)
    return _execute_on(tasks, out, backend, batch)


def _execute_on(tasks: Sequence[Task], out: str | Path | None, backend: Backend, batch: _Batch) -> Outcome:
    """:func:`execute` once the backend is open: hold the store (if any) while the batch runs."""
    if out is None:
        return _execute(tasks, None, backend, batch)
    store = ResultsStore(out).open(overwrite=batch.overwrite and not batch.resume, command=batch.command)
    try:
        return _execute(tasks, store, backend, batch)
    finally:
        store.close()


def _execute(tasks: Sequence[Task], store: ResultsStore | None, backend: Backend, o: _Batch) -> Outcome:
    """Plan the chunks of the runs not stored yet, write the manifest, run and collect them."""
    fingerprint = design_fingerprint(tasks, o.collect_series)
    done_ids, old = _prepare_store(tasks, store, fingerprint, o)
    todo = [t for t in tasks if t.run_id not in done_ids]
    slots = backend.size
    size = o.chunk_size or chunk_size_for(len(todo), slots)
    executor = {
        **backend.describe(),
        "chunk_size": size,
        "chunking": "fixed" if o.chunk_size else "guided: shrinking to 1 run towards the end",
    }
    manifest = build_manifest(
        tasks, store, old, kind=o.kind, command=o.command, info=o.info, executor=executor,
        done=len(done_ids), todo=len(todo), fingerprint=fingerprint, collect_series=o.collect_series,
    )  # fmt: skip
    if store is not None:
        store.write_manifest(manifest)
    if o.chunk_size:
        chunks = [list(todo[i : i + size]) for i in range(0, len(todo), size)]
    else:
        chunks = guided_chunks(todo, size, slots)
    return _collect(tasks, chunks, store, manifest, backend, o)


def _prepare_store(
    tasks: Sequence[Task], store: ResultsStore | None, fingerprint: str, o: _Batch
) -> tuple[set[int], dict[str, Any]]:
    """Check the store against the design and start a session: the ids stored whole and the
    stored manifest (a resumed batch keeps its sessions)."""
    if store is None:
        return set(), {}
    store.prepare(
        fingerprint,
        resume=o.resume,
        overwrite=o.overwrite,
        replaceable=o.kind if o.replace_same_kind else None,
    )
    old = store.read_manifest() or {}
    done_ids = store.done_ids(_expected_weeks(tasks) if o.collect_series else None)
    store.start(design_frame(tasks), fingerprint, o.kind)
    return done_ids, old


def build_manifest(
    tasks: Sequence[Task],
    store: ResultsStore | None,
    old: Mapping[str, Any],
    *,
    kind: str,
    command: str | None,
    info: Mapping[str, Any] | None,
    executor: Mapping[str, Any],
    done: int,
    todo: int,
    fingerprint: str,
    collect_series: bool,
) -> dict[str, Any]:
    """The manifest of a batch: the one place its fields are set (``manifest.json``).

    ``old`` is the stored manifest of the folder (a resumed batch keeps its sessions).
    """
    git = git_info()
    session = {
        "started": _now(),
        "finished": None,
        "status": "running",
        "to_compute": todo,
        "git_commit": git["commit"],  # a resumed sweep records the code of each session
    }
    return {
        "name": store.path.name if store else None,
        "kind": kind,
        "command": command or "python API (experiments.execute)",
        "status": "running",
        "created": old.get("created", session["started"]),
        "started": session["started"],
        "finished": None,
        "runs": {"total": len(tasks), "done": done, "failed": 0, "todo": todo},
        "design_sha256": fingerprint,
        "store": {"database": DB_NAME, "format": STORE_FORMAT} if store else None,
        "executor": dict(executor),
        "seeds": {
            "rule": "numpy.random.SeedSequence([base_seed, replicate]) (common random numbers) "
            "or SeedSequence([base_seed, replicate, point])",
            "unique": sorted({t.seed for t in tasks}),
        },
        "collect_series": collect_series,
        **dict(info or {}),
        "parameters": {
            "defaults": {k: p.default for k, p in REGISTRY.items()},
            "points": _points(tasks),
        },
        "versions": package_versions(),
        "git": git,
        "sessions": list(old.get("sessions", [])) + [session],
    }


def _collect(
    tasks: Sequence[Task],
    chunks: list[list[Task]],
    store: ResultsStore | None,
    manifest: dict[str, Any],
    backend: Backend,
    o: _Batch,
) -> Outcome:
    """Run the chunks, store each as it comes back, and finish the manifest."""
    rows: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    status = "interrupted"  # until every chunk has come back
    todo = sum(len(c) for c in chunks)
    counts = {"computed": 0, "failed": 0}
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - todo,
        unit="run",
        desc=manifest["name"] or o.kind,
        disable=not o.progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )
    try:
        with terminate_as_interrupt(), closing(_run_chunks(backend, chunks, o)) as results:
            for chunk_rows, chunk_series in results:
                if store is not None:
                    with deferred_interrupts():  # a chunk is committed whole
                        store.write_runs(_frame(chunk_rows), _concat(chunk_series))
                else:
                    rows += chunk_rows
                    series += chunk_series
                _count(counts, chunk_rows, bar)
        status = "done"
    finally:
        bar.close()
        _finish(manifest, store, status, counts["computed"], counts["failed"], len(tasks))
    all_runs, all_series = _results(store, rows, series)
    return Outcome(
        runs=all_runs,
        series=all_series,
        total=len(tasks),
        computed=counts["computed"],
        failed=int(manifest["runs"]["failed"]),
        out=store.path if store else None,
        manifest=manifest,
    )


def _run_chunks(
    backend: Backend, chunks: list[list[Task]], o: _Batch
) -> Iterator[tuple[list[dict[str, Any]], list[pd.DataFrame]]]:
    """Each chunk's rows and series as it finishes; a chunk that failed as a whole (its
    worker raised or died) gives a ``failed`` row per run, with the reason."""
    for chunk, result, error in backend.run(
        run_chunk, chunks, collect_series=o.collect_series, runner=o.runner
    ):
        yield _failed_rows(chunk, error) if error is not None else result


def _count(counts: dict[str, int], chunk_rows: list[dict[str, Any]], bar: Any) -> None:
    """Count a finished chunk and move the progress bar."""
    counts["computed"] += len(chunk_rows)
    counts["failed"] += sum(r["status"] != "ok" for r in chunk_rows)
    bar.update(len(chunk_rows))
    if counts["failed"]:
        bar.set_postfix(failed=counts["failed"])


def _results(
    store: ResultsStore | None, rows: list[dict[str, Any]], series: list[pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every run of the batch (with the earlier sessions' from the store), sorted by run id."""
    if store is not None:
        store.export()
        all_runs, all_series = store.read_runs(), store.read_series()
    else:
        all_runs = _frame(rows).sort_values("run_id").reset_index(drop=True) if rows else pd.DataFrame()
        all_series = _concat(series)
        if all_series is not None and not all_series.empty:
            all_series = all_series.sort_values(["run_id", "week"]).reset_index(drop=True)
    return all_runs, all_series if all_series is not None else pd.DataFrame()


def _finish(
    manifest: dict[str, Any], store: ResultsStore | None, status: str, computed: int, failed: int, total: int
) -> None:
    """Close the session in the manifest and store it (also after an interruption)."""
    session = manifest["sessions"][-1]
    session.update(finished=_now(), status=status, computed=computed, failed=failed)
    manifest.update(status=status, finished=session["finished"])
    n_ok, n_failed = store.counts() if store is not None else (computed - failed, failed)
    manifest["runs"] = {"total": total, "done": n_ok, "failed": n_failed, "todo": total - n_ok - n_failed}
    if store is not None:
        store.write_manifest(manifest)


def design_frame(tasks: Sequence[Task]) -> pd.DataFrame:
    """The design as stored in the database: one row per run with its parameters and seed."""
    return pd.DataFrame(
        {
            "run_id": [t.run_id for t in tasks],
            "point": [t.point for t in tasks],
            "replicate": [t.replicate for t in tasks],
            "seed": [t.seed for t in tasks],
            "params": [json.dumps(t.params, sort_keys=True, default=str) for t in tasks],
            "tags": [json.dumps(t.tags, sort_keys=True, default=str) for t in tasks],
        }
    )


def _expected_weeks(tasks: Sequence[Task]) -> dict[int, int]:
    """Weekly series rows each run must have to count as stored whole."""
    weeks: dict[int, int] = {}
    for t in tasks:
        try:
            weeks[t.run_id] = int(validate(t.params)["weeks"])
        except Exception:  # an invalid run is never stored as ok
            weeks[t.run_id] = -1
    return weeks


def _failed_rows(chunk: list[Task], message: str) -> tuple[list[dict[str, Any]], list[pd.DataFrame]]:
    """Rows recording each run of ``chunk`` as failed with ``message``."""
    rows = []
    for task in chunk:
        row = _task_row(task)
        row.update({PARAM_PREFIX + k: v for k, v in validate(task.params).items()})
        _mark_failed(row, message)
        row["elapsed_s"] = math.nan
        rows.append(row)
    return rows, []


#: Kept for callers of the former private names (tests of the fault guarantees).
_alive = backends.alive
_death_reason = backends.death_reason
default_workers = backends.default_workers


def _points(tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """Distinct parameter overrides by design point, in point order."""
    seen: dict[int, dict[str, Any]] = {}
    for t in tasks:
        seen.setdefault(t.point, {**t.tags, **t.params})
    return [seen[k] for k in sorted(seen)]


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None and not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
