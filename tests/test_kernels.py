"""The compiled loops of ``model.kernels`` compute exactly what the NumPy code computes.

Both paths must give the same bits, or a seed would give different runs on machines with and
without Numba. Whole runs are compared in every mechanism configuration that changes what the
loops do; single weeks are compared on random states and parameters (property tests).
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import NeighbourhoodModel, kernels
from model.params import REGISTRY
from model.worker import decide_routes

pytestmark = pytest.mark.skipif(kernels.numba is None, reason="Numba is not installed")

STATE = ("sev", "smax", "sr", "ties", "support", "status", "worker", "start_week")


def test_the_compiled_loops_use_the_model_s_codes():
    from model import resident, worker

    names = {
        resident: ["NONE", "WAITING", "TEAM", "MAATWERK", "COLLECTIVE", "VOLUNTEER", "FOR_TEAM"],
        worker: ["LIGHT", "TEAM_HEAVY", "COLLECTIVE_ARRANGEMENT", "MAATWERK_NOW", "INDICATION"],
    }
    names[resident] += ["FOR_INDICATION", "CARE_SUPPORT", "MENTAL_HEALTH"]
    for module, codes in names.items():
        for name in codes:
            assert getattr(kernels, f"_{name}") == getattr(module, name), name


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
        {"fte_per_1000": 2.4, "independence": 0.5},  # three workers, some seconded
    ],
    ids=["default", "pre_2015", "no_m1", "no_m8", "no_m5_m6", "collective", "several_workers"],
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
    return min(entry.low + u * (entry.high - entry.low), entry.high)  # rounding may pass the top


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
    "help_threshold",
    "signal_floor",
    "outreach_effect",
    "presence_effect",
    "neighbour_signal_effect",
    "new_problem_severity",
    "mandate",
    "independence",
    "secondment_bias",
    "steering",
    "lef_initial",
    "heavy_threshold",
    "maatwerk_threshold",
    "complexity_extra",
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    weeks=st.integers(0, 60),
    fractions=st.lists(st.floats(0.0, 1.0), min_size=len(PHASE_PARAMS), max_size=len(PHASE_PARAMS)),
    switches=st.tuples(*[st.booleans()] * 6),
    team=st.sampled_from([(400, 0.8, 1), (700, 3.0, 3)]),  # residents, FTE per 1,000, workers
)
def test_weeks_from_random_states_are_bit_identical_with_and_without_compiled_loops(
    seed, weeks, fractions, switches, team
):
    m1, m2, m3, m5, m6, m8 = switches
    n_residents, fte, n_workers = team
    params = {name: _param(name, u) for name, u in zip(PHASE_PARAMS, fractions, strict=True)}
    model = NeighbourhoodModel(
        rng=seed,
        n_residents=n_residents,
        fte_per_1000=fte,
        burn_in_weeks=0,  # everything is tallied from the first week
        m1_escalation=m1,
        m2_early_signalling=m2,
        m3_capacity_limit=m3,
        m5_mandate_rules=m5,
        m6_provider_behaviour=m6,
        m8_reliance_dynamics=m8,
        **params,
    )
    assert len(model.workers) == n_workers  # several workers take stretches of the queue
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
    start = pop.sev.copy()

    results = []
    was = kernels.ENABLED
    for enabled in (True, False):
        twin = copy.deepcopy(model)
        kernels.ENABLED = enabled
        try:
            for _ in range(2):
                twin.step()
        finally:
            kernels.ENABLED = was
        arrays = {k: v for k, v in vars(twin.pop).items() if isinstance(v, np.ndarray)}
        workers = [(w.demand, w.service, w.collective_hours, w.overloaded) for w in twin.workers]
        clients = [pr.clients for pr in twin.providers]
        results.append((arrays, repr((twin.tally, twin.now, workers, clients)), twin.rng.bit_generator.state))
    (fast, fast_tally, fast_rng), (slow, slow_tally, slow_rng) = results
    for key in fast:
        assert np.array_equal(fast[key], slow[key]), key
    assert fast_tally == slow_tally  # running sums, the week's record, workers' time, providers' clients
    assert fast_rng == slow_rng  # the same random draws
    assert not np.array_equal(fast["sev"], start)  # the weeks did change severities


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), floor=st.floats(0.05, 0.6), outreach=st.floats(0.0, 20.0))
def test_help_requests_and_signal_hazard_equal_the_numpy_selection(seed, floor, outreach):
    model = NeighbourhoodModel(rng=seed, n_residents=400, signal_floor=floor)
    pop, p, rng = model.pop, model.p, np.random.default_rng(seed)
    # Any mix of statuses, waits and severities (the selection only reads them).
    pop.status[:] = rng.integers(0, 6, pop.n)
    pop.reask_week[:] = rng.integers(0, 20, pop.n)
    edge = rng.choice([0.0, floor, pop.threshold[0], 0.9, 1.0], pop.n)
    between = np.minimum(floor + 0.5 * (pop.threshold - floor), 0.89)  # would be signalled
    pop.smax[:] = np.where(
        rng.random(pop.n) < 0.5, edge, np.where(rng.random(pop.n) < 0.5, between, rng.random(pop.n))
    )
    week = 10
    per_block = rng.integers(0, 3, pop.n_blocks)
    asks, candidates = kernels._help_requests(
        pop.smax, pop.status, pop.reask_week, pop.threshold, week, p.signal_floor, True
    )
    free = pop.free_to_ask(week)
    assert np.array_equal(asks, pop.seek_help(week, free))
    s = pop.smax[free]
    expected = free[(s >= p.signal_floor) & (s <= pop.threshold[free]) & (s < 0.9)]
    assert np.array_equal(candidates, expected)
    hazard = kernels._signal_hazard(
        candidates, *kernels.unsigned_adjacency(pop), pop.status, pop.degree, pop.block, per_block,
        p.outreach_effect * outreach, p.presence_effect, p.neighbour_signal_effect,
    )  # fmt: skip
    reference = (
        p.outreach_effect * outreach
        + p.presence_effect * per_block[pop.block[candidates]]
        + p.neighbour_signal_effect * pop.contact_share(candidates)
    )
    assert np.array_equal(hazard, reference)
    assert asks.size > 0
    assert candidates.size > 0 or not (pop.threshold > floor).any()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    mandate=st.floats(0.0, 1.0),
    switches=st.tuples(*[st.booleans()] * 3),
)
def test_route_decisions_equal_the_numpy_rules(seed, mandate, switches):
    m3, m5, m6 = switches
    model = NeighbourhoodModel(
        rng=seed,
        n_residents=1000,
        fte_per_1000=3.0,  # several workers, so several stretches of the queue
        independence=0.3,  # some seconded workers
        mandate=mandate,
        m3_capacity_limit=m3,
        m5_mandate_rules=m5,
        m6_provider_behaviour=m6,
    )
    pop, rng = model.pop, np.random.default_rng(seed)
    # Forty new cases, mostly heavy and complex, split over the workers in stretches.
    idx = np.sort(rng.choice(pop.n, 40, replace=False))
    pop.sev[idx] = rng.choice([0.1, 0.45, 0.6, 0.8], size=(40, 4))
    pop.smax[idx] = pop.sev[idx].max(axis=1)
    cuts = np.sort(rng.choice(np.arange(1, 40), len(model.workers) - 1, replace=False))
    owner = np.repeat(rng.permutation(len(model.workers)), np.diff(np.concatenate(([0], cuts, [40]))))
    starts = np.concatenate(([0], cuts))
    for worker in model.workers:  # little room left: intensive cases fit only partly
        worker.demand = worker.capacity - rng.uniform(-2.0, 12.0)
        worker.lef = rng.uniform(0.3, 1.0)
    option = rng.random(40) < 0.4
    state = model.rng.bit_generator.state
    routes = []
    was = kernels.ENABLED
    for enabled in (True, False):
        model.rng.bit_generator.state = state  # the same draws for both
        kernels.ENABLED = enabled
        try:
            routes.append(decide_routes(model, idx, owner, option, starts))
        finally:
            kernels.ENABLED = was
    assert np.array_equal(routes[0], routes[1])
    assert routes[0].dtype == routes[1].dtype


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.1, 1e-9, 3.0]), min_size=0, max_size=700
    ),
    repeat=st.integers(1, 40),
)
def test_compiled_sums_add_in_numpy_s_order(values, repeat):
    a = np.array(values * repeat, float)  # up to 28,000 values: blocks of 8 and 128, and splits
    assert repr(kernels.numpy_sum(a)) == repr(float(a.sum()))


def test_the_order_of_additions_shows_in_the_bits():
    # The property above can fail: the same values added in turn give other bits than NumPy's.
    a = np.random.default_rng(0).random(1000)
    in_turn = 0.0
    for x in a:
        in_turn += x
    assert in_turn != a.sum()
    assert kernels.numpy_sum(a) == a.sum()


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.integers(-5, 700), max_size=400), offset=st.integers(-1000, 1000))
def test_compiled_stable_order_sorts_as_numpy_s_stable_argsort(keys, offset):
    a = np.array(keys, np.int32) + np.int32(offset)  # request weeks, -1 for none and any week
    assert np.array_equal(kernels.stable_order(a), np.argsort(a, kind="stable"))


_FREE = [name for name in REGISTRY if name not in ("weeks", "burn_in_weeks", "n_residents")]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    chosen=st.lists(st.sampled_from(_FREE), max_size=30, unique=True),
    data=st.data(),
    n_residents=st.sampled_from([200, 700]),
)
def test_short_runs_with_any_registry_parameters_are_bit_identical(seed, chosen, data, n_residents):
    params = {}
    for name in chosen:  # any parameter of the registry, anywhere in its range
        entry = REGISTRY[name]
        if entry.type is bool:
            params[name] = data.draw(st.booleans())
        elif entry.type is int:
            params[name] = data.draw(st.integers(int(entry.low), int(entry.high)))
        else:
            params[name] = _param(name, data.draw(st.floats(0.0, 1.0)))
    results = []
    was = kernels.ENABLED
    for enabled in (True, False):
        kernels.ENABLED = enabled
        try:
            model = NeighbourhoodModel(params, rng=seed, n_residents=n_residents, burn_in_weeks=8, weeks=40)
            model.run_model()
        finally:
            kernels.ENABLED = was
        arrays = {k: v for k, v in vars(model.pop).items() if isinstance(v, np.ndarray)}
        results.append((repr(model.summary()), model.series(), arrays, model.rng.bit_generator.state))
    (fast_summary, fast_series, fast, fast_rng), (slow_summary, slow_series, slow, slow_rng) = results
    assert fast_summary == slow_summary
    assert fast_series.equals(slow_series)
    for key in fast:
        assert np.array_equal(fast[key], slow[key]), key
    assert fast_rng == slow_rng
