"""What every compiled loop shares: the compiler settings, named inputs and the model's order of sums.

The residents' weekly dynamics run as loops compiled by Numba: one implementation, no twin. Each
mechanism module holds its own loops next to the code that calls them. ``NUMBA_DISABLE_JIT=1`` runs
the same source as plain Python, for debugging and for measuring test coverage (slow: minutes a
run). Compiled code is cached in ``model/__pycache__``; the first run after a change compiles the
loops once (about 15 s here), later processes load them in well under a second.

Loops take the resident arrays they touch and one *rules* table (:func:`rules`): the parameter
values they read, by name (``r = rules[0]``, then ``r.heavy_threshold``), built once per model. A
one-row structured array, because Numba recognises its type quickly on every call (a NumPy record
scalar costs several microseconds more per call, a tenth of a default run).

Order of sums, part of the model's definition (results are reproducible bit for bit on any machine):
a resident's four domains are summed as ``(d0 + d2) + (d1 + d3)``; a total over residents or cases
is the pairwise sum of :func:`pairwise_sum` (NumPy's order for ``ndarray.sum``, so sums taken
outside the loops agree with it); Python's ``sum`` over the few workers adds Python floats.

The first compilation, 10-16 s on a 2-core machine, would look like a hang: Numba announces every
real compilation (never a load from its cache) with its ``numba:compile`` event, and the first one
for a loop of this package in a process prints :data:`MESSAGE` on stderr. :func:`warm_up` compiles
every loop in the process that starts a batch of runs, so its workers only load the cache and the
message comes before any progress bar. The cache is not filled at install time: an editable install
(``pip install -e .``, ``uv sync``) runs no project code, a wheel built elsewhere carries no code for
the user's processor, and Numba checks its cache against the source files' time stamps.
"""

from __future__ import annotations

import sys
from typing import Any

import numba
import numpy as np
from numba.core import event

_OPTIONS = {"fastmath": False, "nogil": True, "error_model": "numpy", "cache": True}


def jit(func):
    """Compile ``func`` with Numba (cached; no fast-math, so IEEE results in the written order)."""
    try:
        return numba.njit(**_OPTIONS)(func)
    except RuntimeError:  # no writable cache folder: compile in each process
        return numba.njit(**{**_OPTIONS, "cache": False})(func)


def named(table: np.ndarray) -> np.ndarray:
    """A structured array as the loops read it, ``row.field``: as it is for Numba, or, with
    ``NUMBA_DISABLE_JIT=1``, viewed as a ``np.recarray`` so that plain Python reads fields by name
    too (Numba itself takes a recarray several times more slowly)."""
    return table.view(np.recarray) if numba.config.DISABLE_JIT else table


def rules(**values: float | int | bool) -> np.ndarray:
    """The named parameter values a compiled loop reads: a one-row structured array, fields in order.

    Booleans stay booleans, integers are int64, everything else float64.
    """
    kinds = [
        (name, np.bool_ if isinstance(v, bool | np.bool_) else np.int64 if isinstance(v, int) else np.float64)
        for name, v in values.items()
    ]
    return named(np.array([tuple(values.values())], np.dtype(kinds)))


@jit
def _block_sum(a, lo, n):
    """``a[lo:lo + n]`` summed as NumPy sums a block of up to 128 values (eight partial sums)."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = lo + 8
    stop = lo + n - n % 8
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@jit
def pairwise_sum(a, lo, n):
    """``a[lo:lo + n]`` summed pairwise: the model's order for totals over residents or cases.

    Fewer than 8 values in turn; up to 128 in eight interleaved partial sums, combined as
    ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the rest in turn; longer stretches split in two
    at a multiple of 8 below the middle, each summed so (NumPy's order for ``ndarray.sum``).
    The split is walked with an explicit stack (Numba's cache does not keep recursive functions).
    ``ndarray.sum`` starts from the identity +0.0, so an all-negative-zero total is +0.0; the
    ``0.0 +`` keeps that (exact for every other total; ``fastmath`` is off).
    """
    if n <= 128:
        return 0.0 + _block_sum(a, lo, n)
    los = np.empty(64, np.int64)  # the stretches being split, from the whole down
    ns = np.empty(64, np.int64)
    left = np.empty(64)  # a stretch's left half's sum, once known
    done_left = np.zeros(64, np.bool_)
    top = 0
    los[0], ns[0] = lo, n
    result = 0.0
    while True:
        m = ns[top]
        if m > 128 and not done_left[top]:  # split: the left half first
            half = m // 2
            half -= half % 8
            top += 1
            los[top], ns[top], done_left[top] = los[top - 1], half, False
            continue
        result = _block_sum(a, los[top], m) if m <= 128 else left[top] + result
        top -= 1
        if top < 0:
            return 0.0 + result
        if not done_left[top]:  # the left half is done: keep its sum, then the right half
            left[top], done_left[top] = result, True
            half = ns[top] // 2
            half -= half % 8
            los[top + 1], ns[top + 1], done_left[top + 1] = los[top] + half, ns[top] - half, False
            top += 1
        # else: both halves are done; the loop adds them when it returns to this stretch


@jit
def stable_order(keys):
    """The order that sorts integer ``keys``, ties in place (as a stable argsort).

    A counting sort over the keys' range (request weeks: a few hundred at most); it compiles in
    a fraction of the time Numba's merge sort takes.
    """
    order = np.empty(keys.size, np.int64)
    if keys.size == 0:
        return order
    lo = hi = keys[0]
    for key in keys:
        lo, hi = min(lo, key), max(hi, key)
    first = np.zeros(hi - lo + 2, np.int64)  # where each key's run starts in the order
    for key in keys:
        first[key - lo + 1] += 1
    for j in range(1, first.size):
        first[j] += first[j - 1]
    for i in range(keys.size):
        slot = keys[i] - lo
        order[first[slot]] = i
        first[slot] += 1
    return order


# ---- the first compilation, announced ----------------------------------------------------
#: The line printed, once per process, when a compilation starts.
MESSAGE = "wijkteam: compiling the model's loops once (about 15 s); later runs start in under a second"

_PACKAGE = __name__.partition(".")[0]


class _FirstCompileNotice(event.Listener):
    """Prints :data:`MESSAGE` on stderr at the first compilation of one of the model's loops."""

    def __init__(self) -> None:
        self.announced = False

    def on_start(self, ev: event.Event) -> None:
        if self.announced:
            return
        dispatcher: Any = (ev.data or {}).get("dispatcher")
        module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
        if module == _PACKAGE or module.startswith(_PACKAGE + "."):
            self.announced = True
            print(MESSAGE, file=sys.stderr, flush=True)

    def on_end(self, ev: event.Event) -> None:
        """Nothing to do when a compilation ends."""


NOTICE = _FirstCompileNotice()
event.register("numba:compile", NOTICE)


def warm_up() -> None:
    """Compile (or load from the cache) every compiled loop of the model, in this process.

    A small run that reaches every loop, also those that only run once collective initiatives
    start and fold: 1,000 residents for two years after a half-year burn-in, with staff and a
    collective time target at the top of their ranges (about 0.1 s once the cache is filled).
    ``tests/test_install.py`` checks that the scenarios run afterwards, in worker processes at
    the default size, compile nothing.
    """
    from model.neighbourhood import run

    run(seed=0, n_residents=1000, weeks=104, burn_in_weeks=26, collective_time_target=0.6, fte_per_1000=3.0)
