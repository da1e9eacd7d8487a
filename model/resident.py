"""Residents: their state, one row of NumPy arrays each, and the moves between support states.

Residents are Mesa agents (:class:`Resident`), but their weekly state lives in the arrays of
:class:`Population`, which the model owns; the mechanism modules update them in compiled loops
(M1/M8 :mod:`model.problems`, M2 :mod:`model.requests`, M3/M5/M6 :mod:`model.intake`, M6/M10
:mod:`model.providers`, M4/M7 :mod:`model.collective`). The codes below (domains, age groups,
support statuses, why a resident waits) are declared here once; compiled loops read them as
constants. A resident moves between support states only through the functions at the end of this
module (:func:`close_support`, :func:`join_queue`, :func:`to_indication`, :func:`to_provider`,
:func:`start_support`), which every mechanism uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.compiled import jit
from model.network import watts_strogatz

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel
    from model.params import Params

DOMAINS: tuple[str, ...] = ("youth_family", "care_support", "income_work", "mental_health")
YOUTH_FAMILY, CARE_SUPPORT, INCOME_WORK, MENTAL_HEALTH = range(4)
AGE_GROUPS: tuple[str, ...] = ("youth", "adult", "elderly")
YOUTH, ADULT, ELDERLY = range(3)
# Population shares of under-23s, 23-64 and 65+ (CBS population by age 2023, rounded).
AGE_SHARES = np.array([0.26, 0.54, 0.20])
# Relative arrival rate of each domain (rows) by age group (columns). The level of each
# row is set by the arrival_* parameter; this table only shapes it by age (assumed).
AGE_PROFILE = np.array(
    [
        [3.0, 0.6, 0.0],  # youth & family: children and their parents
        [0.15, 0.4, 3.5],  # care & support (Wmo): mostly elderly
        [0.3, 1.3, 0.5],  # income & work: mostly working age
        [1.0, 1.1, 0.7],  # mental health
    ]
)

INCOME_GROUPS: tuple[str, ...] = ("low", "middle", "high")
LOW, MIDDLE, HIGH = range(3)
# Shares of the income groups: the lowest quintile of standardised disposable household income,
# the three middle quintiles and the highest (CBS reports by these quintiles; the shares are
# exact by definition, and each group is given exactly that share of residents, rounded).
INCOME_SHARES = np.array([0.2, 0.6, 0.2])
# Which way each group's gap parameter (income_*_gap) shifts it: low +1, middle 0, high -1.
INCOME_SIDE = np.array([1.0, 0.0, -1.0])

STATUSES: tuple[str, ...] = ("none", "waiting", "team", "maatwerk", "collective", "volunteer")
NONE, WAITING, TEAM, MAATWERK, COLLECTIVE, VOLUNTEER = range(6)
# Why a waiting resident waits.
NOT_WAITING, FOR_TEAM, FOR_INDICATION, FOR_PROVIDER = range(4)


def row_max(a: np.ndarray) -> np.ndarray:
    """Row maxima of an (n, 4) array; several times faster than ``a.max(axis=1)``."""
    return np.maximum(np.maximum(a[:, 0], a[:, 1]), np.maximum(a[:, 2], a[:, 3]))


class Resident(mesa.Agent):
    """One resident: a Mesa agent whose state is a row of the model's arrays."""

    def __init__(self, model: NeighbourhoodModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def severity(self) -> np.ndarray:
        """Severity per domain (0-1), in the order of :data:`DOMAINS`."""
        return self.model.pop.sev[self.index]

    @property
    def status(self) -> str:
        """Support status: one of :data:`STATUSES`."""
        return STATUSES[self.model.pop.status[self.index]]

    @property
    def self_reliance(self) -> float:
        """Self-reliance (zelfredzaamheid), 0-1."""
        return float(self.model.pop.sr[self.index])

    @property
    def age_group(self) -> str:
        """Age group: youth (under 23), adult or elderly (65+)."""
        return AGE_GROUPS[self.model.pop.age[self.index]]


class Population:
    """State arrays of all residents (one row each), set up from the parameters."""

    def __init__(self, p: Params, rng: np.random.Generator) -> None:
        n = p.n_residents
        self.n = n
        self.p = p
        self.rng = rng
        self.age = rng.choice(3, size=n, p=AGE_SHARES).astype(np.int8)
        self.members = [np.flatnonzero(self.age == a) for a in range(3)]
        self.by_age = np.concatenate(self.members)
        self.age_sizes = np.array([m.size for m in self.members])
        self.age_offset = np.concatenate([[0], np.cumsum(self.age_sizes)[:-1]])
        self.income = income_groups(n, rng)
        self.income_sizes = np.bincount(self.income, minlength=3)
        side = INCOME_SIDE[self.income]  # low +1, middle 0, high -1
        self.sev = np.zeros((n, 4))
        self.smax = np.zeros(n)
        m = np.clip(p.self_reliance_mean - p.income_reliance_gap * side, 0.05, 0.95)
        sr = rng.beta(6.0 * m, 6.0 * (1 - m))
        self.sr0 = np.clip(sr - 0.1 * (self.age == ELDERLY), 0.02, 0.98)
        self.sr = self.sr0.copy()
        self.ties0 = np.minimum(rng.beta(2.0, 2.0, n) * (1.0 - p.income_ties_gap * side), 1.0)
        self.ties = self.ties0.copy()
        rm = min(max(p.reluctance_mean, 0.01), 0.99)
        self.reluctance = rng.beta(4.0 * rm, 4.0 * (1 - rm), n)
        shift = p.help_threshold + p.income_threshold_gap * side
        self.threshold = np.clip(shift + 0.15 * (self.reluctance - 0.5) + rng.normal(0, 0.08, n), 0.2, 0.95)
        # M1: who in an age group gets a new problem (weight, cumulated in by_age order per age
        # group) and how heavy it is (factor on new_problem_severity), by income group.
        self.arrival_weight = 1.0 + p.income_arrival_gap * INCOME_SIDE
        self.severity_factor = severity_factors(p.income_arrival_gap, p.income_severity_gap)
        self.cum_weight = _cumulated(self.arrival_weight[self.income[self.by_age]], self.age_offset)
        self.sev_factor = self.severity_factor[self.income]
        self.status = np.zeros(n, np.int8)
        self.wait_kind = np.zeros(n, np.int8)
        self.request_week = np.full(n, -1, np.int32)
        self.ready_week = np.zeros(n, np.int32)
        self.start_week = np.zeros(n, np.int32)
        self.reask_week = np.zeros(n, np.int32)
        self.heavy = np.zeros(n, bool)
        self.tailored = np.zeros(n, bool)  # maatwerk decided by a mandated worker (M5)
        self.request_sev = np.zeros(n)  # worst severity when help was requested
        self.referral_week = np.full(n, -1, np.int32)  # week of a maatwerk referral awaiting a place
        self.primary = np.zeros(n, np.int8)
        self.worker = np.full(n, -1, np.int16)
        self.provider = np.full(n, -1, np.int16)
        self.initiative = np.full(n, -1, np.int32)
        self.block = np.arange(n) // p.block_size
        self.n_blocks = int(self.block[-1]) + 1
        self.adj = watts_strogatz(n, p.network_k, p.network_rewire, rng)
        self.degree = np.maximum(np.asarray(self.adj.sum(axis=1)).ravel(), 1.0)
        # The network's row pointers and neighbours as uint32: unsigned indices spare Numba's
        # negative-index checks, so the compiled neighbour loops run twice as fast.
        self.adj_u32 = (self.adj.indptr.astype(np.uint32), self.adj.indices.astype(np.uint32))
        self.support = np.zeros(n)
        # Share of normal recovery of care & support needs (M1: elderly care is chronic);
        # other domains recover normally.
        self.care_recovery = np.where(self.age == ELDERLY, 1.0 - p.elderly_care_chronicity, 1.0)
        # Age-specific weekly arrival probability per domain (rows) and age (columns).
        weights = AGE_PROFILE / (AGE_PROFILE @ AGE_SHARES)[:, None]
        rates = np.array(
            [p.arrival_youth_family, p.arrival_care_support, p.arrival_income_work, p.arrival_mental_health]
        )
        self.weekly_rate = rates[:, None] * weights / 1000.0 / 52.0
        self.cell_rate = self.weekly_rate * self.age_sizes  # expected new problems per week
        self.cell_rate.flags.writeable = False  # the rates of every week's draw: copy to change

    def support_arrays(self, *more: str) -> tuple[np.ndarray, ...]:
        """The arrays that say what support each resident has (status, waiting kind, worker,
        provider, initiative, heavy, tailored), then the arrays named in ``more``: the tuple the
        compiled M5/M6 kernels take (``model.providers``, ``model.intake``)."""
        core = (self.status, self.wait_kind, self.worker, self.provider, self.initiative, self.heavy)
        return (*core, self.tailored, *(getattr(self, name) for name in more))

    def close(self, idx: np.ndarray) -> None:
        """End support for residents ``idx``: back to no support."""
        _close_all(idx, self.status, self.wait_kind, self.worker, self.provider, self.initiative, self.heavy)


def income_groups(n: int, rng: np.random.Generator) -> np.ndarray:
    """Income group of each of ``n`` residents: exactly :data:`INCOME_SHARES` of them (rounded), at random."""
    sizes = np.round(INCOME_SHARES * n).astype(np.int64)
    sizes[MIDDLE] = n - sizes[LOW] - sizes[HIGH]
    return np.repeat(np.arange(3, dtype=np.int8), sizes)[rng.permutation(n)]


def severity_factors(arrival_gap: float, severity_gap: float) -> np.ndarray:
    """M1: the factor on ``new_problem_severity`` per income group, ``1 + side x severity_gap``
    rescaled so that its mean over new problems (groups weighted by share x arrival weight) is 1."""
    raw = 1.0 + severity_gap * INCOME_SIDE
    weight = INCOME_SHARES * (1.0 + arrival_gap * INCOME_SIDE)
    return raw * weight.sum() / (raw * weight).sum()


def _cumulated(weights: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``weights`` restarting at each age group's ``offset`` (by_age order)."""
    out = np.empty(weights.size)
    bounds = [*offset.tolist(), weights.size]
    for a in range(len(offset)):
        out[bounds[a] : bounds[a + 1]] = np.cumsum(weights[bounds[a] : bounds[a + 1]])
    return out


# ---- moves between support states, one resident at a time (used by every mechanism's loops) ----
@jit
def close_support(i, status, wait_kind, worker, provider, initiative, heavy):
    """Resident ``i``'s support ends: no status, no worker, provider or initiative."""
    status[i] = NONE
    wait_kind[i] = NOT_WAITING
    worker[i] = -1
    provider[i] = -1
    initiative[i] = -1
    heavy[i] = False


@jit
def _close_all(idx, status, wait_kind, worker, provider, initiative, heavy):
    for i in idx:
        close_support(i, status, wait_kind, worker, provider, initiative, heavy)


@jit
def join_queue(i, kind, week, status, wait_kind, request_week, request_sev, smax, initiative):
    """Resident ``i`` asks for help this week and waits for ``kind`` (team or desk), leaving any group."""
    status[i] = WAITING
    wait_kind[i] = kind
    request_week[i] = week
    request_sev[i] = smax[i]
    initiative[i] = -1


@jit
def to_indication(i, ready, status, wait_kind, ready_week):
    """Resident ``i`` waits for the municipal desk's indication, decided in week ``ready`` (M5)."""
    status[i] = WAITING
    wait_kind[i] = FOR_INDICATION
    ready_week[i] = ready


@jit
def to_provider(i, tailored_by_team, parent, week, status, wait_kind, tailored, provider, referral_week):
    """Resident ``i`` is referred to maatwerk in ``week`` and waits for a place at provider
    ``parent`` (-1: any) (M5/M6).

    A referral is decided need: an indication granted by the desk, a mandated worker's decision
    or a crisis sent on under escalation agreements, whether or not a place is free.
    ``tailored_by_team`` marks maatwerk decided by a mandated worker rather than the desk.
    """
    status[i] = WAITING
    wait_kind[i] = FOR_PROVIDER
    tailored[i] = tailored_by_team
    provider[i] = parent
    referral_week[i] = week


@jit
def start_support(i, week, request_week, start_week, wait_kind):
    """Resident ``i``'s support starts this week; returns the weeks waited (-1: had not asked)."""
    waited = week - request_week[i] if request_week[i] >= 0 else -1
    request_week[i] = -1
    start_week[i] = week
    wait_kind[i] = NOT_WAITING
    return waited


@jit
def worst_domain(sev, i):
    """Resident ``i``'s first worst domain (as ``argmax`` over the row)."""
    worst = 0
    for d in range(1, 4):
        if sev[i, d] > sev[i, worst]:
            worst = d
    return worst


@jit
def domains_above(sev, i, threshold):
    """M1: resident ``i``'s complexity, the number of domains with severity above ``threshold``."""
    count = 0
    for d in range(4):
        if sev[i, d] > threshold:
            count += 1
    return count


@jit
def count_by(status, wanted, group, size, only_grouped=False):
    """Residents with status ``wanted`` per value of ``group`` (0 to ``size`` - 1).

    With ``only_grouped``, residents whose group is -1 are left out.
    """
    counts = np.zeros(size, np.int64)
    for i in range(status.size):
        if status[i] == wanted and (group[i] >= 0 or not only_grouped):
            counts[group[i]] += 1
    return counts
