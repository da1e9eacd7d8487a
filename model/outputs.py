"""The output table: every KPI a run reports, declared once (DESIGN section 6).

Each :class:`Output` carries its name, unit, short label, meaning and how it is aggregated. The
weekly series' columns (:data:`SERIES`, one row per reported week) and the one-row summary
(:data:`SUMMARY`) are the two parts of the table; :data:`SERIES_FIELDS` and
:data:`SUMMARY_FIELDS` (name -> (unit, meaning)), the summary itself (:func:`summarise`), the
scenario figures' panels, the browser's summary table, ``docs/outputs.md``
(:func:`outputs_markdown`) and the output tables of ``docs/ODD.md`` (:func:`outputs_odd_markdown`)
are derived from it. The burn-in is never reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model.payers import MUNICIPAL, PAYER_LABELS, PAYERS

if TYPE_CHECKING:
    from model.reporters import Tally


@dataclass(frozen=True)
class Totals:
    """What the summary is aggregated from: the running sums of a run's reported weeks."""

    tally: Tally
    n: int  # residents
    budget_per_resident: float  # EUR per resident per year

    @property
    def weeks(self) -> int:
        return max(self.tally.weeks, 1)

    @property
    def years(self) -> float:
        return self.weeks / 52.0

    @property
    def per_1000(self) -> float:
        return 1000.0 / self.n

    def mean(self, name: str) -> float:
        """Mean of a weekly value over the reported weeks (weeks where it is undefined count as 0)."""
        return self.tally.sums.get(name, 0.0) / self.weeks if name in self.tally.sums else 0.0

    def cost(self, kind: str) -> float:
        """Mean weekly cost of ``kind`` in EUR per resident per year."""
        return self.mean(f"cost_{kind}") * 52.0 / self.n

    def cost_total(self) -> float:
        """Total cost: the sum of the payers' costs (:data:`model.payers.PAYERS` order), exactly."""
        return sum(self.cost(payer) for payer in PAYERS)

    def cost_municipal(self) -> float:
        """What the municipality pays: the sum of its payers' costs."""
        return sum(self.cost(payer) for payer in MUNICIPAL)

    def npv(self, payer: str) -> float:
        """Discounted cost of ``payer`` over the reported weeks, EUR per resident."""
        return self.tally.sums.get(f"npv_{payer}", 0.0) / self.n


@dataclass(frozen=True)
class Aggregation:
    """How a summary value is formed: in words (for the docs) and as a function of the totals."""

    text: str
    value: Callable[[Totals], float]


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def weekly_mean(name: str) -> Aggregation:
    return Aggregation(f"mean of weekly `{name}`", lambda t: t.mean(name))


def weekly_mean_per_1000(name: str) -> Aggregation:
    return Aggregation(f"mean of weekly `{name}` per 1,000 residents", lambda t: t.mean(name) * t.per_1000)


def count_per_1000_year(count: str) -> Aggregation:
    return Aggregation(
        f"`{count}` over the reported weeks, per 1,000 residents per year",
        lambda t: getattr(t.tally, count) * t.per_1000 / t.years,
    )


def count_per_year(count: str) -> Aggregation:
    return Aggregation(
        f"`{count}` over the reported weeks, per year", lambda t: getattr(t.tally, count) / t.years
    )


def ratio(num: str, den: str) -> Aggregation:
    return Aggregation(
        f"`{num}` / `{den}` over the reported weeks (0 without any)",
        lambda t: _ratio(getattr(t.tally, num), getattr(t.tally, den)),
    )


def youth_ratio(num: int, den: int, text: str) -> Aggregation:
    """A ratio of the yearly youth counts (under-23s, any support, youth care users, team only)."""

    def value(t: Totals) -> float:
        sums = [sum(year[i] for year in t.tally.youth_years) for i in range(4)]
        return _ratio(sums[num], sums[den])

    return Aggregation(text + ", over the reported calendar years", value)


def care_per_1000_year(count: str) -> Aggregation:
    """A count of the care tracker (``Tally.care``) per 1,000 residents per year."""
    return Aggregation(
        f"`{count}` over the reported weeks, per 1,000 residents per year",
        lambda t: t.tally.care[count] * t.per_1000 / t.years,
    )


def care_stock_per_1000(count: str) -> Aggregation:
    """A weekly stock of the care tracker, averaged over the reported weeks, per 1,000 residents."""
    return Aggregation(
        f"mean of the weekly `{count}` per 1,000 residents",
        lambda t: t.tally.care[count] / t.weeks * t.per_1000,
    )


def care_ratio(num: str, den: str, offset: str | None = None) -> Aggregation:
    """A ratio of two care-tracker counts (less ``offset`` / ``den``), 0 without any."""
    text = f"(`{num}` - `{offset}`) / `{den}`" if offset else f"`{num}` / `{den}`"

    def value(t: Totals) -> float:
        care = t.tally.care
        if not care[den]:
            return 0.0
        return _ratio(care[num] - (care[offset] if offset else 0.0), care[den])

    return Aggregation(text + " over the reported weeks (0 without any)", value)


#: The income groups as fields and labels name them (the order of ``model.resident.INCOME_GROUPS``).
INCOME_LABELS: dict[str, str] = {
    "low": "low income (lowest quintile)",
    "middle": "middle income (quintiles 2-4)",
    "high": "high income (highest quintile)",
}


def group_per_1000_year(count: str, k: int) -> Aggregation:
    """A count of ``Tally.groups`` for income group ``k``, per 1,000 of its residents per year."""
    return Aggregation(
        f"`{count}` of the group over the reported weeks, per 1,000 of its residents per year",
        lambda t: _ratio(t.tally.groups[count][k] * 1000.0, t.tally.group_sizes[k]) / t.years,
    )


def group_weekly_mean(count: str, k: int, per: float) -> Aggregation:
    """A weekly sum of ``Tally.groups`` for group ``k``, averaged over the reported weeks, per
    ``per`` of its residents (1: a mean per resident)."""
    text = "per resident" if per == 1.0 else f"per {per:,.0f} of its residents"
    return Aggregation(
        f"mean of the group's weekly `{count}` {text}",
        lambda t: _ratio(t.tally.groups[count][k] * per, t.tally.group_sizes[k]) / t.weeks,
    )


def group_ratio(num: str, den: str, k: int) -> Aggregation:
    """``Tally.groups[num] / Tally.groups[den]`` for group ``k`` (0 without any)."""
    return Aggregation(
        f"`{num}` / `{den}` of the group (0 without any)",
        lambda t: _ratio(t.tally.groups[num][k], t.tally.groups[den][k]),
    )


def _unmet_by_group(t: Totals) -> list[float]:
    """Unmet need per resident of each income group (lowest income first)."""
    return [_ratio(u, n) for u, n in zip(t.tally.groups["unmet"], t.tally.group_sizes, strict=True)]


def concentration_index(mean: list[float], share: list[float]) -> float:
    """The concentration index of a quantity over groups ordered from the lowest income up.

    ``CI = sum_k f_k (mu_k / mu) (2 R_k - 1)``, with ``f_k`` the group's share of residents,
    ``mu_k`` its mean, ``mu`` the population mean and ``R_k`` the group's mid-rank (the share of
    residents in lower groups plus half its own): twice the covariance of the quantity with the
    residents' fractional income rank over its mean, residents of one group sharing their mid-rank.
    It lies in [-1, 1]; below 0 the quantity lies with the lower incomes. 0 when the mean is 0.
    """
    total = sum(share)
    f = [s / total for s in share]
    mu = sum(fk * mk for fk, mk in zip(f, mean, strict=True))
    if not mu:
        return 0.0
    below, ci = 0.0, 0.0
    for fk, mk in zip(f, mean, strict=True):
        ci += fk * (mk / mu) * (2.0 * (below + fk / 2.0) - 1.0)
        below += fk
    return ci


def neighbour_share() -> Aggregation:
    return Aggregation(
        "severity removed by neighbours / by own strength, neighbours and support",
        lambda t: _ratio(t.tally.removed["neighbours"], sum(t.tally.removed.values())),
    )


def cost(kind: str) -> Aggregation:
    return Aggregation(f"mean of weekly `cost_{kind}` x 52 / residents", lambda t: t.cost(kind))


@dataclass(frozen=True)
class Output:
    """One reported value: weekly (a series column) or one per run (a summary field)."""

    name: str
    unit: str
    label: str
    meaning: str
    aggregation: Aggregation | None = None  # summary fields only
    percent: bool = False  # a share, shown in per cent in figures and tables
    panel: bool = False  # a panel of the scenario comparison figure (``experiments.plots``)
    #: Which direction is better for residents or the municipality ("lower", "higher"), or
    #: ``None`` for a value that describes the system without being good or bad in itself
    #: (a process measure, a composition, a count that rises with both need and help). Used to
    #: count the plausible worlds in which a scenario is better (``experiments.ensemble``).
    better: str | None = None

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher", None):
            raise ValueError(
                f"Output {self.name}: better = {self.better!r}; allowed: 'lower', 'higher', None"
            )


_PER_1000 = "per 1,000 residents"
_ZRM = "ZRM level 1-5"
#: The model's domains as labels show them (the order of ``model.resident.DOMAINS``).
DOMAIN_LABELS: dict[str, str] = {
    "youth_family": "youth & family",
    "care_support": "care & support (Wmo)",
    "income_work": "income & work",
    "mental_health": "mental health (GGZ)",
}
_PER_1000_YEAR = "per 1,000 residents per year"
_EUR = "EUR per resident per year"
_EUR_WEEK = "EUR per week"

#: The weekly series, in column order. Each is recorded as it is at the end of the week.
SERIES: tuple[Output, ...] = (
    Output("week", "week", "Week", "Week since the start of the reported period (1 = first reported week)."),
    Output("requests", "residents", "Requests", "New help requests this week (asked or signalled)."),
    Output(
        "signalled", "residents", "Signalled", "Of which noticed early by outreach, presence or neighbours."
    ),
    Output("intakes", "residents", "Intakes", "New cases taken on by the team (or desk) this week."),
    Output(
        "caught_early_share",
        "share of intakes",
        "Caught early",
        "Share of this week's intakes below the heavy threshold; NaN (undefined) in a week without intakes.",
        percent=True,
    ),
    Output(
        "maatwerk_starts",
        "residents",
        "Admissions to maatwerk",
        "New maatwerk clients this week (admissions, limited by the providers' places).",
    ),
    Output(
        "referrals",
        "residents",
        "Referrals to maatwerk",
        "Residents referred to maatwerk this week (decided need: an indication granted, a mandated"
        " decision or a crisis sent on), whether or not a place is free.",
    ),
    Output(
        "waiting", "residents", "Waiting list", "Residents on a waiting list (team, indication or provider)."
    ),
    Output(
        "maatwerk_waiting",
        "residents",
        "Waiting for a maatwerk place",
        "Residents referred to maatwerk and waiting for a provider's place.",
    ),
    Output("team_cases", "residents", "Team cases", "Open team support cases."),
    Output(
        "caseload_per_fte",
        "cases per FTE",
        "Caseload",
        "Residents assigned to a worker (team support or awaiting indication) per FTE.",
    ),
    Output(
        "collective_time_share",
        "share of direct hours",
        "Collective share of worker time",
        "Worker time spent collectively.",
        percent=True,
    ),
    Output(
        "overloaded_share",
        "share of workers",
        "Overloaded workers",
        "Workers whose individual demand exceeds capacity.",
    ),
    Output("initiatives", "initiatives", "Initiatives running", "Running collective initiatives."),
    Output("participants", "residents", "Participants", "Participants in collective initiatives."),
    Output("volunteers", "residents", "Volunteers", "Volunteers in collective initiatives."),
    Output("maatwerk_clients", "residents", "Maatwerk clients", "Residents receiving maatwerk."),
    Output("self_reliance_mean", "0-1", "Self-reliance", "Mean self-reliance of all residents."),
    Output("severity_mean", "0-1", "Severity", "Mean worst-domain severity of all residents."),
    Output(
        "hidden_need",
        "residents",
        "Hidden heavy need",
        "Residents with heavy need (above the heavy threshold) and no support.",
    ),
    Output(
        "cost_team",
        _EUR_WEEK,
        "Cost: team",
        "Cost of the team's workers (pre-2015: the welfare workers) and the indication desk.",
    ),
    Output("cost_maatwerk", _EUR_WEEK, "Cost: maatwerk", "Cost of maatwerk."),
    Output("cost_collective", _EUR_WEEK, "Cost: collective", "Cost of collective provisions."),
    # ---- costs by domain and payer (issue 17, model/payers.py) ---------------------------------
    *(
        Output(
            f"cost_maatwerk_{d}",
            _EUR_WEEK,
            f"Cost: maatwerk, {label}",
            f"Cost of the maatwerk that serves {label}, at the unit cost of each client's kind of support.",
        )
        for d, label in DOMAIN_LABELS.items()
    ),
    *(
        Output(
            f"cost_{k}",
            _EUR_WEEK,
            f"Cost: {label}",
            f"Cost paid by {label} (model/payers.py); the payers sum to the total cost.",
        )
        for k, label in PAYER_LABELS.items()
    ),
)

#: The one-row summary of a run, in field order.
SUMMARY: tuple[Output, ...] = (
    Output(
        "cases_per_1000_year",
        _PER_1000_YEAR,
        "Help requests",
        "New help requests (asked or signalled).",
        count_per_1000_year("requests"),
    ),
    Output(
        "signalled_share",
        "share of requests",
        "Signalled early",
        "Requests that came from early signalling.",
        ratio("signalled", "requests"),
        percent=True,
        better="higher",
    ),
    Output(
        "caught_early_share",
        "share of intakes",
        "Prevention: cases caught early",
        "Prevention: intakes below the heavy threshold (0 if there were no intakes).",
        ratio("intakes_early", "intakes"),
        percent=True,
        panel=True,
        better="higher",
    ),
    Output(
        "escalations_per_1000_year",
        _PER_1000_YEAR,
        "Admissions to maatwerk",
        "New maatwerk clients (admissions), limited by the providers' places. The name is kept for"
        " continuity; decided need is `referrals_per_1000_year`.",
        count_per_1000_year("maatwerk_starts"),
        panel=True,
        better="lower",
    ),
    Output(
        "referrals_per_1000_year",
        _PER_1000_YEAR,
        "Referrals to maatwerk",
        "Decided need for maatwerk: indications granted by the desk, maatwerk decided by a mandated"
        " worker and crises sent on under mandate or escalation agreements, whether or not a place"
        " is free.",
        care_per_1000_year("referrals"),
        panel=True,
        better="lower",
    ),
    Output(
        "maatwerk_waiting_per_1000",
        _PER_1000,
        "Waiting for maatwerk",
        "Mean residents referred to maatwerk and waiting for a provider's place.",
        care_stock_per_1000("maatwerk_waiting"),
        panel=True,
        better="lower",
    ),
    Output(
        "maatwerk_wait_weeks_mean",
        "weeks",
        "Wait for a maatwerk place",
        "Mean weeks from referral to admission, over the referred residents admitted.",
        care_ratio("maatwerk_wait_weeks", "admitted"),
        panel=True,
        better="lower",
    ),
    Output(
        "intake_severity_mean",
        "severity 0-1",
        "Severity at intake",
        "Mean worst-domain severity at intake.",
        ratio("intake_severity", "intakes"),
        better="lower",
    ),
    Output(
        "self_reliance_mean",
        "0-1",
        "Self-reliance",
        "Mean self-reliance over residents and weeks.",
        weekly_mean("self_reliance_mean"),
        panel=True,
        better="higher",
    ),
    Output(
        "problems_resolved_per_1000_year",
        _PER_1000_YEAR,
        "Problems resolved",
        "Residents' problems that ended (no severity left in any domain): the problems the ZRM"
        " levels below describe.",
        care_per_1000_year("problems_closed"),
    ),
    Output(
        "zrm_start_mean",
        _ZRM,
        "ZRM at problem start",
        "Mean ZRM level (worst domain) in the first week of the problems resolved in the period.",
        care_ratio("zrm_start", "problems_closed"),
        panel=True,
    ),
    Output(
        "zrm_low_mean",
        _ZRM,
        "ZRM low point",
        "Mean lowest ZRM level (worst domain) during the problems resolved in the period.",
        care_ratio("zrm_low", "problems_closed"),
    ),
    Output(
        "zrm_close_mean",
        _ZRM,
        "ZRM at close",
        "Mean ZRM level when the problems resolved in the period ended: with no severity left, the"
        " level reflects self-reliance alone (at the default weight 5 from self-reliance 0.75, 4"
        " from 0.25, else 3).",
        care_ratio("zrm_close", "problems_closed"),
        panel=True,
        better="higher",
    ),
    Output(
        "zrm_change_mean",
        "ZRM levels",
        "ZRM change",
        "Mean change in ZRM level from problem start to close, over the problems resolved in the period.",
        care_ratio("zrm_close", "problems_closed", offset="zrm_start"),
        panel=True,
        better="higher",
    ),
    Output(
        "problem_self_reliance_gain_mean",
        "self-reliance (0-1)",
        "Self-reliance gained in a problem",
        "Mean change in self-reliance from the start to the close of the problems resolved in the"
        " period (M8: own strength's share of solving, collective settings, long dependence).",
        care_ratio("sr_gain", "problems_closed"),
        panel=True,
        better="higher",
    ),
    Output(
        "resolved_own_share",
        "share of problems resolved",
        "Resolved by own strength or network",
        "Problems resolved in the period without team support or maatwerk (by own strength,"
        " neighbours, or a collective group).",
        care_ratio("closed_own", "problems_closed"),
        percent=True,
        panel=True,
        better="higher",
    ),
    Output(
        "neighbour_share_of_need",
        "share",
        "Need met by neighbours",
        "Share of all severity reduction done by neighbours.",
        neighbour_share(),
    ),
    Output(
        "waiting_per_1000",
        _PER_1000,
        "Waiting list",
        "Mean residents on a waiting list.",
        weekly_mean_per_1000("waiting"),
        better="lower",
    ),
    Output(
        "wait_weeks_mean",
        "weeks",
        "Wait for support",
        "Mean time from request to the start of support.",
        ratio("wait_weeks", "supports_started"),
        panel=True,
        better="lower",
    ),
    Output(
        "caseload_per_fte",
        "cases per FTE",
        "Caseload",
        "Mean residents assigned to a worker, per FTE.",
        weekly_mean("caseload_per_fte"),
    ),
    Output(
        "collective_time_share",
        "share of direct hours",
        "Collective work",
        "Share of worker time spent collectively.",
        weekly_mean("collective_time_share"),
        percent=True,
        panel=True,
    ),
    Output(
        "overloaded_worker_share",
        "share of workers",
        "Overloaded workers",
        "Mean share of overloaded workers.",
        weekly_mean("overloaded_share"),
        percent=True,
        better="lower",
    ),
    Output(
        "initiatives_active",
        "initiatives",
        "Initiatives running",
        "Mean running collective initiatives.",
        weekly_mean("initiatives"),
    ),
    Output(
        "initiatives_started_per_year",
        "per year",
        "Initiatives started",
        "Collective initiatives started.",
        count_per_year("initiatives_started"),
    ),
    Output(
        "participants_per_1000",
        _PER_1000,
        "Collective initiatives",
        "Mean participants in initiatives.",
        weekly_mean_per_1000("participants"),
    ),
    Output(
        "volunteers_per_1000",
        _PER_1000,
        "Volunteers",
        "Mean volunteers in initiatives.",
        weekly_mean_per_1000("volunteers"),
    ),
    Output(
        "maatwerk_clients_per_1000",
        _PER_1000,
        "Residents in maatwerk",
        "Mean maatwerk clients, all domains.",
        weekly_mean_per_1000("maatwerk_clients"),
        panel=True,
    ),
    Output(
        "wmo_maatwerk_per_1000",
        _PER_1000,
        "Wmo maatwerk",
        "Mean maatwerk clients, care & support (Wmo).",
        weekly_mean_per_1000("wmo_maatwerk"),
    ),
    *(
        Output(
            f"maatwerk_{d}_per_1000",
            _PER_1000,
            f"Maatwerk: {label}",
            f"Mean maatwerk clients whose maatwerk serves {label}"
            + (" (equals `wmo_maatwerk_per_1000`)." if d == "care_support" else "."),
            care_stock_per_1000(f"maatwerk_{d}"),
        )
        for d, label in DOMAIN_LABELS.items()
    ),
    *(
        Output(
            f"maatwerk_weeks_{d}_mean",
            "weeks",
            f"Time in maatwerk: {label}",
            f"Mean length of the maatwerk spells for {label} that ended in the reported period"
            " (admission, or the start of the run, to step-down or conversion to a group); spells"
            " still running are not counted, so long, chronic spells weigh less than in the stock.",
            care_ratio(f"spell_weeks_{d}", f"spells_{d}"),
        )
        for d, label in DOMAIN_LABELS.items()
    ),
    Output(
        "youth_support_share",
        "share of under-23s",
        "Youth with support",
        "Under-23s receiving any support in a year: team, collective or maatwerk.",
        youth_ratio(1, 0, "under-23s with any support / under-23s"),
    ),
    Output(
        "youth_care_share",
        "share of under-23s",
        "Youth care",
        "Under-23s with registered youth care in a year: maatwerk, or team support registered"
        " as a youth-care trajectory (heavy, or lasting youth_registration_weeks).",
        youth_ratio(2, 0, "youth care users / under-23s"),
    ),
    Output(
        "youth_care_team_share",
        "share of youth care users",
        "Youth care by the team",
        "Of these, helped by the team itself (registered team support, no maatwerk that year).",
        youth_ratio(3, 2, "users with team care only / youth care users"),
    ),
    Output(
        "hidden_need_per_1000",
        _PER_1000,
        "Hidden heavy need",
        "Mean residents with heavy need and no support.",
        weekly_mean_per_1000("hidden_need"),
        panel=True,
        better="lower",
    ),
    Output(
        "unmet_need_per_1000_year",
        "severity-weeks per 1,000 residents per year",
        "Unmet need",
        "Severity of residents above the signal floor without support, summed over weeks.",
        count_per_1000_year("unmet"),
        panel=True,
        better="lower",
    ),
    # ---- by income group (issue 17) ----
    *(
        Output(
            f"{kpi}_{g}",
            unit,
            f"{label}: {g} income",
            f"{meaning} Residents of the {INCOME_LABELS[g]} group.",
            aggregate(k),
            percent=unit.startswith("share of"),
        )
        for kpi, unit, label, meaning, aggregate in (
            (
                "unmet_need_per_1000_year",
                "severity-weeks per 1,000 residents per year",
                "Unmet need",
                "Severity of residents above the signal floor without support, summed over weeks.",
                lambda k: group_per_1000_year("unmet", k),
            ),
            (
                "hidden_need_per_1000",
                _PER_1000,
                "Hidden heavy need",
                "Mean residents with heavy need and no support.",
                lambda k: group_weekly_mean("hidden_need", k, 1000.0),
            ),
            (
                "self_reliance_mean",
                "0-1",
                "Self-reliance",
                "Mean self-reliance over residents and weeks.",
                lambda k: group_weekly_mean("self_reliance", k, 1.0),
            ),
            (
                "requests_per_1000_year",
                _PER_1000_YEAR,
                "Help requests",
                "Inflow: new help requests (asked or signalled).",
                lambda k: group_per_1000_year("requests", k),
            ),
            (
                "referrals_per_1000_year",
                _PER_1000_YEAR,
                "Referrals to maatwerk",
                "Decided need for maatwerk (as `referrals_per_1000_year`).",
                lambda k: group_per_1000_year("referrals", k),
            ),
            (
                "admissions_per_1000_year",
                _PER_1000_YEAR,
                "Admissions to maatwerk",
                "Referred residents admitted by a provider (escalations; as `escalations_per_1000_year`).",
                lambda k: group_per_1000_year("admitted", k),
            ),
            (
                "youth_care_share",
                "share of under-23s",
                "Youth care",
                "Under-23s with registered youth care in a year (as `youth_care_share`).",
                lambda k: group_ratio("youth_care", "youth", k),
            ),
        )
        for k, g in enumerate(INCOME_LABELS)
    ),
    Output(
        "unmet_need_ratio_low_high",
        "ratio",
        "Unmet need: low / high income",
        "Unmet need per resident of the low income group over that of the high group (0 if the"
        " high group has none).",
        Aggregation(
            "`unmet_need_per_1000_year_low` / `unmet_need_per_1000_year_high`",
            lambda t: _ratio(_unmet_by_group(t)[0], _unmet_by_group(t)[-1]),
        ),
    ),
    Output(
        "unmet_need_concentration_index",
        "-1 to 1",
        "Unmet need: concentration index",
        "Concentration index of unmet need by income (residents ranked from the lowest income up,"
        " a group's residents at its mid-rank): below 0, unmet need lies with the lower incomes;"
        " 0, spread evenly.",
        Aggregation(
            "sum over groups of share x (group mean / mean) x (2 x mid-rank - 1)",
            lambda t: concentration_index(_unmet_by_group(t), list(t.tally.group_sizes)),
        ),
    ),
    Output(
        "cost_team_per_resident_year",
        _EUR,
        "Cost: team",
        "Workers' cost (team, or pre-2015 welfare workers) and the indication desk.",
        cost("team"),
    ),
    Output("cost_maatwerk_per_resident_year", _EUR, "Cost: maatwerk", "Maatwerk cost.", cost("maatwerk")),
    Output(
        "cost_collective_per_resident_year",
        _EUR,
        "Cost: collective",
        "Collective provisions.",
        cost("collective"),
    ),
    Output(
        "cost_total_per_resident_year",
        _EUR,
        "Total cost",
        "Total cost, all payers (team, maatwerk and collective).",
        Aggregation("sum of the payers' costs (which equals the sum of the three costs)", Totals.cost_total),
        panel=True,
        better="lower",
    ),
    Output(
        "budget_balance_per_resident_year",
        _EUR,
        "Budget balance",
        "The municipality's budget minus what the municipality pays (health insurers' and Wlz costs"
        " are outside its budget).",
        Aggregation(
            "budget_per_resident - `cost_municipality_per_resident_year`",
            lambda t: t.budget_per_resident - t.cost_municipal(),
        ),
        better="higher",
    ),
    # ---- costs by domain and payer (issue 17, model/payers.py) ---------------------------------
    *(
        Output(
            f"cost_maatwerk_{d}_per_resident_year",
            _EUR,
            f"Cost: maatwerk, {label}",
            f"Maatwerk cost for {label}; the four domains sum to the maatwerk cost.",
            cost(f"maatwerk_{d}"),
        )
        for d, label in DOMAIN_LABELS.items()
    ),
    *(
        Output(
            f"cost_{k}_per_resident_year",
            _EUR,
            f"Cost: {label}",
            f"Cost paid by {label}; the six payers sum exactly to `cost_total_per_resident_year`.",
            cost(k),
        )
        for k, label in PAYER_LABELS.items()
    ),
    Output(
        "cost_municipality_per_resident_year",
        _EUR,
        "Cost: municipality",
        "What the municipality pays: Wmo, Jeugdwet, Participatiewet and welfare and team.",
        Aggregation("sum of the four municipal payers' costs", Totals.cost_municipal),
    ),
    *(
        Output(
            f"npv_{k}_per_resident",
            "EUR per resident",
            f"NPV: {label}",
            f"Net present value of the cost paid by {label} over the reported weeks, at"
            " `discount_rate` (the first reported year undiscounted).",
            Aggregation(f"sum of weekly `cost_{k}` x discount factor / residents", lambda t, k=k: t.npv(k)),
        )
        for k, label in PAYER_LABELS.items()
    ),
    Output(
        "npv_total_per_resident",
        "EUR per resident",
        "NPV: total",
        "Net present value of the total cost over the reported weeks (the sum of the payers' NPVs).",
        Aggregation("sum of the payers' NPVs", lambda t: sum(t.npv(k) for k in PAYERS)),
    ),
    Output(
        "reported_weeks",
        "weeks",
        "Reported weeks",
        "Weeks reported (after the burn-in).",
        Aggregation("weeks reported", lambda t: float(t.tally.weeks)),
    ),
)

#: The summary fields by name.
OUTPUTS: dict[str, Output] = {o.name: o for o in SUMMARY}
#: Summary fields shown in per cent.
PERCENT: frozenset[str] = frozenset(o.name for o in SUMMARY if o.percent)
SERIES_FIELDS: dict[str, tuple[str, str]] = {o.name: (o.unit, o.meaning) for o in SERIES}
SUMMARY_FIELDS: dict[str, tuple[str, str]] = {o.name: (o.unit, o.meaning) for o in SUMMARY}


def summarise(tally: Tally, n: int, budget_per_resident: float) -> dict[str, float]:
    """The one-row summary (see :data:`SUMMARY`) of the reported weeks, for ``n`` residents."""
    totals = Totals(tally, n, budget_per_resident)
    return {o.name: float(o.aggregation.value(totals)) for o in SUMMARY}


def display_unit(name: str) -> str:
    """A summary field's unit as figures and tables show it: shares in per cent."""
    o = OUTPUTS[name]
    return o.unit.replace("share of ", "% of ") if o.percent and o.unit.startswith("share of") else o.unit


def outputs_markdown() -> str:
    """``docs/outputs.md``: the output table, summary fields then weekly series."""
    lines = [
        "# Outputs",
        "",
        "Generated from the output table in `model/outputs.py` by `python -m model --write-docs`.",
        "",
        "| summary field | label | unit | meaning | aggregation |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{o.name}` | {o.label} | {o.unit} | {o.meaning} | {o.aggregation.text} |" for o in SUMMARY]
    lines += ["", "| weekly series | label | unit | meaning |", "|---|---|---|---|"]
    lines += [f"| `{o.name}` | {o.label} | {o.unit} | {o.meaning} |" for o in SERIES]
    return "\n".join(lines) + "\n"


def outputs_odd_markdown() -> str:
    """The compact output tables of ``docs/ODD.md``: summary fields, then the weekly series."""
    lines = [
        "Every output of the output table (`model/outputs.py`; how each summary field is aggregated is"
        " in `docs/outputs.md`).",
        "",
        f"**summary** (one row per run, {len(SUMMARY)} fields)",
        "",
        "| name | unit | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{o.name}` | {o.unit} | {o.meaning} |" for o in SUMMARY]
    lines += [
        "",
        f"**weekly series** ({len(SERIES)} columns)",
        "",
        "| name | unit | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{o.name}` | {o.unit} | {o.meaning} |" for o in SERIES]
    return "\n".join(lines)
