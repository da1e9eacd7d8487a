"""Care providers (aanbieders) delivering individual maatwerk.

M6 Providers (Wijland, 'Nut en noodzaak van een onafhankelijk sociaal (wijk)team'):
providers deliver maatwerk at a weekly cost with limited places. They are
supply-driven: they press clients to keep their indication, which lowers step-down,
unless the municipality's contracts align them with own-strength principles. They can
co-run group offers at a much lower cost per participant (RadarAdvies, 'Sociale teams
werken': the Speelkamer), which is costed in :mod:`model.initiative`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


class Provider(mesa.Agent):
    """A maatwerk provider with a number of places and a weekly cost per client."""

    def __init__(self, model: NeighbourhoodModel, index: int, places: int) -> None:
        super().__init__(model)
        self.index = index
        self.places = places
        self.clients = 0

    @property
    def cost_per_week(self) -> float:
        """EUR per client per week."""
        return self.model.p.maatwerk_cost_year / 52.0

    @property
    def free_places(self) -> int:
        """Places not taken this week."""
        return max(0, self.places - self.clients)

    @property
    def step_down_chance(self) -> float:
        """M6: weekly chance an eligible client is stepped down (indication not renewed).

        Supply pressure from an unaligned provider lowers it; so does secondment: seconded
        workers, caught between the municipality and their parent provider, do not counter
        that pressure when indications are reviewed. In the pre-2015 approach no contract
        aligns providers.
        """
        p = self.model.p
        if not p.m6_provider_behaviour:
            return p.step_down_rate
        alignment = 0.0 if p.pre_2015 else p.provider_alignment
        chance = p.step_down_rate * (1.0 - p.supply_pressure * (1.0 - alignment))
        if self.model.workers:
            chance *= 1.0 - p.secondment_bias * (1.0 - p.independence)
        return chance
