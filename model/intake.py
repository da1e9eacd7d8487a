"""M3 caseload and time, M5 mandate, M6 secondment: the team's week, from demand to routes.

M3 (Van Arum, 'Sociale wijkteams are here to stay'). A team case costs its worker, per week,

    hours = (heavy_case_hours if heavy else light_case_hours) x (1 + complexity_extra x max(c - 1, 0))
            x visit factor

with *c* the domains above ``complex_threshold`` (M1); a case awaiting an indication costs
``light_case_hours`` of bridging support and paperwork. Individual demand is served first;
collective work gets what is left up to ``collective_time_target`` (:meth:`Worker.allocate_time`).
Workers with room (up to ``overload_tolerance`` x capacity), the one with most room first, take
cases from the queue in order of request while the cases' hours fit.

M5 (RadarAdvies; Van Arum) and M6 (Wijland). For each case taken, with uniform draws per rule:

- early (``smax < heavy_threshold``) and holdable: light team support;
- otherwise, without mandate (draw >= ``mandate``): the municipal desk's indication;
- with mandate: maatwerk at once, unless the worker tailors (draw < courage *lef*, and a seconded
  worker does not refer to the parent provider, draw >= ``secondment_bias``): then a collective
  arrangement where a running initiative with room serves the worst domain in the block (unless
  the resident is reluctant), or intensive team support where ``smax < maatwerk_threshold``, the
  case is holdable and its hours fit, in order, in the worker's nominal capacity (M3).

A case is *holdable* unless it is mental-health-complex (c >= 2 with mental health above the
complex threshold) and no specialist is at hand (draw >= ``specialist_access``).

At the week's end resolved team cases close; crises in team support go straight to maatwerk where
mandate or escalation agreements allow (draw < max(mandate, escalation_agreements)), else to the
desk; crises in the queue bypass it to the desk (a GP referral); a participant whose need outgrows
the group asks again; maatwerk clients may be stepped down (M6, :mod:`model.providers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import providers
from model.collective import cell_map
from model.compiled import jit, named, pairwise_sum, rules, stable_order
from model.resident import (
    COLLECTIVE,
    FOR_INDICATION,
    FOR_TEAM,
    MAATWERK,
    MENTAL_HEALTH,
    TEAM,
    WAITING,
    close_support,
    domains_above,
    join_queue,
    start_support,
    to_indication,
    to_provider,
    worst_domain,
)

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel

# Routes a worker can choose for a new case.
LIGHT, TEAM_HEAVY, COLLECTIVE_ARRANGEMENT, MAATWERK_NOW, INDICATION = range(5)
ROUTES = ("light", "team_heavy", "collective", "maatwerk", "indication")
# Severity at which a team case or a group participant needs more than the team can give.
CRISIS = 0.85
# Per worker, what the route decisions read.
STAFF = np.dtype([("seconded", np.bool_), ("lef", np.float64), ("room", np.float64), ("parent", np.int64)])


def intake_rules(model: NeighbourhoodModel) -> np.record:
    """The parameter values the M3/M5/M6 loops read (fixed for a run)."""
    p = model.p
    return rules(
        heavy_threshold=p.heavy_threshold,
        complex_threshold=p.complex_threshold,
        specialist_access=p.specialist_access,
        mandate=model.mandate,
        secondment_bias=p.secondment_bias,
        maatwerk_threshold=p.maatwerk_threshold,
        light_case_hours=p.light_case_hours,
        heavy_case_hours=p.heavy_case_hours,
        complexity_extra=p.complexity_extra,
        provider_rules=bool(p.m6_provider_behaviour),
        mandate_rules=bool(p.m5_mandate_rules),
        capacity_limit=bool(p.m3_capacity_limit),
        indication_delay=model.municipality.indication_delay,
        resolved_threshold=p.resolved_threshold,
        step_down_threshold=p.step_down_threshold,
        direct_share=max(model.mandate, p.escalation_agreements),
    )


@jit
def case_hours(heavy, complexity, r):
    """M3: a case's weekly worker hours before visit caps (the module's first equation)."""
    base = r.heavy_case_hours if heavy else r.light_case_hours
    return base * (1.0 + r.complexity_extra * max(complexity - 1, 0))


# ---- M3 demand and time -----------------------------------------------------------------------
def allocate_time(model: NeighbourhoodModel) -> None:
    """M3/M5: each worker's individual demand this week; individual work first, collective the rest."""
    pop = model.pop
    demand = _team_demand(
        pop.sev,
        pop.status,
        pop.wait_kind,
        pop.worker,
        pop.heavy,
        len(model.workers),
        model.municipality.visit_factor,
        model.rules["intake"],
    )
    for worker in model.workers:
        worker.allocate_time(float(demand[worker.index]))


@jit
def _team_demand(sev, status, wait_kind, worker, heavy, n_workers, visit, rules):
    r = rules[0]
    demand = np.zeros(n_workers)
    pending = np.zeros(n_workers, np.int64)  # M5: cases awaiting an indication, per worker
    for i in range(status.size):
        st = status[i]
        if st == TEAM:
            demand[worker[i]] += case_hours(heavy[i], domains_above(sev, i, r.complex_threshold), r) * visit
        elif st == WAITING and wait_kind[i] == FOR_INDICATION and worker[i] >= 0:
            pending[worker[i]] += 1
    for w in range(n_workers):
        demand[w] += pending[w] * r.light_case_hours
    return demand


# ---- M3 the queue -----------------------------------------------------------------------------
def run_team_intake(model: NeighbourhoodModel) -> int:
    """M3/M5/M6: workers allocate time, take queued cases while they have room, and route them.

    Returns the cases taken.
    """
    allocate_time(model)
    take, complexity, spans = take_from_queue(model)
    if take.size == 0:
        return 0
    starts = np.array([start for start, _ in spans], np.int64)
    span_worker = np.array([worker.index for _, worker in spans], np.int64)
    route, owner, option = decide_routes(model, take, complexity, starts, span_worker)
    added = start_routes(model, take, complexity, starts, route, owner, option)
    for (_, worker), hours in zip(spans, added.tolist(), strict=True):
        worker.allocate_time(worker.demand + hours)
    return int(take.size)


def take_from_queue(model: NeighbourhoodModel) -> tuple[np.ndarray, np.ndarray, list]:
    """M3: the cases workers take this week, their complexity, and (first case, worker) per taker."""
    pop = model.pop
    taking = sorted(model.workers, key=lambda w: -w.spare_hours())
    spare = np.array([w.spare_hours() for w in taking])
    take, complexity, stops, early, severity = _take_from_queue(
        pop.status,
        pop.wait_kind,
        pop.request_week,
        pop.sev,
        pop.smax,
        spare,
        model.municipality.visit_factor,
        model.rules["intake"],
    )
    spans, start = [], 0
    for w, worker in enumerate(taking):
        stop = int(stops[w])
        if stop > start:
            spans.append((start, worker))
            if model.reporting:
                model.tally.add_intakes(stop - start, int(early[w]), float(severity[w]))
        start = stop
    return take, complexity, spans


@jit
def _queue(status, wait_kind, request_week):
    """Residents waiting for the team, by request week (ties by index)."""
    queue = np.empty(status.size, np.int64)
    n = 0
    for i in range(status.size):
        if wait_kind[i] == FOR_TEAM and status[i] == WAITING:
            queue[n] = i
            n += 1
    queue = queue[:n]
    return queue[stable_order(request_week[queue])]


@jit
def _take_from_queue(status, wait_kind, request_week, sev, smax, spare, visit, rules):
    r = rules[0]
    queue = _queue(status, wait_kind, request_week)
    n = queue.size
    complexity = np.empty(n, np.int64)
    est = np.empty(n)  # estimated hours, heavy by the worst severity
    for j in range(n):
        i = queue[j]
        complexity[j] = domains_above(sev, i, r.complex_threshold)
        est[j] = case_hours(smax[i] >= r.heavy_threshold, complexity[j], r) * visit
    # Workers (most room first) take cases in order while they fit; each worker's cases end at
    # ``stops``; per worker the cases caught early and their summed severity.
    stops = np.zeros(spare.size, np.int64)
    early = np.zeros(spare.size, np.int64)
    severity = np.zeros(spare.size)
    s = np.empty(n)
    pos = 0
    for w in range(spare.size):
        start = pos
        total = 0.0  # the running total of hours
        while spare[w] > 0 and pos < n and total + est[pos] <= spare[w]:
            total += est[pos]
            s[pos] = smax[queue[pos]]
            if s[pos] < r.heavy_threshold:
                early[w] += 1
            pos += 1
        stops[w] = pos
        severity[w] = pairwise_sum(s, start, pos - start)
    return queue[:pos], complexity[:pos], stops, early, severity


# ---- M5/M6 routes -------------------------------------------------------------------------------
def decide_routes(
    model: NeighbourhoodModel,
    take: np.ndarray,
    complexity: np.ndarray,
    starts: np.ndarray,
    span_worker: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """M5/M6: the route of each case taken (see :data:`ROUTES`), its worker and its collective option.

    Worker ``span_worker[k]`` takes the cases from ``starts[k]`` to the next start. The option is
    the running initiative with room for the case's worst domain in its block (-1: none).
    """
    pop, rules = model.pop, model.rules["intake"]
    rows = [(w.seconded, w.lef, max(0.0, w.capacity - w.demand), w.parent) for w in model.workers]
    staff = named(np.array(rows, STAFF))
    # Draws per case: specialist (M6), mandate (M5), referral (M6, seconded workers), courage, reluctance.
    m5, m6 = bool(rules["mandate_rules"][0]), bool(rules["provider_rules"][0])
    stops = starts.tolist()[1:] + [take.size]
    spans = zip(starts.tolist(), stops, span_worker.tolist(), strict=True)
    n = sum((stop - start) * (2 + m5 + m6 + (m6 and model.workers[w].seconded)) for start, stop, w in spans)
    u = model.rng.random(n)
    cells = cell_map(model)
    return _decide_routes(
        take,
        complexity,
        starts,
        span_worker,
        u,
        cells,
        staff,
        pop.sev,
        pop.smax,
        pop.reluctance,
        pop.block,
        rules,
    )


@jit
def _route_draws(starts, span_worker, n, u, staff, r):
    """Who takes each case, and the uniform draws for its decisions (5 x cases).

    Rows: specialist access, mandate, secondment referral, courage, reluctance. Per worker's
    cases, the rows that apply are drawn in turn, each over the worker's cases.
    """
    owner = np.empty(n, np.int64)
    draw = np.zeros((5, n))
    used = 0
    for k in range(starts.size):
        a = starts[k]
        b = starts[k + 1] if k + 1 < starts.size else n
        w = span_worker[k]
        owner[a:b] = w
        applies = (r.provider_rules, r.mandate_rules, staff[w].seconded and r.provider_rules, True, True)
        for row in range(5):
            if applies[row]:
                draw[row, a:b] = u[used : used + b - a]
                used += b - a
    return owner, draw


@jit
def _decide_routes(
    take, complexity, starts, span_worker, u, cells, staff, sev, smax, reluctance, block, rules
):
    r = rules[0]
    n = take.size
    owner, draw = _route_draws(starts, span_worker, n, u, staff, r)
    route = np.empty(n, np.int8)
    option = np.empty(n, np.int64)
    holdable = np.empty(n, np.bool_)
    wanted = np.zeros(n, np.bool_)  # intensive team support wanted (if it fits, below)
    for j in range(n):
        i, w = take[j], owner[j]
        option[j] = cells[block[i] * 4 + worst_domain(sev, i)]
        complex_ggz = complexity[j] >= 2 and sev[i, MENTAL_HEALTH] > r.complex_threshold
        holdable[j] = not complex_ggz or (draw[0, j] < r.specialist_access if r.provider_rules else True)
        mandate = draw[1, j] < r.mandate if r.mandate_rules else True
        refers = r.provider_rules and staff[w].seconded and draw[2, j] < r.secondment_bias
        tailor = mandate and not refers and draw[3, j] < staff[w].lef
        route[j] = MAATWERK_NOW if mandate else INDICATION
        if tailor and option[j] >= 0 and not draw[4, j] < reluctance[i]:
            route[j] = COLLECTIVE_ARRANGEMENT
        elif tailor and smax[i] < r.maatwerk_threshold and holdable[j]:
            wanted[j] = True
    # M3: a worker keeps intensive cases, in order, while their hours fit the worker's room:
    # the running total over all cases less the total before the worker's first case.
    total = before = 0.0
    k = 0
    for j in range(n):
        hours = case_hours(True, complexity[j], r) if wanted[j] else 0.0
        total += hours
        if k < starts.size and j == starts[k]:
            before = total - hours
            k += 1
        if wanted[j] and (not r.capacity_limit or total - before <= staff[owner[j]].room):
            route[j] = TEAM_HEAVY
        if smax[take[j]] < r.heavy_threshold and holdable[j]:
            route[j] = LIGHT
    return route, owner, option


def start_routes(model, take, complexity, starts, route, owner, option) -> np.ndarray:
    """M3/M5/M6: start each case on its route, in place; returns the hours each taker's cases add."""
    pop = model.pop
    parent = np.array([w.parent for w in model.workers], np.int64)
    support = (
        pop.status,
        pop.wait_kind,
        pop.request_week,
        pop.start_week,
        pop.ready_week,
        pop.heavy,
        pop.tailored,
        pop.worker,
        pop.provider,
        pop.initiative,
        pop.primary,
        pop.referral_week,
    )
    added, started, waited = _start_routes(
        take,
        complexity,
        starts,
        route,
        owner,
        option,
        parent,
        pop.sev,
        support,
        model.week,
        model.municipality.visit_factor,
        model.reporting,
        model.rules["intake"],
    )
    model.tally.add_started(int(started), int(waited))
    return added


@jit
def _start_routes(
    take, complexity, starts, route, owner, option, parent, sev, support, week, visit, tally, rules
):
    r = rules[0]
    (
        status,
        wait_kind,
        request_week,
        start_week,
        ready_week,
        heavy,
        tailored,
        worker,
        provider,
        initiative,
        primary,
        referral_week,
    ) = support
    started = waited = 0  # supports started (of residents who had asked) and their weeks of waiting
    added = np.zeros(starts.size)  # hours each taker's kept cases and indications add
    hours = np.empty(take.size)
    k = -1
    kept = desk = 0
    for j in range(take.size):
        if k + 1 < starts.size and j == starts[k + 1]:
            if k >= 0:
                added[k] = pairwise_sum(hours, 0, kept) * visit + desk * r.light_case_hours
            k += 1
            kept = desk = 0
        i, rt = take[j], route[j]
        worker[i] = owner[j]
        if rt == LIGHT or rt == TEAM_HEAVY or rt == COLLECTIVE_ARRANGEMENT:
            weeks = start_support(i, week, request_week, start_week, wait_kind)
            if tally and weeks >= 0:
                started += 1
                waited += weeks
        if rt == LIGHT or rt == TEAM_HEAVY:
            status[i] = TEAM
            heavy[i] = rt == TEAM_HEAVY
            hours[kept] = case_hours(rt == TEAM_HEAVY, complexity[j], r)
            kept += 1
        elif rt == COLLECTIVE_ARRANGEMENT:
            status[i] = COLLECTIVE
            initiative[i] = option[j]
            primary[i] = worst_domain(sev, i)
            worker[i] = -1
        elif rt == MAATWERK_NOW:
            to_provider(i, True, parent[owner[j]], week, status, wait_kind, tailored, provider, referral_week)
        else:
            to_indication(i, week + r.indication_delay, status, wait_kind, ready_week)
            desk += 1
    if k >= 0:
        added[k] = pairwise_sum(hours, 0, kept) * visit + desk * r.light_case_hours
    return added, started, waited


# ---- M3/M5 the week's end -----------------------------------------------------------------------
def close_and_escalate(model: NeighbourhoodModel) -> None:
    """M3/M5/M6: close resolved team cases, escalate crises, step maatwerk clients down.

    One draw per crisis, then one per step-down candidate.
    """
    pop, rules = model.pop, model.rules["intake"]
    resolved, crisis, queued, outgrown, eligible = _week_end_cases(
        pop.status, pop.smax, pop.sev, pop.primary, pop.wait_kind, rules
    )
    u = model.rng.random(crisis.size + eligible.size)
    parent = np.array([w.parent for w in model.workers], np.int64)
    support = pop.support_arrays("ready_week", "request_week", "request_sev", "referral_week")
    kind = FOR_TEAM if model.workers else FOR_INDICATION
    _close_and_escalate(
        resolved, crisis, queued, outgrown, u, parent, pop.smax, support, model.week, kind, rules
    )
    providers.step_down(model, eligible, u[crisis.size :])


@jit
def _week_end_cases(status, smax, sev, primary, wait_kind, rules):
    """Team cases resolved; crises in team support, in the team's queue and in a group; maatwerk
    clients eligible for step-down (primary domain below the threshold). Each in index order."""
    r = rules[0]
    found = np.empty((5, status.size), np.int64)
    counts = np.zeros(5, np.int64)
    for i in range(status.size):
        st, s = status[i], smax[i]
        kind = -1
        if st == TEAM:
            kind = 0 if s < r.resolved_threshold else (1 if s >= CRISIS else -1)
        elif st == WAITING and s >= CRISIS and wait_kind[i] == FOR_TEAM:
            kind = 2
        elif st == COLLECTIVE and s >= CRISIS:
            kind = 3
        elif st == MAATWERK and sev[i, primary[i]] < r.step_down_threshold:
            kind = 4
        if kind >= 0:
            found[kind, counts[kind]] = i
            counts[kind] += 1
    return (
        found[0, : counts[0]],
        found[1, : counts[1]],
        found[2, : counts[2]],
        found[3, : counts[3]],
        found[4, : counts[4]],
    )


@jit
def _close_and_escalate(
    resolved, crisis, queued, outgrown, u, parent, smax, support, week, outgrown_kind, rules
):
    r = rules[0]
    (
        status,
        wait_kind,
        worker,
        provider,
        initiative,
        heavy,
        tailored,
        ready_week,
        request_week,
        request_sev,
        referral_week,
    ) = support
    ready = week + r.indication_delay
    for i in resolved:
        close_support(i, status, wait_kind, worker, provider, initiative, heavy)
    for c in range(crisis.size):  # M5: straight to maatwerk where agreements or mandate allow
        i = crisis[c]
        if u[c] < r.direct_share:
            referrer = parent[worker[i]] if worker[i] >= 0 else -1
            to_provider(i, False, referrer, week, status, wait_kind, tailored, provider, referral_week)
        else:
            to_indication(i, ready, status, wait_kind, ready_week)
    for i in queued:  # a crisis bypasses the team's queue (GP referral)
        request_sev[i] = smax[i]
        to_indication(i, ready, status, wait_kind, ready_week)
    for i in outgrown:  # the need outgrows the group: back on the waiting list
        join_queue(i, outgrown_kind, week, status, wait_kind, request_week, request_sev, smax, initiative)
