"""Invariants that hold for any parameter values in the registry's ranges (hypothesis)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import NeighbourhoodModel
from model.params import REGISTRY, names
from model.resident import (
    COLLECTIVE,
    FOR_INDICATION,
    FOR_PROVIDER,
    FOR_TEAM,
    MAATWERK,
    NOT_WAITING,
    STATUSES,
    WAITING,
)

# Policy levers and switches, plus the behaviour parameters most likely to break things.
VARIED = names(["policy", "switch"]) + [
    "escalation_rate",
    "own_recovery_rate",
    "new_problem_severity",
    "help_threshold",
    "heavy_threshold",
    "signal_floor",
    "outreach_effect",
    "overload_tolerance",
    "min_cluster",
    "max_participants",
    "volunteers_to_run",
    "recruit_rate",
    "start_rate",
    "provider_capacity_per_1000",
    "reluctance_mean",
    "self_reliance_mean",
    "block_size",
    "network_k",
    "network_rewire",
    "init_maatwerk_per_1000",
]


def _value(name):
    p = REGISTRY[name]
    if p.type is bool:
        return st.booleans()
    if p.type is int:
        return st.integers(int(p.low), int(min(p.high, p.low + 60)))
    return st.floats(p.low, p.high, allow_nan=False)


params_strategy = st.fixed_dictionaries({n: _value(n) for n in VARIED})


def check_state(model: NeighbourhoodModel) -> None:
    pop = model.pop
    assert np.isin(pop.status, np.arange(len(STATUSES))).all()  # exactly one support state each
    waiting = pop.status == WAITING
    assert (pop.wait_kind[waiting] != NOT_WAITING).all()
    assert np.isin(pop.wait_kind[waiting], [FOR_TEAM, FOR_INDICATION, FOR_PROVIDER]).all()
    assert (pop.wait_kind[~waiting] == NOT_WAITING).all()
    assert ((pop.sev >= 0) & (pop.sev <= 1)).all()
    assert np.allclose(pop.smax, pop.sev.max(axis=1))
    assert ((pop.sr >= 0) & (pop.sr <= 1)).all() and ((pop.ties >= 0) & (pop.ties <= 1)).all()
    members = pop.initiative[pop.status == COLLECTIVE]
    assert set(members.tolist()) <= set(model.initiatives)
    clients = pop.provider[pop.status == MAATWERK]
    assert (clients >= 0).all()
    counts = np.bincount(clients, minlength=len(model.providers))
    assert all(counts[p.index] <= p.places for p in model.providers)
    for worker in model.workers:
        assert worker.demand >= 0 and worker.collective_hours >= 0
        assert 0 <= worker.skill_collective <= 1 and 0 <= worker.lef <= 1
    for ini in model.initiatives.values():
        assert ini.participants >= 0 and ini.volunteers >= 0
    if model.week > model.p.burn_in_weeks:
        now = model.now
        assert now["cost_team"] >= 0 and now["cost_maatwerk"] >= 0 and now["cost_collective"] >= 0
        assert now["caseload_per_fte"] >= 0 and now["waiting"] >= 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=params_strategy, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_every_week_for_any_parameters(params, seed):
    model = NeighbourhoodModel({**params, "n_residents": 400, "weeks": 40, "burn_in_weeks": 8}, rng=seed)
    check_state(model)
    while model.week < 48:
        model.step()
        check_state(model)
    summary = model.summary()
    assert all(np.isfinite(v) for v in summary.values())
    assert all(summary[k] >= 0 for k in summary if k.startswith("cost_"))
    for share in (
        "caught_early_share",
        "collective_time_share",
        "overloaded_worker_share",
        "neighbour_share_of_need",
        "youth_care_share",
        "youth_care_team_share",
        "youth_support_share",
        "signalled_share",
    ):
        assert 0.0 <= summary[share] <= 1.0, share
    # Registered youth care is a subset of all support to under-23s.
    assert summary["youth_care_share"] <= summary["youth_support_share"]
