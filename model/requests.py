"""M2 Help-seeking and early signalling: who asks for help this week, and whose need is noticed.

Zorg+Welzijn and Movisie, 'Collectieve aanpak in de lead'. A resident with an open problem, no
support and not turned away lately (``reask_week``) asks when the worst severity passes the
personal threshold, or is in crisis:

    asks  <=>  smax > threshold  or  smax >= 0.9

With a team and M2 on, hidden need between ``signal_floor`` and the threshold is noticed with the
weekly hazard

    h = outreach_effect x outreach hours per 1,000 residents
        + presence_effect x running initiatives in the resident's block
        + neighbour_signal_effect x share of network neighbours in touch with the team or a group

and probability ``1 - exp(-h)``. Both join the team's queue; in the pre-2015 approach (M10) they
apply to the municipal desk, whose indication is ready ``indication_delay`` weeks later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import jit
from model.reporters import count_intakes, count_requests
from model.resident import COLLECTIVE, FOR_INDICATION, FOR_TEAM, NONE, TEAM, VOLUNTEER, join_queue

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel

#: Worst severity at which a resident asks for help whatever the personal threshold (a crisis).
ASKS_ANYWAY = 0.9


def take_requests(model: NeighbourhoodModel) -> tuple[int, int]:
    """M2: residents who ask, and those signalled early, join the queue (or apply to the desk).

    Returns the week's requests and how many of them were signalled.
    """
    pop, week = model.pop, model.week
    asks, signalled = help_requests(model)
    kind = FOR_TEAM if model.workers else FOR_INDICATION
    _enqueue(
        asks,
        signalled,
        kind,
        week,
        pop.status,
        pop.wait_kind,
        pop.request_week,
        pop.request_sev,
        pop.smax,
        pop.initiative,
    )
    count_requests(model, asks, signalled)
    if not model.workers:  # pre-2015: the desk takes every application in
        new = np.concatenate([asks, signalled])
        pop.ready_week[new] = week + model.municipality.indication_delay
        count_intakes(model, new)
    return int(asks.size + signalled.size), int(signalled.size)


def help_requests(model: NeighbourhoodModel) -> tuple[np.ndarray, np.ndarray]:
    """M2: residents who ask and those signalled early, each in index order."""
    p, pop = model.p, model.pop
    signalling = bool(model.workers) and p.m2_early_signalling
    per_block = np.zeros(1, np.int64)
    if signalling:
        running = [i.block for i in model.initiatives.values() if i.running]
        per_block = np.bincount(running, minlength=pop.n_blocks)
    asks, candidates = _askers(
        pop.smax,
        pop.status,
        pop.reask_week,
        pop.threshold,
        week=model.week,
        floor=p.signal_floor,
        want_candidates=signalling,
    )
    if candidates.size == 0:
        return asks, candidates
    indptr, indices = pop.adj_u32
    base = p.outreach_effect * model.outreach_per_1000
    hazard = _signal_hazard(
        candidates,
        indptr,
        indices,
        pop.status,
        pop.degree,
        pop.block,
        per_block,
        base,
        p.presence_effect,
        p.neighbour_signal_effect,
    )
    hit = model.rng.random(candidates.size) < -np.expm1(-hazard)
    return asks, candidates[hit]


@jit
def _askers(smax, status, reask_week, threshold, week, floor, want_candidates):
    """Who asks, and (if wanted) who would not ask but could be signalled, in index order."""
    asks = np.empty(smax.size, np.int64)
    candidates = np.empty(smax.size if want_candidates else 0, np.int64)
    n_asks = n_candidates = 0
    for i in range(smax.size):
        s = smax[i]
        free = status[i] == NONE or status[i] == VOLUNTEER
        if not s > 0.0 or reask_week[i] > week or not free:
            continue
        if s > threshold[i] or s >= ASKS_ANYWAY:
            asks[n_asks] = i
            n_asks += 1
        elif want_candidates and s >= floor:
            candidates[n_candidates] = i
            n_candidates += 1
    return asks[:n_asks], candidates[:n_candidates]


@jit
def _signal_hazard(candidates, indptr, indices, status, degree, block, per_block, base, presence, neighbours):
    """The weekly hazard of being noticed (the module's equation), per candidate."""
    hazard = np.empty(candidates.size)
    for c in range(candidates.size):
        i = candidates[c]
        touched = 0  # network neighbours in touch with the team or an initiative
        for k in range(indptr[i], indptr[i + 1]):
            st = status[indices[k]]
            if st == TEAM or st >= COLLECTIVE:
                touched += 1
        hazard[c] = base + presence * per_block[block[i]] + neighbours * (touched / degree[i])
    return hazard


@jit
def _enqueue(asks, signalled, kind, week, status, wait_kind, request_week, request_sev, smax, initiative):
    for group in (asks, signalled):
        for i in group:
            join_queue(i, kind, week, status, wait_kind, request_week, request_sev, smax, initiative)
