"""Say so when the model's compiled loops are being compiled, and compile them up front.

Numba compiles the model's loops on their first use and caches the machine code in the package's
``__pycache__`` folder; a later process loads it in well under a second. The first compilation,
after installing or changing the model, takes 10-16 s on a 2-core machine, and a silent pause that
long looks like a hang. Numba announces every real compilation (never a load from its cache) with
its ``numba:compile`` event; the first such event for a function of this package in a process
prints one line on stderr (:data:`MESSAGE`).

The cache is not filled at install time: an editable install (``pip install -e .``, ``uv sync``)
runs no code of the project, a wheel built elsewhere carries no code compiled for the user's
processor, and Numba checks the cache against the source files' time stamps, which a copy or a
checkout changes. Compiling on first use, announced, is the robust way. :func:`warm_up` does it
in the process that starts a batch of runs, so worker processes load the cache instead of each
compiling the same loops, and the message comes before any progress bar.
"""

from __future__ import annotations

import sys
from typing import Any

from numba.core import event

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

    A small run long enough to reach every loop: a few hundred residents for 30 weeks after a
    30-week burn-in (under a second once the cache is filled). ``tests/test_compilation.py``
    checks that every compiled function of the package has been compiled afterwards.
    """
    from model.neighbourhood import run

    run(seed=0, n_residents=200, weeks=30, burn_in_weeks=30)
