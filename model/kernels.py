"""Compiled loops for the weekly resident dynamics, with the NumPy code as reference and fallback.

Most steps of a week touch every resident, every open problem or every case on a list: problem
arrival (M1), asking and early signalling (M2), network support and self-reliance (M8), severity
change under support (M1/M3/M6/M7/M8), the team's demand and intake - the queue, which worker
takes which cases, their routes and what starts (M3/M5/M6) -, indications that are ready (M5),
admissions to providers (M6), the week-end checks and their consequences - resolved cases,
crises, step-down (M3/M5/M6) -, graduation from initiatives (M7), the counts and sums a reported
week records, and some counts. In NumPy each is a few dozen array operations, and at 1,000 to
5,000 residents the cost is the calls, not the arithmetic. With Numba installed each runs as
one or two compiled loops, which compute exactly what the NumPy code computes: the same IEEE
operations in the same order (no fast-math), so a seed gives bit-identical runs with and without
Numba (``tests/test_kernels.py`` checks both on whole runs, on weeks from random states and on
the decisions directly). Random draws stay with the model's NumPy generator, in the same order:
where the NumPy code draws twice in a row (for crises, then for step-down; for each row of the
route decisions), the compiled path draws the same numbers in one call. Without Numba, or with
the environment variable ``WIJKTEAM_NUMBA=0``, the NumPy code in :mod:`model.resident`,
:mod:`model.neighbourhood`, :mod:`model.worker` and :mod:`model.initiative` runs instead.

Compiled code is cached next to this file (``__pycache__``), so a new process loads it quickly
after the first compilation (12-16 s here, once per installation or change of this file).

Order of sums, defined so both paths agree on any machine: a resident's four domains are summed
as ``(d0 + d2) + (d1 + d3)``; totals over residents or cases are NumPy's ``sum``, which the loops
reproduce (``_numpy_sum``: NumPy's pairwise order).
"""

from __future__ import annotations

import os

import numpy as np

try:  # Numba is a dependency, but the model runs (more slowly) without it.
    import numba
except ImportError:  # pragma: no cover - exercised where Numba is missing
    numba = None

#: True when the compiled loops are used (Numba importable and not switched off).
ENABLED: bool = numba is not None and os.environ.get("WIJKTEAM_NUMBA", "1") != "0"

# Statuses, wait kinds and the care & support domain, as in model.resident, which imports this
# module (tests/test_kernels.py checks they agree).
_NONE, _WAITING, _TEAM, _MAATWERK, _COLLECTIVE, _VOLUNTEER = range(6)
_FOR_TEAM, _FOR_INDICATION, _FOR_PROVIDER = 1, 2, 3  # why a resident waits (as in model.resident)
_CARE_SUPPORT, _MENTAL_HEALTH = 1, 3


def _jit(func):
    """Compile ``func`` with Numba (cached, no fast-math: IEEE results as NumPy's)."""
    if numba is None:
        return func
    options = {"fastmath": False, "nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError:  # pragma: no cover - no writable cache folder: compile in each process
        return numba.njit(**options)(func)


@_jit
def _stable_order(keys):  # pragma: no cover
    """The order that sorts integer ``keys``, ties in place: ``np.argsort(keys, kind="stable")``.

    A counting sort over the keys' range (request weeks: a few hundred at most); it compiles in
    a fraction of the time Numba's merge sort takes.
    """
    order = np.empty(keys.size, np.int64)
    if keys.size == 0:
        return order
    lo = hi = keys[0]
    for key in keys:
        lo, hi = min(lo, key), max(hi, key)
    first = np.zeros(hi - lo + 2, np.int64)  # where each key's run starts in the order
    for key in keys:
        first[key - lo + 1] += 1
    for j in range(1, first.size):
        first[j] += first[j - 1]
    for i in range(keys.size):
        slot = keys[i] - lo
        order[first[slot]] = i
        first[slot] += 1
    return order


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for integer keys, compiled; for tests."""
    return _stable_order(np.ascontiguousarray(keys))


@_jit
def _block_sum(a, lo, n):  # pragma: no cover
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = lo + 8
    stop = lo + n - n % 8
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@_jit
def _numpy_sum(a, lo, n):  # pragma: no cover
    """``a[lo:lo + n].sum()`` in NumPy's order of additions, so the result has the same bits.

    NumPy sums float64 pairwise: fewer than 8 values in turn; up to 128 in eight interleaved
    partial sums, combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the rest in turn;
    longer stretches split in two at a multiple of 8 below the middle, each summed so. The
    split is walked with an explicit stack (Numba's cache does not keep recursive functions).
    """
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, np.int64)  # the stretches being split, from the whole down
    ns = np.empty(64, np.int64)
    left = np.empty(64)  # a stretch's left half's sum, once known
    done_left = np.zeros(64, np.bool_)
    top = 0
    los[0], ns[0] = lo, n
    result = 0.0
    while True:
        m = ns[top]
        if m > 128 and not done_left[top]:  # split: the left half first
            half = m // 2
            half -= half % 8
            top += 1
            los[top], ns[top], done_left[top] = los[top - 1], half, False
            continue
        result = _block_sum(a, los[top], m) if m <= 128 else left[top] + result
        top -= 1
        if top < 0:
            return result
        if not done_left[top]:  # the left half is done: keep its sum, then the right half
            left[top], done_left[top] = result, True
            half = ns[top] // 2
            half -= half % 8
            los[top + 1], ns[top + 1], done_left[top + 1] = los[top] + half, ns[top] - half, False
            top += 1
        # else: both halves are done; the loop adds them when it returns to this stretch


def numpy_sum(a: np.ndarray) -> float:
    """The compiled sum of a 1-d float array (as ``a.sum()``, bit for bit); for tests."""
    return float(_numpy_sum(np.ascontiguousarray(a, float), 0, a.size))


@_jit
def _add_problems(sev, smax, who, domain, add):  # pragma: no cover
    for k in range(who.size):  # in order, as np.add.at
        sev[who[k], domain[k]] += add[k]
    for k in range(who.size):
        i = who[k]
        for d in range(4):
            sev[i, d] = min(sev[i, d], 1.0)
        smax[i] = max(max(sev[i, 0], sev[i, 1]), max(sev[i, 2], sev[i, 3]))


@_jit
def _arrive(counts, u, by_age, age_offset, age_sizes, severity, sev, smax):  # pragma: no cover
    total = u.size // 2
    who = np.empty(total, np.int64)
    domain = np.empty(total, np.int64)
    add = np.empty(total)
    k = 0
    for cell in range(counts.size):  # cells d*3 + a, each problem in turn
        a = cell % 3
        for _ in range(counts[cell]):
            who[k] = by_age[age_offset[a] + np.int64(u[k] * age_sizes[a])]
            domain[k] = cell // 3
            add[k] = severity * (0.5 + u[total + k])
            k += 1
    _add_problems(sev, smax, who, domain, add)


def arrive_problems(pop, counts: np.ndarray, u: np.ndarray) -> None:
    """M1: place the week's new problems and add their severity, in place (see
    ``Population.arrive_problems``, which draws ``counts`` per cell and the uniforms ``u``)."""
    severity = pop.p.new_problem_severity
    _arrive(counts, u, pop.by_age, pop.age_offset, pop.age_sizes, severity, pop.sev, pop.smax)


@_jit
def _help_requests(smax, status, reask_week, threshold, week, floor, want_candidates):  # pragma: no cover
    asks = np.empty(smax.size, np.int64)
    candidates = np.empty(smax.size if want_candidates else 0, np.int64)
    n_asks = n_candidates = 0
    for i in range(smax.size):
        s = smax[i]
        if not s > 0.0 or reask_week[i] > week or not (status[i] == _NONE or status[i] == _VOLUNTEER):
            continue
        if s > threshold[i] or s >= 0.9:
            asks[n_asks] = i
            n_asks += 1
        elif want_candidates and s >= floor:
            candidates[n_candidates] = i
            n_candidates += 1
    return asks[:n_asks], candidates[:n_candidates]


@_jit
def _signal_hazard(
    candidates, indptr, indices, status, degree, block, per_block, base, presence, neighbours
):  # pragma: no cover
    hazard = np.empty(candidates.size)
    for c in range(candidates.size):
        i = candidates[c]
        touched = 0  # network neighbours in touch with the team or an initiative
        for k in range(indptr[i], indptr[i + 1]):
            st = status[indices[k]]
            if st == _TEAM or st >= _COLLECTIVE:
                touched += 1
        hazard[c] = base + presence * per_block[block[i]] + neighbours * (touched / degree[i])
    return hazard


def help_requests(
    pop, week: int, outreach_per_1000: float, initiatives_per_block: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """M2: residents who ask and those signalled early (``Population.seek_help`` and ``signal_early``).

    ``initiatives_per_block`` is None when nobody is signalled (no team or M2 off).
    """
    p = pop.p
    signalling = initiatives_per_block is not None
    per_block = initiatives_per_block if signalling else np.zeros(1, np.int64)
    indptr, indices = unsigned_adjacency(pop)
    asks, candidates, hazard = _requests(
        pop.smax, pop.status, pop.reask_week, pop.threshold, week, p.signal_floor, signalling,
        indptr, indices, pop.degree, pop.block, per_block, p.outreach_effect * outreach_per_1000,
        p.presence_effect, p.neighbour_signal_effect,
    )  # fmt: skip
    if candidates.size == 0:
        return asks, candidates
    hit = pop.rng.random(candidates.size) < -np.expm1(-hazard)
    return asks, candidates[hit]


@_jit
def _requests(
    smax, status, reask_week, threshold, week, floor, signalling, indptr, indices, degree, block,
    per_block, base, presence, neighbours,
):  # pragma: no cover  # fmt: skip
    asks, candidates = _help_requests(smax, status, reask_week, threshold, week, floor, signalling)
    if candidates.size == 0:
        return asks, candidates, np.empty(0)
    hazard = _signal_hazard(
        candidates, indptr, indices, status, degree, block, per_block, base, presence, neighbours
    )
    return asks, candidates, hazard


@_jit
def _enqueue(
    asks, signalled, status, wait_kind, request_week, request_sev, smax, initiative, week, kind
):  # pragma: no cover
    for group in (asks, signalled):
        for i in group:
            status[i] = _WAITING
            wait_kind[i] = kind
            request_week[i] = week
            request_sev[i] = smax[i]
            initiative[i] = -1


def enqueue(pop, asks: np.ndarray, signalled: np.ndarray, week: int, kind: int) -> None:
    """Put those who asked and those signalled on the waiting list (``Population.enqueue``)."""
    _enqueue(
        asks, signalled, pop.status, pop.wait_kind, pop.request_week, pop.request_sev, pop.smax,
        pop.initiative, week, kind,
    )  # fmt: skip


@_jit
def _support(sr, smax, status, ties, degree, indptr, indices, reliance_on):  # pragma: no cover
    n = sr.size
    spare = np.zeros(n)  # what each resident can offer: self-reliance x (1 - own worst severity)
    if reliance_on:
        for j in range(n):
            spare[j] = sr[j] * (1.0 - smax[j]) * (2.0 if status[j] == _VOLUNTEER else 1.0)
    out = np.empty(n)
    for i in range(n):
        offered = 0.0  # as SciPy's CSR product: neighbour by neighbour, in index order (ties weigh 1)
        for k in range(indptr[i], indptr[i + 1]):
            offered += spare[indices[k]]
        out[i] = min(1.0, ties[i] * offered / degree[i])
    return out


def unsigned_adjacency(pop) -> tuple[np.ndarray, np.ndarray]:
    """The network's CSR row pointers and column indices as uint32 (``Population.adj_u32``).

    Unsigned indices spare Numba's negative-index checks: the neighbour loops run twice as fast.
    """
    return pop.adj_u32


def support(pop) -> np.ndarray:
    """M8: network support of every resident (see ``Population.update_support``).

    Every tie has weight 1 (``network.watts_strogatz``), so a neighbour's spare capacity is
    added as it is: the same bits as SciPy's product, which multiplies it by 1.0 first.
    """
    indptr, indices = unsigned_adjacency(pop)
    return _support(
        pop.sr, pop.smax, pop.status, pop.ties, pop.degree, indptr, indices, bool(pop.p.m8_reliance_dynamics)
    )


@_jit
def _reliance(sr, ties, sr0, ties0, status, start_week, week, gain_c, loss, reversion):  # pragma: no cover
    for i in range(sr.size):
        st = status[i]
        gain = gain_c * (1.0 if st >= _COLLECTIVE else 0.0)
        dependent = 1.0 if (st == _MAATWERK and start_week[i] < week - 52) else 0.0
        s = sr[i] + ((gain - loss * dependent) + reversion * (sr0[i] - sr[i]))
        t = ties[i] + (gain + reversion * (ties0[i] - ties[i]))
        sr[i] = min(max(s, 0.0), 1.0)
        ties[i] = min(max(t, 0.0), 1.0)


def update_reliance(pop, week: int) -> None:
    """M8: self-reliance and ties, in place (see ``Population.update_reliance``)."""
    p = pop.p
    _reliance(
        pop.sr, pop.ties, pop.sr0, pop.ties0, pop.status, pop.start_week, week,
        p.collective_reliance_gain, p.dependence_loss, p.reliance_reversion,
    )  # fmt: skip


@_jit
def _treat_evolve(
    sev, smax, sr, sup, care_recovery, status, worker, primary, tailored, initiative,
    intensity, skill, quality, domain, consts, flags,
):  # pragma: no cover  # fmt: skip
    team_effect, maatwerk_effect, standard_fit, collective_effect = consts[0], consts[1], consts[2], consts[3]
    own_rate, help_rate, escalation, gain = consts[4], consts[5], consts[6], consts[7]
    escalate, reliance, mandate_rules = flags[0], flags[1], flags[2]
    treated = np.zeros(4)
    relief = np.zeros(4)
    own = np.empty(4)
    nb = np.empty(4)
    rel = np.empty(4)
    frac = np.empty(4)
    rows = np.empty((3, smax.size))  # severity removed by own strength, neighbours, support
    k = 0
    for i in range(smax.size):
        if not smax[i] > 0.0:
            continue
        # What support holds back (treated) and removes (relief) this week, per domain.
        for d in range(4):
            treated[d] = 0.0
            relief[d] = 0.0
        st = status[i]
        if st == _TEAM:
            w = worker[i]
            for d in range(4):
                relief[d] = team_effect * (skill[w] * intensity[w]) * domain[d]
                treated[d] = intensity[w]
        elif st == _MAATWERK:
            fit = 1.0 if (not mandate_rules or tailored[i]) else standard_fit
            relief[primary[i]] = maatwerk_effect * fit
            treated[primary[i]] = 1.0
        elif st == _COLLECTIVE:
            q = quality[initiative[i]]
            relief[primary[i]] = collective_effect * q
            treated[primary[i]] = q
        # One week of severity change (Population.evolve, step by step).
        s_r, u = sr[i], sup[i]
        rate = escalation * (1.0 - s_r) * (1.0 - u)
        for d in range(4):
            s = sev[i, d]
            rec = 1.0 if s > 0.0 else 0.0
            if d == _CARE_SUPPORT:
                rec *= care_recovery[i]
            own[d] = own_rate * s_r * rec
            nb[d] = help_rate * u * rec
            rel[d] = relief[d] * rec
            down = own[d] + nb[d] + rel[d]
            level = (1.0 - treated[d]) * (s * rate) + s if escalate else s
            new = level - down
            f = level / (down if down > 0.0 else np.inf)
            frac[d] = min(f, 1.0)
            new = min(max(new, 0.0), 1.0)
            sev[i, d] = new if new >= 0.02 else 0.0
        smax[i] = max(max(sev[i, 0], sev[i, 1]), max(sev[i, 2], sev[i, 3]))
        own_done = (own[0] * frac[0] + own[2] * frac[2]) + (own[1] * frac[1] + own[3] * frac[3])
        if reliance:
            sr[i] = min(1.0, s_r + gain * own_done)
        rows[0, k] = own_done
        rows[1, k] = (nb[0] * frac[0] + nb[2] * frac[2]) + (nb[1] * frac[1] + nb[3] * frac[3])
        rows[2, k] = (rel[0] * frac[0] + rel[2] * frac[2]) + (rel[1] * frac[1] + rel[3] * frac[3])
        k += 1
    return _numpy_sum(rows[0], 0, k), _numpy_sum(rows[1], 0, k), _numpy_sum(rows[2], 0, k)


def treat_evolve(model) -> dict[str, float]:
    """One week of severity change for every open problem (see ``NeighbourhoodModel.treat_and_evolve``).

    Returns the severity removed by own strength, neighbours and support.
    """
    p, pop = model.p, model.pop
    visit = model.municipality.visit_factor
    intensity = np.array([w.service for w in model.workers], float) * visit
    skill = np.array([w.skill_individual for w in model.workers], float)
    quality = np.zeros(max(model.next_initiative_id, 1))
    for ini in model.initiatives.values():
        quality[ini.ident] = ini.quality
    mental = 0.5 + 0.5 * p.specialist_access if p.m6_provider_behaviour else 1.0
    domain = (1.0, 1.0, 1.0, mental)  # per domain; mental health (_MENTAL_HEALTH) is the last
    consts = (
        p.team_effect, p.maatwerk_effect, p.standard_fit, p.collective_effect,
        p.own_recovery_rate, p.neighbour_help, p.escalation_rate, p.self_reliance_gain,
    )  # fmt: skip
    flags = (p.m1_escalation, p.m8_reliance_dynamics, p.m5_mandate_rules)
    own, neighbours, supported = _treat_evolve(
        pop.sev, pop.smax, pop.sr, pop.support, pop.care_recovery, pop.status, pop.worker,
        pop.primary, pop.tailored, pop.initiative, intensity, skill, quality, domain, consts, flags,
    )  # fmt: skip
    return {"own": own, "neighbours": neighbours, "support": supported}


# ---- scans over all residents: one pass instead of several whole-array operations ----------
@_jit
def _team_demand(
    sev, status, wait_kind, worker, heavy, n_workers, complex_threshold, light, heavy_hours, extra, visit
):  # pragma: no cover
    demand = np.zeros(n_workers)
    pending = np.zeros(n_workers, np.int64)
    for i in range(status.size):
        st = status[i]
        if st == _TEAM:
            domains = 0  # M1: domains above the complex threshold
            for d in range(4):
                if sev[i, d] > complex_threshold:
                    domains += 1
            base = heavy_hours if heavy[i] else light
            demand[worker[i]] += base * (1.0 + extra * max(domains - 1, 0)) * visit
        elif st == _WAITING and wait_kind[i] == _FOR_INDICATION and worker[i] >= 0:
            pending[worker[i]] += 1
    for w in range(n_workers):
        demand[w] += pending[w] * light
    return demand


def team_demand(model) -> np.ndarray:
    """M3/M5: individual hours each worker's cases ask (see ``NeighbourhoodModel.team_demand``)."""
    p, pop = model.p, model.pop
    return _team_demand(
        pop.sev, pop.status, pop.wait_kind, pop.worker, pop.heavy, len(model.workers),
        p.complex_threshold, p.light_case_hours, p.heavy_case_hours, p.complexity_extra,
        model.municipality.visit_factor,
    )  # fmt: skip


@_jit
def _week_end_cases(status, smax, sev, primary, wait_kind, resolved, crisis, step_down):  # pragma: no cover
    found = np.empty((5, status.size), np.int64)
    counts = np.zeros(5, np.int64)
    for i in range(status.size):
        st, s = status[i], smax[i]
        kind = -1
        if st == _TEAM:
            kind = 0 if s < resolved else (1 if s >= crisis else -1)
        elif st == _WAITING and s >= crisis and wait_kind[i] == _FOR_TEAM:
            kind = 2
        elif st == _COLLECTIVE and s >= crisis:
            kind = 3
        elif st == _MAATWERK and sev[i, primary[i]] < step_down:
            kind = 4
        if kind >= 0:
            found[kind, counts[kind]] = i
            counts[kind] += 1
    return (
        found[0, : counts[0]], found[1, : counts[1]], found[2, : counts[2]],
        found[3, : counts[3]], found[4, : counts[4]],
    )  # fmt: skip


@_jit
def _close_week(
    resolved, crisis, queued, outgrown, eligible, u, direct_share, chance, staff_parent, status,
    wait_kind, worker, provider, initiative, heavy, tailored, ready_week, request_week, request_sev,
    smax, week, delay, outgrown_kind,
):  # pragma: no cover  # fmt: skip
    for i in resolved:
        _close(i, status, wait_kind, worker, provider, initiative, heavy)
    for c in range(crisis.size):  # M5: straight to maatwerk where agreements or mandate allow
        i = crisis[c]
        status[i] = _WAITING
        if u[c] < direct_share:
            wait_kind[i] = _FOR_PROVIDER
            tailored[i] = False
            provider[i] = staff_parent[worker[i]] if worker[i] >= 0 else -1
        else:
            wait_kind[i] = _FOR_INDICATION
            ready_week[i] = week + delay
    for i in queued:  # a crisis bypasses the team's queue (GP referral)
        request_sev[i] = smax[i]
        status[i] = _WAITING
        wait_kind[i] = _FOR_INDICATION
        ready_week[i] = week + delay
    for i in outgrown:  # the need outgrows the group: back on the waiting list
        status[i] = _WAITING
        wait_kind[i] = outgrown_kind
        request_week[i] = week
        request_sev[i] = smax[i]
        initiative[i] = -1
    for e in range(eligible.size):  # M6: stepped down when the indication is not renewed
        i = eligible[e]
        if u[crisis.size + e] < chance[provider[i]]:
            _close(i, status, wait_kind, worker, provider, initiative, heavy)


@_jit
def _close(i, status, wait_kind, worker, provider, initiative, heavy):  # pragma: no cover
    status[i] = _NONE
    wait_kind[i] = 0
    worker[i] = -1
    provider[i] = -1
    initiative[i] = -1
    heavy[i] = False


def close_week(model, cases: tuple[np.ndarray, ...], u: np.ndarray) -> None:
    """M3/M5/M6: act on the week-end ``cases`` (from ``week_end_cases``), in place (see
    ``NeighbourhoodModel.close_and_escalate``); ``u`` holds a draw per crisis, then per
    step-down candidate."""
    p, pop = model.p, model.pop
    chance = np.array([pr.step_down_chance for pr in model.providers])
    parent = np.array([w.parent for w in model.workers], np.int64)
    _close_week(
        *cases, u, max(model.mandate, p.escalation_agreements), chance, parent, pop.status,
        pop.wait_kind, pop.worker, pop.provider, pop.initiative, pop.heavy, pop.tailored,
        pop.ready_week, pop.request_week, pop.request_sev, pop.smax, model.week,
        model.municipality.indication_delay, _FOR_TEAM if model.workers else _FOR_INDICATION,
    )  # fmt: skip


def week_end_cases(pop, crisis: float) -> tuple[np.ndarray, ...]:
    """Resolved team cases, crises (team, queue, group) and step-down candidates (see
    ``NeighbourhoodModel._week_end_cases``)."""
    p = pop.p
    return _week_end_cases(
        pop.status, pop.smax, pop.sev, pop.primary, pop.wait_kind, p.resolved_threshold, crisis,
        p.step_down_threshold,
    )  # fmt: skip


@_jit
def _track_youth(
    youth, status, heavy, start_week, week, registration_weeks, any_, maatwerk, registered
):  # pragma: no cover
    for j in range(youth.size):
        i = youth[j]
        st = status[i]
        if st == _TEAM or st == _MAATWERK or st == _COLLECTIVE:
            any_[j] = True
        if st == _MAATWERK:
            maatwerk[j] = True
        elif st == _TEAM and (heavy[i] or week - start_week[i] >= registration_weeks):
            registered[j] = True


def track_youth(model, youth: np.ndarray) -> None:
    """Mark the under-23s supported this week (see ``NeighbourhoodModel._track_youth_care``)."""
    pop = model.pop
    _track_youth(
        youth, pop.status, pop.heavy, pop.start_week, model.week, model.p.youth_registration_weeks,
        model._youth_any, model._youth_maatwerk, model._youth_team_reg,
    )  # fmt: skip


@_jit
def _count_by(status, wanted, group, size, only_grouped):  # pragma: no cover
    counts = np.zeros(size, np.int64)
    for i in range(status.size):
        if status[i] == wanted and (group[i] >= 0 or not only_grouped):
            counts[group[i]] += 1
    return counts


def count_by(
    status: np.ndarray, wanted: int, group: np.ndarray, size: int, only_grouped: bool = False
) -> np.ndarray:
    """Residents with status ``wanted`` per value of ``group`` (``np.bincount`` of the selection).

    With ``only_grouped``, residents whose group is -1 are left out.
    """
    return _count_by(status, wanted, group, size, only_grouped)


@_jit
def _week_record(status, smax, sr, worker, primary, heavy_threshold, signal_floor):  # pragma: no cover
    counts = np.zeros(9, np.int64)  # per status; then caseload, hidden need, Wmo maatwerk
    needy = np.empty(status.size)  # severity of the unmet needs above the signal floor, in order
    n_needy = 0
    for i in range(status.size):
        st, s = status[i], smax[i]
        counts[st] += 1
        if worker[i] >= 0:
            counts[6] += 1
        unsupported = st == _NONE or st == _VOLUNTEER
        if unsupported and s >= heavy_threshold:
            counts[7] += 1
        if st == _MAATWERK and primary[i] == _CARE_SUPPORT:
            counts[8] += 1
        if (unsupported or st == _WAITING) and s >= signal_floor:
            needy[n_needy] = s
            n_needy += 1
    sums = np.empty(3)
    sums[0] = _numpy_sum(needy, 0, n_needy)
    sums[1] = _numpy_sum(sr, 0, sr.size)
    sums[2] = _numpy_sum(smax, 0, smax.size)
    return counts, sums


def week_record(pop) -> tuple[np.ndarray, np.ndarray]:
    """The counts and sums a reported week records (see ``NeighbourhoodModel._week_counts``)."""
    p = pop.p
    return _week_record(
        pop.status, pop.smax, pop.sr, pop.worker, pop.primary, p.heavy_threshold, p.signal_floor
    )


@_jit
def _graduates(status, sev, primary, initiative, resolved):  # pragma: no cover
    done = np.empty(status.size, np.int64)
    vol = np.empty(status.size, np.int64)
    n_done = n_vol = 0
    for i in range(status.size):
        if status[i] == _COLLECTIVE and sev[i, primary[i]] < resolved:
            done[n_done] = i
            n_done += 1
        elif status[i] == _VOLUNTEER and initiative[i] >= 0:
            vol[n_vol] = i
            n_vol += 1
    return done[:n_done], vol[:n_vol]


def graduates(pop) -> tuple[np.ndarray, np.ndarray]:
    """M7: participants whose primary need is resolved, and volunteers of an initiative (see
    ``initiative.graduate``); each in index order."""
    return _graduates(pop.status, pop.sev, pop.primary, pop.initiative, pop.p.resolved_threshold)


@_jit
def _worst_domain(sev, i):  # pragma: no cover
    """Resident ``i``'s first worst domain, as ``argmax`` over the row."""
    worst = 0
    for d in range(1, 4):
        if sev[i, d] > sev[i, worst]:
            worst = d
    return worst


@_jit
def _admit(
    status, wait_kind, request_week, start_week, provider, worker, primary, heavy, sev, places, week, tally
):  # pragma: no cover  # fmt: skip
    # Waiting clients in order of request (stable: then by index), and each provider's clients.
    wait = np.empty(status.size, np.int64)
    clients = np.zeros(places.size, np.int64)
    n = 0
    for i in range(status.size):
        if status[i] == _WAITING and wait_kind[i] == _FOR_PROVIDER:
            wait[n] = i
            n += 1
        elif status[i] == _MAATWERK:
            clients[provider[i]] += 1
    if n == 0:
        return n, 0, 0, 0, clients
    wait = wait[:n]
    wait = wait[_stable_order(request_week[wait])]
    # Each provider takes those who prefer it while it has places; then the rest, in order,
    # fill the places left, provider by provider.
    new = np.empty(n, np.int64)
    rest = np.empty(n, np.int64)
    taken = np.zeros(n, np.bool_)
    k = 0
    for pr in range(places.size):
        for j in range(n):
            if provider[wait[j]] == pr and clients[pr] < places[pr]:
                taken[j] = True
                clients[pr] += 1
                new[k] = wait[j]
                k += 1
    n_rest = 0
    for j in range(n):
        if not taken[j]:
            rest[n_rest] = wait[j]
            n_rest += 1
    r = 0
    for pr in range(places.size):
        while r < n_rest and clients[pr] < places[pr]:
            provider[rest[r]] = pr
            clients[pr] += 1
            new[k] = rest[r]
            k += 1
            r += 1
    started = waited = 0
    for m in range(k):
        i = new[m]
        if tally and request_week[i] >= 0:
            started += 1
            waited += week - request_week[i]
        request_week[i] = -1
        start_week[i] = week
        status[i] = _MAATWERK
        wait_kind[i] = 0
        worker[i] = -1  # handed over to the provider
        primary[i] = _worst_domain(sev, i)
        heavy[i] = False
    return n, k, started, waited, clients


def admit(model) -> tuple[int, int, int, np.ndarray | None]:
    """M6: providers admit waiting clients (see ``NeighbourhoodModel.admit_to_providers``), in place.

    Returns the clients admitted, the supports started (of residents who had asked) with their
    summed weeks of waiting, and each provider's clients (None when nobody was waiting: then
    nothing was counted, as in the NumPy code).
    """
    pop = model.pop
    places = np.array([pr.places for pr in model.providers], np.int64)
    waiting, new, started, waited, clients = _admit(
        pop.status, pop.wait_kind, pop.request_week, pop.start_week, pop.provider, pop.worker,
        pop.primary, pop.heavy, pop.sev, places, model.week, model.week > model.p.burn_in_weeks,
    )  # fmt: skip
    return int(new), int(started), int(waited), clients if waiting else None


@_jit
def _ready(status, wait_kind, ready_week, week):  # pragma: no cover
    ready = np.empty(status.size, np.int64)
    n = 0
    for i in range(status.size):
        if wait_kind[i] == _FOR_INDICATION and status[i] == _WAITING and ready_week[i] <= week:
            ready[n] = i
            n += 1
    return ready[:n]


def ready_indications(pop, week: int) -> np.ndarray:
    """M5: residents whose indication is decided this week, in index order."""
    return _ready(pop.status, pop.wait_kind, pop.ready_week, week)


# ---- M5/M6 route decisions for the week's new cases ------------------------------------------
_LIGHT, _TEAM_HEAVY, _COLLECTIVE_ARRANGEMENT, _MAATWERK_NOW, _INDICATION = range(5)  # as model.worker


@_jit
def _routes(
    s, complexity, mental, reluctance, option, owner, starts, draw, seconded, lef, room, consts, flags
):  # pragma: no cover
    heavy_threshold, complex_threshold, specialist_access, mandate_share = (
        consts[0],
        consts[1],
        consts[2],
        consts[3],
    )
    secondment_bias, maatwerk_threshold, heavy_hours, complexity_extra = (
        consts[4],
        consts[5],
        consts[6],
        consts[7],
    )
    provider_rules, mandate_rules, capacity_limit = flags[0], flags[1], flags[2]
    n = s.size
    route = np.empty(n, np.int8)
    route[:] = _INDICATION
    wanted = np.zeros(n, np.bool_)  # intensive team support wanted (fits checked below)
    hold = np.zeros(n, np.bool_)
    for i in range(n):
        complex_ggz = complexity[i] >= 2 and mental[i] > complex_threshold
        specialist = draw[0, i] < specialist_access if provider_rules else True
        hold[i] = not complex_ggz or specialist
        mandate = draw[1, i] < mandate_share if mandate_rules else True
        w = owner[i]
        refers = provider_rules and seconded[w] and draw[2, i] < secondment_bias
        tailor = mandate and not refers and draw[3, i] < lef[w]
        if mandate:
            route[i] = _MAATWERK_NOW
        if tailor and option[i] and not draw[4, i] < reluctance[i]:
            route[i] = _COLLECTIVE_ARRANGEMENT
        elif tailor and s[i] < maatwerk_threshold and hold[i]:
            wanted[i] = True
    # M3: a worker keeps intensive cases, in order, while their hours fit the worker's room:
    # the running total over all cases less the total before the worker's first case.
    total = 0.0
    before = 0.0
    span = 0
    for i in range(n):
        hours = heavy_hours * (1.0 + complexity_extra * max(complexity[i] - 1, 0)) if wanted[i] else 0.0
        total += hours
        if span < starts.size and i == starts[span]:
            before = total - hours
            span += 1
        if wanted[i] and (not capacity_limit or total - before <= room[owner[i]]):
            route[i] = _TEAM_HEAVY
        if s[i] < heavy_threshold and hold[i]:
            route[i] = _LIGHT
    return route


def _route_rules(model) -> tuple[tuple[float, ...], tuple[bool, ...]]:
    """The values and switches ``_routes`` reads, in its order."""
    p = model.p
    consts = (
        p.heavy_threshold, p.complex_threshold, p.specialist_access, model.mandate,
        p.secondment_bias, p.maatwerk_threshold, p.heavy_case_hours, p.complexity_extra,
    )  # fmt: skip
    return consts, (p.m6_provider_behaviour, p.m5_mandate_rules, p.m3_capacity_limit)


def routes(model, idx, owner, collective_option, starts, complexity, draw) -> np.ndarray:
    """M5/M6: the route of each new case (see ``worker.decide_routes``), given its draws."""
    pop, workers = model.pop, model.workers
    consts, flags = _route_rules(model)
    seconded = np.array([w.seconded for w in workers], np.bool_)
    lef = np.array([w.lef for w in workers], float)
    room = np.array([max(0.0, w.capacity - w.demand) for w in workers], float)
    return _routes(
        pop.smax[idx], complexity, pop.sev[idx, _MENTAL_HEALTH], pop.reluctance[idx], collective_option,
        owner, np.asarray(starts, np.int64), draw, seconded, lef, room, consts, flags,
    )  # fmt: skip


# ---- M3/M5/M6 the team's intake: the queue, the workers' spans, routes and their effects -------
@_jit
def _team_queue(
    status, wait_kind, request_week, sev, smax, spare, heavy_threshold, complex_threshold,
    light, heavy_hours, extra, visit,
):  # pragma: no cover  # fmt: skip
    # The queue: residents waiting for the team, by request week (stable: then by index).
    queue = np.empty(status.size, np.int64)
    n = 0
    for i in range(status.size):
        if wait_kind[i] == _FOR_TEAM and status[i] == _WAITING:
            queue[n] = i
            n += 1
    queue = queue[:n]
    queue = queue[_stable_order(request_week[queue])]
    # M1/M3: each case's complexity and estimated hours (heavy by its worst severity).
    complexity = np.empty(n, np.int64)
    est = np.empty(n)
    for j in range(n):
        i = queue[j]
        c = 0
        for d in range(4):
            if sev[i, d] > complex_threshold:
                c += 1
        complexity[j] = c
        base = heavy_hours if smax[i] >= heavy_threshold else light
        est[j] = base * (1.0 + extra * max(c - 1, 0)) * visit
    # Workers (in the order given: most room first) take cases in order while they fit;
    # each worker's cases end at ``stops``; per worker the cases caught early and their severity.
    stops = np.zeros(spare.size, np.int64)
    early = np.zeros(spare.size, np.int64)
    severity = np.zeros(spare.size)
    s = np.empty(n)
    pos = 0
    for w in range(spare.size):
        if pos >= n:
            for rest in range(w, spare.size):
                stops[rest] = pos
            break
        start = pos
        if spare[w] > 0:
            total = 0.0  # the running total of hours, as NumPy's cumsum
            while pos < n:
                total += est[pos]
                if total > spare[w]:
                    break
                s[pos] = smax[queue[pos]]
                if s[pos] < heavy_threshold:
                    early[w] += 1
                pos += 1
        stops[w] = pos
        severity[w] = _numpy_sum(s, start, pos - start)
    return queue[:pos], complexity[:pos], stops, early, severity


@_jit
def _intake(
    take, complexity, starts, span_worker, u, cells, sev, smax, reluctance, block, status, wait_kind,
    request_week, start_week, ready_week, heavy, tailored, worker, provider, initiative, primary,
    staff, consts, flags, week, delay, tally,
):  # pragma: no cover  # fmt: skip
    n = take.size
    # Per worker: seconded, courage (lef), room left in nominal capacity, parent provider.
    seconded = np.empty(staff.shape[0], np.bool_)
    lef = np.empty(staff.shape[0])
    room = np.empty(staff.shape[0])
    for w in range(staff.shape[0]):
        seconded[w], lef[w], room[w] = staff[w, 0] != 0.0, staff[w, 1], staff[w, 2]
    # Who takes each case, and the draws for the decisions (as ``worker.route_draws``): per
    # worker's span, the rows that apply, each over the span's cases, in turn from ``u``.
    owner = np.empty(n, np.int64)
    draw = np.zeros((5, n))
    provider_rules, mandate_rules = flags[0], flags[1]
    used = 0
    for sp in range(starts.size):
        a = starts[sp]
        b = starts[sp + 1] if sp + 1 < starts.size else n
        w = span_worker[sp]
        for j in range(a, b):
            owner[j] = w
        for row in range(5):
            if row == 0 and not provider_rules or row == 1 and not mandate_rules:
                continue
            if row == 2 and not (seconded[w] and provider_rules):
                continue
            for j in range(a, b):
                draw[row, j] = u[used + j - a]
            used += b - a
    # The collective option: a running initiative with room for the case's worst domain.
    worst = np.empty(n, np.int64)
    option = np.empty(n, np.bool_)
    s = np.empty(n)
    mental = np.empty(n)
    shy = np.empty(n)
    for j in range(n):
        i = take[j]
        worst[j] = _worst_domain(sev, i)
        option[j] = cells[block[i] * 4 + worst[j]] >= 0
        s[j], mental[j], shy[j] = smax[i], sev[i, _MENTAL_HEALTH], reluctance[i]
    route = _routes(
        s, complexity, mental, shy, option, owner, starts, draw, seconded, lef, room, consts, flags
    )
    light, heavy_hours, extra, visit = consts[8], consts[6], consts[7], consts[9]
    started = 0  # supports started (had asked) and their weeks of waiting
    waited = 0
    added = np.zeros(starts.size)  # hours each span's kept cases and indications add
    hours = np.empty(n)
    kept = 0
    span = -1
    desk = 0
    for j in range(n):
        if span + 1 < starts.size and j == starts[span + 1]:
            if span >= 0:
                added[span] = _numpy_sum(hours, 0, kept) * visit + desk * light
            span += 1
            kept = 0
            desk = 0
        i, r = take[j], route[j]
        worker[i] = owner[j]
        if r == _LIGHT or r == _TEAM_HEAVY or r == _COLLECTIVE_ARRANGEMENT:
            if tally and request_week[i] >= 0:
                started += 1
                waited += week - request_week[i]
            request_week[i] = -1
            start_week[i] = week
            wait_kind[i] = 0
        if r == _LIGHT or r == _TEAM_HEAVY:
            status[i] = _TEAM
            heavy[i] = r == _TEAM_HEAVY
            base = heavy_hours if r == _TEAM_HEAVY else light
            hours[kept] = base * (1.0 + extra * max(complexity[j] - 1, 0))
            kept += 1
        elif r == _COLLECTIVE_ARRANGEMENT:
            status[i] = _COLLECTIVE
            initiative[i] = cells[block[i] * 4 + worst[j]]
            primary[i] = worst[j]
            worker[i] = -1
        elif r == _MAATWERK_NOW:
            status[i] = _WAITING
            wait_kind[i] = _FOR_PROVIDER
            tailored[i] = True
            provider[i] = np.int64(staff[owner[j], 3])  # the parent provider (-1: any)
        else:
            status[i] = _WAITING
            wait_kind[i] = _FOR_INDICATION
            ready_week[i] = week + delay
            desk += 1
    if span >= 0:
        added[span] = _numpy_sum(hours, 0, kept) * visit + desk * light
    return route, added, started, waited


def team_queue(model, spare: np.ndarray) -> tuple[np.ndarray, ...]:
    """M3: the cases workers take this week, in order, and who takes them.

    ``spare`` holds the workers' room in the order they take cases (most room first). Returns
    the cases taken, their complexity, where each worker's cases stop, and per worker the cases
    caught early and their summed severity (see ``NeighbourhoodModel.run_team_intake``).
    """
    p, pop = model.p, model.pop
    return _team_queue(
        pop.status, pop.wait_kind, pop.request_week, pop.sev, pop.smax, spare, p.heavy_threshold,
        p.complex_threshold, p.light_case_hours, p.heavy_case_hours, p.complexity_extra,
        model.municipality.visit_factor,
    )  # fmt: skip


def route_draw_count(model, spans: list[tuple[int, int, object]]) -> int:
    """How many uniform draws the route decisions of ``spans`` (start, stop, worker) take, as
    ``worker.route_draws`` draws them: the rows that apply, over each worker's cases."""
    p = model.p
    rows = 2 + p.m5_mandate_rules + p.m6_provider_behaviour
    return sum((stop - start) * (rows + (w.seconded and p.m6_provider_behaviour)) for start, stop, w in spans)


def intake(model, take, complexity, starts, span_worker, u, cells) -> tuple[np.ndarray, np.ndarray, int, int]:
    """M5/M6: decide the routes of the cases taken and start them, in place.

    Worker ``span_worker[s]`` takes the cases from ``starts[s]`` to the next start; ``u`` holds
    the uniform draws for the decisions (``route_draw_count`` of them). Returns the routes, the
    hours each span adds to its worker's demand, and the supports started (of residents who had
    asked) with their summed weeks of waiting.
    """
    p, pop = model.p, model.pop
    consts, flags = _route_rules(model)
    consts += (p.light_case_hours, model.municipality.visit_factor)
    staff = np.array(
        [(w.seconded, w.lef, max(0.0, w.capacity - w.demand), w.parent) for w in model.workers], float
    )
    route, added, started, waited = _intake(
        take, complexity, starts, span_worker, u, cells, pop.sev, pop.smax, pop.reluctance,
        pop.block, pop.status, pop.wait_kind, pop.request_week, pop.start_week, pop.ready_week,
        pop.heavy, pop.tailored, pop.worker, pop.provider, pop.initiative, pop.primary, staff,
        consts, flags, model.week, model.municipality.indication_delay, model.week > p.burn_in_weeks,
    )  # fmt: skip
    return route, added, int(started), int(waited)
