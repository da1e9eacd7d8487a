"""What a run reports (DESIGN section 6): weekly series and a one-row summary.

:data:`SERIES_FIELDS` are the columns of the weekly series (one row per reported week, kept
in a NumPy buffer that reads like a Mesa ``DataCollector``, see :mod:`model.series`);
:data:`SUMMARY_FIELDS` are the keys of the flat one-row summary. Both map a name to
``(unit, meaning)``. The burn-in is never reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.compiled import jit, pairwise_sum
from model.resident import CARE_SUPPORT, COLLECTIVE, MAATWERK, NONE, TEAM, VOLUNTEER, WAITING, YOUTH

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel

SERIES_FIELDS: dict[str, tuple[str, str]] = {
    "week": ("week", "Week since the start of the reported period (1 = first reported week)."),
    "requests": ("residents", "New help requests this week (asked or signalled)."),
    "signalled": ("residents", "Of which noticed early by outreach, presence or neighbours."),
    "intakes": ("residents", "New cases taken on by the team (or desk) this week."),
    "caught_early_share": ("share", "Share of this week's intakes below the heavy threshold."),
    "maatwerk_starts": ("residents", "New maatwerk clients this week (escalations)."),
    "waiting": ("residents", "Residents on a waiting list (team, indication or provider)."),
    "team_cases": ("residents", "Open team support cases."),
    "caseload_per_fte": (
        "cases per FTE",
        "Residents assigned to a worker (team support or awaiting indication) per FTE.",
    ),
    "collective_time_share": ("share of direct hours", "Worker time spent collectively."),
    "overloaded_share": ("share of workers", "Workers whose individual demand exceeds capacity."),
    "initiatives": ("initiatives", "Running collective initiatives."),
    "participants": ("residents", "Participants in collective initiatives."),
    "volunteers": ("residents", "Volunteers in collective initiatives."),
    "maatwerk_clients": ("residents", "Residents receiving maatwerk."),
    "self_reliance_mean": ("0-1", "Mean self-reliance of all residents."),
    "severity_mean": ("0-1", "Mean worst-domain severity of all residents."),
    "hidden_need": ("residents", "Residents with heavy need (above the heavy threshold) and no support."),
    "cost_team": ("EUR per week", "Cost of the team (or the pre-2015 desk)."),
    "cost_maatwerk": ("EUR per week", "Cost of maatwerk."),
    "cost_collective": ("EUR per week", "Cost of collective provisions."),
}

SUMMARY_FIELDS: dict[str, tuple[str, str]] = {
    "cases_per_1000_year": ("per 1,000 residents per year", "New help requests (asked or signalled)."),
    "signalled_share": ("share of requests", "Requests that came from early signalling."),
    "caught_early_share": ("share of intakes", "Prevention: intakes below the heavy threshold."),
    "escalations_per_1000_year": ("per 1,000 residents per year", "New maatwerk clients."),
    "intake_severity_mean": ("severity 0-1", "Mean worst-domain severity at intake."),
    "self_reliance_mean": ("0-1", "Mean self-reliance over residents and weeks."),
    "neighbour_share_of_need": ("share", "Share of all severity reduction done by neighbours."),
    "waiting_per_1000": ("per 1,000 residents", "Mean residents on a waiting list."),
    "wait_weeks_mean": ("weeks", "Mean time from request to the start of support."),
    "caseload_per_fte": ("cases per FTE", "Mean residents assigned to a worker, per FTE."),
    "collective_time_share": ("share of direct hours", "Share of worker time spent collectively."),
    "overloaded_worker_share": ("share of workers", "Mean share of overloaded workers."),
    "initiatives_active": ("initiatives", "Mean running collective initiatives."),
    "initiatives_started_per_year": ("per year", "Collective initiatives started."),
    "participants_per_1000": ("per 1,000 residents", "Mean participants in initiatives."),
    "volunteers_per_1000": ("per 1,000 residents", "Mean volunteers in initiatives."),
    "maatwerk_clients_per_1000": ("per 1,000 residents", "Mean maatwerk clients, all domains."),
    "wmo_maatwerk_per_1000": ("per 1,000 residents", "Mean maatwerk clients, care & support (Wmo)."),
    "youth_support_share": (
        "share of under-23s",
        "Under-23s receiving any support in a year: team, collective or maatwerk.",
    ),
    "youth_care_share": (
        "share of under-23s",
        "Under-23s with registered youth care in a year: maatwerk, or team support registered"
        " as a youth-care trajectory (heavy, or lasting youth_registration_weeks).",
    ),
    "youth_care_team_share": (
        "share of youth care users",
        "Of these, helped by the team itself (registered team support, no maatwerk that year).",
    ),
    "hidden_need_per_1000": ("per 1,000 residents", "Mean residents with heavy need and no support."),
    "unmet_need_per_1000_year": (
        "severity-weeks per 1,000 residents per year",
        "Severity of residents above the signal floor without support, summed over weeks.",
    ),
    "cost_team_per_resident_year": ("EUR per resident per year", "Team (or desk) cost."),
    "cost_maatwerk_per_resident_year": ("EUR per resident per year", "Maatwerk cost."),
    "cost_collective_per_resident_year": ("EUR per resident per year", "Collective provisions."),
    "cost_total_per_resident_year": ("EUR per resident per year", "Total cost."),
    "budget_balance_per_resident_year": ("EUR per resident per year", "Budget minus total cost."),
    "reported_weeks": ("weeks", "Weeks reported (after the burn-in)."),
}


@dataclass
class Tally:
    """Running sums over the reported weeks, from which :meth:`summary` is computed."""

    weeks: int = 0
    requests: int = 0
    signalled: int = 0
    intakes: int = 0
    intakes_early: int = 0
    intake_severity: float = 0.0
    maatwerk_starts: int = 0
    supports_started: int = 0
    wait_weeks: float = 0.0
    initiatives_started: int = 0
    volunteers_recruited: int = 0
    removed: dict[str, float] = field(default_factory=lambda: {"own": 0.0, "neighbours": 0.0, "support": 0.0})
    unmet: float = 0.0
    youth_years: list[tuple[int, int, int, int]] = field(default_factory=list)
    sums: dict[str, float] = field(default_factory=dict)
    week_intakes: int = 0  # this week's intakes, and of them caught early
    week_early: int = 0

    def add_intakes(self, n: int, early: int, severity: float) -> None:
        """Add ``n`` intakes, ``early`` of them caught early, of summed worst severity ``severity``."""
        self.intakes += n
        self.intakes_early += early
        self.week_intakes += n
        self.week_early += early
        self.intake_severity += severity

    def add_started(self, started: int, waited: int) -> None:
        """Add supports started (of residents who had asked) and their summed weeks of waiting."""
        if started:
            self.supports_started += started
            self.wait_weeks += float(waited)

    def add_removed(self, removed: dict[str, float]) -> None:
        """Add the severity removed this week by own strength, neighbours and support."""
        for key, value in removed.items():
            self.removed[key] += value

    def add_week(self, values: dict[str, float]) -> None:
        """Add one reported week's series values to the running sums."""
        self.weeks += 1
        for key, value in values.items():
            if value == value:  # skip NaN (e.g. no intakes this week)
                self.sums[key] = self.sums.get(key, 0.0) + value

    def summary(self, n: int, budget_per_resident: float) -> dict[str, float]:
        """The one-row summary (see :data:`SUMMARY_FIELDS`) for ``n`` residents."""
        w = max(self.weeks, 1)
        years = w / 52.0
        per_1000 = 1000.0 / n
        mean = {k: v / w for k, v in self.sums.items()}
        cost = {k: mean.get(f"cost_{k}", 0.0) * 52.0 / n for k in ("team", "maatwerk", "collective")}
        total_cost = sum(cost.values())
        removed_total = sum(self.removed.values())
        youth, any_support, users, team_only = (sum(t[i] for t in self.youth_years) for i in range(4))
        out = {
            "cases_per_1000_year": self.requests * per_1000 / years,
            "signalled_share": _ratio(self.signalled, self.requests),
            "caught_early_share": _ratio(self.intakes_early, self.intakes),
            "escalations_per_1000_year": self.maatwerk_starts * per_1000 / years,
            "intake_severity_mean": _ratio(self.intake_severity, self.intakes),
            "self_reliance_mean": mean.get("self_reliance_mean", 0.0),
            "neighbour_share_of_need": _ratio(self.removed["neighbours"], removed_total),
            "waiting_per_1000": mean.get("waiting", 0.0) * per_1000,
            "wait_weeks_mean": _ratio(self.wait_weeks, self.supports_started),
            "caseload_per_fte": mean.get("caseload_per_fte", 0.0),
            "collective_time_share": mean.get("collective_time_share", 0.0),
            "overloaded_worker_share": mean.get("overloaded_share", 0.0),
            "initiatives_active": mean.get("initiatives", 0.0),
            "initiatives_started_per_year": self.initiatives_started / years,
            "participants_per_1000": mean.get("participants", 0.0) * per_1000,
            "volunteers_per_1000": mean.get("volunteers", 0.0) * per_1000,
            "maatwerk_clients_per_1000": mean.get("maatwerk_clients", 0.0) * per_1000,
            "wmo_maatwerk_per_1000": mean.get("wmo_maatwerk", 0.0) * per_1000,
            "youth_support_share": _ratio(any_support, youth),
            "youth_care_share": _ratio(users, youth),
            "youth_care_team_share": _ratio(team_only, users),
            "hidden_need_per_1000": mean.get("hidden_need", 0.0) * per_1000,
            "unmet_need_per_1000_year": self.unmet * per_1000 / years,
            "cost_team_per_resident_year": cost["team"],
            "cost_maatwerk_per_resident_year": cost["maatwerk"],
            "cost_collective_per_resident_year": cost["collective"],
            "cost_total_per_resident_year": total_cost,
            "budget_balance_per_resident_year": budget_per_resident - total_cost,
            "reported_weeks": float(self.weeks),
        }
        return {k: float(v) for k, v in out.items()}


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


# ---- observing a week ---------------------------------------------------------------------------
def count_intakes(model: NeighbourhoodModel, idx: np.ndarray) -> None:
    """Record the intake of residents ``idx``: their worst severity, and whether caught early."""
    if model.reporting and idx.size:
        s = model.pop.smax[idx]
        early = int(np.count_nonzero(s < model.p.heavy_threshold))
        model.tally.add_intakes(int(idx.size), early, float(s.sum()))


class YouthYear:
    """Which under-23s had support this year, for the yearly youth-care KPIs.

    Registered youth care (jeugdhulp, as the CBS Jeugdmonitor counts it) is maatwerk, or team
    support the municipality registers as a youth-care trajectory: heavy team support, or team
    support that has lasted ``youth_registration_weeks``. Light, short team support and collective
    arrangements are general provisions and are not registered; they count only in
    ``youth_support_share``.
    """

    def __init__(self, youth: np.ndarray) -> None:
        self.youth = youth  # the under-23s, in index order
        self.any = np.zeros(youth.size, bool)  # any support this year
        self.maatwerk = np.zeros(youth.size, bool)  # maatwerk this year
        self.team_registered = np.zeros(youth.size, bool)  # registered team youth care

    def track(self, model: NeighbourhoodModel) -> None:
        """Mark the under-23s supported this week."""
        pop = model.pop
        _track_youth(
            self.youth,
            pop.status,
            pop.heavy,
            pop.start_week,
            model.week,
            model.p.youth_registration_weeks,
            self.any,
            self.maatwerk,
            self.team_registered,
        )

    def close(self, tally: Tally | None) -> None:
        """End the year: add its counts to ``tally`` (None: not reported) and start afresh."""
        if tally is not None:
            registered = self.maatwerk | self.team_registered
            counts = (
                self.maatwerk.size,
                self.any.sum(),
                registered.sum(),
                (registered & ~self.maatwerk).sum(),
            )
            tally.youth_years.append(tuple(int(c) for c in counts))
        self.any[:] = False
        self.maatwerk[:] = False
        self.team_registered[:] = False


@jit
def _track_youth(youth, status, heavy, start_week, week, registration_weeks, any_, maatwerk, registered):
    for j in range(youth.size):
        i = youth[j]
        st = status[i]
        if st == TEAM or st == MAATWERK or st == COLLECTIVE:
            any_[j] = True
        if st == MAATWERK:
            maatwerk[j] = True
        elif st == TEAM and (heavy[i] or week - start_week[i] >= registration_weeks):
            registered[j] = True


def youth_year(model: NeighbourhoodModel) -> YouthYear:
    """A fresh youth-care year for the model's under-23s."""
    return YouthYear(model.pop.members[YOUTH])


@jit
def week_counts(status, smax, sr, worker, primary, heavy_threshold, signal_floor):
    """What a reported week counts over residents: residents per status, then residents assigned to
    a worker, hidden heavy need and Wmo maatwerk clients; and the sums of unmet need above the
    signal floor, of self-reliance and of worst severity."""
    counts = np.zeros(9, np.int64)
    needy = np.empty(status.size)  # severity of the unmet needs above the signal floor, in order
    n_needy = 0
    for i in range(status.size):
        st, s = status[i], smax[i]
        counts[st] += 1
        if worker[i] >= 0:
            counts[6] += 1
        unsupported = st == NONE or st == VOLUNTEER
        if unsupported and s >= heavy_threshold:
            counts[7] += 1
        if st == MAATWERK and primary[i] == CARE_SUPPORT:
            counts[8] += 1
        if (unsupported or st == WAITING) and s >= signal_floor:
            needy[n_needy] = s
            n_needy += 1
    sums = np.empty(3)
    sums[0] = pairwise_sum(needy, 0, n_needy)
    sums[1] = pairwise_sum(sr, 0, sr.size)
    sums[2] = pairwise_sum(smax, 0, smax.size)
    return counts, sums
