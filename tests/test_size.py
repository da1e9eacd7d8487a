"""Size invariance (issue 16, item 7): staffing in hours, and per-1,000 KPIs that do not depend on size.

Workers fill 0.8-FTE posts, the last one part-time, separately for the seconded and the team's own
FTE, so a neighbourhood's worker hours and seconded share are exactly its per-1,000 levers whatever
its size. The slow test compares per-1,000 KPIs of a 2,000- and a 20,000-resident neighbourhood.
"""

import numpy as np
import pytest

from model import NeighbourhoodModel, run
from model.neighbourhood import FTE_PER_WORKER, posts


@pytest.mark.parametrize("fte", [0.0, 0.04, 0.4, 0.8, 1.6, 4.3, 16.0])
def test_posts_are_full_but_the_last_and_sum_to_the_fte(fte):
    got = posts(fte)
    assert sum(got) == pytest.approx(fte)
    assert all(p == FTE_PER_WORKER for p in got[:-1]) and all(0 < p <= FTE_PER_WORKER for p in got)


@pytest.mark.parametrize("n_residents", [1000, 1500, 2000, 5000, 20000])
def test_staff_hours_and_seconded_share_are_exact_at_every_size(n_residents):
    model = NeighbourhoodModel({"n_residents": n_residents, "independence": 0.5, "fte_per_1000": 0.8}, rng=0)
    p = model.p
    fte = np.array([w.fte for w in model.workers])
    seconded = np.array([w.seconded for w in model.workers])
    assert fte.sum() == pytest.approx(0.8 * n_residents / 1000)
    assert fte[seconded].sum() / fte.sum() == pytest.approx(0.5)
    hours = sum(w.base_capacity for w in model.workers)
    assert hours == pytest.approx(0.8 * n_residents / 1000 * p.hours_per_fte * p.direct_time_share)


#: Per-1,000 KPIs that should not depend on the neighbourhood's size.
KPIS = (
    "escalations_per_1000_year",
    "maatwerk_clients_per_1000",
    "wmo_maatwerk_per_1000",
    "caseload_per_fte",
    "cost_total_per_resident_year",
    "unmet_need_per_1000_year",
)
SMALL, LARGE = 2000, 20000
SMALL_SEEDS, LARGE_SEEDS = range(8), range(2)
SETUP = {"weeks": 260, "burn_in_weeks": 104}


#: With collective initiatives on, collective work depends on size (measured at 260 weeks,
#: 8 + 2 replicates): an initiative needs ``initiative_hours`` (3 h a week) from the
#: neighbourhood's pooled collective hours, which are what casework leaves. Per 1,000 residents
#: the pool is the same, but 2,000 residents pool about 0.9 h a week for initiatives and rarely
#: start one, 20,000 residents about 8 h, so collective work reinforces itself only in the large
#: neighbourhood. Measured three times:
#:   before issue 17: collective time 4.6% vs 9.9%, maatwerk clients 83.7 vs 74.5 per 1,000, cost
#:     EUR 506 vs 469 per resident (fails);
#:   income groups alone (issue 17 branch): every KPI within 3 SE (cost EUR 557 vs 532, 3 SE 50);
#:   income groups and payers (issue 17 merged, 2026-11-30): cost EUR 586 vs 541 (3 SE 34) (fails).
#: The size effect is real in direction each time and near the 3-SE line in size.
INITIATIVES_NEED_A_POOL = (
    "an initiative needs 3 pooled worker hours a week: a 2,000-resident team's leftover (about 0.9 h)"
    " rarely reaches it, a 20,000-resident one's (about 8 h) does; cost EUR 586 vs 541 per resident"
    " (3 SE 34) on the merged model of issue 17 (see the comment above)"
)

#: With initiatives off, KPIs measured to depend on size, with the numbers (2,000 mean, 20,000 mean,
#: 3 SE). Caseload per FTE: 39.2 vs 37.3 (3 SE 1.7) on the merged model of issue 16; 37.9 vs 37.2
#: on the income-groups branch of issue 17 alone; 39.6 vs 37.0 (3 SE 1.7) on the merged model of
#: issue 17 (2026-11-30). Its cause is not investigated. The test also fails when a listed KPI
#: stops depending on size, so an entry cannot outlive its reason.
SIZE_DEPENDENT_WITHOUT_INITIATIVES: dict[str, str] = {
    "caseload_per_fte": "cases per FTE 39.6 at 2,000 vs 37.0 at 20,000 residents (3 SE 1.7)",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "initiatives",
    [
        pytest.param(False, id="initiatives-off"),
        pytest.param(
            True, id="initiatives-on", marks=pytest.mark.xfail(reason=INITIATIVES_NEED_A_POOL, strict=True)
        ),
    ],
)
def test_per_1000_kpis_agree_at_2000_and_20000_residents(initiatives):
    """Criterion: |mean(20,000) - mean(2,000)| <= 3 standard errors of the difference.

    The standard error at 2,000 residents is measured over eight replicates; at 20,000 it is
    taken as that standard deviation / sqrt(10 x replicates), since per-1,000 noise falls with
    the square root of size. A KPI that differs more depends on size.
    """
    setup = {**SETUP, "m7_initiatives": initiatives}
    small = [run(seed=s, collect=False, n_residents=SMALL, **setup)[0] for s in SMALL_SEEDS]
    large = [run(seed=s, collect=False, n_residents=LARGE, **setup)[0] for s in LARGE_SEEDS]
    off = {}
    for kpi in (*KPIS, "collective_time_share"):
        a = np.array([r[kpi] for r in small])
        b = np.array([r[kpi] for r in large])
        sd = a.std(ddof=1)
        se = np.sqrt(sd**2 / a.size + sd**2 / (LARGE / SMALL * b.size))
        if abs(b.mean() - a.mean()) > 3 * se:
            off[kpi] = (round(a.mean(), 2), round(b.mean(), 2), round(3 * se, 2))
    known = {} if initiatives else SIZE_DEPENDENT_WITHOUT_INITIATIVES
    unexpected = {k: v for k, v in off.items() if k not in known}
    assert not unexpected, f"per-1,000 KPIs that depend on size (2,000 mean, 20,000 mean, 3 SE): {unexpected}"
    gone = set(known) - set(off)
    assert not gone, f"no longer size-dependent, drop from the known list: {gone}"
