"""M6 providers and M10 the municipal desk: who decides on maatwerk, who delivers it, and for how long.

M6 (Wijland, 'Nut en noodzaak van een onafhankelijk sociaal (wijk)team'). Providers deliver
maatwerk (costed per kind of support and payer in :mod:`model.payers`) with limited places
(``provider_capacity_per_1000`` shared by ``n_providers``). Each week they admit waiting clients
in order of request: each provider first those referred to it (a seconded worker refers to the
parent provider), then the rest fill the places left, provider by provider. They are
supply-driven: a client whose primary domain is below ``step_down_threshold`` is stepped down
with the weekly chance

    step_down_rate x (1 - supply_pressure x (1 - provider_alignment))
                   x (1 - secondment_bias x (1 - independence))

They can co-run group offers at a much lower cost per participant (RadarAdvies, the
Speelkamer), costed in :mod:`model.collective`.

M5/M10 the desk (RadarAdvies; Van Arum). Without mandate a heavy case waits ``indication_delay``
weeks for an indication; the desk judges the application (the severity when help was asked) and
grants standard maatwerk from ``desk_threshold``; below it the case returns to the workers (the
team, or before 2015 the welfare workers) for light support or, where there are none (e.g.
``welfare_fte_per_1000`` 0), is turned away for ``reask_weeks``. Before 2015 (M10) providers keep
their own ``provider_alignment`` and no worker is seconded (independence 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model.compiled import jit, stable_order
from model.resident import (
    FOR_INDICATION,
    FOR_PROVIDER,
    MAATWERK,
    TEAM,
    WAITING,
    close_support,
    count_by,
    start_support,
    to_provider,
    worst_domain,
)

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


class Provider(mesa.Agent):
    """A maatwerk provider with a number of places (its clients' costs are booked by kind of
    support and payer in :mod:`model.payers`)."""

    def __init__(self, model: NeighbourhoodModel, index: int, places: int) -> None:
        super().__init__(model)
        self.index = index
        self.places = places
        self.clients = 0

    @property
    def free_places(self) -> int:
        """Places not taken this week."""
        return max(0, self.places - self.clients)

    @property
    def step_down_chance(self) -> float:
        """M6: weekly chance an eligible client is stepped down (indication not renewed).

        Supply pressure from an unaligned provider lowers it; so does secondment: seconded
        workers, caught between the municipality and their parent provider, do not counter
        that pressure when indications are reviewed (no worker is seconded before 2015).
        """
        p = self.model.p
        if not p.m6_provider_behaviour:
            return p.step_down_rate
        chance = p.step_down_rate * (1.0 - p.supply_pressure * (1.0 - p.provider_alignment))
        return chance * (1.0 - p.secondment_bias * (1.0 - self.model.independence))


# ---- M5/M10 the desk --------------------------------------------------------------------------
def decide_indications(model: NeighbourhoodModel) -> None:
    """M5/M10: the desk decides the indications that are ready this week."""
    p, pop = model.p, model.pop
    parent = np.array([w.parent for w in model.workers] + [-1], np.int64)  # -1: no worker, any provider
    support = pop.support_arrays("referral_week")
    started, waited = _decide_indications(
        pop.ready_week,
        pop.request_sev,
        pop.request_week,
        pop.start_week,
        pop.reask_week,
        support,
        parent,
        p.desk_threshold,
        bool(model.workers),
        model.week,
        p.reask_weeks,
    )
    if model.reporting:
        model.tally.add_started(int(started), int(waited))


@jit
def _decide_indications(
    ready_week,
    request_sev,
    request_week,
    start_week,
    reask_week,
    support,
    parent,
    threshold,
    team,
    week,
    reask,
):
    status, wait_kind, worker, provider, initiative, heavy, tailored, referral_week = support
    started = waited = 0
    for i in range(status.size):
        if not (wait_kind[i] == FOR_INDICATION and status[i] == WAITING and ready_week[i] <= week):
            continue
        if request_sev[i] >= threshold:  # granted: a standard provision
            referrer = parent[worker[i]]
            to_provider(i, False, referrer, week, status, wait_kind, tailored, provider, referral_week)
        elif team:  # back to the team for light support
            weeks = start_support(i, week, request_week, start_week, wait_kind)
            if weeks >= 0:
                started += 1
                waited += weeks
            status[i] = TEAM
            heavy[i] = False
        else:  # turned away
            close_support(i, status, wait_kind, worker, provider, initiative, heavy)
            reask_week[i] = week + reask
    return started, waited


# ---- M6 admissions and step-down ----------------------------------------------------------------
def admit_to_providers(model: NeighbourhoodModel) -> int:
    """M6: providers admit waiting clients while places last: the preferred provider first, then any.

    Returns the clients admitted.
    """
    pop = model.pop
    places = np.array([pr.places for pr in model.providers], np.int64)
    support = (
        pop.status,
        pop.wait_kind,
        pop.request_week,
        pop.start_week,
        pop.provider,
        pop.worker,
        pop.primary,
        pop.heavy,
    )
    waiting, new, started, waited, clients = _admit(support, pop.sev, places, model.week, model.reporting)
    if waiting:
        for provider in model.providers:
            provider.clients = int(clients[provider.index])
    model.tally.add_started(int(started), int(waited))
    return int(new)


@jit
def _waiting_for_a_place(status, wait_kind, request_week, provider, n_providers):
    """Clients waiting for a provider, in order of request (then index), and each provider's clients."""
    wait = np.empty(status.size, np.int64)
    clients = np.zeros(n_providers, np.int64)
    n = 0
    for i in range(status.size):
        if status[i] == WAITING and wait_kind[i] == FOR_PROVIDER:
            wait[n] = i
            n += 1
        elif status[i] == MAATWERK:
            clients[provider[i]] += 1
    wait = wait[:n]
    return wait[stable_order(request_week[wait])], clients


@jit
def _places_taken(wait, provider, places, clients):
    """Who is admitted, in order: each provider takes those who prefer it while it has places;
    then the rest, in order, fill the places left, provider by provider."""
    n = wait.size
    new = np.empty(n, np.int64)
    taken = np.zeros(n, np.bool_)
    k = 0
    for pr in range(places.size):
        for j in range(n):
            if provider[wait[j]] == pr and clients[pr] < places[pr]:
                taken[j] = True
                clients[pr] += 1
                new[k] = wait[j]
                k += 1
    rest = wait[~taken]
    r = 0
    for pr in range(places.size):
        while r < rest.size and clients[pr] < places[pr]:
            provider[rest[r]] = pr
            clients[pr] += 1
            new[k] = rest[r]
            k += 1
            r += 1
    return new[:k]


@jit
def _admit(support, sev, places, week, tally):
    status, wait_kind, request_week, start_week, provider, worker, primary, heavy = support
    wait, clients = _waiting_for_a_place(status, wait_kind, request_week, provider, places.size)
    if wait.size == 0:
        return 0, 0, 0, 0, clients
    new = _places_taken(wait, provider, places, clients)
    started = waited = 0
    for i in new:
        weeks = start_support(i, week, request_week, start_week, wait_kind)
        if tally and weeks >= 0:
            started += 1
            waited += weeks
        status[i] = MAATWERK
        worker[i] = -1  # handed over to the provider
        primary[i] = worst_domain(sev, i)
        heavy[i] = False
    return wait.size, new.size, started, waited, clients


def count_clients(model: NeighbourhoodModel) -> None:
    """Set each provider's client count from the resident arrays."""
    pop = model.pop
    counts = count_by(pop.status, MAATWERK, pop.provider, len(model.providers))
    for provider in model.providers:
        provider.clients = int(counts[provider.index])


def step_down(model: NeighbourhoodModel, eligible: np.ndarray, u: np.ndarray) -> None:
    """M6: eligible maatwerk clients leave when their indication is not renewed; ``u``: a draw each."""
    pop = model.pop
    chance = np.array([pr.step_down_chance for pr in model.providers])
    support = (pop.status, pop.wait_kind, pop.worker, pop.provider, pop.initiative, pop.heavy)
    _step_down(eligible, u, chance, support)


@jit
def _step_down(eligible, u, chance, support):
    status, wait_kind, worker, provider, initiative, heavy = support
    for e in range(eligible.size):
        i = eligible[e]
        if u[e] < chance[provider[i]]:
            close_support(i, status, wait_kind, worker, provider, initiative, heavy)
