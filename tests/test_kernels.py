"""The compiled loops of ``model.kernels`` compute exactly what the NumPy code computes.

Both paths must give the same bits, or a seed would give different runs on machines with and
without Numba. Whole runs are compared in every mechanism configuration that changes what the
loops do; single weeks are compared on random states and parameters (property tests).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import NeighbourhoodModel, kernels
from model.params import REGISTRY

pytestmark = pytest.mark.skipif(kernels.numba is None, reason="Numba is not installed")

STATE = ("sev", "smax", "sr", "ties", "support", "status", "worker", "start_week")


def _run(monkeypatch, enabled: bool, seed: int, **overrides):
    monkeypatch.setattr(kernels, "ENABLED", enabled)
    model = NeighbourhoodModel(rng=seed, n_residents=1000, burn_in_weeks=26, weeks=104, **overrides)
    model.run_model()
    state = {k: getattr(model.pop, k).copy() for k in STATE}
    return repr(model.summary()), model.series(), state, model.rng.bit_generator.state


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"pre_2015": True},
        {"m1_escalation": False},
        {"m8_reliance_dynamics": False},
        {"m5_mandate_rules": False, "m6_provider_behaviour": False},
        {"mandate": 1.0, "steering": 1.0, "collective_time_target": 0.4},
    ],
    ids=["default", "pre_2015", "no_m1", "no_m8", "no_m5_m6", "collective"],
)
def test_whole_runs_are_bit_identical_with_and_without_compiled_loops(monkeypatch, overrides):
    fast = _run(monkeypatch, True, 3, **overrides)
    slow = _run(monkeypatch, False, 3, **overrides)
    assert fast[0] == slow[0]  # every summary value, to the last digit
    assert fast[1].equals(slow[1])  # every weekly value
    for key in STATE:
        assert np.array_equal(fast[2][key], slow[2][key]), key
    assert fast[3] == slow[3]  # the same random draws were made


def _param(name: str, u: float) -> float:
    """A value of ``name`` at fraction ``u`` of its registry range."""
    entry = REGISTRY[name]
    return entry.low + u * (entry.high - entry.low)


PHASE_PARAMS = (
    "escalation_rate",
    "own_recovery_rate",
    "neighbour_help",
    "team_effect",
    "maatwerk_effect",
    "collective_effect",
    "standard_fit",
    "self_reliance_gain",
    "collective_reliance_gain",
    "dependence_loss",
    "reliance_reversion",
    "specialist_access",
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    weeks=st.integers(0, 60),
    fractions=st.lists(st.floats(0.0, 1.0), min_size=len(PHASE_PARAMS), max_size=len(PHASE_PARAMS)),
    switches=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_one_week_of_each_compiled_step_equals_the_numpy_step(seed, weeks, fractions, switches):
    m1, m5, m6, m8 = switches
    params = {name: _param(name, u) for name, u in zip(PHASE_PARAMS, fractions, strict=True)}
    model = NeighbourhoodModel(
        rng=seed,
        n_residents=400,
        burn_in_weeks=0,  # the removed severity is tallied from the first week
        m1_escalation=m1,
        m5_mandate_rules=m5,
        m6_provider_behaviour=m6,
        m8_reliance_dynamics=m8,
        **params,
    )
    for _ in range(weeks):
        model.step()
    pop = model.pop
    # Stress the edges: exact zeros, traces near the 0.02 cut-off, crises near 1.
    rng = np.random.default_rng(seed)
    edge = rng.choice([0.0, 0.0199999, 0.02, 0.5, 0.999999, 1.0], size=pop.sev.shape)
    mix = rng.random(pop.sev.shape) < 0.3
    pop.sev[mix] = edge[mix]
    pop.smax[:] = pop.sev.max(axis=1)
    pop.sr[rng.random(pop.n) < 0.1] = 1.0
    start = {k: getattr(pop, k).copy() for k in ("sev", "smax", "sr", "ties", "support")}

    def restore():
        for key, value in start.items():
            setattr(pop, key, value.copy())

    results = {}
    was = kernels.ENABLED
    for enabled in (True, False):
        restore()
        model.tally.removed = dict.fromkeys(model.tally.removed, 0.0)
        kernels.ENABLED = enabled
        try:
            pop.update_support()
            model.treat_and_evolve()
            removed = model.tally.removed.copy()
            pop.update_reliance(model.week)
        finally:
            kernels.ENABLED = was
        results[enabled] = ({k: getattr(pop, k).copy() for k in start}, removed)
    fast, slow = results[True], results[False]
    for key in start:
        assert np.array_equal(fast[0][key], slow[0][key]), key
    assert fast[1] == slow[1]
    assert not np.array_equal(fast[0]["sev"], start["sev"])  # the week did change severities
