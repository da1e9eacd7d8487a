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

With ``pre_2015`` the team is replaced by the old approach (M10): welfare workers (general social
work, youth and family centres, community work) follow the team's rules without mandate, under
input steering, employed by their own organisations, with ``community_work_share`` of their time
for community work and outreach; the municipal desk indicates and providers deliver.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model import budget, collective, intake, problems, providers, requests
from model.budget import Municipality
from model.collective import Initiative
from model.outputs import SERIES_FIELDS, summarise
from model.params import Params, validate
from model.payers import PAYERS, WeekCosts, discount_factor
from model.providers import Provider
from model.reporters import CareTracker, Tally, count_groups, week_counts, youth_year
from model.resident import (
    CARE_SUPPORT,
    COLLECTIVE,
    DOMAINS,
    ELDERLY,
    MAATWERK,
    TEAM,
    VOLUNTEER,
    WAITING,
    Population,
    Resident,
    row_max,
)
from model.series import WeeklySeries
from model.worker import Worker

# FTE of one worker post (a team of 4 FTE has 5 workers; 4.3 FTE has 5 and one of 0.3).
FTE_PER_WORKER = 0.8
# Part-time remainders below this FTE (rounding error of the FTE sum) make no post.
MIN_POST_FTE = 1e-9


def posts(fte: float) -> list[float]:
    """``fte`` as posts of :data:`FTE_PER_WORKER`, the last one part-time: they sum to ``fte``."""
    full = int((fte + MIN_POST_FTE) // FTE_PER_WORKER)
    rest = fte - full * FTE_PER_WORKER
    return [FTE_PER_WORKER] * full + ([rest] if rest > MIN_POST_FTE else [])


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
        self.workers: list[Worker] = self._hire_workers() if self.team_fte > 0 else []
        self.initiatives: dict[int, Initiative] = {}
        self.next_initiative_id = 0
        self.outreach_per_1000 = 0.0  # outreach hours per 1,000 residents last week
        self.now: dict[str, float] = {}
        self.tally = Tally(group_sizes=self.pop.income_sizes.astype(float))
        self.youth = youth_year(self)
        self.care = CareTracker(p.n_residents)
        # The parameter values each mechanism's compiled loops read, by name (fixed for a run).
        self.rules = {
            "problems": problems.problem_rules(self),
            "effects": problems.support_effects(self),
            "intake": intake.intake_rules(self),
        }
        self._place_initial_clients()
        self.collect = collect
        self.datacollector = WeeklySeries(SERIES_FIELDS, p.weeks)

    # ---- set-up -------------------------------------------------------------
    @property
    def team_fte(self) -> float:
        """Worker FTE of the team, or of the welfare workers in the pre-2015 approach (M10)."""
        p = self.p
        per_1000 = p.welfare_fte_per_1000 if p.pre_2015 else p.fte_per_1000
        return per_1000 * p.n_residents / 1000.0

    @property
    def reporting(self) -> bool:
        """True after the burn-in: this week is reported."""
        return self.week > self.p.burn_in_weeks

    @property
    def mandate(self) -> float:
        """M5: share of decisions the workers take themselves (none before 2015, M10)."""
        return 0.0 if self.p.pre_2015 else self.p.mandate

    @property
    def steering(self) -> float:
        """M5/M9: 0 input, 1 outcome steering (input steering before 2015, M10)."""
        return 0.0 if self.p.pre_2015 else self.p.steering

    @property
    def independence(self) -> float:
        """M6: share of worker hours not seconded by a provider (welfare workers before 2015, M10)."""
        return 1.0 if self.p.pre_2015 else self.p.independence

    @property
    def collective_target(self) -> float:
        """M3: share of worker time for collective and outreach work (community work before 2015)."""
        return self.p.community_work_share if self.p.pre_2015 else self.p.collective_time_target

    @property
    def desk_fte(self) -> float:
        """M5/M10: FTE of the municipal indication desk, for the decisions the workers do not take."""
        p = self.p
        return p.desk_fte_per_1000 * p.n_residents / 1000.0 * (1.0 - self.mandate)

    def _hire_workers(self) -> list[Worker]:
        """M4/M6: workers with two crafts that few master both; some seconded by providers.

        Staffing is hours-exact: the seconded and the team's own FTE (``1 - independence`` and
        ``independence`` of the team's) each fill posts of :data:`FTE_PER_WORKER`, the last one
        part-time (:func:`posts`), so hours and the seconded share do not depend on size.
        """
        p, rng = self.p, self.rng
        own = posts(self.independence * self.team_fte)
        seconded_fte = posts(self.team_fte - sum(own))
        order = rng.permutation(len(own) + len(seconded_fte))
        fte = np.array(own + seconded_fte)[order]
        seconded = (np.arange(fte.size) >= len(own))[order]
        n = fte.size
        skill_ind = rng.beta(7.0, 3.0, n)
        m = min(max(p.collective_skill_mean, 0.01), 0.99)
        skill_col = np.clip(rng.beta(5.0 * m, 5.0 * (1 - m), n) - 0.3 * (skill_ind - 0.7), 0.0, 1.0)
        parents = rng.integers(0, p.n_providers, n)
        return [
            Worker(
                self,
                i,
                float(fte[i]),
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
        providers.count_clients(self)

    # ---- the week: the ODD schedule -----------------------------------------------------
    def step(self) -> None:
        """Advance the neighbourhood by one week (``docs/ODD.md``, process overview)."""
        self.week += 1
        self.tally.week_intakes = self.tally.week_early = 0
        problems.arrive_problems(self)  # 1 M1
        problems.update_support(self)  # 1 M8
        asked, signalled = requests.take_requests(self)  # 2 M2
        providers.decide_indications(self)  # 3 M5/M10
        intakes = intake.run_team_intake(self) if self.workers else 0  # 4 M3/M5/M6
        starts = providers.admit_to_providers(self)  # 5 M6
        removed = problems.treat_and_evolve(self)  # 6 M1/M3/M6/M7/M8
        intake.close_and_escalate(self)  # 7 M3/M5/M6
        collective_hours, collective_cost = collective.run_collective(self)  # 8 M4/M7
        for worker in self.workers:  # 9 M5
            worker.adjust_courage()
        problems.update_reliance(self)  # 9 M8
        costs = budget.book_costs(self, collective_cost)  # 10 M9
        self.youth.track(self)
        self.care.track(self)
        if self.week % 52 == 0:
            budget.review_year(self)  # 10 M9
            self.youth.close(self.tally if self.reporting else None)
        if self.reporting:  # 11
            self.tally.add_removed(removed)
            self.record(asked, signalled, intakes, starts, collective_hours, costs)

    def record(
        self,
        requests: int,
        signalled: int,
        intakes: int,
        starts: int,
        collective_hours: float,
        costs: WeekCosts,
    ) -> None:
        """Record one reported week: the series row and the running summary sums."""
        p, pop = self.p, self.pop
        counts, (unmet, sr_sum, smax_sum) = week_counts(
            pop.status, pop.smax, pop.sr, pop.worker, pop.primary, p.heavy_threshold, p.signal_floor
        )
        capacity = sum(w.capacity for w in self.workers)
        self.tally.unmet += float(unmet)
        self.tally.requests += requests
        self.tally.signalled += signalled
        self.tally.maatwerk_starts += starts
        n_init = sum(1 for i in self.initiatives.values() if i.running)
        caseload = int(counts[6])
        week_intakes, week_early = self.tally.week_intakes, self.tally.week_early
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
            "cost_team": costs.team,
            "cost_maatwerk": costs.maatwerk,
            "cost_collective": costs.collective,
            **self.care.now,
            **{f"cost_maatwerk_{d}": c for d, c in zip(DOMAINS, costs.by_domain, strict=True)},
            **{f"cost_{k}": costs.by_payer[k] for k in PAYERS},
        }
        factor = discount_factor(p.discount_rate, self.week - p.burn_in_weeks)
        npv = {f"npv_{k}": costs.by_payer[k] * factor for k in PAYERS}
        self.tally.add_week({**self.now, "wmo_maatwerk": float(counts[8]), **npv})
        count_groups(self)
        if self.collect:
            self.datacollector.collect(self)

    # ---- outputs ------------------------------------------------------------
    def run_model(self, weeks: int | None = None) -> None:
        """Run the burn-in and ``weeks`` reported weeks (default: the ``weeks`` parameter)."""
        total = self.p.burn_in_weeks + (self.p.weeks if weeks is None else weeks)
        while self.week < total:
            self.step()

    def summary(self) -> dict[str, float]:
        """The one-row flat summary of the reported weeks (see ``model.outputs``)."""
        return summarise(self.tally, self.p.n_residents, self.p.budget_per_resident)

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
