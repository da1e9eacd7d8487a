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
from model.problems import zrm_level
from model.resident import (
    CARE_SUPPORT,
    COLLECTIVE,
    DOMAINS,
    FOR_PROVIDER,
    MAATWERK,
    NONE,
    TEAM,
    VOLUNTEER,
    WAITING,
    YOUTH,
)

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
    care: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CARE_COUNTS, 0.0))
    groups: dict[str, np.ndarray] = field(default_factory=lambda: {k: np.zeros(3) for k in GROUP_COUNTS})
    # Residents per income group: fixed for a run, not a running sum (metadata "fixed").
    group_sizes: np.ndarray = field(default_factory=lambda: np.ones(3), metadata={"fixed": True})

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


#: What is counted per income group (``Tally.groups``, one value per group of
#: :data:`model.resident.INCOME_GROUPS`), over the reported weeks: the weekly sums of unmet need
#: (as ``Tally.unmet``), of self-reliance and of residents with hidden heavy need; help requests
#: (asked or signalled); referrals to maatwerk and admissions of referred residents (as the care
#: tracker counts them); and, over the reported calendar years, under-23s and youth care users.
GROUP_COUNTS: tuple[str, ...] = (
    "unmet",
    "self_reliance",
    "hidden_need",
    "requests",
    "referrals",
    "admitted",
    "youth",
    "youth_care",
)


# ---- observing a week ---------------------------------------------------------------------------
def count_intakes(model: NeighbourhoodModel, idx: np.ndarray) -> None:
    """Record the intake of residents ``idx``: their worst severity, and whether caught early."""
    if model.reporting and idx.size:
        s = model.pop.smax[idx]
        early = int(np.count_nonzero(s < model.p.heavy_threshold))
        model.tally.add_intakes(int(idx.size), early, float(s.sum()))


def count_requests(model: NeighbourhoodModel, asks: np.ndarray, signalled: np.ndarray) -> None:
    """Record this week's help requests (residents ``asks`` and ``signalled``) per income group."""
    if model.reporting:
        income = model.pop.income
        counts = np.bincount(income[asks], minlength=3) + np.bincount(income[signalled], minlength=3)
        model.tally.groups["requests"] += counts


def count_groups(model: NeighbourhoodModel) -> None:
    """Add a reported week's unmet need, self-reliance and hidden heavy need per income group."""
    p, pop = model.p, model.pop
    sums = _group_week(pop.status, pop.smax, pop.sr, pop.income, p.heavy_threshold, p.signal_floor)
    for row, name in enumerate(("unmet", "self_reliance", "hidden_need")):
        model.tally.groups[name] += sums[row]


@jit
def _group_week(status, smax, sr, income, heavy_threshold, signal_floor):
    """Per income group (columns): unmet need above the signal floor, self-reliance and hidden
    heavy need (rows), each as :func:`week_counts` counts it for everyone."""
    out = np.zeros((3, 3))
    for i in range(status.size):
        st, s, k = status[i], smax[i], income[i]
        unsupported = st == NONE or st == VOLUNTEER
        if (unsupported or st == WAITING) and s >= signal_floor:
            out[0, k] += s
        out[1, k] += sr[i]
        if unsupported and s >= heavy_threshold:
            out[2, k] += 1.0
    return out


class YouthYear:
    """Which under-23s had support this year, for the yearly youth-care KPIs.

    Registered youth care (jeugdhulp, as the CBS Jeugdmonitor counts it) is maatwerk, or team
    support the municipality registers as a youth-care trajectory: heavy team support, or team
    support that has lasted ``youth_registration_weeks``. Light, short team support and collective
    arrangements are general provisions and are not registered; they count only in
    ``youth_support_share``.
    """

    def __init__(self, youth: np.ndarray, income: np.ndarray) -> None:
        self.youth = youth  # the under-23s, in index order
        self.income = income  # their income groups
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
            tally.groups["youth"] += np.bincount(self.income, minlength=3)
            tally.groups["youth_care"] += np.bincount(self.income[registered], minlength=3)
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
    youth = model.pop.members[YOUTH]
    return YouthYear(youth, model.pop.income[youth])


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


# ---- maatwerk referrals, places and spells; problems and their ZRM levels ---------------------
#: What :class:`CareTracker` counts each week (summed over the reported weeks in ``Tally.care``):
#: referrals to maatwerk; admissions of referred residents and their summed weeks from referral
#: to admission; residents referred and waiting for a place; maatwerk clients by domain (stocks);
#: maatwerk spells ended and their summed weeks, by domain; problems closed, their summed ZRM
#: levels at the start, at the low point and at close, those closed without team or maatwerk, and
#: the self-reliance they gained from start to close (summed).
CARE_COUNTS: tuple[str, ...] = (
    "referrals",
    "admitted",
    "maatwerk_wait_weeks",
    "maatwerk_waiting",
    *(f"maatwerk_{d}" for d in DOMAINS),
    *(f"spells_{d}" for d in DOMAINS),
    *(f"spell_weeks_{d}" for d in DOMAINS),
    "problems_closed",
    "zrm_start",
    "zrm_low",
    "zrm_close",
    "closed_own",
    "sr_gain",
)
# Support a problem had (bits of CareTracker.help).
_HAD_TEAM, _HAD_MAATWERK, _HAD_GROUP = 1, 2, 4


class CareTracker:
    """Each resident's maatwerk referral and spell, and current problem, followed week by week.

    A *problem* runs from the first week's end with any severity (``smax > 0``) to the first with
    none; its ZRM level (:func:`model.problems.zrm_level`, worst domain) is taken at its first
    week's end, its lowest over the weeks, and at close. A maatwerk *spell* runs from admission
    (or the start of the run) to the week's end the resident is no longer a client (step-down,
    conversion to a group); its domain is the primary domain at admission. A referral (decided
    need, :func:`model.resident.to_provider`) waits until a provider admits it.
    Tracked in every week, burn-in included; counted in ``tally`` only when reported.
    """

    def __init__(self, n: int) -> None:
        self.in_maatwerk = np.zeros(n, bool)  # a maatwerk client at the last week's end
        self.spell_start = np.zeros(n, np.int32)
        self.spell_domain = np.zeros(n, np.int8)
        self.open = np.zeros(n, bool)  # a problem open at the last week's end
        self.zrm = np.zeros((3, n), np.int8)  # ZRM level at the problem's start, low point, now
        self.help = np.zeros(n, np.int8)  # support the open problem had (bits)
        self.sr_start = np.zeros(n)  # self-reliance in the open problem's first week
        self.now: dict[str, float] = {"referrals": 0.0, "maatwerk_waiting": 0.0}

    def track(self, model: NeighbourhoodModel) -> None:
        """Follow this week's end; add its counts to the tally if the week is reported."""
        pop = model.pop
        counts, groups = _track_care(
            model.week,
            pop.income,
            pop.status,
            pop.wait_kind,
            pop.smax,
            pop.sr,
            pop.primary,
            pop.start_week,
            pop.referral_week,
            self.in_maatwerk,
            self.spell_start,
            self.spell_domain,
            self.open,
            self.zrm,
            self.help,
            self.sr_start,
            model.p.zrm_reliance_weight,
        )
        self.now = {"referrals": float(counts[0]), "maatwerk_waiting": float(counts[3])}
        if model.reporting:
            care = model.tally.care
            for name, value in zip(CARE_COUNTS, counts.tolist(), strict=True):
                care[name] += value
            model.tally.groups["referrals"] += groups[0]
            model.tally.groups["admitted"] += groups[1]


@jit
def _track_care(
    week,
    income,
    status,
    wait_kind,
    smax,
    sr,
    primary,
    start_week,
    referral_week,
    in_maatwerk,
    spell_start,
    spell_domain,
    open_,
    zrm,
    had,
    sr_start,
    weight,
):
    counts = np.zeros(22)  # in the order of CARE_COUNTS (whole numbers but the last)
    groups = np.zeros((2, 3))  # referrals and admissions per income group
    for i in range(status.size):
        st = status[i]
        # Referrals: counted in their week; a referral ends when its resident leaves the provider
        # queue, admitted if support started this week (then its wait is counted).
        admitted_now = False
        if referral_week[i] >= 0:
            if referral_week[i] == week:
                counts[0] += 1
                groups[0, income[i]] += 1
            if st == WAITING and wait_kind[i] == FOR_PROVIDER:
                counts[3] += 1
            else:
                if start_week[i] == week:
                    counts[1] += 1
                    counts[2] += week - referral_week[i]
                    groups[1, income[i]] += 1
                    admitted_now = True
                referral_week[i] = -1
        # Maatwerk spells, by the domain served.
        client = st == MAATWERK
        if client and not in_maatwerk[i]:
            spell_start[i] = start_week[i]
            spell_domain[i] = primary[i]
        elif in_maatwerk[i] and not client:
            d = spell_domain[i]
            counts[8 + d] += 1
            counts[12 + d] += week - spell_start[i]
        elif admitted_now and not client:  # admitted and gone again within the week
            counts[8 + primary[i]] += 1
        in_maatwerk[i] = client
        if client:
            counts[4 + primary[i]] += 1
        # Problems and their ZRM levels.
        s = smax[i]
        if not s > 0.0:
            if open_[i]:
                zrm[2, i] = zrm_level(0.0, sr[i], weight)
                counts[16] += 1
                counts[17] += zrm[0, i]
                counts[18] += zrm[1, i]
                counts[19] += zrm[2, i]
                if (had[i] & (_HAD_TEAM | _HAD_MAATWERK)) == 0:
                    counts[20] += 1
                counts[21] += sr[i] - sr_start[i]
                open_[i] = False
            continue
        level = zrm_level(s, sr[i], weight)
        if not open_[i]:
            open_[i] = True
            zrm[0, i] = zrm[1, i] = level
            had[i] = 0
            sr_start[i] = sr[i]
        zrm[1, i] = min(zrm[1, i], level)
        zrm[2, i] = level
        if st == TEAM:
            had[i] |= _HAD_TEAM
        elif client or admitted_now:
            had[i] |= _HAD_MAATWERK
        elif st == COLLECTIVE:
            had[i] |= _HAD_GROUP
    return counts, groups
