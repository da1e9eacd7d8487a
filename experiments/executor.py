"""The batch executor: run a list of tasks on local processes or a Dask cluster.

Every experiment (scenario comparisons, sweeps, and later sensitivity analysis and
calibration) goes through :func:`execute`:

- tasks are built once, up front, from explicit parameter dicts (:func:`make_tasks`), with
  seeds derived deterministically from the base seed, so results do not depend on the
  number of workers, the chunking or on resuming;
- tasks run in chunks on a local ``concurrent.futures`` process pool (default and at
  most: all cores), in this process (``workers=1``), or on a ``dask.distributed`` cluster
  (``scheduler=``);
- this process alone writes the results store (:mod:`experiments.store`): each finished
  chunk is committed as it arrives, a run's row and series in one transaction; with
  ``resume=True`` only runs not stored whole are computed;
- a run that raises is recorded (parameters, seed, error) and the batch goes on; so is a
  run that kills its worker process (the pool is rebuilt, see :func:`_run_local`);
- a progress bar shows runs done, rate and time left; the manifest records the rest.

Example (what ``experiments/sensitivity.py`` would do with a SALib sample)::

    points = [dict(zip(names, row)) for row in sample]
    tasks = make_tasks(points, replicates=2, base_seed=0, setup={"n_residents": 2000})
    runs, _ = execute(tasks, out="results/sobol", kind="sobol", resume=True)
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from experiments.provenance import git_info, package_versions
from experiments.store import DB_NAME, ResultsStore
from experiments.store import FORMAT as STORE_FORMAT
from model import REGISTRY, SUMMARY_FIELDS, validate
from model import run as model_run

#: Prefix of parameter columns in ``runs.parquet`` (``p_mandate``); KPIs have bare names.
PARAM_PREFIX = "p_"

Runner = Callable[..., tuple[dict[str, float], pd.DataFrame]]


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be used; the message is one line for the user."""


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
            _mark_failed(row, _error_text(exc))
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


def _error_text(exc: BaseException, prefix: str = "") -> str:
    """One line (at most 500 characters) naming the exception, for the ``error`` column."""
    return f"{prefix}{type(exc).__name__}: {exc}".splitlines()[0][:500]


def _mark_failed(row: dict[str, Any], error: str) -> None:
    """Record a run as failed: its status, the error and no summary values."""
    row.update(status="failed", error=error)
    row.update({k: math.nan for k in SUMMARY_FIELDS})


def _worker_init(parent: int) -> None:
    """Local workers ignore Ctrl-C (the main process stops the pool and stores what is done)
    and exit when the main process ``parent`` is gone, so a killed sweep leaves no orphans."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    while _alive(parent):
        time.sleep(interval)
    os._exit(1)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


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


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def capped_workers(workers: int | None) -> int:
    """Local worker processes: as asked, but at most one per core (default: all cores)."""
    return min(workers or default_workers(), default_workers())


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


def execute(
    tasks: Sequence[Task],
    out: str | Path | None = None,
    *,
    kind: str = "sweep",
    workers: int | None = None,
    scheduler: Any = None,
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
    options = dict(
        kind=kind,
        workers=workers,
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
    if isinstance(scheduler, str):  # connect before anything is written
        with connect_scheduler(scheduler) as client:
            return execute(tasks, out, scheduler=client, **options)
    if out is None:
        return _execute(tasks, None, scheduler=scheduler, **options)
    store = ResultsStore(out).open(overwrite=overwrite and not resume, command=command)
    try:
        return _execute(tasks, store, scheduler=scheduler, **options)
    finally:
        store.close()


def connect_scheduler(address: str) -> Any:
    """A ``dask.distributed.Client`` for ``address``, or a :class:`SchedulerError` in one line."""
    from dask.distributed import Client

    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SchedulerError(
            f"cannot use the Dask scheduler at '{address}' (expected tcp://HOST:PORT of a running "
            f"scheduler): {reason}"
        ) from None


def _execute(tasks: Sequence[Task], store: ResultsStore | None, **o: Any) -> Outcome:
    """:func:`execute` once the store (if any) is held."""
    fingerprint = design_fingerprint(tasks, o["collect_series"])
    done_ids: set[int] = set()
    old: dict[str, Any] = {}
    if store is not None:
        store.prepare(
            fingerprint,
            resume=o["resume"],
            overwrite=o["overwrite"],
            replaceable=o["kind"] if o["replace_same_kind"] else None,
        )
        old = store.read_manifest() or {}
        done_ids = store.done_ids(_expected_weeks(tasks) if o["collect_series"] else None)
        store.start(design_frame(tasks), fingerprint, o["kind"])
    todo = [t for t in tasks if t.run_id not in done_ids]
    scheduler = o["scheduler"]
    local_workers = 1 if scheduler is not None else capped_workers(o["workers"])
    n_workers = _cluster_size(scheduler) or local_workers
    size = o["chunk_size"] or chunk_size_for(len(todo), n_workers)
    executor = {
        "backend": "dask" if scheduler is not None else ("in-process" if local_workers == 1 else "local"),
        "workers": None if scheduler is not None else local_workers,
        "scheduler": _scheduler_address(scheduler),
        "chunk_size": size,
        "chunking": "fixed" if o["chunk_size"] else "guided: shrinking to 1 run towards the end",
    }
    manifest = build_manifest(
        tasks, store, old, kind=o["kind"], command=o["command"], info=o["info"], executor=executor,
        done=len(done_ids), todo=len(todo), fingerprint=fingerprint, collect_series=o["collect_series"],
    )  # fmt: skip
    if store is not None:
        store.write_manifest(manifest)
    if o["chunk_size"]:
        chunks = [list(todo[i : i + size]) for i in range(0, len(todo), size)]
    else:
        chunks = guided_chunks(todo, size, n_workers)
    return _collect(tasks, chunks, store, manifest, local_workers, **o)


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
    local_workers: int,
    **o: Any,
) -> Outcome:
    """Run the chunks, store each as it comes back, and finish the manifest."""
    rows: list[dict[str, Any]] = []
    series: list[pd.DataFrame] = []
    status = "interrupted"  # until every chunk has come back
    todo = sum(len(c) for c in chunks)
    computed = failed = 0
    bar = tqdm(
        total=len(tasks),
        initial=len(tasks) - todo,
        unit="run",
        desc=manifest["name"] or o["kind"],
        disable=not o["progress"],
        dynamic_ncols=True,
        file=sys.stderr,
    )
    runs_of = _run_chunks(chunks, local_workers, o["scheduler"], o["collect_series"], o["runner"])
    try:
        with _terminate_as_interrupt(), closing(runs_of) as results:
            for chunk_rows, chunk_series in results:
                if store is not None:
                    with _deferred_interrupts():  # a chunk is committed whole
                        store.write_runs(_frame(chunk_rows), _concat(chunk_series))
                else:
                    rows += chunk_rows
                    series += chunk_series
                computed += len(chunk_rows)
                failed += sum(r["status"] != "ok" for r in chunk_rows)
                bar.update(len(chunk_rows))
                if failed:
                    bar.set_postfix(failed=failed)
        status = "done"
    finally:
        bar.close()
        _finish(manifest, store, status, computed, failed, len(tasks))
    if store is not None:
        store.export()
        all_runs, all_series = store.read_runs(), store.read_series()
    else:
        all_runs = _frame(rows).sort_values("run_id").reset_index(drop=True) if rows else pd.DataFrame()
        all_series = _concat(series)
        if all_series is not None and not all_series.empty:
            all_series = all_series.sort_values(["run_id", "week"]).reset_index(drop=True)
    return Outcome(
        runs=all_runs,
        series=all_series if all_series is not None else pd.DataFrame(),
        total=len(tasks),
        computed=computed,
        failed=int(manifest["runs"]["failed"]),
        out=store.path if store else None,
        manifest=manifest,
    )


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


def _run_chunks(
    chunks: list[list[Task]],
    workers: int,
    scheduler: Any,
    collect_series: bool,
    runner: Runner | None,
) -> Iterator[tuple[list[dict[str, Any]], list[pd.DataFrame]]]:
    """Yield the results of each chunk as it finishes (in completion order)."""
    if not chunks:
        return
    if scheduler is not None:
        yield from _run_dask(chunks, scheduler, collect_series, runner)
    elif workers == 1:
        for chunk in chunks:
            yield run_chunk(chunk, collect_series, runner)
    else:
        yield from _run_local(chunks, workers, collect_series, runner)


def _run_local(chunks, workers, collect_series, runner):
    """Chunks on a local process pool, in completion order.

    A worker process that dies (out of memory, killed) breaks the pool. The pool is then
    rebuilt, the runs that were in flight are run again one at a time on a pool of their
    own, so only a run that kills its worker again is recorded as failed (with the reason),
    and the batch goes on.
    """
    queue: deque[list[Task]] = deque(chunks)
    while queue:
        lost = yield from _pool_session(queue, workers, collect_series, runner)
        suspects = [task for chunk in lost for task in chunk]
        if suspects:
            yield from _run_isolated(suspects, collect_series, runner)


def _start_pool(workers: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["experiments.executor"])
    with _deferred_interrupts():  # a Ctrl-C while workers start is handled once they have
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),)
        )


def _pool_session(queue: deque, workers: int, collect_series: bool, runner: Runner | None):
    """Run chunks from ``queue`` until it is empty or a worker dies; return the chunks then lost."""
    pool = _start_pool(min(workers, len(queue)))
    running: dict[Future, list[Task]] = {}
    lost: list[list[Task]] = []
    clean = False

    def submit(n: int) -> None:
        with _deferred_interrupts():
            for _ in range(min(n, len(queue))):
                chunk = queue.popleft()
                try:
                    running[pool.submit(run_chunk, chunk, collect_series, runner)] = chunk
                except BrokenProcessPool:
                    lost.append(chunk)

    try:
        # Keep two chunks per worker in flight: enough to hide the hand-over, few to cancel.
        submit(2 * workers)
        while running and not lost:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                chunk = running.pop(fut)
                if isinstance(fut.exception(), BrokenProcessPool):
                    lost.append(chunk)
                else:
                    yield _result_or_failure(fut, chunk)
            if not lost:
                submit(len(finished))
        for fut in list(running):  # the pool broke: what else finished is kept, the rest is lost
            chunk = running.pop(fut)
            if fut.cancel() or isinstance(fut.exception(), BrokenProcessPool):
                lost.append(chunk)
            else:
                yield _result_or_failure(fut, chunk)
        clean = True
    finally:
        _stop_pool(pool, clean)
    return lost


def _run_isolated(tasks: list[Task], collect_series: bool, runner: Runner | None):
    """Run tasks one at a time on a one-worker pool; a task that kills it is recorded as failed."""
    pool = _start_pool(1)
    clean = False
    try:
        for task in tasks:
            with _deferred_interrupts():
                fut = pool.submit(run_chunk, [task], collect_series, runner)
                processes = list(getattr(pool, "_processes", {}).values())
            wait([fut])
            if isinstance(fut.exception(), BrokenProcessPool):
                codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                yield _failed_rows([task], _death_reason(codes[0] if codes else None))
                pool.shutdown(wait=True)
                pool = _start_pool(1)
            else:
                yield _result_or_failure(fut, [task])
        clean = True
    finally:
        _stop_pool(pool, clean)


def _death_reason(exitcode: int | None) -> str:
    """Why a worker process died, for the ``error`` column."""
    if exitcode is None:
        return "worker process died (exit status unknown)"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = ": out of memory, or killed" if name == "SIGKILL" else ""
        return f"worker process died (exit {exitcode}, {name}{hint})"
    return f"worker process died (exit {exitcode})"


def _stop_pool(pool: ProcessPoolExecutor, clean: bool) -> None:
    with _deferred_interrupts():
        if not clean:  # interrupted: stop the chunks in flight, they are recomputed on resume
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=10)
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(chunks, client, collect_series, runner):
    from dask.distributed import as_completed

    futures = client.map(
        run_chunk,
        chunks,
        collect_series=collect_series,
        runner=runner,
        pure=False,
        key=[f"wijkteam-chunk-{c[0].run_id}-{os.getpid()}-{time.time_ns()}" for c in chunks],
    )
    by_key = {f.key: c for f, c in zip(futures, chunks, strict=True)}
    try:
        for fut in as_completed(futures):
            yield _result_or_failure(fut, by_key[fut.key])
    finally:
        client.cancel(futures)


def _result_or_failure(fut: Any, chunk: list[Task]):
    """The chunk's results, or each of its runs recorded as failed if the chunk raised."""
    try:
        return fut.result()
    except Exception as exc:
        return _failed_rows(chunk, _error_text(exc, "worker failed: "))


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


def _take(iterator: Iterator, n: int) -> list:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def _cluster_size(client: Any) -> int | None:
    """Threads of the Dask cluster (to size the chunks), or None without one."""
    if client is None:
        return None
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # the size only tunes the chunking
        return 4


def _scheduler_address(scheduler: Any) -> str | None:
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    return str(getattr(getattr(scheduler, "scheduler", None), "address", scheduler))


_INTERRUPTS = {"defer": 0, "pending": False}


def _interrupt_handler(signum, frame):
    if _INTERRUPTS["defer"]:
        _INTERRUPTS["pending"] = True
    else:
        raise KeyboardInterrupt


@contextmanager
def _terminate_as_interrupt():
    """Treat SIGTERM (``kill``) like Ctrl-C, so finished runs are stored before exiting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupt_handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _deferred_interrupts():
    """Hold back Ctrl-C/SIGTERM while worker processes start or stop; raise it afterwards."""
    _INTERRUPTS["defer"] += 1
    try:
        yield
    finally:
        _INTERRUPTS["defer"] -= 1
    if not _INTERRUPTS["defer"] and _INTERRUPTS["pending"]:
        _INTERRUPTS["pending"] = False
        raise KeyboardInterrupt


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
