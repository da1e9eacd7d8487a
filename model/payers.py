"""M9 who pays: unit costs by kind of support, the payer of each kind, and the ledger per payer.

Every week's spending is booked by **kind** of support, each with its unit cost and its payer
(:data:`PAYER_TABLE`), so that a run reports cost per payer per resident a year summing exactly to
the total, a yearly ledger per payer (:func:`ledger`) and a net present value per payer; and two
scenarios run with common random numbers give the cumulative difference per payer and the year
an investment pays back (:func:`payback`).

Kinds, unit costs and payers (the law that funds each kind):

=====================  ==========================================  ===============================
kind                   clients and unit cost (EUR per client-year)  payer
=====================  ==========================================  ===============================
youth care             maatwerk for youth & family, and maatwerk   municipality, Jeugdwet
                       of an under-23 in care & support or mental
                       health: ``youth_care_cost_year``
Wmo support at home    adults' care & support maatwerk:            municipality, Wmo
                       ``maatwerk_cost_year x wmo_home_cost_ratio``
income support         income & work maatwerk (debt help,          municipality, Participatiewet
                       reintegration): ``income_support_cost_year`` (and Wgs)
mental health (adult)  adults' mental-health maatwerk:             health insurers (Zvw) a share
                       ``mental_health_cost_year``                  ``mental_health_zvw_share``, the
                                                                   rest municipality, Wmo
team and desk          worker and desk hours (M9, M10)             municipality, welfare and team
collective             running initiatives (M7)                    municipality, welfare and team
=====================  ==========================================  ===============================

The age rule follows the law since 2015: support of young people, mental-health care included,
is youth care under the Jeugdwet; the model's youth group is the under-23s (as the CBS youth-care
count, ``youth_care_share``), although the Jeugdwet ends at 18 for most care. The welfare payer
holds the team, the indication desk and the collective provisions: the municipality's general
social-domain money outside the three laws.

**Wlz**: long-term care (nursing homes, permanent supervision) is paid under the Wlz, but the
model has no route to it: no resident is indicated for permanent care by the CIZ or leaves the
neighbourhood's maatwerk for it, so the Wlz is reported as a payer with 0. Adding one would need
both a rule for who moves and a Wlz cost per client that would dominate the totals; neither is
in the source articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.resident import CARE_SUPPORT, INCOME_WORK, MAATWERK, MENTAL_HEALTH, YOUTH

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel
    from model.params import Params

#: The payers, in report order: the municipality by law, then health insurers (Zvw) and the Wlz.
PAYERS: tuple[str, ...] = (
    "municipality_wmo",
    "municipality_youth",
    "municipality_participation",
    "municipality_welfare",
    "insurers_zvw",
    "wlz",
)
#: How figures and tables name the payers.
PAYER_LABELS: dict[str, str] = {
    "municipality_wmo": "Municipality: Wmo",
    "municipality_youth": "Municipality: Jeugdwet",
    "municipality_participation": "Municipality: Participatiewet",
    "municipality_welfare": "Municipality: welfare and team",
    "insurers_zvw": "Health insurers (Zvw)",
    "wlz": "Wlz",
}
#: The payers the municipality's budget (M9 review) covers.
MUNICIPAL: tuple[str, ...] = PAYERS[:4]

#: Kinds of maatwerk, in the order of :func:`maatwerk_clients`.
KINDS: tuple[str, ...] = ("youth_care", "wmo_home", "income_support", "mental_health")


def payer_table(p: Params) -> dict[str, dict[str, float]]:
    """Each kind of support and its payers' shares (they sum to 1); see the module docstring."""
    zvw = p.mental_health_zvw_share
    return {
        "youth_care": {"municipality_youth": 1.0},
        "wmo_home": {"municipality_wmo": 1.0},
        "income_support": {"municipality_participation": 1.0},
        "mental_health": {"insurers_zvw": zvw, "municipality_wmo": 1.0 - zvw},
        "team": {"municipality_welfare": 1.0},
        "collective": {"municipality_welfare": 1.0},
    }


def unit_costs(p: Params) -> dict[str, float]:
    """EUR per client per year of each kind of maatwerk."""
    return {
        "youth_care": p.youth_care_cost_year,
        "wmo_home": p.maatwerk_cost_year * p.wmo_home_cost_ratio,
        "income_support": p.income_support_cost_year,
        "mental_health": p.mental_health_cost_year,
    }


def maatwerk_clients(status: np.ndarray, primary: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Maatwerk clients by kind (:data:`KINDS`) and domain: a 4 x 4 count matrix.

    A client's domain is the one their maatwerk serves (``primary``); the kind follows from the
    domain and, for under-23s, the age rule (see the module docstring).
    """
    on = status == MAATWERK
    dom = primary[on].astype(np.int64)
    young = age[on] == YOUTH
    kind = np.zeros(dom.size, np.int64)  # youth care: youth & family, and the under-23s
    kind[(dom == CARE_SUPPORT) & ~young] = 1
    kind[dom == INCOME_WORK] = 2
    kind[(dom == MENTAL_HEALTH) & ~young] = 3
    return np.bincount(kind * 4 + dom, minlength=16).reshape(4, 4)


@dataclass(frozen=True)
class WeekCosts:
    """One week's spending (EUR): by kind of cost, by maatwerk domain and by payer."""

    team: float
    maatwerk: float
    collective: float
    by_domain: tuple[float, float, float, float]  # maatwerk, in the order of DOMAINS
    by_payer: dict[str, float]  # every payer of PAYERS

    @property
    def municipal(self) -> float:
        """What the municipality pays this week (EUR): the part its budget covers."""
        return sum(self.by_payer[k] for k in MUNICIPAL)


def week_costs(model: NeighbourhoodModel, team: float, collective: float) -> WeekCosts:
    """M9: this week's costs by kind, domain and payer; ``team`` and ``collective`` in EUR."""
    p, pop = model.p, model.pop
    clients = maatwerk_clients(pop.status, pop.primary, pop.age)
    unit = np.array(list(unit_costs(p).values())) / 52.0  # EUR per client-week, by kind
    cost = clients * unit[:, None]  # kinds x domains
    by_kind = dict(zip(KINDS, cost.sum(axis=1).tolist(), strict=True))
    by_kind.update(team=team, collective=collective)
    by_payer = dict.fromkeys(PAYERS, 0.0)
    for kind, shares in payer_table(p).items():
        for payer, share in shares.items():
            by_payer[payer] += by_kind[kind] * share
    by_domain = tuple(float(x) for x in cost.sum(axis=0))
    return WeekCosts(team, float(cost.sum()), collective, by_domain, by_payer)


def discount_factor(rate: float, week: int) -> float:
    """The factor of reported week ``week`` (1 = first): the first reported year is undiscounted."""
    return (1.0 + rate) ** -((week - 1) // 52)


# ---- the ledger over a run, and payback between two scenarios ------------------------------------
def ledger(series: pd.DataFrame, n: int, rate: float = 0.0) -> pd.DataFrame:
    """The yearly ledger: EUR per resident by payer (and ``total``) in each reported year.

    ``series`` is a run's weekly series (columns ``week`` and ``cost_<payer>``), ``n`` its
    residents; ``rate`` discounts year ``y`` by ``(1 + rate) ** -(y - 1)``. A last year with fewer
    than 52 weeks is kept; ``weeks`` says how many it has.
    """
    year = (series["week"].to_numpy() - 1) // 52 + 1
    cols = [f"cost_{k}" for k in PAYERS]
    table = series[cols].groupby(year).sum() / n
    table.columns = list(PAYERS)
    table *= (1.0 + rate) ** -(table.index.to_numpy()[:, None] - 1.0)
    table["total"] = table[list(PAYERS)].sum(axis=1)
    table["weeks"] = pd.Series(year).value_counts().sort_index().to_numpy()
    table.index.name = "year"
    return table


@dataclass(frozen=True)
class Payback:
    """The cumulative difference per payer by year between a scenario and its baseline.

    ``cumulative``: EUR per resident, baseline minus scenario summed (and discounted) to each
    year, by payer and ``total``: positive means the scenario has saved that payer money so far.
    ``investor``: the payer that spends most extra in the first year (``None`` if none does).
    ``years``: per payer (and ``total``) the first year from which its cumulative saving is
    never negative again: when the investment has paid back to that payer; ``None`` if it
    never does within the run, 0 if it never cost that payer anything.
    ``covers_investor``: per other payer, the first year its cumulative saving is as large as
    the investor's cumulative extra spending (``None`` if never).
    """

    cumulative: pd.DataFrame
    investor: str | None
    years: dict[str, int | None]
    covers_investor: dict[str, int | None]


def payback(scenario: pd.DataFrame, baseline: pd.DataFrame) -> Payback:
    """Payback of ``scenario`` against ``baseline``: two yearly ledgers (:func:`ledger`), the same
    seeds (common random numbers) and horizon; means over replicates may be passed as ledgers."""
    cols = [*PAYERS, "total"]
    cumulative = (baseline[cols] - scenario[cols]).cumsum()
    first = cumulative.iloc[0][list(PAYERS)] if len(cumulative) else pd.Series(dtype=float)
    investor = str(first.idxmin()) if len(first) and first.min() < 0 else None
    years = {k: _break_even(cumulative[k]) for k in cols}
    covers: dict[str, int | None] = {}
    if investor is not None:
        spent = -cumulative[investor]
        for k in PAYERS:
            if k != investor:
                hit = cumulative.index[(cumulative[k] >= spent) & (spent > 0)]
                covers[k] = int(hit[0]) if len(hit) else None
    return Payback(cumulative, investor, years, covers)


def _break_even(cum: pd.Series) -> int | None:
    """First year from which ``cum`` stays >= 0; 0 if it never dips below, None if it ends below."""
    negative = cum.index[cum.to_numpy() < 0]
    if len(negative) == 0:
        return 0
    last = negative[-1]
    later = cum.index[cum.index > last]
    return int(later[0]) if len(later) else None


def mean_ledger(series: pd.DataFrame, n: int, rate: float = 0.0) -> pd.DataFrame:
    """The yearly ledger (:func:`ledger`) averaged over the runs (``run_id``) of ``series``."""
    books = [ledger(run, n, rate) for _, run in series.groupby("run_id")]
    return sum(books[1:], books[0]) / len(books) if books else pd.DataFrame()
