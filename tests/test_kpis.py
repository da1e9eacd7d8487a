"""KPIs that mean what they say: maatwerk referrals, admissions, waiting list, stock and spells by
domain; self-reliance on the ZRM scale for residents who had a problem (issue 16, items 5 and 6)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import NeighbourhoodModel, run
from model.outputs import DOMAIN_LABELS, OUTPUTS, SERIES_FIELDS
from model.problems import ZRM_DOMAINS, ZRM_LEVELS, zrm_level
from model.reporters import CARE_COUNTS, _track_care
from model.resident import (
    CARE_SUPPORT,
    COLLECTIVE,
    DOMAINS,
    FOR_PROVIDER,
    MAATWERK,
    MENTAL_HEALTH,
    NONE,
    NOT_WAITING,
    TEAM,
    WAITING,
)

from .conftest import SMALL

#: The thirteen domains of the ZRM 2017 (GGD Amsterdam) and the parenting supplement.
ZRM_2017 = {
    "financien",
    "werk & opleiding",
    "tijdsbesteding",
    "huisvesting",
    "huiselijke relaties",
    "geestelijke gezondheid",
    "lichamelijke gezondheid",
    "middelengebruik",
    "basale ADL",
    "instrumentele ADL",
    "sociaal netwerk",
    "maatschappelijke participatie",
    "justitie",
    "ouderschap (parenting supplement)",
}
unit = st.floats(0.0, 1.0, allow_nan=False)


# ---- the ZRM mapping -----------------------------------------------------------------------
def test_every_model_domain_maps_to_zrm_domains_and_no_zrm_domain_twice():
    assert list(ZRM_DOMAINS) == list(DOMAINS) == list(DOMAIN_LABELS)
    mapped = [z for zs in ZRM_DOMAINS.values() for z in zs]
    assert mapped and set(mapped) <= ZRM_2017
    assert len(mapped) == len(set(mapped))
    assert len(ZRM_LEVELS) == 5


@pytest.mark.parametrize(
    "severity, self_reliance, weight, level",
    [
        (0.0, 1.0, 0.5, 5),  # no problem, fully self-reliant
        (0.0, 0.6, 0.5, 4),  # no problem, typical self-reliance: adequately self-reliant
        (0.0, 0.75, 0.5, 5),  # the threshold of 5 without a problem: sr = 1 - 1 / (8 w)
        (0.0, 0.74, 0.5, 4),
        (0.4, 0.6, 0.5, 3),  # 1 + floor(3.2 x 0.6 + 0.5) = 3: barely self-reliant
        (0.6, 0.6, 0.5, 2),  # heavy: not self-reliant
        (0.85, 0.6, 0.5, 1),  # crisis: acute problems
        (1.0, 1.0, 0.0, 1),
        (0.0, 0.0, 0.0, 5),  # weight 0: self-reliance does not count
        (0.0, 0.0, 1.0, 1),  # weight 1 and no self-reliance at all
    ],
)
def test_zrm_level_follows_the_stated_rule(severity, self_reliance, weight, level):
    assert zrm_level(severity, self_reliance, weight) == level


@given(s=unit, sr=unit, w=unit, ds=unit, dsr=unit)
def test_zrm_level_is_1_to_5_falls_with_severity_and_rises_with_self_reliance(s, sr, w, ds, dsr):
    level = zrm_level(s, sr, w)
    assert 1 <= level <= 5
    assert zrm_level(min(s + ds, 1.0), sr, w) <= level
    assert zrm_level(s, min(sr + dsr, 1.0), w) >= level
    assert zrm_level(s, sr, 0.0) == zrm_level(s, 0.0, 0.0)  # weight 0: severity alone


# ---- the care tracker, one resident at a time ------------------------------------------------
class Residents:
    """The arrays the care tracker reads, for a few residents, and its own state."""

    def __init__(self, n=3):
        self.status = np.zeros(n, np.int8)
        self.wait_kind = np.zeros(n, np.int8)
        self.smax = np.zeros(n)
        self.sr = np.full(n, 0.6)
        self.primary = np.zeros(n, np.int8)
        self.start_week = np.zeros(n, np.int32)
        self.referral_week = np.full(n, -1, np.int32)
        self.in_maatwerk = np.zeros(n, bool)
        self.spell_start = np.zeros(n, np.int32)
        self.spell_domain = np.zeros(n, np.int8)
        self.open = np.zeros(n, bool)
        self.zrm = np.zeros((3, n), np.int8)
        self.help = np.zeros(n, np.int8)
        self.sr_start = np.zeros(n)
        self.income = np.zeros(n, np.int8)  # all in the low income group

    def week(self, week, weight=0.5):
        counts, groups = _track_care(
            week,
            self.income,
            self.status,
            self.wait_kind,
            self.smax,
            self.sr,
            self.primary,
            self.start_week,
            self.referral_week,
            self.in_maatwerk,
            self.spell_start,
            self.spell_domain,
            self.open,
            self.zrm,
            self.help,
            self.sr_start,
            weight,
        )
        # Referrals and admissions by income group: here everyone is in the low group.
        assert groups[:, 1:].sum() == 0 and groups[:, 0].tolist() == [counts[0], counts[1]]
        return dict(zip(CARE_COUNTS, counts.tolist(), strict=True))


def test_a_referral_is_counted_once_waits_and_its_admission_counts_the_weeks_waited():
    r = Residents()
    r.status[0], r.wait_kind[0], r.referral_week[0], r.smax[0] = WAITING, FOR_PROVIDER, 10, 0.7
    c = r.week(10)
    assert (c["referrals"], c["maatwerk_waiting"], c["admitted"]) == (1, 1, 0)
    c = r.week(11)
    assert (c["referrals"], c["maatwerk_waiting"], c["admitted"]) == (0, 1, 0)
    r.status[0], r.wait_kind[0], r.start_week[0], r.primary[0] = MAATWERK, NOT_WAITING, 13, MENTAL_HEALTH
    c = r.week(13)
    assert (c["referrals"], c["maatwerk_waiting"], c["admitted"], c["maatwerk_wait_weeks"]) == (0, 0, 1, 3)
    assert c["maatwerk_mental_health"] == 1 and r.referral_week[0] == -1
    # The spell ends at step-down 20 weeks later: one spell of 20 weeks, in its domain.
    r.status[0] = NONE
    c = r.week(33)
    assert (c["spells_mental_health"], c["spell_weeks_mental_health"]) == (1, 20)
    assert sum(c[f"maatwerk_{d}"] for d in DOMAINS) == 0


def test_a_referral_admitted_and_stepped_down_in_its_own_week_counts_as_both():
    r = Residents()
    r.referral_week[1], r.start_week[1], r.primary[1] = 5, 5, CARE_SUPPORT  # status NONE again
    c = r.week(5)
    assert (c["referrals"], c["admitted"], c["maatwerk_wait_weeks"]) == (1, 1, 0)
    assert (c["spells_care_support"], c["spell_weeks_care_support"]) == (1, 0)


def test_a_problem_counts_its_zrm_levels_at_start_low_point_and_close_and_how_it_was_solved():
    r = Residents(2)
    r.smax[:] = 0.3  # both start a problem: level 1 + floor(3.2 x 0.7 + 0.5) = 3
    r.week(1)
    r.smax[:] = 0.9  # both reach a crisis: level 1
    r.status[1] = TEAM
    r.week(2)
    r.smax[:] = 0.0
    r.status[1] = NONE
    r.sr[:] = [0.8, 0.6]  # the first resident gained self-reliance: level 5 at close, the other 4
    c = r.week(3)
    assert c["problems_closed"] == 2
    assert (c["zrm_start"], c["zrm_low"], c["zrm_close"]) == (3 + 3, 1 + 1, 5 + 4)
    assert c["closed_own"] == 1  # the second had team support
    assert c["sr_gain"] == pytest.approx(0.8 - 0.6)
    assert not r.open.any()


def test_a_collective_group_counts_as_own_strength_and_network_maatwerk_does_not():
    r = Residents(2)
    r.smax[:] = 0.4
    r.status[:] = [COLLECTIVE, MAATWERK]
    r.week(1)
    r.smax[:] = 0.0
    r.status[:] = NONE
    c = r.week(2)
    assert (c["problems_closed"], c["closed_own"]) == (2, 1)


# ---- the KPIs in whole runs ------------------------------------------------------------------


def test_referrals_count_decided_need_whether_or_not_a_place_is_free(small_model):
    """With few places, referrals exceed admissions by the waiting list; every admission was a
    referral, and the tracker's admissions are the providers' (burn-in 0: the whole run)."""
    model = small_model(seed=2, burn_in_weeks=0, provider_capacity_per_1000=20.0, init_maatwerk_per_1000=20.0)
    model.run_model()
    care, pop = model.tally.care, model.pop
    waiting = int(np.count_nonzero((pop.status == WAITING) & (pop.wait_kind == FOR_PROVIDER)))
    assert waiting > 0
    assert care["referrals"] == care["admitted"] + waiting
    assert care["admitted"] == model.tally.maatwerk_starts
    s = model.summary()
    assert s["referrals_per_1000_year"] > s["escalations_per_1000_year"] > 0
    assert s["maatwerk_waiting_per_1000"] > 0 and s["maatwerk_wait_weeks_mean"] > 1.0


def test_with_room_at_the_providers_referrals_and_admissions_agree_and_nobody_waits_long():
    s = run(seed=1, collect=False, **SMALL, provider_capacity_per_1000=200.0)[0]
    assert s["referrals_per_1000_year"] == pytest.approx(s["escalations_per_1000_year"], rel=0.05)
    assert s["maatwerk_wait_weeks_mean"] < 0.5


def test_maatwerk_stock_by_domain_sums_to_the_total_and_care_support_is_wmo():
    s = run(seed=0, collect=False, **SMALL)[0]
    by_domain = [s[f"maatwerk_{d}_per_1000"] for d in DOMAINS]
    assert sum(by_domain) == pytest.approx(s["maatwerk_clients_per_1000"], rel=1e-9)
    assert s["maatwerk_care_support_per_1000"] == pytest.approx(s["wmo_maatwerk_per_1000"], rel=1e-12)
    assert all(v > 0 for v in by_domain)
    spells = [s[f"maatwerk_weeks_{d}_mean"] for d in DOMAINS]
    assert all(v > 0 for v in spells)
    # elderly care needs are chronic (M1): their spells last longest
    assert s["maatwerk_weeks_care_support_mean"] == max(spells)


def test_problems_solved_without_team_or_maatwerk_count_as_own_strength_or_network(small_model):
    """Without a team or welfare workers only maatwerk counts against own strength: a strict desk
    grants less of it."""
    own = {}
    for threshold in (0.2, 0.9):
        model = small_model(
            seed=0,
            pre_2015=True,
            welfare_fte_per_1000=0.0,
            init_maatwerk_per_1000=0.0,
            desk_threshold=threshold,
        )
        model.run_model()
        assert not (model.care.help & 1).any()  # never team support
        own[threshold] = model.summary()["resolved_own_share"]
    assert 0.0 < own[0.2] < own[0.9] <= 1.0
    team = run(seed=0, collect=False, **SMALL)[0]
    assert 0.0 < team["resolved_own_share"] < 1.0


def test_zrm_levels_rise_from_start_to_close_and_the_change_is_their_difference():
    s = run(seed=0, collect=False, **SMALL)[0]
    assert 1.0 <= s["zrm_low_mean"] <= s["zrm_start_mean"] < s["zrm_close_mean"] <= 5.0
    assert s["zrm_close_mean"] >= 4.0  # no severity left: 4 or 5
    assert s["zrm_change_mean"] == pytest.approx(s["zrm_close_mean"] - s["zrm_start_mean"])


def test_the_zrm_at_close_is_self_reliance_alone(small_model):
    """A problem ends without severity, so its level at close is self-reliance's alone: 3 below
    sr 0.25, 4, or 5 from sr 0.75 (w = 0.5); most close at 4 or 5."""
    model = small_model(seed=1)
    model.run_model()
    s = model.summary()
    assert s["zrm_close_mean"] > 4.0
    closing = model.care.zrm[2, ~model.care.open & (model.pop.smax == 0)]
    assert set(np.unique(closing).tolist()) <= {0, 3, 4, 5}  # 0: never had a problem


def test_the_self_reliance_gained_in_a_problem_is_m8s_alone():
    on = run(seed=0, collect=False, **SMALL)[0]
    off = run(seed=0, collect=False, **SMALL, m8_reliance_dynamics=False)[0]
    assert off["problem_self_reliance_gain_mean"] == 0.0 < on["problem_self_reliance_gain_mean"]


def test_zrm_weight_changes_only_the_zrm_kpis():
    a = run(seed=0, collect=False, **SMALL)[0]
    b = run(seed=0, collect=False, **SMALL, zrm_reliance_weight=1.0)[0]
    for name in a:
        if name.startswith("zrm_"):
            continue
        assert a[name] == b[name], name
    assert b["zrm_close_mean"] < a["zrm_close_mean"]


def test_the_new_kpis_are_declared_once_in_the_output_table():
    for name in (
        "referrals_per_1000_year",
        "maatwerk_waiting_per_1000",
        "maatwerk_wait_weeks_mean",
        "zrm_start_mean",
        "zrm_close_mean",
        "zrm_change_mean",
        "resolved_own_share",
        *(f"maatwerk_{d}_per_1000" for d in DOMAINS),
        *(f"maatwerk_weeks_{d}_mean" for d in DOMAINS),
    ):
        assert name in OUTPUTS and OUTPUTS[name].meaning and OUTPUTS[name].label
    assert "referrals" in SERIES_FIELDS and "maatwerk_waiting" in SERIES_FIELDS
    assert "admissions" in OUTPUTS["escalations_per_1000_year"].meaning.lower()


# ---- invariants for any parameter values (hypothesis) -------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    capacity=st.floats(20.0, 150.0),
    mandate=st.floats(0.0, 1.0),
    pre_2015=st.booleans(),
    fte=st.floats(0.2, 3.0),
    weight=unit,
)
def test_invariants_of_the_care_kpis(seed, capacity, mandate, pre_2015, fte, weight):
    model = NeighbourhoodModel(
        n_residents=400,
        weeks=60,
        burn_in_weeks=0,
        provider_capacity_per_1000=capacity,
        mandate=mandate,
        pre_2015=pre_2015,
        fte_per_1000=fte,
        zrm_reliance_weight=weight,
        rng=seed,
    )
    model.run_model()
    care, pop, s = model.tally.care, model.pop, model.summary()
    waiting = int(np.count_nonzero((pop.status == WAITING) & (pop.wait_kind == FOR_PROVIDER)))
    assert care["referrals"] >= care["admitted"] == model.tally.maatwerk_starts
    assert care["referrals"] - care["admitted"] == waiting
    stock = sum(care[f"maatwerk_{d}"] for d in DOMAINS)
    assert stock == pytest.approx(s["maatwerk_clients_per_1000"] * model.tally.weeks * pop.n / 1000.0)
    assert 0.0 <= s["resolved_own_share"] <= 1.0
    if care["problems_closed"]:
        for name in ("zrm_start_mean", "zrm_low_mean", "zrm_close_mean"):
            assert 1.0 <= s[name] <= 5.0
        assert s["zrm_low_mean"] <= s["zrm_start_mean"]
    levels = model.care.zrm[:, model.care.open]
    assert ((levels >= 1) & (levels <= 5)).all()
