"""Residents: their state arrays and the vectorised resident mechanisms.

M1 Problems (Van Arum, 'Sociale wijkteams are here to stay'): problems arrive per
domain and age group; untreated severity escalates, damped by self-reliance and
network support; several domains above a threshold make a complex case.

M2 Help-seeking and early signalling (Zorg+Welzijn and Movisie, 'Collectieve aanpak
in de lead'): residents ask for help past a personal threshold; outreach, collective
presence and neighbours notice hidden need earlier.

M8 Self- and shared reliance (idem; Wijland, 'Nut en noodzaak van een onafhankelijk
sociaal (wijk)team'): self-reliance grows when problems are solved with own strength
and in collective settings and shrinks under long dependence; neighbours with spare
capacity help, more where ties are dense.

Residents are Mesa agents (:class:`Resident`), but their weekly state lives in the
NumPy arrays of :class:`Population`, which the model owns and updates vectorised.
Only residents with an open problem are touched by the weekly dynamics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model import kernels
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

STATUSES: tuple[str, ...] = ("none", "waiting", "team", "maatwerk", "collective", "volunteer")
NONE, WAITING, TEAM, MAATWERK, COLLECTIVE, VOLUNTEER = range(6)
# Why a waiting resident waits.
NOT_WAITING, FOR_TEAM, FOR_INDICATION, FOR_PROVIDER = range(4)
# Weeks a resident turned away by the pre-2015 desk waits before asking again.
REASK_WEEKS = 26


def row_max(a: np.ndarray) -> np.ndarray:
    """Row maxima of an (n, 4) array; several times faster than ``a.max(axis=1)``."""
    return np.maximum(np.maximum(a[:, 0], a[:, 1]), np.maximum(a[:, 2], a[:, 3]))


def put_rows(a: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
    """``a[idx] = rows`` for a C-contiguous 2-D array, each row copied as one item.

    The same bytes as fancy-index assignment of rows, about twice as fast.
    """
    item = np.dtype((np.void, a.strides[0]))
    a.view(item).reshape(-1)[idx] = np.ascontiguousarray(rows, dtype=a.dtype).view(item).reshape(-1)


def row_sum_of_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row sums of ``a * b`` for (n, 4) arrays, in the order ``(c0 + c2) + (c1 + c3)``.

    The order is fixed so that the compiled loops of :mod:`model.kernels` give the same bits
    (it is also the order of ``np.einsum("ij,ij->i", a, b)`` on common x86-64 builds).
    """
    ab = a * b
    return (ab[:, 0] + ab[:, 2]) + (ab[:, 1] + ab[:, 3])


def row_count(mask: np.ndarray) -> np.ndarray:
    """Row counts of True in an (n, 4) boolean array."""
    return mask[:, 0].astype(np.int64) + mask[:, 1] + mask[:, 2] + mask[:, 3]


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
    """State arrays of all residents, and the resident mechanisms M1, M2 and M8."""

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
        self.sev = np.zeros((n, 4))
        self.smax = np.zeros(n)
        sr = rng.beta(6.0 * p.self_reliance_mean, 6.0 * (1 - p.self_reliance_mean), n)
        self.sr0 = np.clip(sr - 0.1 * (self.age == ELDERLY), 0.02, 0.98)
        self.sr = self.sr0.copy()
        self.ties0 = rng.beta(2.0, 2.0, n)
        self.ties = self.ties0.copy()
        rm = min(max(p.reluctance_mean, 0.01), 0.99)
        self.reluctance = rng.beta(4.0 * rm, 4.0 * (1 - rm), n)
        self.threshold = np.clip(
            p.help_threshold + 0.15 * (self.reluctance - 0.5) + rng.normal(0, 0.08, n), 0.2, 0.95
        )
        self.status = np.zeros(n, np.int8)
        self.wait_kind = np.zeros(n, np.int8)
        self.request_week = np.full(n, -1, np.int32)
        self.ready_week = np.zeros(n, np.int32)
        self.start_week = np.zeros(n, np.int32)
        self.reask_week = np.zeros(n, np.int32)
        self.heavy = np.zeros(n, bool)
        self.tailored = np.zeros(n, bool)  # maatwerk decided by a mandated worker (M5)
        self.request_sev = np.zeros(n)  # worst severity when help was requested
        self.primary = np.zeros(n, np.int8)
        self.worker = np.full(n, -1, np.int16)
        self.provider = np.full(n, -1, np.int16)
        self.initiative = np.full(n, -1, np.int32)
        self.block = np.arange(n) // p.block_size
        self.n_blocks = int(self.block[-1]) + 1
        self.adj = watts_strogatz(n, p.network_k, p.network_rewire, rng)
        self.degree = np.maximum(np.asarray(self.adj.sum(axis=1)).ravel(), 1.0)
        # The network's row pointers and neighbours as uint32, for the compiled loops (model.kernels).
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

    # ---- M1 -----------------------------------------------------------------
    def arrive_problems(self) -> None:
        """M1: draw this week's new problems per domain and age group, and add their severity.

        The number of new problems in each (domain, age) cell is Poisson; the residents who
        get them are drawn uniformly within the age group (all cells in one draw).
        """
        p, rng = self.p, self.rng
        counts = rng.poisson(self.cell_rate).ravel()  # cells d*3 + a
        total = int(counts.sum())
        if total == 0:
            return
        u = rng.random(2 * total)
        if kernels.ENABLED:
            kernels.arrive_problems(self, counts, u)
            return
        cells = np.repeat(np.arange(12), counts)
        ages = cells % 3
        who = self.by_age[self.age_offset[ages] + (u[:total] * self.age_sizes[ages]).astype(np.int64)]
        add = p.new_problem_severity * (0.5 + u[total:])
        flat = self.sev.reshape(-1)
        np.add.at(flat, who * 4 + cells // 3, add)
        rows = self.sev.take(who, axis=0)
        np.minimum(rows, 1.0, out=rows)
        put_rows(self.sev, who, rows)
        self.smax[who] = row_max(rows)

    def open_cases(self) -> np.ndarray:
        """Indices of residents with any open problem."""
        return (self.smax > 0.0).nonzero()[0]

    def complexity(self, idx: np.ndarray) -> np.ndarray:
        """M1: number of domains above the complex threshold, per resident in ``idx``."""
        return row_count(self.sev.take(idx, axis=0) > self.p.complex_threshold)

    def evolve(self, idx: np.ndarray, treated: np.ndarray, relief: np.ndarray) -> dict[str, float]:
        """M1 and M8: one week of severity change for the residents ``idx``.

        ``treated`` (len(idx) x 4) is the share of escalation that support holds back in
        each domain; ``relief`` (len(idx) x 4) is the severity support would remove this
        week. Own strength, neighbours and support all work at the resident's recovery
        factor (lower for elderly care needs, which are chronic).
        Untreated severity grows by ``escalation_rate * s * (1 - self_reliance) *
        (1 - network support)``; own strength and neighbours reduce it. Returns the
        severity removed by each source (own, neighbours, support).
        """
        p = self.p
        s = self.sev.take(idx, axis=0)
        sr = self.sr[idx]
        sup = self.support[idx]
        rec = (s > 0.0).astype(float)
        rec[:, CARE_SUPPORT] *= self.care_recovery[idx]
        own = (p.own_recovery_rate * sr)[:, None] * rec
        nb = (p.neighbour_help * sup)[:, None] * rec
        relief = np.multiply(relief, rec, out=rec)  # (few temporaries: they cost cache)
        down = own + nb
        down += relief
        level = s
        if p.m1_escalation:
            rate = p.escalation_rate * (1.0 - sr) * (1.0 - sup)
            level = 1.0 - treated  # level = s + s * rate * (1 - treated), in place
            level *= s * rate[:, None]
            level += s
        new = level - down
        # Share of the push down that took effect: less than 1 where severity reached 0, and
        # 0 where nothing pushes down (level / inf). Computed in place of down and level.
        np.putmask(down, down <= 0.0, np.inf)
        with np.errstate(over="ignore"):  # a subnormal push down: level / down is inf, capped at 1
            frac = np.divide(level, down, out=level)
        np.minimum(frac, 1.0, out=frac)
        np.clip(new, 0.0, 1.0, out=new)
        # A trace of a problem is no problem: new < 0.02 becomes 0 (new >= 0, so multiplying
        # by the mask gives putmask's values, without its branches).
        np.multiply(new, new >= 0.02, out=new)
        put_rows(self.sev, idx, new)
        self.smax[idx] = row_max(new)
        own_done = row_sum_of_products(own, frac)
        if p.m8_reliance_dynamics:
            self.sr[idx] = np.minimum(1.0, sr + p.self_reliance_gain * own_done)
        return {
            "own": float(own_done.sum()),
            "neighbours": float(row_sum_of_products(nb, frac).sum()),
            "support": float(row_sum_of_products(relief, frac).sum()),
        }

    # ---- M8 -----------------------------------------------------------------
    def update_support(self) -> None:
        """M8: what each resident's network neighbours offer this week.

        ``support`` (0-1): a neighbour's spare capacity is its self-reliance times (1 - its
        own worst severity), doubled for volunteers; support is the mean over neighbours,
        scaled by the resident's tie strength. One sparse matrix-vector product.
        """
        if kernels.ENABLED:
            self.support = kernels.support(self)
            return
        status = self.status
        spare = self.sr * (1.0 - self.smax) * (1.0 + (status == VOLUNTEER))
        if not self.p.m8_reliance_dynamics:
            spare = np.zeros(self.n)
        self.support = np.minimum(1.0, self.ties * (self.adj @ spare) / self.degree)

    def contact_share(self, idx: np.ndarray) -> np.ndarray:
        """M2: share of the network neighbours of residents ``idx`` in touch with the team or an initiative.

        Counted over the residents' rows of the adjacency only (those who may be signalled
        are few), entry by entry as the sparse product over all residents would.
        """
        indptr = self.adj.indptr
        first = indptr[idx]
        size = indptr[idx + 1] - first
        end = size.cumsum()
        # Position in adj.indices of each resident's neighbours, resident after resident.
        pos = np.arange(end[-1] if end.size else 0) + np.repeat(first - (end - size), size)
        st = self.status[self.adj.indices[pos]]
        touched = np.concatenate(([0], ((st == TEAM) | (st >= COLLECTIVE)).cumsum()))
        return (touched[end] - touched[end - size]) / self.degree[idx]

    def update_reliance(self, week: int) -> None:
        """M8: collective gains, loss under long dependence, and reversion to baseline."""
        p = self.p
        if not p.m8_reliance_dynamics:
            return
        if kernels.ENABLED:
            kernels.update_reliance(self, week)
            return
        collective = self.status >= COLLECTIVE  # collective or volunteer
        gain = p.collective_reliance_gain * collective
        dependent = (self.status == MAATWERK) & (self.start_week < week - 52)  # over a year
        self.sr += gain - p.dependence_loss * dependent + p.reliance_reversion * (self.sr0 - self.sr)
        self.ties += gain + p.reliance_reversion * (self.ties0 - self.ties)
        np.clip(self.sr, 0.0, 1.0, out=self.sr)
        np.clip(self.ties, 0.0, 1.0, out=self.ties)

    # ---- M2 -----------------------------------------------------------------
    def unsupported(self) -> np.ndarray:
        """Mask of residents neither in support nor waiting (none or volunteering)."""
        return (self.status == NONE) | (self.status == VOLUNTEER)

    def free_to_ask(self, week: int) -> np.ndarray:
        """M2: residents with an open problem, no support, not waiting, and not turned away lately."""
        idx = self.open_cases()
        st = self.status[idx]
        return idx[((st == NONE) | (st == VOLUNTEER)) & (self.reask_week[idx] <= week)]

    def seek_help(self, week: int, free: np.ndarray | None = None) -> np.ndarray:
        """M2: residents past their own threshold (or in crisis) ask for help; returns them.

        ``free`` may pass :meth:`free_to_ask` for this week when the caller has it.
        """
        free = self.free_to_ask(week) if free is None else free
        s = self.smax[free]
        return free[(s > self.threshold[free]) | (s >= 0.9)]

    def signal_early(
        self,
        week: int,
        outreach_per_1000: float,
        initiatives_per_block: np.ndarray,
        free: np.ndarray | None = None,
    ) -> np.ndarray:
        """M2: hidden need noticed by outreach, collective presence or neighbours; returns them.

        Residents with severity between ``signal_floor`` and their own threshold, who
        would not (yet) ask, are noticed with a weekly hazard that adds outreach hours
        per 1,000 residents, active initiatives in their block, and the share of their
        network neighbours in contact with the team or an initiative. ``free`` may pass
        :meth:`free_to_ask` for this week when the caller has it.
        """
        p = self.p
        free = self.free_to_ask(week) if free is None else free
        s = self.smax[free]
        cand = free[(s >= p.signal_floor) & (s <= self.threshold[free]) & (s < 0.9)]  # would not ask
        if cand.size == 0:
            return cand
        hazard = (
            p.outreach_effect * outreach_per_1000
            + p.presence_effect * initiatives_per_block[self.block[cand]]
            + p.neighbour_signal_effect * self.contact_share(cand)
        )
        hit = self.rng.random(cand.size) < -np.expm1(-hazard)
        return cand[hit]

    def waiting(self, kind: int) -> np.ndarray:
        """Indices of residents waiting for ``kind`` (the team, an indication or a provider)."""
        idx = (self.wait_kind == kind).nonzero()[0]
        return idx[self.status[idx] == WAITING]

    def enqueue(self, idx: np.ndarray, week: int, kind: int = FOR_TEAM) -> None:
        """Put residents on the waiting list, leaving any initiative or volunteer role."""
        if idx.size == 0:
            return
        self.status[idx] = WAITING
        self.wait_kind[idx] = kind
        self.request_week[idx] = week
        self.request_sev[idx] = self.smax[idx]
        self.initiative[idx] = -1

    def close(self, idx: np.ndarray) -> None:
        """End support for residents ``idx``: back to no support."""
        if idx.size == 0:
            return
        self.status[idx] = NONE
        self.wait_kind[idx] = NOT_WAITING
        self.worker[idx] = -1
        self.provider[idx] = -1
        self.initiative[idx] = -1
        self.heavy[idx] = False
