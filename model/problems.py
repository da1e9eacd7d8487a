"""M1 Problems and M8 self- and shared reliance: how need arrives, grows, shrinks and is carried.

M1 (Van Arum, 'Sociale wijkteams are here to stay'). New problems arrive per domain *d* and age
group *a* as Poisson counts with mean ``rate[d, a] x residents[a]`` a week (the ``arrival_*``
parameters, shaped by age); each adds ``new_problem_severity x f_k x U(0.5, 1.5)`` to one
resident's domain, capped at 1. Within the age group the resident is drawn with weight
``1 + side_k x income_arrival_gap`` by income group *k* (side +1 low, 0 middle, -1 high), so the
total stays as it is and the low group gets more of it; ``f_k`` is ``1 + side_k x
income_severity_gap`` rescaled to mean 1 over new problems (issue 17). Each week every open
problem changes, per domain, as

    level = s + (1 - treated) x s x escalation_rate x (1 - sr) x (1 - support)   (M1 escalation)
    down  = rec x (own_recovery_rate x sr + neighbour_help x support + relief)
    s'    = clip(level - down, 0, 1), and 0 below 0.02 (a trace of a problem is no problem)

where *sr* is self-reliance, *support* what the network offers (M8), *treated* and *relief* what
the resident's support holds back and removes this week, by kind of support (:func:`support_effects`):

    team (light or heavy)  (light|heavy)_support_effect x skill x service x visit factor x generalist[d]
                           in every domain; generalist[d] is 1, for mental health
                           g + (1 - g) x specialist_access with g = generalist_mental_health_factor
    maatwerk               heavy_support_effect x maatwerk_ratio[d] x fit, in its primary domain d
    a group                collective_effect x quality, in its primary domain

and *rec* 1 where the domain has need, ``1 - elderly_care_chronicity`` for elderly care needs.
Several domains above ``complex_threshold`` make a complex case (:func:`model.resident.domains_above`).

M8 (Zorg+Welzijn/Movisie; Wijland). A neighbour's spare capacity is ``sr x (1 - smax)``, doubled
for volunteers; ``support = min(1, ties x mean spare capacity of the network neighbours)``.
Solving a problem with own strength raises self-reliance: each week by ``self_reliance_gain``
times the severity removed by own strength, weighted by own strength's share of the week's
removal (own / (own + neighbours + support)), so a problem that support or neighbours solve
teaches less than one the resident solves alone; each week
``sr += gain - dependence_loss x [maatwerk over a year] + reliance_reversion x (sr0 - sr)`` and
``ties += gain + reliance_reversion x (ties0 - ties)``, with ``gain = collective_reliance_gain``
for participants and volunteers; both stay in [0, 1].

Self-reliance on the ZRM scale. Dutch neighbourhood teams score self-reliance per life domain with
the Zelfredzaamheid-Matrix (ZRM, GGD Amsterdam): 1 acute problems, 2 not self-reliant, 3 barely
self-reliant, 4 adequately self-reliant, 5 fully self-reliant. The model's four domains stand for
these ZRM domains (:data:`ZRM_DOMAINS`; a model domain scores the same in each ZRM domain it stands
for, which the model does not tell apart):

- youth & family -> 'huiselijke relaties' (domestic relations) and the ZRM's parenting supplement
  ('ouderschap'): the Jeugdwet needs of children and their parents;
- care & support (Wmo) -> 'basale ADL' and 'instrumentele ADL' (self-care and running a household)
  and 'lichamelijke gezondheid': what Wmo support at home and household help serve; housing
  ('huisvesting') is left out, since sheltered and protected housing are not modelled;
- income & work -> 'financien' and 'werk & opleiding' (Participatiewet, debt counselling);
- mental health -> 'geestelijke gezondheid' and 'middelengebruik' (GGZ and addiction care).

A resident's level in domain *d* follows from its severity and the resident's self-reliance
(:func:`zrm_level`, assumed):

    level = 1 + floor(4 x (1 - s_d) x (1 - w x (1 - sr)) + 0.5)      (w = ``zrm_reliance_weight``)

so without a problem (s_d = 0) the level is self-reliance's alone: at w = 0.5, 5 from sr = 0.75,
4 from 0.25 and 3 below; a crisis (s_d >= 0.85) scores 1 at typical self-reliance (0.6). A resident's own
level is that of the worst domain (the lowest level, as the level falls with severity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.compiled import jit, named, pairwise_sum, rules
from model.resident import CARE_SUPPORT, COLLECTIVE, MAATWERK, MENTAL_HEALTH, TEAM, VOLUNTEER

if TYPE_CHECKING:
    from model.neighbourhood import NeighbourhoodModel


#: The weekly relief of each kind of support (severity per week): team support per domain
#: (light, heavy), maatwerk per domain (its primary one) and a group (its primary domain).
EFFECTS = np.dtype(
    [
        ("light", np.float64, (4,)),
        ("heavy", np.float64, (4,)),
        ("maatwerk", np.float64, (4,)),
        ("collective", np.float64),
    ]
)


def support_effects(model: NeighbourhoodModel) -> np.ndarray:
    """M1/M3/M6/M7: the relief per week of each kind of support, per domain (see the module docstring)."""
    p = model.p
    generalist = np.ones(4)
    if p.m6_provider_behaviour:
        g = p.generalist_mental_health_factor
        generalist[MENTAL_HEALTH] = g + (1.0 - g) * p.specialist_access
    ratio = np.array(
        [
            p.maatwerk_ratio_youth_family,
            p.maatwerk_ratio_care_support,
            p.maatwerk_ratio_income_work,
            p.maatwerk_ratio_mental_health,
        ]
    )
    row = (
        p.light_support_effect * generalist,
        p.heavy_support_effect * generalist,
        p.heavy_support_effect * ratio,
        p.collective_effect,
    )
    return named(np.array([row], EFFECTS))


def problem_rules(model: NeighbourhoodModel) -> np.record:
    """The parameter values the M1/M8 loops read."""
    p = model.p
    return rules(
        standard_fit=p.standard_fit,
        own_recovery_rate=p.own_recovery_rate,
        neighbour_help=p.neighbour_help,
        escalation_rate=p.escalation_rate,
        self_reliance_gain=p.self_reliance_gain,
        escalation=bool(p.m1_escalation),
        reliance_dynamics=bool(p.m8_reliance_dynamics),
        mandate_rules=bool(p.m5_mandate_rules),
        collective_reliance_gain=p.collective_reliance_gain,
        dependence_loss=p.dependence_loss,
        reliance_reversion=p.reliance_reversion,
    )


#: The ZRM domains each model domain stands for (see the module docstring), in the order of
#: :data:`model.resident.DOMAINS`.
ZRM_DOMAINS: dict[str, tuple[str, ...]] = {
    "youth_family": ("huiselijke relaties", "ouderschap (parenting supplement)"),
    "care_support": ("basale ADL", "instrumentele ADL", "lichamelijke gezondheid"),
    "income_work": ("financien", "werk & opleiding"),
    "mental_health": ("geestelijke gezondheid", "middelengebruik"),
}
#: The five ZRM levels.
ZRM_LEVELS: tuple[str, ...] = (
    "acute problems",
    "not self-reliant",
    "barely self-reliant",
    "adequately self-reliant",
    "fully self-reliant",
)


@jit
def zrm_level(severity, self_reliance, weight):
    """The ZRM level (1-5) of a domain with ``severity`` for a resident with ``self_reliance``.

    ``weight`` is ``zrm_reliance_weight``; the rule is the module docstring's.
    """
    position = 4.0 * (1.0 - severity) * (1.0 - weight * (1.0 - self_reliance))
    return 1 + min(max(int(np.floor(position + 0.5)), 0), 4)


# ---- M1 arrival ---------------------------------------------------------------------------------
def arrive_problems(model: NeighbourhoodModel) -> None:
    """M1: draw this week's new problems per domain and age group, and add their severity.

    The number of new problems in each (domain, age) cell is Poisson; the residents who get them
    are drawn within the age group in proportion to their income group's arrival weight
    (``1 + income_arrival_gap`` low, 1 middle, ``1 - income_arrival_gap`` high; uniformly with the
    gap at 0), and a problem's severity is ``new_problem_severity x U(0.5, 1.5)`` times the income
    group's severity factor (:func:`model.resident.severity_factors`). All cells in one draw.
    """
    pop, rng = model.pop, model.rng
    counts = rng.poisson(pop.cell_rate).ravel()  # cells d*3 + a
    total = int(counts.sum())
    if total == 0:
        return
    u = rng.random(2 * total)
    ages = (pop.by_age, pop.age_offset, pop.age_sizes, pop.cum_weight)
    _arrive(counts, u, ages, model.p.new_problem_severity, pop.sev_factor, pop.sev, pop.smax)


@jit
def _pick(cum, start, size, x):
    """The first position k in ``cum[start:start + size]`` with ``cum[start + k] > x`` (bisection)."""
    lo, hi = 0, size - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[start + mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@jit
def _arrive(counts, u, ages, severity, sev_factor, sev, smax):
    by_age, age_offset, age_sizes, cum = ages
    total = u.size // 2
    who = np.empty(total, np.int64)
    k = 0
    for cell in range(counts.size):  # cells d*3 + a, each problem in turn
        a = cell % 3
        start, size = age_offset[a], age_sizes[a]
        for _ in range(counts[cell]):
            j = _pick(cum, start, size, u[k] * cum[start + size - 1])
            who[k] = by_age[start + j]
            sev[who[k], cell // 3] += severity * sev_factor[who[k]] * (0.5 + u[total + k])
            k += 1
    for i in who:
        for d in range(4):
            sev[i, d] = min(sev[i, d], 1.0)
        smax[i] = max(max(sev[i, 0], sev[i, 1]), max(sev[i, 2], sev[i, 3]))


# ---- M8 network support and self-reliance --------------------------------------------------------
def update_support(model: NeighbourhoodModel) -> None:
    """M8: what each resident's network neighbours offer this week (``pop.support``, 0-1)."""
    pop = model.pop
    indptr, indices = pop.adj_u32
    on = bool(model.p.m8_reliance_dynamics)
    pop.support = _support(pop.sr, pop.smax, pop.status, pop.ties, pop.degree, indptr, indices, on)


@jit
def _support(sr, smax, status, ties, degree, indptr, indices, reliance_on):
    n = sr.size
    spare = np.zeros(n)  # what each resident can offer: self-reliance x (1 - own worst severity)
    if reliance_on:
        for j in range(n):
            spare[j] = sr[j] * (1.0 - smax[j]) * (2.0 if status[j] == VOLUNTEER else 1.0)
    out = np.empty(n)
    for i in range(n):
        offered = 0.0  # neighbour by neighbour, in index order (every tie weighs 1)
        for k in range(indptr[i], indptr[i + 1]):
            offered += spare[indices[k]]
        out[i] = min(1.0, ties[i] * offered / degree[i])
    return out


def update_reliance(model: NeighbourhoodModel) -> None:
    """M8: collective gains, loss under long dependence, and reversion to baseline."""
    pop = model.pop
    if model.p.m8_reliance_dynamics:
        rules = model.rules["problems"]
        _reliance(pop.sr, pop.ties, pop.sr0, pop.ties0, pop.status, pop.start_week, model.week, rules)


@jit
def _reliance(sr, ties, sr0, ties0, status, start_week, week, rules):
    r = rules[0]
    for i in range(sr.size):
        st = status[i]
        gain = r.collective_reliance_gain * (1.0 if st >= COLLECTIVE else 0.0)
        dependent = 1.0 if (st == MAATWERK and start_week[i] < week - 52) else 0.0
        s = sr[i] + ((gain - r.dependence_loss * dependent) + r.reliance_reversion * (sr0[i] - sr[i]))
        t = ties[i] + (gain + r.reliance_reversion * (ties0[i] - ties[i]))
        sr[i] = min(max(s, 0.0), 1.0)
        ties[i] = min(max(t, 0.0), 1.0)


# ---- M1/M8 severity under support ----------------------------------------------------------------
def treat_and_evolve(model: NeighbourhoodModel) -> dict[str, float]:
    """M1/M3/M6/M7/M8: one week of severity change for everyone with an open problem.

    Team support (light or heavy) works on every domain (the generalist approach), scaled by the
    worker's individual skill, the share of demand the worker can meet and the visit cap; maatwerk
    and collective arrangements work on their own domain (:func:`support_effects`). Returns the
    severity removed by own strength, neighbours and support.
    """
    pop = model.pop
    visit = model.municipality.visit_factor
    intensity = np.array([w.service for w in model.workers], float) * visit
    skill = np.array([w.skill_individual for w in model.workers], float)
    quality = np.zeros(max(model.next_initiative_id, 1))
    for ini in model.initiatives.values():
        quality[ini.ident] = ini.quality
    care = (pop.status, pop.worker, pop.primary, pop.tailored, pop.initiative, pop.heavy)
    own, neighbours, support = _evolve_all(
        pop.sev,
        pop.smax,
        pop.sr,
        pop.support,
        pop.care_recovery,
        care,
        intensity,
        skill,
        quality,
        model.rules["effects"],
        model.rules["problems"],
    )
    return {"own": own, "neighbours": neighbours, "support": support}


@jit
def _evolve_all(sev, smax, sr, support, care_recovery, care, intensity, skill, quality, effects, rules):
    """The module's equation for every resident with an open problem, in index order (M1)."""
    r, e = rules[0], effects[0]
    status, worker, primary, tailored, initiative, heavy = care
    treated = np.empty(4)  # what support holds back (treated) and removes (relief), per domain
    relief = np.empty(4)
    own = np.empty(4)  # the push down by own strength, neighbours and support, and the share of it
    nb = np.empty(4)  # that took effect (less than 1 where severity reached 0)
    rel = np.empty(4)
    frac = np.empty(4)
    rows = np.empty((3, smax.size))  # severity removed by own strength, neighbours, support
    k = 0
    for i in range(smax.size):
        if not smax[i] > 0.0:
            continue
        treated[:] = 0.0
        relief[:] = 0.0
        if status[i] == TEAM:  # every domain: the generalist approach
            w = worker[i]
            team = e.heavy if heavy[i] else e.light
            for d in range(4):
                relief[d] = team[d] * (skill[w] * intensity[w])
                treated[d] = intensity[w]
        elif status[i] == MAATWERK:  # the primary domain
            fit = 1.0 if (not r.mandate_rules or tailored[i]) else r.standard_fit
            relief[primary[i]] = e.maatwerk[primary[i]] * fit
            treated[primary[i]] = 1.0
        elif status[i] == COLLECTIVE:
            q = quality[initiative[i]]
            relief[primary[i]] = e.collective * q
            treated[primary[i]] = q
        s_r, u = sr[i], support[i]
        rate = r.escalation_rate * (1.0 - s_r) * (1.0 - u)
        for d in range(4):
            s = sev[i, d]
            rec = (1.0 if s > 0.0 else 0.0) * (care_recovery[i] if d == CARE_SUPPORT else 1.0)
            own[d] = r.own_recovery_rate * s_r * rec
            nb[d] = r.neighbour_help * u * rec
            rel[d] = relief[d] * rec
            down = own[d] + nb[d] + rel[d]
            level = (1.0 - treated[d]) * (s * rate) + s if r.escalation else s
            frac[d] = min(level / (down if down > 0.0 else np.inf), 1.0)
            new = min(max(level - down, 0.0), 1.0)
            sev[i, d] = new if new >= 0.02 else 0.0  # a trace of a problem is no problem
        smax[i] = max(max(sev[i, 0], sev[i, 1]), max(sev[i, 2], sev[i, 3]))
        rows[0, k] = (own[0] * frac[0] + own[2] * frac[2]) + (own[1] * frac[1] + own[3] * frac[3])
        rows[1, k] = (nb[0] * frac[0] + nb[2] * frac[2]) + (nb[1] * frac[1] + nb[3] * frac[3])
        rows[2, k] = (rel[0] * frac[0] + rel[2] * frac[2]) + (rel[1] * frac[1] + rel[3] * frac[3])
        removed = (rows[0, k] + rows[1, k]) + rows[2, k]
        if r.reliance_dynamics and removed > 0.0:  # M8: own strength, weighted by its share
            sr[i] = min(1.0, s_r + r.self_reliance_gain * rows[0, k] * (rows[0, k] / removed))
        k += 1
    return pairwise_sum(rows[0], 0, k), pairwise_sum(rows[1], 0, k), pairwise_sum(rows[2], 0, k)
