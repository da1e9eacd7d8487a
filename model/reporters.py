"""What a run reports (DESIGN section 6): weekly series and a one-row summary.

:data:`SERIES_FIELDS` are the columns of the weekly series (one row per reported week, kept
in a NumPy buffer that reads like a Mesa ``DataCollector``, see :mod:`model.series`);
:data:`SUMMARY_FIELDS` are the keys of the flat one-row summary. Both map a name to
``(unit, meaning)``. The burn-in is never reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERIES_FIELDS: dict[str, tuple[str, str]] = {
    "week": ("week", "Week since the start of the reported period (1 = first reported week)."),
    "requests": ("residents", "New help requests this week (asked or signalled)."),
    "signalled": ("residents", "Of which noticed early by outreach, presence or neighbours."),
    "intakes": ("residents", "New cases taken on by the team (or desk) this week."),
    "caught_early_share": (
        "share",
        "Share of this week's intakes below the heavy threshold; NaN (undefined) in a week without intakes.",
    ),
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
    "caught_early_share": (
        "share of intakes",
        "Prevention: intakes below the heavy threshold (0 if there were no intakes).",
    ),
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
