"""One or more tests per mechanism M1-M10 (DESIGN section 4).

Each test fails if its mechanism is switched off or removed: unit tests call the
mechanism's method directly; model tests compare small neighbourhoods with common
random numbers, switch on versus off.
"""

import numpy as np
import pytest

from model import NeighbourhoodModel, budget, intake, problems, requests
from model.budget import Municipality
from model.collective import _within_room
from model.resident import (
    CARE_SUPPORT,
    ELDERLY,
    MAATWERK,
    MENTAL_HEALTH,
    TEAM,
    VOLUNTEER,
    YOUTH,
    YOUTH_FAMILY,
    domains_above,
)

from .conftest import mean_summary


# ---- M1 problems ------------------------------------------------------------------
def test_m1_problems_arrive_at_the_registry_rates_and_age_profile(small_model):
    model = small_model(n_residents=20000)
    pop, p = model.pop, model.p
    pop.sev[:] = 0.0
    new = np.zeros((4, 3))
    for _ in range(52):
        before = pop.sev.copy()
        problems.arrive_problems(model)
        hit = pop.sev > before
        for a in range(3):
            new[:, a] += hit[pop.age == a].sum(axis=0)
        pop.sev[:] = 0.0
    per_1000 = new.sum(axis=1) / 20.0
    expected = [
        p.arrival_youth_family,
        p.arrival_care_support,
        p.arrival_income_work,
        p.arrival_mental_health,
    ]
    assert per_1000 == pytest.approx(expected, rel=0.08)
    rate = new / np.array([(pop.age == a).sum() for a in range(3)])
    assert rate[CARE_SUPPORT, ELDERLY] > 5 * rate[CARE_SUPPORT, YOUTH]
    assert rate[YOUTH_FAMILY, YOUTH] > 3 * rate[YOUTH_FAMILY, ELDERLY]


@pytest.mark.parametrize("escalation, grows", [(True, True), (False, False)])
def test_m1_untreated_severity_escalates_only_with_the_mechanism(small_model, escalation, grows):
    model = small_model(m1_escalation=escalation, m8_reliance_dynamics=False)
    pop = model.pop
    idx = np.arange(100)
    pop.sev[idx] = 0.0
    pop.sev[idx, 0] = 0.6
    pop.sr[idx] = 0.2
    pop.status[idx] = 0  # no support
    for _ in range(10):
        problems.treat_and_evolve(model)
    assert bool(pop.sev[idx, 0].mean() > 0.6) is grows


def test_m1_each_kind_of_support_relieves_at_its_own_rate_per_domain(small_model):
    """Light and heavy team support in every domain (mental health scaled for the generalist),
    maatwerk by its domain's ratio to heavy team support, in its primary domain only."""
    model = small_model(
        m1_escalation=False,
        m8_reliance_dynamics=False,
        light_support_effect=0.02,
        heavy_support_effect=0.05,
        maatwerk_ratio_youth_family=0.5,
        maatwerk_ratio_mental_health=2.0,
        specialist_access=0.0,
        generalist_mental_health_factor=0.4,
    )
    pop, worker = model.pop, model.workers[0]
    light, heavy, ggz, youth = idx = np.arange(4)
    pop.sev[idx], pop.smax[idx], pop.sr[idx], pop.support[idx], pop.care_recovery[idx] = 0.6, 0.6, 0, 0, 1
    pop.status[idx] = [TEAM, TEAM, MAATWERK, MAATWERK]
    pop.heavy[idx] = [False, True, False, False]
    pop.worker[[light, heavy]] = worker.index
    pop.primary[[ggz, youth]] = [MENTAL_HEALTH, YOUTH_FAMILY]
    pop.tailored[[ggz, youth]] = True  # fit 1
    worker.service = 1.0
    scale = worker.skill_individual * model.municipality.visit_factor
    problems.treat_and_evolve(model)
    drop = 0.6 - pop.sev[idx]
    generalist = np.array([1.0, 1.0, 1.0, 0.4])
    assert drop[light] == pytest.approx(0.02 * scale * generalist)
    assert drop[heavy] == pytest.approx(0.05 * scale * generalist)
    assert drop[ggz] == pytest.approx([0, 0, 0, 0.05 * 2.0])
    assert drop[youth] == pytest.approx([0.05 * 0.5, 0, 0, 0])


def test_m6_specialist_ggz_maatwerk_is_never_weaker_than_the_generalist_on_mental_health():
    from model import REGISTRY

    # at every point of the prior ranges: ratio >= 1 >= the generalist's mental-health factor
    assert REGISTRY["maatwerk_ratio_mental_health"].low >= REGISTRY["generalist_mental_health_factor"].high
    for name in (
        "light_support_effect",
        "heavy_support_effect",
        "collective_effect",
        "generalist_mental_health_factor",
    ):
        assert REGISTRY[name].high >= 3 * max(REGISTRY[name].low, 0.01 * REGISTRY[name].high)
    for domain in ("youth_family", "care_support", "income_work", "mental_health"):
        ratio = REGISTRY[f"maatwerk_ratio_{domain}"]
        assert ratio.high / ratio.low >= 4 and ratio.high >= 2  # wide enough for the uncertainty analysis
        assert ratio.note  # the assumption behind the ratio is written down


def test_m1_complex_cases_count_domains_above_threshold(small_model):
    model = small_model()
    pop = model.pop
    pop.sev[:3] = [[0.5, 0.5, 0.0, 0.0], [0.9, 0.1, 0.1, 0.1], [0.5, 0.5, 0.5, 0.5]]
    complexity = [domains_above(pop.sev, i, model.p.complex_threshold) for i in range(3)]
    assert complexity == [2, 1, 4]
    hours = [intake.case_hours(False, c, model.rules["intake"][0]) for c in complexity]
    assert hours[2] > hours[0] > hours[1]


# ---- M2 help-seeking and early signalling -----------------------------------------
def test_m2_residents_ask_past_their_threshold(small_model):
    model = small_model()
    pop = model.pop
    pop.sev[:] = 0.0
    pop.status[:] = 0  # nobody in support
    pop.sev[:10, 1] = pop.threshold[:10] + 0.01
    pop.sev[10:20, 1] = pop.threshold[10:20] - 0.01
    pop.smax[:] = pop.sev.max(axis=1)
    asked, _ = requests.help_requests(model)
    assert set(asked.tolist()) == set(range(10))


def test_m2_outreach_uncovers_hidden_need(small_model):
    model = small_model(neighbour_signal_effect=0.0, presence_effect=0.0)
    pop = model.pop
    pop.sev[:] = 0.0
    pop.status[:] = 0  # nobody in support
    pop.sev[:200, 2] = 0.35  # hidden: above the signal floor, below the thresholds
    pop.threshold[:] = 0.5
    pop.smax[:] = pop.sev.max(axis=1)
    model.outreach_per_1000 = 0.0
    none = requests.help_requests(model)[1]
    model.outreach_per_1000 = 200.0
    many = requests.help_requests(model)[1]
    assert none.size == 0
    assert many.size > 150 and many.max() < 200


def test_m2_switching_off_signalling_loses_early_cases():
    on = mean_summary(fte_per_1000=1.6)
    off = mean_summary(fte_per_1000=1.6, m2_early_signalling=False)
    assert off["signalled_share"] == 0.0 < on["signalled_share"]
    assert on["caught_early_share"] > off["caught_early_share"] + 0.1


# ---- M3 caseload and time ---------------------------------------------------------
def test_m3_individual_demand_first_collective_gets_the_rest(small_model):
    model = small_model(collective_time_target=0.3)
    worker = model.workers[0]
    worker.allocate_time(0.0)
    assert worker.collective_hours == pytest.approx(0.3 * worker.capacity)
    worker.allocate_time(0.9 * worker.capacity)
    assert worker.collective_hours == pytest.approx(0.1 * worker.capacity)
    worker.allocate_time(1.2 * worker.capacity)
    assert worker.collective_hours == 0.0 and worker.overloaded
    assert worker.service == pytest.approx(1 / 1.2)


def test_m3_without_capacity_limits_there_is_no_squeeze():
    on = mean_summary()
    off = mean_summary(m3_capacity_limit=False)
    assert off["overloaded_worker_share"] == 0.0 < on["overloaded_worker_share"]
    assert off["collective_time_share"] > on["collective_time_share"] + 0.1


# ---- M4 two crafts ----------------------------------------------------------------
@pytest.mark.parametrize("switch", [True, False])
def test_m4_collective_skill_grows_with_training_and_practice(small_model, switch):
    model = small_model(training_hours=80.0, m4_skill_dynamics=switch)
    worker = model.workers[0]
    start = worker.skill_collective
    for _ in range(52):
        worker.learn(practice_hours=3.0)
    assert bool(worker.skill_collective > start + 0.05) is switch


def test_m4_skill_decays_without_practice_or_training(small_model):
    worker = small_model(training_hours=0.0).workers[0]
    worker.skill_collective = 0.5
    for _ in range(52):
        worker.learn(practice_hours=0.0)
    assert worker.skill_collective < 0.5


# ---- M5 mandate and maatwerk ------------------------------------------------------
def test_m5_mandate_shortens_time_to_support():
    with_mandate = mean_summary(mandate=1.0)
    without = mean_summary(mandate=0.0)
    assert with_mandate["wait_weeks_mean"] < 0.5 * without["wait_weeks_mean"]


def test_m5_input_steering_caps_visits(small_model):
    assert small_model(steering=0.0).municipality.visit_factor < 1.0
    assert small_model(steering=1.0).municipality.visit_factor == 1.0
    assert small_model(steering=0.0, m5_mandate_rules=False).municipality.visit_factor == 1.0


def test_m5_indication_delay_shrinks_with_escalation_agreements(small_model):
    slow = small_model(escalation_agreements=0.0).municipality.indication_delay
    fast = small_model(escalation_agreements=1.0).municipality.indication_delay
    assert fast < slow


# ---- M6 providers, secondment, specialists ----------------------------------------
def test_m6_unaligned_providers_and_seconded_teams_step_down_less(small_model):
    aligned = small_model(provider_alignment=1.0, independence=1.0).providers[0].step_down_chance
    unaligned = small_model(provider_alignment=0.0, independence=1.0).providers[0].step_down_chance
    seconded = small_model(provider_alignment=1.0, independence=0.0).providers[0].step_down_chance
    switched_off = small_model(provider_alignment=0.0, independence=0.0, m6_provider_behaviour=False)
    assert unaligned < aligned and seconded < aligned
    assert switched_off.providers[0].step_down_chance == aligned == switched_off.p.step_down_rate


def test_m6_seconded_teams_keep_more_residents_in_maatwerk():
    seconded = mean_summary(independence=0.0)
    independent = mean_summary(independence=1.0)
    assert seconded["maatwerk_clients_per_1000"] > independent["maatwerk_clients_per_1000"]


def test_m6_specialist_access_keeps_mental_health_complex_cases_in_the_team(small_model):
    def light_share(access):
        model = small_model(specialist_access=access)
        pop = model.pop
        idx = np.arange(200)
        pop.sev[idx] = 0.0
        pop.sev[idx, MENTAL_HEALTH] = 0.45
        pop.sev[idx, CARE_SUPPORT] = 0.45
        pop.smax[idx] = 0.45
        complexity = np.full(idx.size, 2)
        one_worker = np.zeros(1, np.int64)
        route, _, _ = intake.decide_routes(model, idx, complexity, one_worker, one_worker)
        return (route == intake.LIGHT).mean()

    assert light_share(0.0) == 0.0
    assert light_share(1.0) == 1.0


# ---- M7 collective initiatives ----------------------------------------------------
def test_m7_initiatives_form_and_serve_participants_only_with_the_mechanism():
    rich = {"fte_per_1000": 2.0, "collective_budget_share": 0.1}
    on = mean_summary(**rich)
    off = mean_summary(**rich, m7_initiatives=False)
    assert off["initiatives_active"] == 0.0 and off["participants_per_1000"] == 0.0
    assert on["initiatives_active"] >= 0.5 and on["participants_per_1000"] > 1.0


def test_m7_collective_support_costs_less_than_half_of_maatwerk_per_person():
    """P2 at the level of one participant: group tariff against maatwerk cost."""
    s = mean_summary(fte_per_1000=2.0, collective_budget_share=0.1)
    per_participant_year = s["cost_collective_per_resident_year"] * 1000 / s["participants_per_1000"]
    model = NeighbourhoodModel({"n_residents": 500})
    assert per_participant_year < 0.5 * model.p.maatwerk_cost_year


def test_m7_reluctance_lowers_joining():
    rich = {"fte_per_1000": 2.0, "collective_budget_share": 0.1}
    eager = mean_summary(**rich, reluctance_mean=0.1)
    shy = mean_summary(**rich, reluctance_mean=0.9)
    assert shy["participants_per_1000"] < 0.7 * eager["participants_per_1000"]


def test_m7_group_room_is_respected():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 0, 1, 1, 2, 0, 1])
    room = np.array([2, 5, 0])
    keep = _within_room(groups, room, rng)
    kept = groups[keep]
    assert (kept == 0).sum() == 2 and (kept == 1).sum() == 3 and (kept == 2).sum() == 0


# ---- M8 self- and shared reliance -------------------------------------------------
def test_m8_neighbours_with_spare_capacity_help(small_model):
    for switch in (True, False):
        model = small_model(m8_reliance_dynamics=switch)
        pop = model.pop
        pop.sev[:] = 0.0
        pop.smax[:] = 0.0
        problems.update_support(model)
        assert bool(pop.support.mean() > 0.1) is switch


def test_m8_volunteers_have_more_to_give(small_model):
    model = small_model()
    pop = model.pop
    problems.update_support(model)
    before = pop.support.copy()
    pop.status[:] = VOLUNTEER
    problems.update_support(model)
    assert pop.support.mean() > before.mean()


def test_m8_long_dependence_erodes_and_collective_work_builds_self_reliance(small_model):
    model = small_model()
    pop = model.pop
    start = pop.sr.copy()
    pop.status[:100] = MAATWERK
    pop.start_week[:100] = -200
    pop.status[100:200] = 4  # collective
    for week in range(1, 27):
        model.week = week
        problems.update_reliance(model)
    assert pop.sr[:100].mean() < start[:100].mean() - 0.02
    assert pop.sr[100:200].mean() > start[100:200].mean() + 0.02


def test_m8_a_problem_solved_alone_builds_more_self_reliance_than_one_support_solves(small_model):
    """Own strength's gain is weighted by its share of the week's removal: the same problem
    teaches a resident alone more than one under team support or maatwerk (none without M8)."""
    for switch in (True, False):
        model = small_model(m8_reliance_dynamics=switch, m1_escalation=False)
        pop = model.pop
        who = np.arange(30)
        pop.sev[:] = 0.0
        pop.sev[who, MENTAL_HEALTH] = 0.5
        pop.smax[:] = pop.sev.max(axis=1)
        pop.sr[who] = 0.6
        pop.support[who] = 0.0
        pop.status[who] = 0
        pop.status[10:20], pop.worker[10:20] = TEAM, 0
        pop.status[20:30], pop.primary[20:30], pop.tailored[20:30] = MAATWERK, MENTAL_HEALTH, True
        problems.treat_and_evolve(model)
        gain = pop.sr[who] - 0.6
        alone, team, maatwerk = gain[:10].mean(), gain[10:20].mean(), gain[20:30].mean()
        if switch:
            assert alone > maatwerk > 0 and alone > team > 0
            assert alone == pytest.approx(model.p.self_reliance_gain * model.p.own_recovery_rate * 0.6)
        else:
            assert alone == team == maatwerk == 0.0


def test_m8_switching_off_removes_shared_reliance():
    off = mean_summary(m8_reliance_dynamics=False)
    on = mean_summary()
    assert off["neighbour_share_of_need"] == 0.0 < on["neighbour_share_of_need"]


# ---- M9 municipality review -------------------------------------------------------
def _reviewed(small_model, spent_share: float, **params) -> Municipality:
    model = small_model(**params)
    mun = model.municipality
    mun.spent_year = spent_share * mun.budget_year
    mun.review()
    return mun


def test_m9_input_steering_cuts_after_overspending(small_model):
    mun = _reviewed(small_model, 1.2, steering=0.0)
    assert mun.extra_cut > 0.0
    assert mun.collective_budget < mun.base_collective_budget
    off = _reviewed(small_model, 1.2, steering=0.0, m9_municipal_review=False)
    assert off.extra_cut == 0.0 and off.collective_budget == off.base_collective_budget


def test_m9_outcome_steering_reinvests_savings(small_model):
    mun = _reviewed(small_model, 0.8, steering=1.0)
    p = mun.model.p
    saved = 0.2 * mun.budget_year
    assert mun.collective_budget == pytest.approx(
        mun.base_collective_budget + (1 - p.reinvest_capacity_share) * saved
    )
    cap = p.reinvest_max_share * mun.model.team_fte * p.hours_per_fte
    wanted = p.reinvest_capacity_share * saved / 52 / p.worker_hour_cost
    assert mun.extra_team_hours == pytest.approx(min(cap, wanted)) and mun.extra_team_hours > 0
    assert 0 < mun.reinvested <= saved
    assert _reviewed(small_model, 0.8, steering=0.0).reinvested == 0.0


def test_m9_reinvested_hours_raise_worker_capacity(small_model):
    model = small_model(steering=1.0)
    base = sum(w.capacity for w in model.workers)
    model.municipality.spent_year = 0.5 * model.municipality.budget_year
    model.municipality.review()
    budget.reinvest_capacity(model)
    assert sum(w.capacity for w in model.workers) > base


# ---- M10 the pre-2015 approach: tests/test_pre2015.py ------------------------------------
