"""M4 two crafts and M7 collective initiatives: peer groups, play rooms, walk-ins and debt cafes.

M7 (RadarAdvies, 'Sociale teams werken': the Speelkamer; Zorg+Welzijn and Movisie, 'Collectieve
aanpak in de lead'; Pruim, 'Collectief en individueel werken in balans, lukt dat wel?'). Each
week the team's collective hours are pooled; a share ``outreach_share`` is outreach (M2), the rest
runs initiatives, oldest first. An initiative needs ``initiative_hours x (1 - 0.75 x min(1,
volunteers / volunteers_to_run))`` worker hours and ``participants x group_hours x group_tariff``
euros from the collective budget; it runs when funded and given at least half its hours, with

    quality = hours share x (0.4 + 0.6 x coordinator's collective skill)          (M4)

and its health rises or falls by 0.1 a week; it folds at health 0 or after 12 empty weeks.
Residents in the block with a need in its domain join with the weekly chance ``recruit_rate x
(1 - reluctance) x quality`` while there is room (candidates: no support, light team cases and,
with mandate, maatwerk clients whose indication converts); recovered participants stay on as
volunteers with chance ``volunteer_rate x (1 - reluctance)`` and leave after
``volunteer_stay_weeks`` on average. A worker starts one, with the weekly chance ``start_rate x
collective skill``, in the block and domain with most need (at least ``min_cluster`` residents
above the signal floor) while initiative hours and a quarter's funds are left. Group support costs
a fraction of individual support per participant; its effect on severity and self-reliance is in
:mod:`model.problems`.

M4 (Pruim; RadarAdvies). Collective skill grows with training and practice and decays without
practice (:meth:`model.worker.Worker.learn`); workers practise in proportion to the share of the
pooled hours used.

Initiatives are ordinary Mesa agents; their participants are residents whose ``status`` is
collective (or volunteer) and whose ``initiative`` holds the initiative's id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.compiled import jit
from model.resident import COLLECTIVE, MAATWERK, NONE, TEAM, VOLUNTEER, count_by

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel
    from model.worker import Worker

# Share of worker hours volunteers take over once there are enough of them.
VOLUNTEER_TAKEOVER = 0.75
# Weekly change of an initiative's health when it runs / does not run; it folds at 0.
HEALTH_STEP = 0.1
# Weeks an initiative may stay empty before it folds.
EMPTY_WEEKS = 12


class Initiative(mesa.Agent):
    """One collective initiative for one need domain in one block."""

    def __init__(
        self, model: NeighbourhoodModel, ident: int, block: int, domain: int, coordinator: Worker
    ) -> None:
        super().__init__(model)
        self.ident = ident
        self.block = block
        self.domain = domain
        self.coordinator = coordinator
        self.started = model.week
        self.health = 1.0
        self.participants = 0
        self.volunteers = 0
        self.hours_got = 0.0
        self.quality = 0.0
        self.running = False
        self.empty_weeks = 0

    @property
    def hours_needed(self) -> float:
        """Worker hours a week the initiative needs; volunteers take most of them over."""
        p = self.model.p
        takeover = VOLUNTEER_TAKEOVER * min(1.0, self.volunteers / p.volunteers_to_run)
        return p.initiative_hours * (1.0 - takeover)

    @property
    def cost_per_week(self) -> float:
        """EUR a week: group-support tariff for every participant (volunteers are free)."""
        p = self.model.p
        return self.participants * p.group_hours * p.group_tariff

    @property
    def room(self) -> int:
        """Places left in the group."""
        return max(0, self.model.p.max_participants - self.participants)

    def run(self, hours_available: float, funds_available: float) -> float:
        """Run one week on the hours and money available; return the worker hours used.

        Quality is the share of needed hours received times the coordinator's collective
        skill (M4: effect scales with skill); without hours or money the initiative's
        health falls, with both it recovers.
        """
        need = self.hours_needed
        used = min(need, hours_available)
        funded = self.cost_per_week <= funds_available
        ratio = used / need if need > 0 else 1.0
        self.running = funded and ratio >= 0.5
        self.hours_got = used
        skill = self.coordinator.skill_collective
        self.quality = ratio * (0.4 + 0.6 * skill) if self.running else 0.0
        self.health = min(1.0, self.health + HEALTH_STEP) if self.running else self.health - HEALTH_STEP
        self.empty_weeks = self.empty_weeks + 1 if self.participants + self.volunteers == 0 else 0
        return used if self.running else 0.0

    @property
    def folded(self) -> bool:
        """True when the initiative has lost its hours, money or people."""
        return self.health <= 0.0 or self.empty_weeks > EMPTY_WEEKS


def run_collective(model: NeighbourhoodModel) -> tuple[float, float]:
    """M4/M7: collective and outreach work; returns (hours used, EUR spent) this week."""
    p = model.p
    available = sum(w.collective_hours for w in model.workers)
    if not model.workers:
        model.outreach_per_1000 = 0.0
        return 0.0, 0.0
    pool = available * (1.0 - p.outreach_share) if p.m7_initiatives else 0.0
    cost = 0.0
    if p.m7_initiatives:
        count_members(model)
        funds = model.municipality.collective_funds_left()
        for ini in sorted(model.initiatives.values(), key=lambda i: i.started):
            pool -= ini.run(pool, funds - cost)
            if ini.running:
                cost += ini.cost_per_week
        fold_initiatives(model)
        recruit(model)
        graduate(model)
        pool = start_initiatives(model, pool)
    on_initiatives = max(0.0, available * (1.0 - p.outreach_share) - pool) if p.m7_initiatives else 0.0
    # Collective time not spent on initiatives is outreach (M2).
    outreach = available - on_initiatives if p.m2_early_signalling else 0.0
    used = on_initiatives + outreach
    model.outreach_per_1000 = outreach * 1000.0 / p.n_residents
    share = used / available if available > 0 else 0.0
    for worker in model.workers:
        worker.learn(worker.collective_hours * share)
    return used, cost


def add_initiative(model: NeighbourhoodModel, block: int, domain: int, coordinator: Worker) -> Initiative:
    """M7: register a new initiative in ``block`` for ``domain``."""
    ini = Initiative(model, model.next_initiative_id, block, domain, coordinator)
    ini.running = True
    ini.quality = 0.4 + 0.6 * coordinator.skill_collective
    model.initiatives[ini.ident] = ini
    model.next_initiative_id += 1
    if model.reporting:
        model.tally.initiatives_started += 1
    return ini


def fold_initiatives(model: NeighbourhoodModel) -> None:
    """M7: initiatives without hours, money or people fold; their members leave."""
    folded = [i for i in model.initiatives.values() if i.folded]
    if not folded:
        return
    ids = np.array([i.ident for i in folded])
    members = np.isin(model.pop.initiative, ids).nonzero()[0]
    model.pop.close(members)
    for ini in folded:
        del model.initiatives[ini.ident]
        ini.remove()


def count_members(model: NeighbourhoodModel) -> None:
    """Set each initiative's participant and volunteer counts from the resident arrays."""
    if not model.initiatives:
        return
    pop = model.pop
    size = model.next_initiative_id
    inits = pop.initiative
    part = count_by(pop.status, COLLECTIVE, inits, size)
    vol = count_by(pop.status, VOLUNTEER, inits, size, True)
    for ini in model.initiatives.values():
        ini.participants = int(part[ini.ident])
        ini.volunteers = int(vol[ini.ident])


def cell_map(model: NeighbourhoodModel, with_room: bool = True) -> np.ndarray:
    """Id of the running initiative in each (block, domain) cell, or -1; flat index block*4+d."""
    cells = np.full(model.pop.n_blocks * 4, -1, np.int64)
    for ini in model.initiatives.values():
        if ini.running and (ini.room > 0 or not with_room):
            cells[ini.block * 4 + ini.domain] = ini.ident
    return cells


def recruit(model: NeighbourhoodModel) -> int:
    """M7: residents with a need an initiative in their block serves join it; returns joiners.

    Candidates are residents without support, light team cases (whose individual case
    closes) and, where the team has mandate, maatwerk clients whose indication converts
    into the collective arrangement (the Speelkamer). Reluctance lowers joining.
    """
    p, pop, rng = model.p, model.pop, model.rng
    if not any(ini.running and ini.room > 0 for ini in model.initiatives.values()):
        return 0  # no initiative has room this week
    cells = cell_map(model)
    open_cells = (cells >= 0).nonzero()[0].tolist()  # cells with an initiative that has room
    # Residents with an open problem in those blocks (contiguous stretches of the ring), in order.
    size = p.block_size
    starts = sorted({cell // 4 * size for cell in open_cells})
    idx = np.concatenate([a + (pop.smax[a : a + size] > 0.0).nonzero()[0] for a in starts])
    domains = {cell % 4 for cell in open_cells}
    st = pop.status[idx]
    eligible = (st == NONE) | ((st == TEAM) & ~pop.heavy[idx])
    convert = (st == MAATWERK) & (pop.smax[idx] < p.maatwerk_threshold)
    convert &= rng.random(idx.size) < model.mandate * (0.5 + 0.5 * p.provider_alignment)
    idx = idx[eligible | convert]
    sev = pop.sev.take(idx, axis=0)
    quality = np.zeros(model.next_initiative_id)
    room = np.zeros(model.next_initiative_id, np.int64)
    for ini in model.initiatives.values():
        quality[ini.ident], room[ini.ident] = ini.quality, ini.room
    block4 = pop.block[idx] * 4
    joined = np.zeros(idx.size, bool)
    total = 0
    for d in range(4):
        if d not in domains:  # no initiative with room serves the domain: nobody wants to join
            continue
        target = cells[block4 + d]
        want = (target >= 0) & (sev[:, d] >= p.resolved_threshold) & ~joined
        if not want.any():
            continue
        chance = p.recruit_rate * (1.0 - pop.reluctance[idx]) * quality[np.maximum(target, 0)]
        want &= rng.random(idx.size) < chance
        pos = want.nonzero()[0]
        if pos.size == 0:
            continue
        pos = pos[_within_room(target[pos], room, rng)]
        np.subtract.at(room, target[pos], 1)
        joined[pos] = True
        who = idx[pos]
        pop.status[who] = COLLECTIVE
        pop.initiative[who] = target[pos]
        pop.primary[who] = d
        pop.worker[who] = -1
        pop.provider[who] = -1
        pop.heavy[who] = False
        pop.start_week[who] = model.week
        total += who.size
    return total


def _within_room(groups: np.ndarray, room: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions (into ``groups``) of a random subset that fits each group's room."""
    order = rng.permutation(groups.size)
    g = groups[order]
    sort = np.argsort(g, kind="stable")
    g_sorted = g[sort]
    first = np.searchsorted(g_sorted, g_sorted, side="left")
    rank = np.arange(g_sorted.size) - first
    keep = rank < room[g_sorted]
    return np.sort(order[sort[keep]])


def start_initiatives(model: NeighbourhoodModel, hours_left: float) -> float:
    """M7/M4: workers with collective time start initiatives where needs cluster.

    A cell (block, domain) qualifies when at least ``min_cluster`` residents there have
    a need in the domain and no initiative serves it. Each worker, while spare
    initiative hours last, starts one with a weekly chance ``start_rate`` times its
    collective skill, in the qualifying cell with most need. Returns the hours left.
    """
    p, pop, rng = model.p, model.pop, model.rng
    municipality = model.municipality
    setup_cost = p.min_cluster * p.group_hours * p.group_tariff * 13  # a quarter's running
    if hours_left < p.initiative_hours or municipality.collective_funds_left() < setup_cost:
        return hours_left
    idx = (pop.smax > 0.0).nonzero()[0]  # residents with an open problem
    has_need = pop.sev.take(idx, axis=0) >= p.signal_floor
    rows, doms = np.nonzero(has_need)
    counts = np.bincount(pop.block[idx[rows]] * 4 + doms, minlength=pop.n_blocks * 4)
    taken = cell_map(model, with_room=False) >= 0
    for ini in model.initiatives.values():
        taken[ini.block * 4 + ini.domain] = True
    counts[taken] = 0
    for worker in sorted(model.workers, key=lambda w: -w.skill_collective):
        if hours_left < p.initiative_hours:
            break
        if counts.max() < p.min_cluster or rng.random() >= p.start_rate * worker.skill_collective:
            continue
        best = (counts == counts.max()).nonzero()[0]
        cell = int(best[rng.integers(best.size)])
        add_initiative(model, cell // 4, cell % 4, worker)
        counts[cell] = 0
        hours_left -= p.initiative_hours
    return hours_left


def graduate(model: NeighbourhoodModel) -> None:
    """M7: recovered participants leave, some as volunteers; volunteers leave in time."""
    p, pop, rng = model.p, model.pop, model.rng
    done, vol = _graduates(pop.status, pop.sev, pop.primary, pop.initiative, p.resolved_threshold)
    if done.size:
        stays = rng.random(done.size) < p.volunteer_rate * (1.0 - pop.reluctance[done])
        pop.status[done[stays]] = VOLUNTEER
        pop.close(done[~stays])
        model.tally.volunteers_recruited += int(stays.sum())
        vol = _graduates(pop.status, pop.sev, pop.primary, pop.initiative, p.resolved_threshold)[1]
    if vol.size:
        pop.close(vol[rng.random(vol.size) < 1.0 / p.volunteer_stay_weeks])


@jit
def _graduates(status, sev, primary, initiative, resolved):
    """Participants whose primary need is resolved, and volunteers of an initiative; in index order."""
    done = np.empty(status.size, np.int64)
    vol = np.empty(status.size, np.int64)
    n_done = n_vol = 0
    for i in range(status.size):
        if status[i] == COLLECTIVE and sev[i, primary[i]] < resolved:
            done[n_done] = i
            n_done += 1
        elif status[i] == VOLUNTEER and initiative[i] >= 0:
            vol[n_vol] = i
            n_vol += 1
    return done[:n_done], vol[:n_vol]
