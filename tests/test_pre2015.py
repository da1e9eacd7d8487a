"""M10 the pre-2015 approach as a fair counterfactual (DESIGN M10; issue 16, item 1).

Before 2015 general social work (AMW), youth and family centres (CJG) and community work gave light
support with their own staff, without mandate and under input steering; the municipal desk indicated
and providers, with their own alignment, delivered. The welfare workers follow the team's rules
(:mod:`model.intake`), so each test here checks one way the old approach differs from a team.
"""

import numpy as np
import pytest

from experiments.scenario import load
from model import NeighbourhoodModel, budget, providers, run
from model.resident import FOR_INDICATION, NONE, TEAM, WAITING

from .conftest import SMALL


def pre_2015(seed: int = 0, **overrides) -> NeighbourhoodModel:
    return NeighbourhoodModel({**SMALL, "pre_2015": True, **overrides}, rng=seed)


def test_welfare_workers_have_their_own_staffing_no_mandate_input_steering_and_no_secondment():
    model = pre_2015(welfare_fte_per_1000=1.5, independence=0.0, mandate=1.0, steering=1.0)
    p = model.p
    assert sum(w.fte for w in model.workers) == pytest.approx(1.5 * p.n_residents / 1000)
    assert model.team_fte == pytest.approx(1.5)
    assert not any(w.seconded for w in model.workers)  # own organisations, whatever the team lever
    assert model.mandate == 0.0 and model.steering == 0.0 and model.independence == 1.0
    assert model.collective_target == p.community_work_share
    assert model.municipality.visit_factor == pytest.approx(1.0 - p.visit_cap_cut)  # input steering


def test_welfare_workers_give_light_support_and_send_heavier_needs_to_the_desk():
    model = pre_2015(welfare_fte_per_1000=1.5)
    pop = model.pop
    team_weeks = heavy_team_weeks = 0
    for _ in range(78):
        model.step()
        team = pop.status == TEAM
        team_weeks += int(team.sum())
        heavy_team_weeks += int((team & pop.heavy).sum())
        assert not pop.tailored.any()  # no maatwerk decided by a worker: every indication is the desk's
    assert team_weeks > 0 and heavy_team_weeks == 0  # light support only: no intensive team support
    s = model.summary()
    assert s["collective_time_share"] > 0.0  # community work and outreach
    assert s["signalled_share"] > 0.0


def test_community_work_share_sets_the_welfare_workers_collective_time():
    none = run(
        seed=1, collect=False, **SMALL, pre_2015=True, welfare_fte_per_1000=1.5, community_work_share=0.0
    )[0]
    some = run(
        seed=1, collect=False, **SMALL, pre_2015=True, welfare_fte_per_1000=1.5, community_work_share=0.4
    )[0]
    assert none["collective_time_share"] == 0.0 and none["initiatives_active"] == 0.0
    # without outreach only neighbours of residents in touch with the workers signal need (M2)
    assert some["collective_time_share"] > 0.1 and some["signalled_share"] > none["signalled_share"]


def test_providers_keep_their_own_alignment_before_2015():
    chances = []
    for alignment in (0.0, 1.0):
        model = pre_2015(provider_alignment=alignment)
        p = model.p
        chance = model.providers[0].step_down_chance
        assert chance == pytest.approx(p.step_down_rate * (1 - p.supply_pressure * (1 - alignment)))
        chances.append(chance)
    assert chances[1] > chances[0]


def test_without_welfare_staff_the_desk_turns_light_needs_away_for_reask_weeks():
    model = pre_2015(welfare_fte_per_1000=0.0, reask_weeks=7)
    assert model.workers == []
    pop = model.pop
    i, j = 10, 11
    for who, sev in ((i, 0.3), (j, 0.8)):  # below and above the desk threshold
        pop.status[who], pop.wait_kind[who] = WAITING, FOR_INDICATION
        pop.ready_week[who], pop.request_sev[who], pop.request_week[who] = 0, sev, 0
    model.week = 5
    providers.decide_indications(model)
    assert pop.status[i] == NONE and pop.reask_week[i] == 5 + 7
    assert pop.status[j] == WAITING and pop.reask_week[j] == 0  # granted: waits for a provider
    model.run_model()
    s = model.summary()
    assert s["signalled_share"] == 0.0 and s["collective_time_share"] == 0.0
    p = model.p
    desk = p.desk_fte_per_1000 * p.hours_per_fte * p.worker_hour_cost * 52 / 1000
    assert s["cost_team_per_resident_year"] == pytest.approx(desk)


@pytest.mark.parametrize("mandate", [0.0, 0.3, 1.0])
def test_the_desk_is_costed_for_the_decisions_it_takes_with_or_without_a_team(mandate):
    model = NeighbourhoodModel({**SMALL, "mandate": mandate}, rng=0)
    p = model.p
    desk = p.desk_fte_per_1000 * p.n_residents / 1000 * (1 - mandate)
    assert model.desk_fte == pytest.approx(desk)
    cost = budget.book_costs(model, 0.0).team
    assert cost == pytest.approx((model.team_fte + desk) * p.hours_per_fte * p.worker_hour_cost)


def test_pre_2015_with_more_staff_costs_more_in_staff_and_catches_more_early():
    """The welfare staffing is a working lever: staff cost grows with it, and so does early intake."""
    low = [run(seed=s, collect=False, **SMALL, pre_2015=True, welfare_fte_per_1000=0.3)[0] for s in range(2)]
    high = [run(seed=s, collect=False, **SMALL, pre_2015=True, welfare_fte_per_1000=1.5)[0] for s in range(2)]
    mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    assert mean(high, "cost_team_per_resident_year") > mean(low, "cost_team_per_resident_year")
    assert mean(high, "caught_early_share") > mean(low, "caught_early_share")


# ---- the two comparisons -------------------------------------------------------------------
EQUAL_SPENDING_SEEDS = (0, 1, 2)
EQUAL_SPENDING_SIZE = 5000


def cost_gap(welfare_fte_per_1000: float) -> tuple[float, float]:
    """Pre-2015 minus default-team total cost (EUR per resident a year) at 5,000 residents:
    the mean paired difference over replicates 0-2 (common random numbers) and its standard error.

    The equal-spending staffing in ``experiments/scenarios/pre_2015_equal_spending.toml`` is the
    value with the smallest mean gap on a grid from 0.8 to 2.0 FTE per 1,000 (0.8, 0.85, ..., 1.0,
    1.1, 1.15, 1.2, 1.25, 1.5, 2.0): the gap was positive at every point, +4.5 at 1.25.
    """
    gaps = []
    for seed in EQUAL_SPENDING_SEEDS:
        size = {"n_residents": EQUAL_SPENDING_SIZE}
        team = run(seed=seed, collect=False, **size)[0]
        old = run(seed=seed, collect=False, **size, pre_2015=True, welfare_fte_per_1000=welfare_fte_per_1000)[
            0
        ]
        gaps.append(old["cost_total_per_resident_year"] - team["cost_total_per_resident_year"])
    gaps = np.array(gaps)
    return float(gaps.mean()), float(gaps.std(ddof=1) / np.sqrt(gaps.size))


@pytest.mark.slow
def test_equal_spending_scenario_costs_what_the_default_team_costs():
    """Criterion: the mean paired gap lies within 3 standard errors, plus the staff cost of one
    0.05-FTE step (the resolution at which the staffing was chosen)."""
    fte = load("pre_2015_equal_spending").params["welfare_fte_per_1000"]
    gap, se = cost_gap(fte)
    from model.params import defaults

    p = defaults()
    step = 0.05 * p.hours_per_fte * p.worker_hour_cost * 52 / 1000
    assert abs(gap) <= 3 * se + step, (gap, se, step)
