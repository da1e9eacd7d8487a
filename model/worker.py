"""Social workers of the neighbourhood team.

M3 Caseload and time (Van Arum, 'Sociale wijkteams are here to stay'): each case
costs worker hours by severity and complexity; individual demand is served first and
collective and outreach work get what is left, up to the municipality's target;
demand beyond capacity queues, and overload is measured.

M4 Two crafts (Pruim, 'Collectief en individueel werken in balans, lukt dat wel?';
RadarAdvies, 'Sociale teams werken'): individual and collective skill are separate and
few master both; collective skill grows with training and practice.

M5 Mandate (RadarAdvies; Van Arum): with mandate the worker decides at once - light
support, a collective arrangement or maatwerk - and tailors in proportion to courage
(lef), which grows with backing; without mandate, heavy cases wait for a municipal
indication.

M6 Secondment (Wijland, 'Nut en noodzaak van een onafhankelijk sociaal (wijk)team'):
a worker seconded by a provider refers heavy cases to the parent provider; specialist
(GGZ) access lets the team keep mental-health-complex cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from model import kernels
from model.resident import MENTAL_HEALTH

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel

# Routes a worker can choose for a new case.
LIGHT, TEAM_HEAVY, COLLECTIVE_ARRANGEMENT, MAATWERK_NOW, INDICATION = range(5)
ROUTES = ("light", "team_heavy", "collective", "maatwerk", "indication")


def case_hours(
    model: NeighbourhoodModel, idx: np.ndarray, heavy: np.ndarray, complexity: np.ndarray | None = None
) -> np.ndarray:
    """M3: worker hours per week the team cases ``idx`` need (before visit caps).

    Light or heavy base hours, plus ``complexity_extra`` for each extra domain above
    the complex threshold. ``complexity`` may pass the cases' complexity (M1) when the
    caller has it already.
    """
    p = model.p
    if complexity is None:
        complexity = model.pop.complexity(idx)
    base = np.where(heavy, p.heavy_case_hours, p.light_case_hours)
    extra = np.maximum(complexity - 1, 0)
    return base * (1.0 + p.complexity_extra * extra)


def decide_routes(
    model: NeighbourhoodModel,
    idx: np.ndarray,
    owner: np.ndarray,
    collective_option: np.ndarray,
    starts: np.ndarray | None = None,
    complexity: np.ndarray | None = None,
) -> np.ndarray:
    """M5/M6: choose a route (see :data:`ROUTES`) for each new case ``idx``, taken by ``owner``.

    Early cases get light team support. For late (heavy) cases: without mandate the
    case goes to the municipal indication desk; with mandate a seconded worker may
    refer to the parent provider, and a worker with courage tailors - a collective
    arrangement where one runs nearby, heavy team support where the case is not too
    severe, fits in the worker's nominal capacity (cases in order) and, for
    mental-health-complex cases, specialist expertise is at hand - and otherwise grants
    maatwerk at once. One call decides for every worker: ``owner`` holds the index of the
    worker taking each case, each worker's cases contiguous. ``starts`` (the position of
    each worker's first case) and ``complexity`` (of the cases, M1) may be passed when the
    caller has them already.
    """
    p, pop = model.p, model.pop
    workers = model.workers
    n = idx.size
    if starts is None:
        starts = (np.concatenate(([True], owner[1:] != owner[:-1]))).nonzero()[0]
    if complexity is None:
        complexity = pop.complexity(idx)
    draw = route_draws(model, owner, starts)
    if kernels.ENABLED:  # the same decisions, compiled
        return kernels.routes(model, idx, owner, collective_option, starts, complexity, draw)
    s = pop.smax[idx]
    early = s < p.heavy_threshold
    complex_ggz = (complexity >= 2) & (pop.sev[:, MENTAL_HEALTH][idx] > p.complex_threshold)
    specialist = draw[0] < p.specialist_access if p.m6_provider_behaviour else np.ones(n, bool)
    team_can_hold = ~complex_ggz | specialist
    mandate = draw[1] < model.mandate if p.m5_mandate_rules else np.ones(n, bool)
    seconded = np.array([w.seconded for w in workers])[owner]
    refers = seconded & (draw[2] < p.secondment_bias) if p.m6_provider_behaviour else np.zeros(n, bool)
    lef = np.array([w.lef for w in workers])[owner]
    tailor = mandate & ~refers & (draw[3] < lef)
    reluctant = draw[4] < pop.reluctance[idx]

    route = np.full(n, INDICATION, np.int8)
    route[mandate] = MAATWERK_NOW
    to_collective = tailor & collective_option & ~reluctant
    route[to_collective] = COLLECTIVE_ARRANGEMENT
    team_heavy = tailor & ~to_collective & (s < p.maatwerk_threshold) & team_can_hold
    if team_heavy.any():
        team_heavy &= _fits_in_capacity(model, idx, owner, team_heavy, starts, complexity)
        route[team_heavy] = TEAM_HEAVY
    route[early & team_can_hold] = LIGHT
    return route


def route_draws(model: NeighbourhoodModel, owner: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Uniform draws (5 x cases) for the route decisions, worker by worker.

    Rows: specialist access, mandate, secondment referral, courage, reluctance. A row is
    drawn only where its rule applies, so a fixed seed gives the same run whether the
    workers' cases are decided together or one worker at a time. ``starts`` holds the
    position of each worker's first case.
    """
    p, rng = model.p, model.rng
    draw = np.zeros((5, owner.size))
    stops = starts.tolist()[1:] + [owner.size]
    for start, stop in zip(starts.tolist(), stops, strict=True):
        seconded = model.workers[owner[start]].seconded
        m6 = p.m6_provider_behaviour
        rules = (m6, p.m5_mandate_rules, seconded and m6, True, True)
        rows = [row for row, applies in enumerate(rules) if applies]
        # One call draws the rows in turn, each over the worker's cases, as a call per row would.
        draw[rows, start:stop] = rng.random((len(rows), stop - start))
    return draw


def _fits_in_capacity(
    model: NeighbourhoodModel,
    idx: np.ndarray,
    owner: np.ndarray,
    wanted: np.ndarray,
    starts: np.ndarray,
    complexity: np.ndarray,
) -> np.ndarray:
    """M3/M5: which wanted intensive cases fit, in order, within their worker's nominal capacity.

    A worker keeps intensive (heavy) support only while it does not overload them.
    """
    if not model.p.m3_capacity_limit:
        return np.ones(idx.size, bool)
    room = np.array([max(0.0, w.capacity - w.demand) for w in model.workers])[owner]
    hours = np.where(wanted, case_hours(model, idx, np.ones(idx.size, bool), complexity), 0.0)
    total = np.cumsum(hours)
    # Hours of wanted cases before each worker's first case, repeated over the worker's cases.
    lengths = np.diff(np.append(starts, idx.size))
    before = np.repeat((total - hours)[starts], lengths)
    return total - before <= room


class Worker(mesa.Agent):
    """A generalist social worker with an individual and a collective craft."""

    def __init__(
        self,
        model: NeighbourhoodModel,
        index: int,
        fte: float,
        skill_individual: float,
        skill_collective: float,
        seconded: bool,
        parent: int,
    ) -> None:
        super().__init__(model)
        p = model.p
        self.index = index
        self.fte = fte
        self.base_capacity = fte * p.hours_per_fte * p.direct_time_share  # hours per week
        self.capacity = self.base_capacity  # plus hours the municipality reinvests (M9)
        self.skill_individual = skill_individual
        self.skill_collective = skill_collective
        self.lef = p.lef_initial
        self.seconded = seconded
        self.parent = parent  # index of the parent provider if seconded, else -1
        self.demand = 0.0  # individual hours asked this week
        self.service = 1.0  # share of individual demand that is met
        self.collective_hours = 0.0
        self.overloaded = False

    # ---- M3 -----------------------------------------------------------------
    def spare_hours(self) -> float:
        """Hours of new cases the worker still takes on: up to the overload tolerance.

        Infinite without the M3 capacity limit.
        """
        p = self.model.p
        if not p.m3_capacity_limit:
            return np.inf
        return p.overload_tolerance * self.capacity - self.demand

    def allocate_time(self, demand: float) -> None:
        """M3: serve individual demand first; collective work gets what is left, up to target."""
        p = self.model.p
        self.demand = demand
        target = p.collective_time_target * self.capacity
        if not p.m3_capacity_limit:
            self.service, self.overloaded, self.collective_hours = 1.0, False, target
            return
        self.overloaded = demand > self.capacity
        self.service = 1.0 if demand <= self.capacity else self.capacity / demand
        self.collective_hours = max(0.0, min(target, self.capacity - demand))

    # ---- M5 / M6 ----------------------------------------------------------------
    def decide(self, idx: np.ndarray, collective_option: np.ndarray) -> np.ndarray:
        """M5/M6: choose a route (see :data:`ROUTES`) for each of this worker's new cases."""
        owner = np.full(idx.size, self.index)
        return decide_routes(self.model, idx, owner, collective_option, np.zeros(1, np.int64))

    def adjust_courage(self) -> None:
        """M5: courage to tailor (lef) drifts towards the backing that steering gives."""
        p = self.model.p
        self.lef += p.lef_rate * (p.steering - self.lef)

    # ---- M4 -----------------------------------------------------------------
    def learn(self, practice_hours: float) -> None:
        """M4: collective skill grows with training and practice, decays without practice."""
        p = self.model.p
        if not p.m4_skill_dynamics:
            return
        room = 1.0 - self.skill_collective
        gain = p.training_effect * p.training_hours / 52.0 + p.skill_learning_rate * practice_hours
        decay = p.skill_decay * self.skill_collective if practice_hours <= 0 else 0.0
        self.skill_collective = float(min(max(self.skill_collective + gain * room - decay, 0.0), 1.0))
