"""M9 the municipality's budget: it pays its share of the costs, caps visits, and reviews once a year.

Each week the workers (the team, or the welfare workers before 2015) and the municipal indication
desk cost ``FTE x hours_per_fte x worker_hour_cost`` plus the hours bought with reinvested savings;
the desk's FTE is ``desk_fte_per_1000 x (1 - mandate)``, the share of decisions it takes. Maatwerk
costs its clients times the unit cost of their kind of support / 52, and collective provisions what
the running initiatives spend (:mod:`model.collective`). Who pays each kind is in
:mod:`model.payers`: the municipality pays the team, the desk, the collective provisions and its
laws' maatwerk (Wmo, Jeugdwet, Participatiewet); health insurers pay the Zvw part of mental-health
care. The municipality's budget and its review cover only what the municipality pays.

M5 Indications (RadarAdvies, 'Sociale teams werken'; Van Arum, 'Sociale wijkteams are
here to stay'): without mandate a heavy case waits for a municipal indication, with a
delay and a bias towards standard individual provisions; input steering caps visits
per case and so under-treats. Escalation agreements shorten the wait.

M9 Review (Van Arum; RadarAdvies): once a year the municipality compares spending with
its budget. Input steering answers overspending with tighter visit caps and cuts in
collective provisions; outcome steering reinvests what is saved into collective
provisions and into team capacity ("herinvesteren ... ook in capaciteit en expertise"),
the latter capped at a share of the team's own hours.

M10 The pre-2015 approach (RadarAdvies): the municipality steers on input (steering 0), so
visit caps apply to the welfare workers and the review follows the input-steering rule; the
collective budget is ``collective_budget_share`` as with a team (welfare subsidies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from model.payers import WeekCosts, week_costs

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


# Visit caps cut at most this much more after overspending, and never below this share of a
# case's hours: a cap that left workers an hour a month per family would not be a visit cap.
MAX_EXTRA_CUT = 0.3
MIN_VISIT_FACTOR = 0.5


class Municipality(mesa.Agent):
    """The municipality: budget, indication desk, visit caps and the yearly review."""

    def __init__(self, model: NeighbourhoodModel) -> None:
        super().__init__(model)
        p = model.p
        self.budget_year = p.budget_per_resident * p.n_residents  # EUR per year
        self.base_collective_budget = p.collective_budget_share * self.budget_year
        self.collective_budget = self.base_collective_budget  # EUR for the current year
        self.collective_spent = 0.0  # EUR spent on collective provisions this year
        self.spent_year = 0.0  # EUR spent in total this year
        self.extra_cut = 0.0  # visit-cap cut added by input-steering reviews
        self.reinvested = 0.0  # EUR reinvested at the last review
        self.extra_team_hours = 0.0  # team hours per week bought with reinvested savings

    # ---- M5 -----------------------------------------------------------------
    @property
    def visit_factor(self) -> float:
        """M5: share of a case's hours that visit caps allow (1 under pure outcome steering)."""
        p = self.model.p
        if not p.m5_mandate_rules:
            return 1.0
        cut = p.visit_cap_cut * (1.0 - self.model.steering) + self.extra_cut
        return max(MIN_VISIT_FACTOR, 1.0 - cut)

    @property
    def indication_delay(self) -> int:
        """M5: weeks an indication takes; escalation agreements halve it at full strength."""
        p = self.model.p
        return int(round(p.indication_delay_weeks * (1.0 - 0.5 * p.escalation_agreements)))

    def collective_funds_left(self) -> float:
        """EUR left in this year's collective budget."""
        return self.collective_budget - self.collective_spent

    def pay(self, municipal: float, collective: float) -> None:
        """Book one week's municipal spending (EUR), of which ``collective`` on collective provisions."""
        self.spent_year += municipal
        self.collective_spent += collective

    # ---- M9 -----------------------------------------------------------------
    def review(self) -> None:
        """M9: the yearly budget review, then a new budget year starts."""
        p = self.model.p
        balance = self.budget_year - self.spent_year  # > 0: money saved
        if p.m9_municipal_review:
            steering = self.model.steering
            input_weight, outcome_weight = 1.0 - steering, steering
            if balance < 0:
                self.extra_cut = min(MAX_EXTRA_CUT, self.extra_cut + p.input_cut_step * input_weight)
                cut = input_weight * (-balance)
                self.collective_budget = max(0.0, self.base_collective_budget - cut)
                self.reinvested = 0.0
                self.extra_team_hours = 0.0
            else:
                self.extra_cut = max(0.0, self.extra_cut - p.input_cut_step)
                saved = outcome_weight * balance
                hours = p.reinvest_capacity_share * saved / 52.0 / p.worker_hour_cost
                team_hours = self.model.team_fte * p.hours_per_fte
                self.extra_team_hours = min(hours, p.reinvest_max_share * team_hours)
                to_collective = (1.0 - p.reinvest_capacity_share) * saved
                self.collective_budget = self.base_collective_budget + to_collective
                # What the cap leaves unspent returns to the municipality's general funds.
                self.reinvested = self.extra_team_hours * 52.0 * p.worker_hour_cost + to_collective
        self.spent_year = 0.0
        self.collective_spent = 0.0


def book_costs(model: NeighbourhoodModel, collective_cost: float) -> WeekCosts:
    """M9: this week's spending (EUR) by kind, domain and payer; the municipality pays its part."""
    p = model.p
    fte = model.team_fte + model.desk_fte
    team = (fte * p.hours_per_fte + model.municipality.extra_team_hours) * p.worker_hour_cost
    costs = week_costs(model, team, collective_cost)
    model.municipality.pay(costs.municipal, costs.collective)
    return costs


def review_year(model: NeighbourhoodModel) -> None:
    """M9: the yearly review; the team hours bought with reinvested savings go to the workers."""
    model.municipality.review()
    reinvest_capacity(model)


def reinvest_capacity(model: NeighbourhoodModel) -> None:
    """M9: spread the team hours bought with reinvested savings over the workers."""
    extra = model.municipality.extra_team_hours / max(len(model.workers), 1)
    for worker in model.workers:
        worker.capacity = worker.base_capacity + extra
