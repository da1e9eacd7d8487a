"""Social workers of the neighbourhood team: Mesa agents with two crafts, time and courage.

Before 2015 (M10) the same agents are the welfare workers of general social work, youth and
family centres and community work: no mandate, input steering, not seconded, and
``community_work_share`` of their time for collective work (see :mod:`model.neighbourhood`).

The rules they follow live with their mechanisms: the team's intake and routes in
:mod:`model.intake` (M3/M5/M6), collective work in :mod:`model.collective` (M4/M7). This module
holds the worker's own state and the rules that change it.

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

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


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
        target = self.model.collective_target * self.capacity
        if not p.m3_capacity_limit:
            self.service, self.overloaded, self.collective_hours = 1.0, False, target
            return
        self.overloaded = demand > self.capacity
        self.service = 1.0 if demand <= self.capacity else self.capacity / demand
        self.collective_hours = max(0.0, min(target, self.capacity - demand))

    # ---- M5 ----------------------------------------------------------------------
    def adjust_courage(self) -> None:
        """M5: courage to tailor (lef) drifts towards the backing that steering gives."""
        p = self.model.p
        self.lef += p.lef_rate * (self.model.steering - self.lef)

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
