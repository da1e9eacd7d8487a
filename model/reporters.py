"""Recording a run: the running sums of the reported weeks and what a week counts.

What is reported - names, units, meanings and how the summary aggregates - is declared in the
output table, :mod:`model.outputs`; the weekly series is kept in a NumPy buffer that reads like a
Mesa ``DataCollector`` (:mod:`model.series`). The burn-in is never reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from model.compiled import jit, pairwise_sum
from model.resident import CARE_SUPPORT, COLLECTIVE, MAATWERK, NONE, TEAM, VOLUNTEER, WAITING, YOUTH

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


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
