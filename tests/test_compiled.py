"""The helpers every compiled loop shares (``model.compiled``): the order of sums and the stable sort.

The model's results are defined by its order of additions; these tests pin that order to NumPy's
pairwise sum (so sums taken outside the loops agree) and the queue order to a stable sort.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from model import run
from model.compiled import pairwise_sum, rules, stable_order

from .test_golden import fingerprint


def _sum(a: np.ndarray) -> float:
    return float(pairwise_sum(np.ascontiguousarray(a, float), 0, a.size))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.1, 1e-9, 3.0]), min_size=0, max_size=700
    ),
    repeat=st.integers(1, 40),
)
def test_pairwise_sums_add_in_numpy_s_order(values, repeat):
    a = np.array(values * repeat, float)  # up to 28,000 values: blocks of 8 and 128, and splits
    assert repr(_sum(a)) == repr(float(a.sum()))


def test_a_total_of_negative_zeros_is_positive_zero_as_in_numpy():
    # found by the property above in CI: NumPy's sum starts from +0.0
    for n in (1, 7, 8, 128, 129, 1000):
        a = np.full(n, -0.0)
        assert repr(_sum(a)) == repr(float(a.sum())) == "0.0"


def test_the_order_of_additions_shows_in_the_bits():
    # The property above can fail: the same values added in turn give other bits than NumPy's.
    a = np.random.default_rng(0).random(1000)
    in_turn = 0.0
    for x in a:
        in_turn += x
    assert in_turn != a.sum()
    assert _sum(a) == a.sum()


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.integers(-5, 700), max_size=400), offset=st.integers(-1000, 1000))
def test_stable_order_sorts_as_numpy_s_stable_argsort(keys, offset):
    a = np.array(keys, np.int32) + np.int32(offset)  # request weeks, -1 for none and any week
    assert np.array_equal(stable_order(a), np.argsort(a, kind="stable"))


def test_rules_keep_names_and_types():
    r = rules(rate=0.5, on=True, weeks=3)
    assert r.shape == (1,) and (r["rate"][0], r["on"][0], r["weeks"][0]) == (0.5, True, 3)
    assert [str(r.dtype[k]) for k in range(3)] == ["float64", "bool", "int64"]


def test_the_same_source_runs_as_plain_python_with_the_same_results():
    """``NUMBA_DISABLE_JIT=1`` (for debugging and coverage) gives the compiled run's bits."""
    setup = "seed=5, n_residents=300, burn_in_weeks=13, weeks=40, fte_per_1000=2.0"
    code = (
        f"from model import run; from tests.test_golden import fingerprint; print(fingerprint(*run({setup})))"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    compiled = fingerprint(*run(seed=5, n_residents=300, burn_in_weeks=13, weeks=40, fte_per_1000=2.0))
    assert done.stdout.strip() == str(compiled)
