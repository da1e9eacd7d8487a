"""The Model: a Dutch neighbourhood, its social neighbourhood team, providers and municipality.

One step is one week. The weekly schedule (see ``docs/ODD.md``, process overview):

1. problems arrive (M1) and network support is updated (M8);
2. residents ask for help, and hidden need is signalled early (M2);
3. indications that are ready are decided by the municipal desk (M5, M10);
4. workers allocate their time and take cases from the queue (M3, M5, M6);
5. providers admit waiting maatwerk clients (M6);
6. severity changes under support, own strength and neighbours (M1, M3, M6, M7, M8);
7. team cases close or escalate; providers step clients down (M3, M6);
8. initiatives run, recruit, hand over to volunteers, fold and start (M4, M7);
9. workers learn and adjust their courage (M4, M5); self-reliance is updated (M8);
10. costs are booked; once a year the municipality reviews its budget (M9);
11. after the burn-in, the week is recorded.

With ``pre_2015`` the team is replaced by the municipal desk of the old approach (M10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model import kernels
from model.initiative import (
    Initiative,
    cell_map,
    count_members,
    graduate,
    recruit,
    start_initiatives,
)
from model.municipality import Municipality
from model.params import Params, validate
from model.provider import Provider
from model.reporters import SERIES_FIELDS, Tally
from model.resident import (
    CARE_SUPPORT,
    COLLECTIVE,
    ELDERLY,
    FOR_INDICATION,
    FOR_PROVIDER,
    FOR_TEAM,
    MAATWERK,
    MENTAL_HEALTH,
    REASK_WEEKS,
    TEAM,
    VOLUNTEER,
    WAITING,
    YOUTH,
    Population,
    Resident,
    row_max,
)
from model.series import WeeklySeries
from model.worker import (
    COLLECTIVE_ARRANGEMENT,
    INDICATION,
    LIGHT,
    MAATWERK_NOW,
    TEAM_HEAVY,
    Worker,
    case_hours,
    decide_routes,
)

# Severity at which a team case or a group participant needs more than the team can give.
CRISIS = 0.85
# FTE of one worker position (a team of 4 FTE has 5 workers).
FTE_PER_WORKER = 0.8


class NeighbourhoodModel(mesa.Model):
    """A neighbourhood of residents, its social team, providers and the municipality.

    Parameters
    ----------
    params:
        Parameter overrides (a mapping or :class:`~model.params.Params`); everything
        not given takes its registry default. Validated by the registry.
    rng:
        Seed (int) or ``numpy.random.Generator``; one seed gives identical runs.
    collect:
        Record the weekly series in ``datacollector``, a NumPy buffer that reads like
        a Mesa ``DataCollector`` (the summary is always kept).
    **overrides:
        Further parameter overrides, e.g. ``NeighbourhoodModel(mandate=1.0, rng=3)``.
    """

    def __init__(
        self,
        params: Mapping[str, Any] | Params | None = None,
        rng: int | np.random.Generator | None = None,
        collect: bool = True,
        **overrides: Any,
    ) -> None:
        base = params.overrides() if isinstance(params, Params) else dict(params or {})
        p = validate({**base, **overrides})
        super().__init__(rng=rng)
        self.p = p
        self.week = 0
        self.pop = Population(p, self.rng)
        self.residents = Resident.create_agents(self, p.n_residents, list(range(p.n_residents)))
        places = int(round(p.provider_capacity_per_1000 * p.n_residents / 1000.0))
        share = np.full(p.n_providers, places // p.n_providers)
        share[: places % p.n_providers] += 1
        self.providers = [Provider(self, i, int(share[i])) for i in range(p.n_providers)]
        self.municipality = Municipality(self)
        self.workers: list[Worker] = [] if p.pre_2015 else self._hire_workers()
        self.initiatives: dict[int, Initiative] = {}
        self.next_initiative_id = 0
        self.outreach_per_1000 = 0.0  # outreach hours per 1,000 residents last week
        self.now: dict[str, float] = {}
        self._week_intakes = [0, 0]
        self.tally = Tally()
        # Per under-23 (in the order of ``pop.members[YOUTH]``), reset each year:
        n_youth = self.pop.members[YOUTH].size
        self._youth_any = np.zeros(n_youth, bool)  # any support this year
        self._youth_maatwerk = np.zeros(n_youth, bool)  # maatwerk this year
        self._youth_team_reg = np.zeros(n_youth, bool)  # registered team youth care
        self._place_initial_clients()
        self.collect = collect
        self.datacollector = WeeklySeries(SERIES_FIELDS, p.weeks)

    # ---- set-up -------------------------------------------------------------
    @property
    def team_fte(self) -> float:
        """Worker FTE of the team (0 in the pre-2015 approach)."""
        p = self.p
        return 0.0 if p.pre_2015 else p.fte_per_1000 * p.n_residents / 1000.0

    @property
    def mandate(self) -> float:
        """M5: share of decisions the team takes itself (none without a team)."""
        return 0.0 if self.p.pre_2015 else self.p.mandate

    def _hire_workers(self) -> list[Worker]:
        """M4/M6: workers with two crafts that few master both; some seconded by providers."""
        p, rng = self.p, self.rng
        n = max(1, int(round(self.team_fte / FTE_PER_WORKER)))
        skill_ind = rng.beta(7.0, 3.0, n)
        m = min(max(p.collective_skill_mean, 0.01), 0.99)
        skill_col = np.clip(rng.beta(5.0 * m, 5.0 * (1 - m), n) - 0.3 * (skill_ind - 0.7), 0.0, 1.0)
        n_seconded = int(round((1.0 - p.independence) * n))
        seconded = np.zeros(n, bool)
        seconded[rng.permutation(n)[:n_seconded]] = True
        parents = rng.integers(0, p.n_providers, n)
        return [
            Worker(
                self,
                i,
                self.team_fte / n,
                float(skill_ind[i]),
                float(skill_col[i]),
                bool(seconded[i]),
                int(parents[i]) if seconded[i] else -1,
            )
            for i in range(n)
        ]

    def _place_initial_clients(self) -> None:
        """Start with ``init_maatwerk_per_1000`` maatwerk clients, by domain, age and duration."""
        p, pop, rng = self.p, self.pop, self.rng
        k = int(round(p.init_maatwerk_per_1000 * p.n_residents / 1000.0))
        if k == 0:
            return
        # Stock = inflow x duration: weight each (domain, age) cell by its arrivals and by
        # how much longer its needs last (elderly care needs are chronic, M1).
        weight = pop.cell_rate.copy()  # domains x ages
        weight[CARE_SUPPORT, ELDERLY] /= max(1.0 - p.elderly_care_chronicity, 0.1)
        if weight.sum() <= 0.0:  # no problem ever arises (every arrival rate 0): no stock either
            return
        cells = rng.choice(weight.size, size=k, p=(weight / weight.sum()).ravel())
        doms, ages = np.divmod(cells, 3)
        who = np.empty(k, np.int64)
        for a in range(3):
            sel = ages == a
            who[sel] = pop.members[a][rng.integers(0, pop.members[a].size, sel.sum())]
        who, first = np.unique(who, return_index=True)
        doms = doms[first]
        pop.sev[who, doms] = rng.uniform(0.45, 0.85, who.size)  # granted because heavy
        pop.smax[who] = row_max(pop.sev[who])
        # Spread the clients over the providers in turn, within their places.
        free = np.array([pr.free_places for pr in self.providers])
        turns = np.concatenate([np.arange(f) for f in free])
        prov = np.repeat(np.arange(len(self.providers)), free)[np.argsort(turns, kind="stable")]
        prov = prov[: who.size]
        who, doms = who[: prov.size], doms[: prov.size]
        pop.status[who] = MAATWERK
        pop.primary[who] = doms
        pop.provider[who] = prov
        pop.start_week[who] = -rng.integers(0, 156, who.size)
        self._count_clients()

    # ---- the week -----------------------------------------------------------
    def step(self) -> None:
        """Advance the neighbourhood by one week."""
        self.week += 1
        self._week_intakes = [0, 0]  # intakes this week, of which caught early
        self.pop.arrive_problems()
        self.pop.update_support()
        requests, signalled = self.take_requests()
        self.decide_indications()
        intakes = self.run_team_intake() if self.workers else 0
        starts = self.admit_to_providers()
        self.treat_and_evolve()
        self.close_and_escalate()
        collective_hours, collective_cost = self.run_collective()
        for worker in self.workers:
            worker.adjust_courage()
        self.pop.update_reliance(self.week)
        costs = self.book_costs(collective_cost)
        self._track_youth_care()
        if self.week % 52 == 0:
            self.municipality.review()
            self._reinvest_capacity()
            self._close_youth_year()
        if self.week > self.p.burn_in_weeks:
            self.record(requests, signalled, intakes, starts, collective_hours, costs)

    # ---- M2 -----------------------------------------------------------------
    def take_requests(self) -> tuple[int, int]:
        """M2: residents who ask, and those signalled early, join the queue (or the desk)."""
        pop, week = self.pop, self.week
        per_block = None
        if self.workers and self.p.m2_early_signalling:
            per_block = np.bincount(
                [i.block for i in self.initiatives.values() if i.running], minlength=pop.n_blocks
            )
        if kernels.ENABLED:  # the same selection and draws, compiled
            asks, signalled = kernels.help_requests(pop, week, self.outreach_per_1000, per_block)
        else:
            free = pop.free_to_ask(week)
            asks = pop.seek_help(week, free)
            signalled = np.empty(0, np.int64)
            if per_block is not None:
                signalled = pop.signal_early(week, self.outreach_per_1000, per_block, free)
        if kernels.ENABLED and self.workers:
            kernels.enqueue(pop, asks, signalled, week, FOR_TEAM)
            return int(asks.size + signalled.size), int(signalled.size)
        new = np.concatenate([asks, signalled])
        if self.workers:
            pop.enqueue(new, week, FOR_TEAM)
        else:
            pop.enqueue(new, week, FOR_INDICATION)
            pop.ready_week[new] = week + self.municipality.indication_delay
            self._count_intakes(new)
        return int(new.size), int(signalled.size)

    # ---- M5 / M10 -------------------------------------------------------------
    def decide_indications(self) -> None:
        """M5/M10: the desk decides indications that are ready.

        The desk judges the application (the severity when help was requested) and grants
        a standard individual provision (maatwerk) from ``desk_threshold``; below it, the
        case returns to the team for light support, or, with no team, is turned away.
        """
        p, pop, week = self.p, self.pop, self.week
        if kernels.ENABLED:
            ready = kernels.ready_indications(pop, week)
        else:
            ready = pop.waiting(FOR_INDICATION)
            ready = ready[pop.ready_week[ready] <= week]
        if ready.size == 0:
            return
        grant = pop.request_sev[ready] >= p.desk_threshold
        self._route_to_provider(ready[grant], tailored=False)
        rest = ready[~grant]
        if self.workers:
            self._start_team_support(rest, heavy=False)
        else:
            pop.close(rest)
            pop.reask_week[rest] = week + REASK_WEEKS

    # ---- M3 / M5 / M6 -----------------------------------------------------------
    def team_demand(self) -> np.ndarray:
        """M3/M5: individual hours each worker's cases ask this week (after visit caps)."""
        if kernels.ENABLED:
            return kernels.team_demand(self)
        pop = self.pop
        team = (pop.status == TEAM).nonzero()[0]
        hours = case_hours(self, team, pop.heavy[team]) * self.municipality.visit_factor
        n = len(self.workers)
        demand = np.bincount(pop.worker[team], hours, minlength=n).astype(float)
        # M5: a case awaiting an indication costs its worker bridging support and paperwork.
        pending = pop.waiting(FOR_INDICATION)
        pending = pending[pop.worker[pending] >= 0]
        demand += np.bincount(pop.worker[pending], minlength=n) * self.p.light_case_hours
        return demand

    def run_team_intake(self) -> int:
        """M3/M5/M6: workers allocate time and take queued cases while they have room."""
        p, pop = self.p, self.pop
        demand = self.team_demand()
        for worker in self.workers:
            worker.allocate_time(float(demand[worker.index]))
        if kernels.ENABLED:  # the same intake, compiled
            return self._compiled_intake()
        queue = pop.waiting(FOR_TEAM)
        if queue.size == 0:
            return 0
        queue = queue[pop.request_week[queue].argsort(kind="stable")]
        visit = self.municipality.visit_factor
        complexity = pop.complexity(queue)
        est = case_hours(self, queue, pop.smax[queue] >= p.heavy_threshold, complexity) * visit
        # The worker with most room takes cases first, in order of request, while they fit:
        # each taking worker's cases are the span [start, stop) of the queue.
        spans: list[tuple[int, int, Worker]] = []
        pos = 0
        for worker in sorted(self.workers, key=lambda w: -w.spare_hours()):
            spare = worker.spare_hours()
            if pos >= queue.size:
                break
            if spare > 0:
                k = int(est[pos:].cumsum().searchsorted(spare, side="right"))
                if k:
                    spans.append((pos, pos + k, worker))
                pos += k
        if pos == 0:
            return 0
        take, complexity = queue[:pos], complexity[:pos]
        starts = np.array([start for start, _, _ in spans])
        owner = np.empty(pos, np.int64)
        for start, stop, worker in spans:
            owner[start:stop] = worker.index
        for start, stop, _ in spans:  # in the order the workers took their cases
            self._count_intakes(take[start:stop])
        cells = cell_map(self)
        option = cells[pop.block[take] * 4 + pop.sev.take(take, axis=0).argmax(axis=1)]
        route = decide_routes(self, take, owner, option >= 0, starts, complexity)
        pop.worker[take] = owner
        light, heavy = route == LIGHT, route == TEAM_HEAVY
        self._start_team_support(take[light], heavy=False)
        self._start_team_support(take[heavy], heavy=True)
        coll = route == COLLECTIVE_ARRANGEMENT
        self._join_initiative(take[coll], option[coll])
        self._route_to_provider(take[route == MAATWERK_NOW], tailored=True)
        self._route_to_indication(take[route == INDICATION])
        kept = light | heavy
        hours = case_hours(self, take[kept], heavy[kept], complexity[kept])
        # A span's kept cases are one run of ``hours``; its indications cost light hours.
        kept_list, desk_list = kept.tolist(), (route == INDICATION).tolist()
        first = 0
        for start, stop, worker in spans:
            n_kept = sum(kept_list[start:stop])
            added = hours[first : first + n_kept].sum() * visit
            added += sum(desk_list[start:stop]) * p.light_case_hours
            first += n_kept
            worker.allocate_time(worker.demand + float(added))
        return pos

    def _compiled_intake(self) -> int:
        """``run_team_intake`` after the workers' time is allocated, with the compiled loops."""
        taking = sorted(self.workers, key=lambda w: -w.spare_hours())
        spare = np.array([w.spare_hours() for w in taking])
        take, complexity, stops, early, severity = kernels.team_queue(self, spare)
        if take.size == 0:
            return 0
        spans, start = [], 0
        for w, worker in enumerate(taking):
            stop = int(stops[w])
            if stop > start:
                spans.append((start, stop, worker))
                self._tally_intakes(stop - start, int(early[w]), float(severity[w]))
            start = stop
        starts = np.array([start for start, _, _ in spans], np.int64)
        span_worker = np.array([w.index for _, _, w in spans], np.int64)
        u = self.rng.random(kernels.route_draw_count(self, spans))
        cells = cell_map(self)
        _, added, started, waited = kernels.intake(self, take, complexity, starts, span_worker, u, cells)
        self._tally_started(started, waited)
        for (_, _, worker), hours in zip(spans, added.tolist(), strict=True):
            worker.allocate_time(worker.demand + hours)
        return int(take.size)

    def _count_intakes(self, idx: np.ndarray) -> None:
        """Record intake severity and whether the case was caught early (before heavy)."""
        if self.week <= self.p.burn_in_weeks or idx.size == 0:
            return
        s = self.pop.smax[idx]
        self._tally_intakes(int(idx.size), int(np.count_nonzero(s < self.p.heavy_threshold)), float(s.sum()))

    def _tally_intakes(self, n: int, early: int, severity: float) -> None:
        """Add ``n`` intakes, ``early`` of them caught early, of summed severity ``severity``."""
        if self.week <= self.p.burn_in_weeks:
            return
        self.tally.intakes += n
        self.tally.intakes_early += early
        self._week_intakes[0] += n
        self._week_intakes[1] += early
        self.tally.intake_severity += severity

    def _started(self, idx: np.ndarray) -> None:
        """Record waits of residents whose support starts now."""
        pop = self.pop
        if self.week > self.p.burn_in_weeks and idx.size:
            asked = pop.request_week[idx]
            had = asked >= 0
            self._tally_started(int(had.sum()), int((self.week - asked[had]).sum()))
        pop.request_week[idx] = -1
        pop.start_week[idx] = self.week

    def _tally_started(self, started: int, waited: int) -> None:
        """Add supports started (of residents who had asked) and their summed weeks of waiting."""
        if started:
            self.tally.supports_started += started
            self.tally.wait_weeks += float(waited)

    def _start_team_support(self, idx: np.ndarray, heavy: bool) -> None:
        if idx.size == 0:
            return
        pop = self.pop
        self._started(idx)
        pop.status[idx] = TEAM
        pop.wait_kind[idx] = 0
        pop.heavy[idx] = heavy

    def _route_to_indication(self, idx: np.ndarray) -> None:
        if idx.size == 0:
            return
        pop = self.pop
        pop.status[idx] = WAITING
        pop.wait_kind[idx] = FOR_INDICATION
        pop.ready_week[idx] = self.week + self.municipality.indication_delay

    def _route_to_provider(self, idx: np.ndarray, tailored: bool) -> None:
        """M5/M6: wait for a maatwerk place; a seconded worker's case goes to the parent provider.

        ``tailored`` marks maatwerk decided by a mandated worker rather than the desk.
        """
        if idx.size == 0:
            return
        pop = self.pop
        pop.status[idx] = WAITING
        pop.wait_kind[idx] = FOR_PROVIDER
        pop.tailored[idx] = tailored
        # The trailing -1 serves residents without a worker (index -1): any provider.
        parent = np.array([w.parent for w in self.workers] + [-1], np.int16)
        pop.provider[idx] = parent[pop.worker[idx]]

    def _join_initiative(self, idx: np.ndarray, ids: np.ndarray) -> None:
        """M7: a collective arrangement instead of individual support."""
        if idx.size == 0:
            return
        pop = self.pop
        self._started(idx)
        pop.status[idx] = COLLECTIVE
        pop.wait_kind[idx] = 0
        pop.initiative[idx] = ids
        pop.primary[idx] = pop.sev.take(idx, axis=0).argmax(axis=1)
        pop.worker[idx] = -1

    def admit_to_providers(self) -> int:
        """M6: providers admit waiting clients while places last: the preferred provider first, then any."""
        pop = self.pop
        if kernels.ENABLED:  # the same admissions, compiled
            new, started, waited, clients = kernels.admit(self)
            if clients is not None:
                for provider in self.providers:
                    provider.clients = int(clients[provider.index])
            self._tally_started(started, waited)
            return new
        wait = pop.waiting(FOR_PROVIDER)
        if wait.size == 0:
            return 0
        wait = wait[pop.request_week[wait].argsort(kind="stable")]
        self._count_clients()
        admitted = []
        preferred = pop.provider[wait]
        taken = np.zeros(wait.size, bool)
        for provider in self.providers:
            mine = (preferred == provider.index).nonzero()[0][: provider.free_places]
            taken[mine] = True
            provider.clients += mine.size
            admitted.append(wait[mine])
        rest = wait[~taken]  # still in order of request
        for provider in self.providers:
            n = min(provider.free_places, rest.size)
            pop.provider[rest[:n]] = provider.index
            provider.clients += n
            admitted.append(rest[:n])
            rest = rest[n:]
        new = np.concatenate(admitted)
        self._started(new)
        pop.status[new] = MAATWERK
        pop.wait_kind[new] = 0
        pop.worker[new] = -1  # handed over to the provider
        pop.primary[new] = pop.sev.take(new, axis=0).argmax(axis=1)
        pop.heavy[new] = False
        return int(new.size)

    def _count_clients(self) -> None:
        pop, n = self.pop, len(self.providers)
        if kernels.ENABLED:
            counts = kernels.count_by(pop.status, MAATWERK, pop.provider, n)
        else:
            counts = np.bincount(pop.provider[pop.status == MAATWERK], minlength=n)
        for provider in self.providers:
            provider.clients = int(counts[provider.index])

    # ---- severity under support ---------------------------------------------
    def treat_and_evolve(self) -> None:
        """M1/M3/M6/M7/M8: one week of severity change for everyone with an open problem.

        Team support works on every domain (the generalist approach), scaled by the
        worker's individual skill, the share of demand the worker can meet and the visit
        cap; maatwerk and collective arrangements work on their own domain.
        """
        p, pop = self.p, self.pop
        if kernels.ENABLED:  # the same computation, compiled
            self._tally_removed(kernels.treat_evolve(self))
            return
        idx = pop.open_cases()
        st = pop.status[idx]
        treated = np.zeros((idx.size, 4))
        relief = np.zeros((idx.size, 4))
        team = (st == TEAM).nonzero()[0]
        if team.size:
            wk = pop.worker[idx[team]]
            service = np.array([w.service for w in self.workers])[wk]
            skill = np.array([w.skill_individual for w in self.workers])[wk]
            intensity = service * self.municipality.visit_factor
            domain = np.ones(4)
            if p.m6_provider_behaviour:
                domain[MENTAL_HEALTH] = 0.5 + 0.5 * p.specialist_access
            relief[team] = p.team_effect * (skill * intensity)[:, None] * domain
            treated[team] = intensity[:, None]
        # Maatwerk and collective arrangements work on the primary domain: flat (case, domain) cells.
        flat_relief, flat_treated = relief.reshape(-1), treated.reshape(-1)
        mw = (st == MAATWERK).nonzero()[0]
        cell = mw * 4 + pop.primary[idx[mw]]
        fit = 1.0 if not p.m5_mandate_rules else np.where(pop.tailored[idx[mw]], 1.0, p.standard_fit)
        flat_relief[cell] = p.maatwerk_effect * fit
        flat_treated[cell] = 1.0
        coll = (st == COLLECTIVE).nonzero()[0]
        if coll.size:
            quality = np.zeros(self.next_initiative_id)
            for ini in self.initiatives.values():
                quality[ini.ident] = ini.quality
            q = quality[pop.initiative[idx[coll]]]
            cell = coll * 4 + pop.primary[idx[coll]]
            flat_relief[cell] = p.collective_effect * q
            flat_treated[cell] = q
        self._tally_removed(pop.evolve(idx, treated, relief))

    def _tally_removed(self, removed: dict[str, float]) -> None:
        if self.week > self.p.burn_in_weeks:
            for key, value in removed.items():
                self.tally.removed[key] += value

    def close_and_escalate(self) -> None:
        """M3/M5/M6: close resolved team cases, escalate crises, step maatwerk clients down."""
        p, pop, rng = self.p, self.pop, self.rng
        resolved, crisis, queued, outgrown, eligible = cases = self._week_end_cases()
        if kernels.ENABLED:  # the same steps, compiled; one call draws for crises, then step-downs
            kernels.close_week(self, cases, rng.random(crisis.size + eligible.size))
            return
        pop.close(resolved)
        if crisis.size:
            direct = rng.random(crisis.size) < max(self.mandate, p.escalation_agreements)
            self._route_to_provider(crisis[direct], tailored=False)
            self._route_to_indication(crisis[~direct])
        pop.request_sev[queued] = pop.smax[queued]
        self._route_to_indication(queued)  # a crisis bypasses the team's queue (GP referral)
        pop.enqueue(outgrown, self.week, FOR_TEAM if self.workers else FOR_INDICATION)
        if eligible.size:
            chance = np.array([pr.step_down_chance for pr in self.providers])[pop.provider[eligible]]
            pop.close(eligible[rng.random(eligible.size) < chance])

    def _week_end_cases(self) -> tuple[np.ndarray, ...]:
        """Team cases resolved; crises in team support, in the team's queue and in a group;
        maatwerk clients eligible for step-down (primary domain below the threshold).

        Each in index order. The sets do not overlap, and acting on one does not change who
        is in another, so they are all found at once.
        """
        p, pop = self.p, self.pop
        if kernels.ENABLED:
            return kernels.week_end_cases(pop, CRISIS)
        team = (pop.status == TEAM).nonzero()[0]
        resolved = team[pop.smax[team] < p.resolved_threshold]
        crises = (pop.smax >= CRISIS).nonzero()[0]
        status = pop.status[crises]
        crisis = crises[status == TEAM]
        queued = crises[(status == WAITING) & (pop.wait_kind[crises] == FOR_TEAM)]
        outgrown = crises[status == COLLECTIVE]  # need outgrows the group
        mw = (pop.status == MAATWERK).nonzero()[0]
        eligible = mw[pop.sev.take(mw * 4 + pop.primary[mw]) < p.step_down_threshold]
        return resolved, crisis, queued, outgrown, eligible

    # ---- M7 -----------------------------------------------------------------
    def add_initiative(self, block: int, domain: int, coordinator: Worker) -> Initiative:
        """M7: register a new initiative in ``block`` for ``domain``."""
        ini = Initiative(self, self.next_initiative_id, block, domain, coordinator)
        ini.running = True
        ini.quality = 0.4 + 0.6 * coordinator.skill_collective
        self.initiatives[ini.ident] = ini
        self.next_initiative_id += 1
        if self.week > self.p.burn_in_weeks:
            self.tally.initiatives_started += 1
        return ini

    def run_collective(self) -> tuple[float, float]:
        """M4/M7: collective and outreach work; returns (hours used, EUR spent) this week."""
        p = self.p
        available = sum(w.collective_hours for w in self.workers)
        if not self.workers:
            self.outreach_per_1000 = 0.0
            return 0.0, 0.0
        pool = available * (1.0 - p.outreach_share) if p.m7_initiatives else 0.0
        cost = 0.0
        if p.m7_initiatives:
            count_members(self)
            funds = self.municipality.collective_funds_left()
            for ini in sorted(self.initiatives.values(), key=lambda i: i.started):
                pool -= ini.run(pool, funds - cost)
                if ini.running:
                    cost += ini.cost_per_week
            self._fold_initiatives()
            recruit(self)
            graduate(self)
            pool = start_initiatives(self, pool)
        on_initiatives = max(0.0, available * (1.0 - p.outreach_share) - pool) if p.m7_initiatives else 0.0
        # Collective time not spent on initiatives is outreach (M2).
        outreach = available - on_initiatives if p.m2_early_signalling else 0.0
        used = on_initiatives + outreach
        self.outreach_per_1000 = outreach * 1000.0 / p.n_residents
        share = used / available if available > 0 else 0.0
        for worker in self.workers:
            worker.learn(worker.collective_hours * share)
        return used, cost

    def _fold_initiatives(self) -> None:
        folded = [i for i in self.initiatives.values() if i.folded]
        if not folded:
            return
        ids = np.array([i.ident for i in folded])
        members = np.isin(self.pop.initiative, ids).nonzero()[0]
        self.pop.close(members)
        for ini in folded:
            del self.initiatives[ini.ident]
            ini.remove()

    # ---- money and records ----------------------------------------------------
    def book_costs(self, collective_cost: float) -> dict[str, float]:
        """M9: this week's spending by kind (EUR)."""
        p = self.p
        fte = self.team_fte if self.workers else p.desk_fte_per_1000 * p.n_residents / 1000.0
        team = fte * p.hours_per_fte * p.worker_hour_cost
        if self.workers:
            team += self.municipality.extra_team_hours * p.worker_hour_cost
        clients = int((self.pop.status == MAATWERK).sum())
        maatwerk = clients * p.maatwerk_cost_year / 52.0
        self.municipality.pay(team, maatwerk, collective_cost)
        return {"team": team, "maatwerk": maatwerk, "collective": collective_cost}

    def _reinvest_capacity(self) -> None:
        """M9: spread the team hours bought with reinvested savings over the workers."""
        extra = self.municipality.extra_team_hours / max(len(self.workers), 1)
        for worker in self.workers:
            worker.capacity = worker.base_capacity + extra

    def _track_youth_care(self) -> None:
        """Mark the under-23s supported this week, for the yearly youth-care KPIs.

        Registered youth care (jeugdhulp, as the CBS Jeugdmonitor counts it) is maatwerk,
        or team support the municipality registers as a youth-care trajectory: heavy team
        support, or team support that has lasted ``youth_registration_weeks``. Light,
        short team support and collective arrangements are general provisions and are not
        registered; they count only in ``youth_support_share``.
        """
        pop, youth = self.pop, self.pop.members[YOUTH]
        if kernels.ENABLED:
            kernels.track_youth(self, youth)
            return
        status = pop.status.take(youth)
        team = status == TEAM
        maatwerk = status == MAATWERK
        self._youth_any |= team | maatwerk | (status == COLLECTIVE)
        self._youth_maatwerk |= maatwerk
        if team.any():
            kept = youth[team]
            long = self.week - pop.start_week.take(kept) >= self.p.youth_registration_weeks
            self._youth_team_reg[team] |= pop.heavy.take(kept) | long

    def _close_youth_year(self) -> None:
        if self.week > self.p.burn_in_weeks:
            maatwerk = self._youth_maatwerk
            registered = maatwerk | self._youth_team_reg
            self.tally.youth_years.append(
                (
                    int(maatwerk.size),
                    int(self._youth_any.sum()),
                    int(registered.sum()),
                    int((registered & ~maatwerk).sum()),
                )
            )
        self._youth_any[:] = False
        self._youth_maatwerk[:] = False
        self._youth_team_reg[:] = False

    def record(
        self,
        requests: int,
        signalled: int,
        intakes: int,
        starts: int,
        collective_hours: float,
        costs: dict[str, float],
    ) -> None:
        """Record one reported week: the series row and the running summary sums."""
        p, pop = self.p, self.pop
        counts, (unmet, sr_sum, smax_sum) = self._week_counts()
        capacity = sum(w.capacity for w in self.workers)
        self.tally.unmet += float(unmet)
        self.tally.requests += requests
        self.tally.signalled += signalled
        self.tally.maatwerk_starts += starts
        n_init = sum(1 for i in self.initiatives.values() if i.running)
        caseload = int(counts[6])
        week_intakes, week_early = self._week_intakes
        self.now = {
            "week": float(self.week - p.burn_in_weeks),
            "requests": float(requests),
            "signalled": float(signalled),
            "intakes": float(intakes),
            "caught_early_share": week_early / week_intakes if week_intakes else float("nan"),
            "maatwerk_starts": float(starts),
            "waiting": float(counts[WAITING]),
            "team_cases": float(counts[TEAM]),
            "caseload_per_fte": caseload / self.team_fte if self.team_fte else 0.0,
            "collective_time_share": collective_hours / capacity if capacity else 0.0,
            "overloaded_share": (
                sum(w.overloaded for w in self.workers) / len(self.workers) if self.workers else 0.0
            ),
            "initiatives": float(n_init),
            "participants": float(counts[COLLECTIVE]),
            "volunteers": float(counts[VOLUNTEER]),
            "maatwerk_clients": float(counts[MAATWERK]),
            "self_reliance_mean": float(sr_sum / pop.n),  # as ndarray.mean
            "severity_mean": float(smax_sum / pop.n),
            "hidden_need": float(counts[7]),
            "cost_team": costs["team"],
            "cost_maatwerk": costs["maatwerk"],
            "cost_collective": costs["collective"],
        }
        self.tally.add_week({**self.now, "wmo_maatwerk": float(counts[8])})
        if self.collect:
            self.datacollector.collect(self)

    def _week_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """What a reported week counts over residents: residents per status, then residents
        assigned to a worker, hidden heavy need and Wmo maatwerk clients; and the sums of
        unmet need above the signal floor, of self-reliance and of worst severity."""
        p, pop = self.p, self.pop
        if kernels.ENABLED:
            return kernels.week_record(pop)
        status, smax = pop.status, pop.smax
        unsupported = pop.unsupported()
        needy = (unsupported | (status == WAITING)) & (smax >= p.signal_floor)
        counts = np.concatenate(
            [
                np.bincount(status, minlength=6),
                [
                    np.count_nonzero(pop.worker >= 0),
                    np.count_nonzero(unsupported & (smax >= p.heavy_threshold)),
                    np.count_nonzero((status == MAATWERK) & (pop.primary == CARE_SUPPORT)),
                ],
            ]
        )
        return counts, np.array([smax[needy].sum(), pop.sr.sum(), smax.sum()])

    # ---- outputs ------------------------------------------------------------
    def run_model(self, weeks: int | None = None) -> None:
        """Run the burn-in and ``weeks`` reported weeks (default: the ``weeks`` parameter)."""
        total = self.p.burn_in_weeks + (self.p.weeks if weeks is None else weeks)
        while self.week < total:
            self.step()

    def summary(self) -> dict[str, float]:
        """The one-row flat summary of the reported weeks (see ``model.reporters``)."""
        return self.tally.summary(self.p.n_residents, self.p.budget_per_resident)

    def series(self) -> pd.DataFrame:
        """The weekly series of the reported weeks, one row per week."""
        df = self.datacollector.get_model_vars_dataframe()
        if df.empty:
            return pd.DataFrame(columns=list(SERIES_FIELDS))
        return df.reset_index(drop=True).astype({"week": int})


def run(
    params: Mapping[str, Any] | Params | None = None,
    seed: int = 0,
    weeks: int | None = None,
    collect: bool = True,
    **overrides: Any,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Run one neighbourhood and return ``(summary, weekly series)``.

    ``params`` and ``overrides`` are validated by the registry; ``seed`` fixes every
    random draw; ``weeks`` overrides the reported horizon.
    """
    if weeks is not None:
        overrides = {**overrides, "weeks": weeks}
    model = NeighbourhoodModel(params, rng=seed, collect=collect, **overrides)
    model.run_model()
    return model.summary(), model.series()
