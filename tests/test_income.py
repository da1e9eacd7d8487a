"""Income groups (issue 17): the split, each gap's shift, and the KPIs by group.

Each shift has a unit test that fails if the shift is removed (the groups differ with the gap)
and checks that the gap at 0 switches it off (the groups do not differ); the property tests check
that the KPIs by group add up to the population's KPI where they should.
"""

import numpy as np
import pytest

from model import NeighbourhoodModel, problems
from model.outputs import INCOME_LABELS, concentration_index
from model.params import REGISTRY, ParameterError, validate
from model.resident import HIGH, INCOME_GROUPS, INCOME_SHARES, LOW, MIDDLE, income_groups, severity_factors

GAPS = (
    "income_arrival_gap",
    "income_severity_gap",
    "income_reliance_gap",
    "income_threshold_gap",
    "income_ties_gap",
)
NO_GAPS = dict.fromkeys(GAPS, 0.0)


def _by_group(model: NeighbourhoodModel, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (one per resident) in each income group."""
    income = model.pop.income
    return np.array([values[income == k].mean() for k in range(3)])


# ---- the split ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [200, 1003, 2000, 99999])
def test_income_groups_have_the_quintile_shares_exactly(n):
    income = income_groups(n, np.random.default_rng(1))
    sizes = np.bincount(income, minlength=3)
    assert sizes.sum() == n
    assert np.abs(sizes - INCOME_SHARES * n).max() <= 1.0
    assert sizes[LOW] == sizes[HIGH] == round(0.2 * n)


def test_income_groups_are_not_in_street_order():
    income = income_groups(5000, np.random.default_rng(2))
    first, last = income[:2500], income[2500:]
    assert abs((first == LOW).mean() - (last == LOW).mean()) < 0.05


def test_labels_follow_the_groups():
    assert tuple(INCOME_LABELS) == INCOME_GROUPS


@pytest.mark.parametrize("name", GAPS)
def test_every_gap_is_a_behaviour_parameter_that_can_be_switched_off(name):
    p = REGISTRY[name]
    assert p.kind == "behaviour" and p.low <= 0.0 < p.default <= p.high
    assert p.basis and p.source_class == "basis"
    with pytest.raises(ParameterError, match=name):
        validate({name: -0.1})


# ---- M1 arrival and severity --------------------------------------------------------------
def _new_problems(model: NeighbourhoodModel, weeks: int = 10) -> np.ndarray:
    """Residents who got a problem in ``weeks`` of arrivals alone (no other mechanism runs)."""
    model.pop.sev[:] = 0.0
    model.pop.smax[:] = 0.0
    for _ in range(weeks):
        problems.arrive_problems(model)
    return model.pop.sev.sum(axis=1)


def test_m1_income_arrival_gap_gives_the_low_group_more_problems_of_the_same_total(small_model):
    shifted = small_model(seed=3, n_residents=20000, **{**NO_GAPS, "income_arrival_gap": 0.5})
    even = small_model(seed=3, n_residents=20000, **NO_GAPS)
    got_shifted, got_even = _new_problems(shifted), _new_problems(even)
    hit_shifted = _by_group(shifted, got_shifted > 0)
    hit_even = _by_group(even, got_even > 0)
    # Weights 1.5 / 1 / 0.5: about three times as many low- as high-income residents hit.
    assert hit_shifted[LOW] / hit_shifted[HIGH] > 2.2
    assert 0.85 < hit_even[LOW] / hit_even[HIGH] < 1.15
    # The same Poisson counts and severities, only drawn to other residents: the total is kept.
    assert got_shifted.sum() == pytest.approx(got_even.sum(), rel=1e-3)


def test_m1_income_severity_gap_makes_the_low_group_heavier_at_the_same_mean():
    for arrival in (0.0, 0.2, 0.8):
        f = severity_factors(arrival, 0.2)
        assert f[LOW] > f[MIDDLE] > f[HIGH]
        weight = INCOME_SHARES * (1.0 + arrival * np.array([1.0, 0.0, -1.0]))
        assert (f * weight).sum() / weight.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.array_equal(severity_factors(0.5, 0.0), np.ones(3))


def test_m1_severity_factor_is_applied_to_new_problems(small_model):
    model = small_model(seed=4, n_residents=20000, **{**NO_GAPS, "income_severity_gap": 0.4})
    got = _new_problems(model, weeks=1)
    severity = _by_group(model, got) / _by_group(model, got > 0)  # severity per resident hit, by group
    assert severity[LOW] / severity[HIGH] > 1.8  # factors 1.4 / 0.6, about 2.3


# ---- M8 self-reliance and ties; M2 help-seeking -------------------------------------------
@pytest.mark.parametrize(
    ("gap", "attribute", "low_is_lower"),
    [
        ("income_reliance_gap", "sr0", True),
        ("income_ties_gap", "ties0", True),
        ("income_threshold_gap", "threshold", False),
    ],
)
def test_m2_m8_gaps_shift_the_groups_around_the_mean(small_model, gap, attribute, low_is_lower):
    size = {"income_reliance_gap": 0.15, "income_ties_gap": 0.4, "income_threshold_gap": 0.1}[gap]
    shifted = small_model(seed=5, n_residents=30000, **{**NO_GAPS, gap: size})
    even = small_model(seed=5, n_residents=30000, **NO_GAPS)
    s = _by_group(shifted, getattr(shifted.pop, attribute))
    e = _by_group(even, getattr(even.pop, attribute))
    sign = 1.0 if low_is_lower else -1.0
    assert sign * (s[HIGH] - s[LOW]) > 0.75 * size  # 2 x gap (x the mean, 0.5, for ties; less capping)
    assert abs(e[HIGH] - e[LOW]) < 0.02  # the gap at 0 switches the shift off
    # Shifted around the mean: the population mean moves little (clipping aside).
    assert getattr(shifted.pop, attribute).mean() == pytest.approx(
        getattr(even.pop, attribute).mean(), abs=0.02
    )


# ---- the KPIs by group ---------------------------------------------------------------------
def test_concentration_index_of_known_distributions():
    shares = [0.2, 0.6, 0.2]
    assert concentration_index([1.0, 1.0, 1.0], shares) == pytest.approx(0.0, abs=1e-12)
    assert concentration_index([0.0, 0.0, 0.0], shares) == 0.0
    assert concentration_index([1.0, 0.0, 0.0], shares) == pytest.approx(-0.8)  # all with the lowest fifth
    assert concentration_index([0.0, 0.0, 1.0], shares) == pytest.approx(0.8)
    # Equals twice the covariance with the fractional rank over the mean, residents of a group at
    # its mid-rank.
    rng = np.random.default_rng(0)
    income = np.sort(income_groups(1000, rng))
    h = rng.gamma(2.0, 1.0, 1000) * (3 - income)
    sizes = np.bincount(income, minlength=3)
    mid = (np.cumsum(sizes) - sizes / 2.0) / sizes.sum()
    expected = 2.0 * np.cov(h, mid[income], bias=True)[0, 1] / h.mean()
    means = [h[income == k].mean() for k in range(3)]
    assert concentration_index(means, list(sizes)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"pre_2015": True}, {"income_arrival_gap": 0.8, "income_threshold_gap": 0.2, "fte_per_1000": 1.6}],
)
def test_kpis_by_group_add_up_to_the_population(overrides):
    model = NeighbourhoodModel(
        n_residents=1003, weeks=110, burn_in_weeks=20, rng=7, collect=False, **overrides
    )
    model.run_model()
    s, t = model.summary(), model.tally
    f = model.pop.income_sizes / model.pop.n

    def weighted(kpi):
        return sum(f[k] * s[f"{kpi}_{g}"] for k, g in enumerate(INCOME_GROUPS))

    for kpi in (
        "unmet_need_per_1000_year",
        "hidden_need_per_1000",
        "self_reliance_mean",
        "referrals_per_1000_year",
    ):
        assert weighted(kpi) == pytest.approx(s[kpi], rel=1e-9, abs=1e-12), kpi
    assert weighted("requests_per_1000_year") == pytest.approx(s["cases_per_1000_year"], rel=1e-9)
    # Admissions of referred residents are every admission (each waited for a place after a referral).
    assert t.groups["admitted"].sum() == t.care["admitted"] == t.maatwerk_starts
    assert weighted("admissions_per_1000_year") == pytest.approx(s["escalations_per_1000_year"], rel=1e-9)
    youth, care = t.groups["youth"], t.groups["youth_care"]
    assert care.sum() / youth.sum() == pytest.approx(s["youth_care_share"], rel=1e-12)
    assert youth.sum() == sum(year[0] for year in t.youth_years)
    ratio = s["unmet_need_per_1000_year_low"] / s["unmet_need_per_1000_year_high"]
    assert s["unmet_need_ratio_low_high"] == pytest.approx(ratio)
    assert -1.0 <= s["unmet_need_concentration_index"] <= 1.0


def test_the_gaps_put_unmet_need_and_youth_care_with_the_low_group():
    rows = [
        NeighbourhoodModel(n_residents=2000, weeks=104, burn_in_weeks=52, rng=seed, collect=False)
        for seed in (1, 2)
    ]
    for m in rows:
        m.run_model()
    s = [m.summary() for m in rows]
    assert all(r["unmet_need_concentration_index"] < 0 for r in s)
    assert all(r["unmet_need_ratio_low_high"] > 1 for r in s)
    assert np.mean([r["youth_care_share_low"] for r in s]) > np.mean([r["youth_care_share_high"] for r in s])
