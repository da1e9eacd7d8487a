"""Execution backends: where chunks of work run, behind one interface.

A backend runs ``fn(chunk, **kwargs)`` for every chunk (a list of work items) and yields
``(chunk, result, error)`` as chunks finish, in completion order; ``error`` is ``None`` or
one line saying why the chunk gave no result. Backends are context managers (as EMA
Workbench's evaluators are)::

    with LocalPool(workers=2) as backend:
        for chunk, result, error in backend.run(run_chunk, chunks, collect_series=False):
            ...

- :class:`InProcess` runs the chunks one after another in this process;
- :class:`LocalPool` runs them on a ``concurrent.futures`` process pool (forkserver) that
  stays open between calls of :meth:`~LocalPool.run` until the ``with`` block ends. A worker
  that dies (out of memory, killed) breaks the pool: the pool is rebuilt, the items that
  were in flight run again one at a time on a pool of their own, and only an item that
  kills its worker again comes back with an error naming the signal. Workers ignore Ctrl-C
  (the main process stops the pool) and exit when the main process is gone (no orphans);
- :class:`DaskCluster` runs them on a ``dask.distributed`` cluster (an address or a client).

The batch executor (:mod:`experiments.executor`: sweeps, scenario runs, sensitivity
analysis) and the calibration (:mod:`calibration.runs`) both run through these classes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: What a backend yields per chunk: the chunk, its result (``None`` on error) and the error.
Finished = tuple[list, Any, str | None]


class SchedulerError(RuntimeError):
    """The Dask scheduler cannot be used; the message is one line for the user."""


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def capped_workers(workers: int | None) -> int:
    """Local worker processes: as asked, but at most one per core (default: all cores)."""
    return min(workers or default_workers(), default_workers())


def error_text(exc: BaseException, prefix: str = "") -> str:
    """One line (at most 500 characters) naming the exception."""
    return f"{prefix}{type(exc).__name__}: {exc}".splitlines()[0][:500]


# ---- the interface ---------------------------------------------------------------------
class Backend:
    """Runs chunks of work; use as a context manager. Subclasses implement :meth:`run`."""

    name = "backend"

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release processes or connections (also called by ``__exit__``)."""

    @property
    def size(self) -> int:
        """Chunks that run at the same time (to size the chunks)."""
        return 1

    def describe(self) -> dict[str, Any]:
        """The manifest's description of where the runs ran."""
        return {"backend": self.name, "workers": self.size, "scheduler": None}

    def run(self, fn: Callable[..., Any], chunks: Sequence[list], **kwargs: Any) -> Iterator[Finished]:
        """Yield ``(chunk, fn(chunk, **kwargs), None)`` or ``(chunk, None, error)`` per chunk."""
        raise NotImplementedError


class InProcess(Backend):
    """Every chunk in this process, one after another (``--workers 1``; exceptions propagate)."""

    name = "in-process"

    def run(self, fn: Callable[..., Any], chunks: Sequence[list], **kwargs: Any) -> Iterator[Finished]:
        for chunk in chunks:
            yield chunk, fn(chunk, **kwargs), None


class LocalPool(Backend):
    """A local process pool (forkserver) kept open until the ``with`` block ends.

    ``workers``: processes (default and at most: all cores); ``preload``: modules the
    forkserver imports once, so that workers start warm.
    """

    name = "local"

    def __init__(
        self, workers: int | None = None, preload: Sequence[str] = ("experiments.executor",)
    ) -> None:
        self.workers = capped_workers(workers)
        self.preload = list(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._pool_size = 0

    @property
    def size(self) -> int:
        return self.workers

    def close(self) -> None:
        if self._pool is not None:
            _stop_pool(self._pool, clean=True)
            self._pool = None

    def run(self, fn: Callable[..., Any], chunks: Sequence[list], **kwargs: Any) -> Iterator[Finished]:
        """Chunks in completion order; items lost with a dead worker are run again alone."""
        queue: deque[list] = deque(chunks)
        while queue:
            lost = yield from self._session(queue, fn, kwargs)
            suspects = [[item] for chunk in lost for item in chunk]
            if suspects:
                yield from _run_isolated(suspects, fn, kwargs, self.preload)

    def _pool_for(self, needed: int) -> ProcessPoolExecutor:
        """The open pool, started (or restarted larger) when it has fewer than ``needed`` workers."""
        if self._pool is not None and self._pool_size < needed:
            self.close()
        if self._pool is None:
            self._pool, self._pool_size = _start_pool(needed, self.preload), needed
        return self._pool

    def _session(self, queue: deque, fn: Callable[..., Any], kwargs: dict[str, Any]):
        """Run chunks from ``queue`` until it is empty or a worker dies; return the chunks then lost."""
        pool = self._pool_for(min(self.workers, len(queue)))
        running: dict[Future, list] = {}
        lost: list[list] = []
        finished_normally = False

        def submit(n: int) -> None:
            with deferred_interrupts():
                for _ in range(min(n, len(queue))):
                    chunk = queue.popleft()
                    try:
                        running[pool.submit(fn, chunk, **kwargs)] = chunk
                    except BrokenProcessPool:
                        lost.append(chunk)

        try:
            # Keep two chunks per worker in flight: enough to hide the hand-over, few to cancel.
            submit(2 * self.workers)
            while running and not lost:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    chunk = running.pop(fut)
                    if isinstance(fut.exception(), BrokenProcessPool):
                        lost.append(chunk)
                    else:
                        yield _result_or_error(fut, chunk)
                if not lost:
                    submit(len(finished))
            for fut in list(running):  # the pool broke: what else finished is kept, the rest is lost
                chunk = running.pop(fut)
                if fut.cancel() or isinstance(fut.exception(), BrokenProcessPool):
                    lost.append(chunk)
                else:
                    yield _result_or_error(fut, chunk)
            finished_normally = True
        finally:
            if lost or not finished_normally:  # a worker died, or interrupted: this pool is done
                _stop_pool(pool, clean=finished_normally)
                self._pool = None
        return lost


class DaskCluster(Backend):
    """A ``dask.distributed`` cluster: ``scheduler`` is an address (connected on entry and
    closed on exit) or a ``Client`` (used as it is). The workers must be able to import
    ``experiments`` and ``model`` (install the project on every worker machine)."""

    name = "dask"

    def __init__(self, scheduler: Any) -> None:
        self.scheduler = scheduler
        self.client: Any = None if isinstance(scheduler, str) else scheduler
        self._own = False

    def __enter__(self) -> DaskCluster:
        if self.client is None:
            self.client, self._own = connect_scheduler(self.scheduler), True
        return self

    def close(self) -> None:
        if self._own and self.client is not None:
            self.client.close()
            self.client, self._own = None, False

    @property
    def size(self) -> int:
        """Threads of the cluster; 4 when it cannot be asked (the size only tunes the chunking)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except Exception:
            return 4

    def describe(self) -> dict[str, Any]:
        address = getattr(getattr(self.client, "scheduler", None), "address", self.client)
        return {"backend": self.name, "workers": None, "scheduler": str(address)}

    def run(self, fn: Callable[..., Any], chunks: Sequence[list], **kwargs: Any) -> Iterator[Finished]:
        from dask.distributed import as_completed

        if not chunks:
            return
        tag = f"{os.getpid()}-{time.time_ns()}"
        futures = self.client.map(
            fn, chunks, **kwargs, pure=False, key=[f"wijkteam-chunk-{i}-{tag}" for i in range(len(chunks))]
        )
        by_key = {f.key: c for f, c in zip(futures, chunks, strict=True)}
        try:
            for fut in as_completed(futures):
                yield _result_or_error(fut, by_key[fut.key])
        finally:
            self.client.cancel(futures)


def make_backend(
    workers: int | None = None, scheduler: Any = None, preload: Sequence[str] = ("experiments.executor",)
) -> Backend:
    """The backend for ``--workers``/``--scheduler``: Dask with a scheduler, else a local pool,
    or this process when one worker is asked (or the machine has one core)."""
    if scheduler is not None:
        return DaskCluster(scheduler)
    local = capped_workers(workers)
    return InProcess() if local == 1 else LocalPool(local, preload)


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


def _result_or_error(fut: Any, chunk: list) -> Finished:
    """The chunk's result, or the exception it raised as one line."""
    try:
        return chunk, fut.result(), None
    except Exception as exc:
        return chunk, None, error_text(exc, "worker failed: ")


# ---- local processes ------------------------------------------------------------------
def _start_pool(workers: int, preload: Sequence[str]) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    with deferred_interrupts():  # a Ctrl-C while workers start is handled once they have
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_worker_init, initargs=(os.getpid(),)
        )


def _stop_pool(pool: ProcessPoolExecutor, clean: bool) -> None:
    with deferred_interrupts():
        if not clean:  # interrupted: stop the chunks in flight, they are recomputed on resume
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=10)
        pool.shutdown(wait=True, cancel_futures=True)


def _run_isolated(
    chunks: list[list], fn: Callable[..., Any], kwargs: dict[str, Any], preload: Sequence[str]
) -> Iterator[Finished]:
    """Run single-item chunks one at a time on a one-worker pool; one that kills it gets an error."""
    pool = _start_pool(1, preload)
    clean = False
    try:
        for chunk in chunks:
            with deferred_interrupts():
                fut = pool.submit(fn, chunk, **kwargs)
                processes = list(getattr(pool, "_processes", {}).values())
            wait([fut])
            if isinstance(fut.exception(), BrokenProcessPool):
                codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
                yield chunk, None, death_reason(codes[0] if codes else None)
                pool.shutdown(wait=True)
                pool = _start_pool(1, preload)
            else:
                yield _result_or_error(fut, chunk)
        clean = True
    finally:
        _stop_pool(pool, clean)


def death_reason(exitcode: int | None) -> str:
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


def _worker_init(parent: int) -> None:
    """Local workers ignore Ctrl-C (the main process stops the pool and stores what is done)
    and exit when the main process ``parent`` is gone, so a killed batch leaves no orphans."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    while alive(parent):
        time.sleep(interval)
    os._exit(1)


def alive(pid: int) -> bool:
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


# ---- interruptions ----------------------------------------------------------------------
_INTERRUPTS = {"defer": 0, "pending": False}


def _interrupt_handler(signum, frame):
    if _INTERRUPTS["defer"]:
        _INTERRUPTS["pending"] = True
    else:
        raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt():
    """Treat SIGTERM (``kill``) like Ctrl-C, so finished work is stored before exiting."""
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
def deferred_interrupts():
    """Hold back Ctrl-C/SIGTERM while worker processes start or stop, or while a chunk is
    stored; raise it afterwards."""
    _INTERRUPTS["defer"] += 1
    try:
        yield
    finally:
        _INTERRUPTS["defer"] -= 1
    if not _INTERRUPTS["defer"] and _INTERRUPTS["pending"]:
        _INTERRUPTS["pending"] = False
        raise KeyboardInterrupt
