"""The parameter registry: every parameter of the model, once.

Each entry carries its default, bounds, unit, kind, one-line meaning, the
mechanism (M1-M10 of DESIGN section 4) it belongs to, its source, its basis and a
note. Validation, the command line, the browser sliders, the SALib problem and
``docs/parameters.md`` are all derived from :data:`REGISTRY`.

Kinds
-----
``policy``     a lever a municipality sets (sampled by sensitivity analysis).
``behaviour``  a rate, effect size or cost (fitted by calibration).
``setup``      size and horizon of a run (neither sampled nor fitted).
``switch``     turns one mechanism on or off (for experiments and tests).

Sources
-------
``source`` names the document a default is taken from, as one of the citation
constants below (cited by author and title, see ``docs/ODD.md``, section "Input
data"), or is :data:`ASSUMED`. ``basis`` names the documents that motivate the rule
or the parameter's existence, or that the value is set against as a calibration
target, without containing the number. ``note`` says in a sentence what the
documents do say. From these, :attr:`Param.source_class` puts every entry in one of
three classes (DESIGN section 5):

``sourced``  the number is taken from a named source; for the five articles only
             where the article's text contains it (quoted in :data:`FIGURES`).
``basis``    a named document motivates the rule, but the number is assumed.
``assumed``  no document behind the number or the rule.

Bounds are the allowed values. Every numeric parameter also carries a prior (issue #18): a
distribution (:data:`PRIOR_KINDS`) on its prior range, which is ``low``-``high`` unless
:data:`PRIORS` narrows it (a log-uniform prior needs a positive floor; a sourced figure is
uncertain about its number, not across every allowed value). Priors are assumed throughout.
:func:`draw_priors` samples them (Latin hypercube in unit space, mapped through each prior's
quantile function); history matching (``calibration.history``) starts from them. Assumed numbers
are what calibration and sensitivity analysis must cover.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from scipy import stats
from scipy.stats import qmc

Kind = Literal["policy", "behaviour", "setup", "switch"]
KINDS: tuple[str, ...] = ("policy", "behaviour", "setup", "switch")
SourceClass = Literal["sourced", "basis", "assumed"]
#: Prior distributions: uniform on the prior range; log-uniform (for rates and ratios spanning
#: orders of magnitude; needs a positive range); triangular with its mode at the default.
PRIOR_KINDS: tuple[str, ...] = ("uniform", "loguniform", "triangular")
SOURCE_CLASSES: tuple[str, ...] = ("sourced", "basis", "assumed")

# The ``source`` of a number no document gives.
ASSUMED = "assumed"
# How ``calibration.writeback`` records a fitted default in ``source``:
# "calibrated: <report> (before: <former source>)".
CALIBRATED = "calibrated: "

# Short citations: the only values ``source`` and ``basis`` may take.
# The five articles (DESIGN section 0).
PRUIM = "Pruim, 'Collectief en individueel werken in balans, lukt dat wel?' (2019)"
MOVISIE = "Van Arum (Movisie), 'Sociale wijkteams are here to stay' (2019 survey)"
WIJLAND = "Wijland, 'Nut en noodzaak van een onafhankelijk sociaal (wijk)team'"
RADAR = "RadarAdvies, 'Sociale teams werken' (cases in Rotterdam and Giessenlanden)"
ZW_MOVISIE = "Zorg+Welzijn and Movisie, 'Collectieve aanpak in de lead' (2022)"
ARTICLES: tuple[str, ...] = (PRUIM, MOVISIE, WIJLAND, RADAR, ZW_MOVISIE)
# Public figures and legal terms (figures as given in DESIGN section 0).
CBS_WMO = "CBS, Wmo maatwerk clients and spending 2019"
CBS_YOUTH = "CBS Jeugdmonitor 2023"
TARIFFS = "2023 municipal tariff lists (individual support EUR 56-66/h, group EUR 10/h)"
CPB = "CPB note on social neighbourhood teams and youth care use"
CBS_POP = "CBS population by age 2023"
WMO_TERMS = (
    "Wmo 2015, art. 2.3.2 (assessment within 6 weeks of a notification)"
    " and art. 2.3.5 (decision within 2 weeks of the application)"
)
ZRM = "Lauriks et al. (GGD Amsterdam), 'Zelfredzaamheid-Matrix' (ZRM 2017, manual)"
# Costs by domain and payer (M9, issue 17): figures as recalled, to be checked against StatLine.
CBS_YOUTH_CARE = "CBS, youth care (jeugdhulp) clients and municipal youth-care spending 2019"
DISCOUNT = "Werkgroep Discontovoet, 'Rapport Werkgroep discontovoet 2020' (standard discount rate)"
# Income groups (issue 17). CBS ranks households by standardised disposable income and reports
# by quintile (20% of households each, by definition); the model's low group is the lowest
# quintile, high the highest, middle the three between (model.resident.INCOME_SHARES).
CBS_INCOME = "CBS, income of households: quintiles of standardised disposable household income"
# Gradients by income, as recalled (check against StatLine before publication): residents of the
# lowest income quintile report poor health and long-term conditions about twice as often as those
# of the highest and live about 15 fewer years in good health (Gezondheidsenquete), registered
# problematic debt lies mostly with low incomes, and fewer of them have someone to turn to.
CBS_INCOME_GRADIENT = (
    "CBS, health, healthy life expectancy, problematic debt and social contacts by income"
    " (Gezondheidsenquete, schuldenproblematiek, sociale samenhang)"
)
CITATIONS: tuple[str, ...] = (
    *ARTICLES,
    CBS_WMO,
    CBS_YOUTH,
    TARIFFS,
    CPB,
    CBS_POP,
    WMO_TERMS,
    ZRM,
    CBS_YOUTH_CARE,
    DISCOUNT,
    CBS_INCOME,
    CBS_INCOME_GRADIENT,
)

# The reviewed allow-list of sourced defaults: (parameter, source) -> the figure in the
# source that the default is. An article may be the source of a number only with a quote
# of the sentence that contains it.
FIGURES: dict[tuple[str, str], str] = {
    ("min_cluster", RADAR): (
        "'Syndion [...] zou vanuit financieel oogpunt geen groep van maar vijf kinderen in de"
        " dorpskern kunnen starten': the Speelkamer the team started is a group of five children."
    ),
    ("indication_delay_weeks", WMO_TERMS): (
        "The assessment (onderzoek) is completed within six weeks of the notification (art. 2.3.2)"
        " and the decision taken within two weeks of the application (art. 2.3.5): 6 + 2 = 8 weeks."
    ),
    ("maatwerk_cost_year", CBS_WMO): (
        "About EUR 5.3 bn spent on about 1.16 million Wmo maatwerk clients in 2019:"
        " about EUR 4,600 per client a year."
    ),
    ("group_tariff", TARIFFS): "Group support costs about EUR 10 per participant-hour.",
    ("discount_rate", DISCOUNT): (
        "The standard real discount rate for Dutch social cost-benefit analyses is 2.25% a year"
        " (figure as recalled, check against the report before publication)."
    ),
    (
        "worker_hour_cost",
        TARIFFS,
    ): "Individual support costs EUR 56-66 an hour; the default is the midpoint, 61.",
}


class ParameterError(ValueError):
    """A parameter name or value that the registry does not accept."""


@dataclass(frozen=True)
class Param:
    """One registry entry. ``low``/``high`` are inclusive bounds.

    ``source`` is a citation constant or :data:`ASSUMED`; ``basis`` the citation
    constants of the documents behind the rule; ``note`` what they say about the number.
    """

    name: str
    default: float | int | bool
    low: float
    high: float
    unit: str
    kind: Kind
    meaning: str
    source: str
    mechanism: str
    type: type = float
    basis: tuple[str, ...] = ()
    note: str = ""
    prior: str = "uniform"
    prior_range: tuple[float, float] | None = None
    prior_note: str = ""

    @property
    def prior_low(self) -> float:
        """Lower end of the prior range (``low`` unless :data:`PRIORS` narrows it)."""
        return float(self.prior_range[0]) if self.prior_range else float(self.low)

    @property
    def prior_high(self) -> float:
        """Upper end of the prior range (``high`` unless :data:`PRIORS` narrows it)."""
        return float(self.prior_range[1]) if self.prior_range else float(self.high)

    def prior_dist(self) -> Any:
        """The prior as a frozen ``scipy.stats`` distribution (numeric parameters only)."""
        if self.type is bool:
            raise ParameterError(f"parameter '{self.name}' is a switch and has no prior")
        lo, hi = self.prior_low, self.prior_high
        if self.prior == "loguniform":
            return stats.loguniform(lo, hi)
        if self.prior == "triangular":
            return stats.triang(c=(float(self.default) - lo) / (hi - lo), loc=lo, scale=hi - lo)
        return stats.uniform(loc=lo, scale=hi - lo)

    def from_unit(self, u: Any) -> np.ndarray:
        """Values for points ``u`` in [0, 1] (the prior's quantile function; integers rounded)."""
        x = np.asarray(self.prior_dist().ppf(np.clip(np.asarray(u, dtype=float), 0.0, 1.0)))
        x = np.clip(x, self.prior_low, self.prior_high)
        return np.clip(np.round(x), self.low, self.high).astype(np.int64) if self.type is int else x

    def to_unit(self, x: Any) -> np.ndarray:
        """The prior's distribution function at ``x``: values as points in [0, 1]."""
        return np.clip(self.prior_dist().cdf(np.asarray(x, dtype=float)), 0.0, 1.0)

    @property
    def prior_text(self) -> str:
        """The prior in words, for the docs: e.g. ``log-uniform 0.005 – 0.5``."""
        if self.type is bool:
            return ""
        name = {"uniform": "uniform", "loguniform": "log-uniform", "triangular": "triangular"}[self.prior]
        mode = f", mode {self.default:g}" if self.prior == "triangular" else ""
        return f"{name} {self.prior_low:g} – {self.prior_high:g}{mode}"

    @property
    def source_class(self) -> SourceClass:
        """The source class: sourced, basis or assumed (see the module docstring).

        A default written back by calibration (:data:`CALIBRATED`) is not taken from a
        document: its class follows its basis.
        """
        if self.source in CITATIONS:
            return "sourced"
        return "basis" if self.basis else "assumed"

    @property
    def allowed(self) -> str:
        """Human-readable allowed range, used in error messages and docs."""
        if self.type is bool:
            return "true or false (or 1/0, yes/no, on/off)"
        if self.type is int:
            return f"an integer in [{int(self.low)}, {int(self.high)}]"
        return f"a number in [{self.low:g}, {self.high:g}]"

    def check(self, value: Any) -> float | int | bool:
        """Return ``value`` converted to this parameter's type, or raise ParameterError."""
        where = f"parameter '{self.name}' = {value!r}"
        value = _plain(value)
        if self.type is bool:
            if isinstance(value, str):
                value = SWITCH_WORDS.get(value.strip().lower(), value)
            if isinstance(value, (bool, int, float)) and value in (0, 1):
                return bool(value)
            raise ParameterError(f"{where} is not allowed: expected {self.allowed}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(f"{where} is not allowed: expected {self.allowed} ({self.unit})")
        if self.type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ParameterError(f"{where} is not allowed: expected {self.allowed} ({self.unit})")
            value = int(value)
        elif math.isnan(value):
            raise ParameterError(f"{where} is not allowed: expected {self.allowed} ({self.unit})")
        if not (self.low <= value <= self.high):
            raise ParameterError(f"{where} is out of range: expected {self.allowed} ({self.unit})")
        return value if self.type is int else float(value)


#: The one rule for switches, in Python, TOML and on the command line alike: true/false,
#: the numbers 1/0, or (as text, any case) yes/no, on/off, true/false, 1/0.
SWITCH_WORDS = {"true": 1, "yes": 1, "on": 1, "1": 1, "false": 0, "no": 0, "off": 0, "0": 0}


def _plain(value: Any) -> Any:
    """NumPy scalars (``np.int64``, ``np.float32``, ``np.bool_``, 0-d arrays) as Python values."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    return value


def _p(
    name,
    default,
    low,
    high,
    unit,
    kind,
    mechanism,
    meaning,
    source=ASSUMED,
    type_=float,
    *,
    basis=(),
    note="",
):
    return Param(name, default, low, high, unit, kind, meaning, source, mechanism, type_, basis, note)


_ENTRIES: list[Param] = [
    # ---- policy levers (DESIGN section 5) ----------------------------------
    _p(
        "fte_per_1000",
        0.8,
        0.2,
        3.0,
        "FTE per 1,000 residents",
        "policy",
        "M3",
        "Staffing: social-worker FTE per 1,000 residents.",
        basis=(MOVISIE,),
        note="The interview reports high workload from heavier, more complex cases but gives no staffing figure; candidate source: the full report of the fourth Movisie survey, which the interview links to.",
    ),
    _p(
        "collective_time_target",
        0.25,
        0.0,
        0.6,
        "share of worker time",
        "policy",
        "M3",
        "Municipal target share of worker time for collective and outreach work.",
        basis=(MOVISIE, ZW_MOVISIE),
        note="Both report that teams do not get round to early signalling, collective solutions and outreach; neither gives a share of time.",
    ),
    _p(
        "collective_budget_share",
        0.03,
        0.0,
        0.3,
        "share of budget",
        "policy",
        "M7",
        "Share of the social-domain budget set aside for collective provisions.",
        basis=(PRUIM,),
        note="Pruim: much funding is arranged per individual, which makes new initiatives hard to develop; no share is given.",
    ),
    _p(
        "mandate",
        0.3,
        0.0,
        1.0,
        "share of decisions",
        "policy",
        "M5",
        "Share of support decisions the team may take itself, without a municipal indication.",
        basis=(RADAR, MOVISIE),
        note="RadarAdvies names a mandate for allocation decisions as a condition of success; Van Arum asks for time, means and mandate. Neither gives a share of decisions.",
    ),
    _p(
        "steering",
        0.2,
        0.0,
        1.0,
        "0 = input, 1 = outcome",
        "policy",
        "M9",
        "Municipal steering: 0 caps visits and controls spending, 1 steers on outcomes.",
        basis=(MOVISIE,),
        note="Van Arum: many municipalities still steer on input, e.g. a fixed number of visits per family; the low default follows that wording, the number is assumed.",
    ),
    _p(
        "independence",
        0.5,
        0.0,
        1.0,
        "share of workers",
        "policy",
        "M6",
        "Team independence: share of workers employed by the team, not seconded by a provider.",
        basis=(WIJLAND,),
        note="Wijland describes teams of workers still seconded from their parent organisations and argues for independent teams; no share is given.",
    ),
    _p(
        "training_hours",
        16.0,
        0.0,
        120.0,
        "hours per worker per year",
        "policy",
        "M4",
        "Training in the collective craft.",
        basis=(RADAR,),
        note="RadarAdvies names training and learning from each other (scholing) as a condition of success; no hours are given.",
    ),
    _p(
        "specialist_access",
        0.3,
        0.0,
        1.0,
        "share of cases",
        "policy",
        "M6",
        "Access to specialist (GGZ) expertise: chance a mental-health-complex case stays with the team.",
        basis=(MOVISIE,),
        note="Van Arum: teams need more specialist knowledge, above all GGZ expertise; no share is given.",
    ),
    _p(
        "provider_alignment",
        0.2,
        0.0,
        1.0,
        "0 = supply-driven, 1 = aligned",
        "policy",
        "M6",
        "How far provider contracts align providers with own-strength principles.",
        basis=(WIJLAND,),
        note="Wijland: many providers still work supply-driven and were never asked to subscribe to the teams' own-strength principles; no measure is given.",
    ),
    _p(
        "escalation_agreements",
        0.3,
        0.0,
        1.0,
        "strength",
        "policy",
        "M5",
        "Cooperation and escalation agreements: shorten indication and provider waits.",
        basis=(RADAR,),
        note="RadarAdvies names cooperation and escalation agreements as a condition of success; no strength or effect is given.",
    ),
    _p(
        "budget_per_resident",
        580.0,
        300.0,
        1200.0,
        "EUR per resident per year",
        "policy",
        "M9",
        "Municipal social-domain budget (team, maatwerk and collective) per resident.",
        note="About the default neighbourhood's spending. Candidate source: CBS statistics of municipal budgets by task field (Iv3), not checked here.",
    ),
    _p(
        "pre_2015",
        False,
        0,
        1,
        "switch",
        "policy",
        "M10",
        "The pre-2015 approach: welfare workers (AMW, CJG, community work) without mandate, a municipal desk indicates, providers deliver.",
        type_=bool,
        basis=(RADAR,),
        note="RadarAdvies compares the teams' cases with how they would have gone before 2015. The default, a team, is the common case: 83% of municipalities work with one (Van Arum).",
    ),
    # ---- M1 problems --------------------------------------------------------
    _p(
        "arrival_youth_family",
        75.0,
        0.0,
        150.0,
        "new problems per 1,000 residents per year",
        "behaviour",
        "M1",
        "Arrival rate of youth & family problems (mostly youth).",
        basis=(CBS_YOUTH,),
        note="A calibration target, not a figure for this rate: the Jeugdmonitor counts youth care users (10.6% of under-23s), and with this default the model reproduces it within tolerance (calibration/NOTE.md).",
    ),
    _p(
        "arrival_care_support",
        54.0,
        0.0,
        150.0,
        "new problems per 1,000 residents per year",
        "behaviour",
        "M1",
        "Arrival rate of care & support (Wmo) problems (mostly elderly).",
        basis=(CBS_WMO,),
        note="A calibration target, not a figure for this rate: CBS counts Wmo maatwerk clients (67 per 1,000), and with this default the model reproduces it within tolerance (calibration/NOTE.md).",
    ),
    _p(
        "arrival_income_work",
        75.0,
        0.0,
        150.0,
        "new problems per 1,000 residents per year",
        "behaviour",
        "M1",
        "Arrival rate of income & work problems (mostly adults).",
        note="Candidate source: CBS statistics of registered problematic household debt (a stock, not a rate of new problems), not checked here.",
    ),
    _p(
        "arrival_mental_health",
        65.0,
        0.0,
        150.0,
        "new problems per 1,000 residents per year",
        "behaviour",
        "M1",
        "Arrival rate of mental-health (GGZ) problems.",
        note="Candidate source: Trimbos NEMESIS-3 on the prevalence of mental disorders (a prevalence, not a rate of new problems), not checked here.",
    ),
    _p(
        "new_problem_severity",
        0.3,
        0.05,
        0.8,
        "severity (0-1)",
        "behaviour",
        "M1",
        "Mean severity a new problem adds in its domain.",
    ),
    _p(
        "escalation_rate",
        0.08,
        0.0,
        0.1,
        "per week",
        "behaviour",
        "M1",
        "Relative weekly growth of untreated severity, before damping.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie speak of escalating problems that are seen earlier where residents look out for each other; no article gives a growth rate (Van Arum, the former source, reports heavier cases, not a rate).",
    ),
    _p(
        "own_recovery_rate",
        0.012,
        0.0,
        0.05,
        "severity per week",
        "behaviour",
        "M1",
        "Weekly severity a fully self-reliant resident resolves on own strength.",
    ),
    _p(
        "elderly_care_chronicity",
        0.7,
        0.0,
        1.0,
        "share",
        "behaviour",
        "M1",
        "How much slower elderly residents' care & support needs recover (ageing is chronic).",
        basis=(CBS_WMO,),
        note="CBS gives no recovery rate; the value is pinned by the CBS Wmo maatwerk target in calibration (calibration/NOTE.md).",
    ),
    _p(
        "complex_threshold",
        0.4,
        0.1,
        0.9,
        "severity (0-1)",
        "behaviour",
        "M1",
        "Severity above which a domain counts towards a complex (multi-domain) case.",
        basis=(MOVISIE,),
        note="Van Arum: high workload from heavier problems and complex cases; no threshold is given.",
    ),
    # ---- income groups (M1, M2, M8; issue 17) ------------------------------
    # Each gap shifts the low group (lowest income quintile) one way and the high group (highest
    # quintile) the other way by the same amount, the middle not at all; with the groups' shares
    # 20/60/20 the population mean stays where it was (model/resident.py, Population). 0 switches
    # the shift off. The defaults are half of those first tried (0.3, 0.1, 0.1, 0.05, 0.2): together
    # those gave low-income youth care use 14 times the high group's (2,000 residents, one seed),
    # far beyond the about twofold gaps CBS reports in health by income (as recalled); halved, the
    # gap is about 2.5-fold. Set before any run of pattern P8, and not fitted.
    _p(
        "income_arrival_gap",
        0.2,
        0.0,
        0.8,
        "relative rate",
        "behaviour",
        "M1",
        "Income gap in problem arrival: the low group's problems arrive at 1 + gap, the high"
        " group's at 1 - gap times the rate (same total).",
        basis=(CBS_INCOME_GRADIENT,),
        note="CBS reports poor health, long-term conditions and problematic debt far more often in the lowest income quintile than in the highest (about twice as often for health, as recalled); no arrival rate of problems by income is given. The default makes the low group's rate 1.5 times the high group's.",
    ),
    _p(
        "income_severity_gap",
        0.05,
        0.0,
        0.5,
        "relative severity",
        "behaviour",
        "M1",
        "Income gap in the severity of new problems: low 1 + gap, high 1 - gap times"
        " new_problem_severity (rescaled so the mean over new problems is unchanged).",
        basis=(CBS_INCOME_GRADIENT,),
        note="CBS: low incomes live about 15 fewer years in good health (as recalled), which suggests heavier problems; no severity is given.",
    ),
    _p(
        "income_reliance_gap",
        0.05,
        0.0,
        0.3,
        "self-reliance (0-1)",
        "behaviour",
        "M8",
        "Income gap in initial self-reliance: the low group's mean is self_reliance_mean - gap,"
        " the high group's + gap.",
        basis=(CBS_INCOME_GRADIENT,),
        note="CBS figures on debt and health by income suggest less room to solve problems alone at low incomes; no self-reliance (ZRM) by income is given.",
    ),
    _p(
        "income_threshold_gap",
        0.03,
        0.0,
        0.2,
        "severity (0-1)",
        "behaviour",
        "M2",
        "Income gap in help-seeking: the low group's personal threshold is help_threshold + gap"
        " (asks later), the high group's - gap.",
        basis=(CPB,),
        note="The CPB note, as summarised in DESIGN section 0, finds that outreach uncovered hidden need among vulnerable groups: need that had not asked. No threshold is given.",
    ),
    _p(
        "income_ties_gap",
        0.1,
        0.0,
        0.6,
        "relative ties",
        "behaviour",
        "M8",
        "Income gap in network support: the low group's ties are 1 - gap, the high group's"
        " 1 + gap times the drawn ties (capped at 1).",
        basis=(CBS_INCOME_GRADIENT,),
        note="CBS social-cohesion figures: fewer people with low incomes have someone to turn to for help (as recalled); no size of network support is given.",
    ),
    # ---- M2 help-seeking and signalling -----------------------------------
    _p(
        "help_threshold",
        0.55,
        0.2,
        0.9,
        "severity (0-1)",
        "behaviour",
        "M2",
        "Mean severity at which residents ask for help themselves.",
        note="Fitted in calibration (calibration/targets.toml); partly pinned by the youth-care targets (calibration/NOTE.md).",
    ),
    _p(
        "youth_registration_weeks",
        16.0,
        4.0,
        52.0,
        "weeks",
        "behaviour",
        "reporting",
        "Team support of an under-23 is registered as youth care (jeugdhulp) once it has lasted"
        " this long; heavy team support always is. Affects only the youth-care KPIs.",
        basis=(CBS_YOUTH,),
        note="Which team support municipalities register as youth care is not published; calibrated to the Jeugdmonitor share of youth care given by the team itself (15%, 2023): the loss is flat between 16 and 17 weeks (calibration/NOTE.md).",
    ),
    _p(
        "heavy_threshold",
        0.5,
        0.2,
        0.9,
        "severity (0-1)",
        "behaviour",
        "M2",
        "Severity at intake above which a case is late and needs heavy support.",
        basis=(ZW_MOVISIE, RADAR),
        note="Zorg+Welzijn/Movisie: problems seen earlier can be tackled earlier; RadarAdvies (Giessenlanden): light support to prevent heavier care. No threshold is given.",
    ),
    _p(
        "signal_floor",
        0.3,
        0.05,
        0.6,
        "severity (0-1)",
        "behaviour",
        "M2",
        "Lowest severity that outreach, collective presence or neighbours can notice.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: the neighbourhood itself contributes to early signalling; no threshold is given.",
    ),
    _p(
        "outreach_effect",
        0.02,
        0.0,
        0.3,
        "per outreach hour per 1,000 residents per week",
        "behaviour",
        "M2",
        "Weekly detection hazard of hidden need per outreach hour per 1,000.",
        basis=(CPB,),
        note="The CPB note, as summarised in DESIGN section 0, finds that outreach uncovers hidden need (higher inflow); no detection rate per outreach hour is given there.",
    ),
    _p(
        "presence_effect",
        0.01,
        0.0,
        0.2,
        "per week per active initiative in the block",
        "behaviour",
        "M2",
        "Weekly detection hazard from collective presence in the block.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: a collective approach strengthens the sense of community, so problems are seen earlier; no rate is given.",
    ),
    _p(
        "neighbour_signal_effect",
        0.02,
        0.0,
        0.5,
        "per week",
        "behaviour",
        "M2",
        "Weekly detection hazard when all network neighbours are connected to the team.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: where residents look out for each other, problems are seen earlier; no rate is given.",
    ),
    _p(
        "outreach_share",
        0.35,
        0.0,
        1.0,
        "share of collective time",
        "behaviour",
        "M2",
        "Share of collective time spent on outreach rather than initiatives.",
        basis=(ZW_MOVISIE, MOVISIE),
        note="Both name outreach (outreachend werken) beside collective work; no split of time is given.",
    ),
    # ---- M3 caseload and time ---------------------------------------------
    _p(
        "hours_per_fte",
        36.0,
        24.0,
        40.0,
        "hours per week",
        "behaviour",
        "M3",
        "Contract hours of one FTE.",
        note="Candidate source: the full-time working week of the collective labour agreement for social work (CAO Sociaal Werk), not checked here.",
    ),
    _p(
        "direct_time_share",
        0.65,
        0.3,
        0.9,
        "share of hours",
        "behaviour",
        "M3",
        "Share of contract hours available for client and collective work (rest: overhead).",
    ),
    _p(
        "overload_tolerance",
        1.25,
        1.0,
        2.0,
        "multiple of capacity",
        "behaviour",
        "M3",
        "Individual demand up to which workers keep taking cases (beyond 1: overloaded).",
        basis=(MOVISIE,),
        note="Van Arum: high workload from a caseload of complex cases; no tolerance is given.",
    ),
    _p(
        "light_case_hours",
        0.9,
        0.2,
        4.0,
        "hours per case per week",
        "behaviour",
        "M3",
        "Worker hours a light (early) case needs per week.",
    ),
    _p(
        "heavy_case_hours",
        2.2,
        0.5,
        8.0,
        "hours per case per week",
        "behaviour",
        "M3",
        "Worker hours a heavy (late) case kept by the team needs per week.",
        basis=(MOVISIE,),
        note="Van Arum: heavier, more complex problems raise the workload; no hours per case are given.",
    ),
    _p(
        "complexity_extra",
        0.5,
        0.0,
        2.0,
        "extra share per additional domain",
        "behaviour",
        "M3",
        "Extra worker hours per extra domain above the complex threshold.",
        basis=(MOVISIE,),
        note="Van Arum: heavier, more complex problems raise the workload; no extra hours are given.",
    ),
    _p(
        "light_support_effect",
        0.035,
        0.005,
        0.15,
        "severity per week",
        "behaviour",
        "M3",
        "Weekly severity reduction, in every open domain, under light team support (skill 1, full service).",
        note=(
            "Assumed (the former team_effect). The team's edge over maatwerk, where there is one, comes from"
            " working on every domain at once and from earlier intake; the per-week effects of each kind of"
            " support are separate parameters so that the uncertainty analysis can vary each ratio."
        ),
    ),
    _p(
        "heavy_support_effect",
        0.035,
        0.005,
        0.15,
        "severity per week",
        "behaviour",
        "M3",
        "Weekly severity reduction, in every open domain, under intensive team support (skill 1, full service);"
        " also the yardstick of the maatwerk ratios.",
        note=(
            "Assumed equal to light support per week: the extra hours of a heavy case go to its severity,"
            " complexity and coordination rather than to faster relief. Proportional to the hours"
            " (heavy_case_hours / light_case_hours) it would be about 0.086, inside the range."
        ),
    ),
    _p(
        "generalist_mental_health_factor",
        0.5,
        0.1,
        1.0,
        "share of effect",
        "behaviour",
        "M6",
        "Team support's effect on mental health relative to other domains without specialist access;"
        " specialist access raises it to 1: factor + (1 - factor) x specialist_access.",
        basis=(MOVISIE,),
        note="Van Arum: teams need more specialist knowledge, above all GGZ expertise; no size is given (the 0.5 was hard-coded before).",
    ),
    _p(
        "resolved_threshold",
        0.1,
        0.01,
        0.3,
        "severity (0-1)",
        "behaviour",
        "M3",
        "Severity below which a case is closed.",
    ),
    # ---- M4 two crafts -----------------------------------------------------
    _p(
        "collective_skill_mean",
        0.3,
        0.0,
        1.0,
        "skill (0-1)",
        "behaviour",
        "M4",
        "Mean initial collective skill of workers (trained for individual work).",
        basis=(PRUIM,),
        note="Pruim: many social workers are trained for individual work, and few master both crafts; no skill level is given.",
    ),
    _p(
        "skill_learning_rate",
        0.004,
        0.0,
        0.05,
        "skill per practice hour per week",
        "behaviour",
        "M4",
        "Growth of collective skill per weekly hour of collective practice.",
        basis=(PRUIM,),
        note="Pruim: collective work has to become part of the workers' own way of thinking; no learning rate is given.",
    ),
    _p(
        "training_effect",
        0.004,
        0.0,
        0.05,
        "skill per training hour",
        "behaviour",
        "M4",
        "Growth of collective skill per hour of training.",
        basis=(RADAR,),
        note="RadarAdvies names training and learning from each other as a condition of success; no effect size is given.",
    ),
    _p(
        "skill_decay",
        0.002,
        0.0,
        0.05,
        "per week",
        "behaviour",
        "M4",
        "Weekly relative decay of collective skill without practice.",
    ),
    # ---- M5 mandate and maatwerk -------------------------------------------
    _p(
        "indication_delay_weeks",
        8.0,
        0.0,
        26.0,
        "weeks",
        "behaviour",
        "M5",
        "Wait for a municipal indication when the team has no mandate.",
        WMO_TERMS,
        basis=(RADAR,),
        note="The legal maximum from notification to decision under the Wmo 2015, used as the wait; whether municipalities keep to it, and the terms of the other domains (Jeugdwet, Participatiewet), are not checked here. RadarAdvies (the former source) gives no delay: it names the mandate to decide as a condition.",
    ),
    _p(
        "maatwerk_threshold",
        0.7,
        0.3,
        1.0,
        "severity (0-1)",
        "behaviour",
        "M5",
        "Severity above which even a tailoring worker chooses maatwerk.",
        basis=(MOVISIE,),
        note="Van Arum: tailoring needs knowledge of the rules and the courage to make a difference; no threshold is given.",
    ),
    _p(
        "desk_threshold",
        0.45,
        0.2,
        0.9,
        "severity (0-1)",
        "behaviour",
        "M5",
        "Severity from which a municipal desk grants a standard individual provision.",
        basis=(MOVISIE,),
        note="Van Arum: the equality principle ('if I give this family home care, I must give that family home care too') favours standard provisions; no threshold is given.",
    ),
    _p(
        "standard_fit",
        0.7,
        0.2,
        1.0,
        "share of effect",
        "behaviour",
        "M5",
        "Effect of a standard provision granted by the desk, relative to maatwerk tailored by a mandated worker.",
        basis=(MOVISIE,),
        note="Van Arum: situations are rarely exactly the same, so standard provisions fit less than tailored ones; no size is given.",
    ),
    _p(
        "visit_cap_cut",
        0.4,
        0.0,
        0.9,
        "share of hours",
        "behaviour",
        "M5",
        "Share of case hours cut by visit caps under full input steering.",
        basis=(MOVISIE,),
        note="Van Arum: under input steering professionals must keep to 'an x number of visits per family': the number is left open.",
    ),
    _p(
        "lef_initial",
        0.3,
        0.0,
        1.0,
        "courage (0-1)",
        "behaviour",
        "M5",
        "Initial courage to tailor (lef) of workers.",
        basis=(MOVISIE,),
        note="Van Arum: doing what is needed sometimes takes the courage (lef) to deviate from the rules; no level is given.",
    ),
    _p(
        "lef_rate",
        0.01,
        0.0,
        0.1,
        "per week",
        "behaviour",
        "M5",
        "Weekly adjustment of courage towards the backing given by steering.",
        basis=(MOVISIE,),
        note="Van Arum: courage needs backing from managers and the municipality; no rate is given.",
    ),
    # ---- M6 providers, secondment, specialists -----------------------------
    _p(
        "n_providers",
        3,
        1,
        10,
        "providers",
        "behaviour",
        "M6",
        "Number of maatwerk providers serving the neighbourhood.",
        type_=int,
    ),
    _p(
        "provider_capacity_per_1000",
        250.0,
        20.0,
        400.0,
        "clients per 1,000 residents",
        "behaviour",
        "M6",
        "Total maatwerk places of all providers.",
    ),
    # ---- M9 costs by domain and payer (issue 17; model/payers.py) ------------------------
    _p(
        "maatwerk_cost_year",
        4600.0,
        1000.0,
        20000.0,
        "EUR per client per year",
        "behaviour",
        "M9",
        "Mean Wmo maatwerk spending per Wmo client, all Wmo provisions (support at home, protected housing and shelter).",
        CBS_WMO,
        note="Figures as given in DESIGN section 0, still to be checked against CBS StatLine (calibration/NOTE.md). The care & support (Wmo) maatwerk of the model is support at home: it costs wmo_home_cost_ratio times this mean (model/payers.py).",
    ),
    _p(
        "wmo_home_cost_ratio",
        0.75,
        0.5,
        1.0,
        "ratio",
        "behaviour",
        "M9",
        "Cost of a client of Wmo support at home (excluding protected housing and shelter) relative to the Wmo mean, maatwerk_cost_year.",
        basis=(CBS_WMO,),
        note="Figure as recalled, check against StatLine (Iv3 task fields) before publication: protected housing and shelter take roughly a quarter to a third of municipal Wmo spending for a few per cent of the Wmo clients, so a client at home costs about 0.7-0.8 of the mean. The value is assumed within that range.",
    ),
    _p(
        "youth_care_cost_year",
        12000.0,
        5000.0,
        30000.0,
        "EUR per client per year",
        "behaviour",
        "M9",
        "Cost of one youth care (Jeugdwet) client: maatwerk for youth & family, and any maatwerk of an under-23 except income & work.",
        basis=(CBS_YOUTH_CARE,),
        note="Figure as recalled, check against StatLine before publication: municipalities spent about EUR 5.5 bn on youth care in 2019 for about 430,000 young people with jeugdhulp, roughly EUR 12,000-13,000 per client a year; the lower end is taken, as the count omits youth protection and probation clients whose cost is included.",
    ),
    _p(
        "income_support_cost_year",
        2500.0,
        500.0,
        8000.0,
        "EUR per client per year",
        "behaviour",
        "M9",
        "Cost of one income & work maatwerk client (debt help under the Wgs, reintegration under the Participatiewet); benefits are income transfers and not costed.",
        note="Assumed: no national figure per client was checked. Candidate sources: the NVVK and Divosa benchmarks of municipal debt help and reintegration.",
    ),
    _p(
        "mental_health_cost_year",
        6000.0,
        2000.0,
        20000.0,
        "EUR per client per year",
        "behaviour",
        "M9",
        "Cost of one adult (23+) mental-health maatwerk client, treatment (Zvw) and municipal support (Wmo) together.",
        note="Assumed. As recalled, specialist mental-health care (GGZ) under the Zvw costs about EUR 4 bn a year for some 700,000-800,000 patients (NZa/Vektis), roughly EUR 5,000-6,000 per patient, before any municipal support; not checked here.",
    ),
    _p(
        "mental_health_zvw_share",
        0.7,
        0.3,
        1.0,
        "share of cost",
        "behaviour",
        "M9",
        "Share of an adult mental-health maatwerk client's cost paid by health insurers (Zvw, treatment); the rest is municipal Wmo support (begeleiding).",
        note="Assumed. The split by law is sourced (treatment Zvw; support and protected housing Wmo; mental-health care for under-18s Jeugdwet since 2015), the share of each in a client's cost is not.",
    ),
    _p(
        "discount_rate",
        0.0225,
        0.0,
        0.1,
        "per year",
        "setup",
        "M9",
        "Real discount rate for the net present value of each payer's costs (the first reported year undiscounted).",
        DISCOUNT,
        note="The Dutch standard discount rate for social cost-benefit analyses (2.25%, figure as recalled); it changes only the NPV outputs, not the simulation.",
    ),
    _p(
        "maatwerk_ratio_youth_family",
        1.0,
        0.1,
        3.0,
        "ratio",
        "behaviour",
        "M6",
        "Weekly severity reduction of maatwerk in youth & family (specialist youth care), relative to intensive team support (heavy_support_effect) in a domain where the generalist has no handicap.",
        note=(
            "Assumed parity: a week of specialist youth care (jeugdhulp) relieves its own domain as fast as a week of"
            " intensive generalist support relieves each domain; the generalist covers every domain at once, the"
            " specialist only the primary one. No source compares the two."
        ),
    ),
    _p(
        "maatwerk_ratio_care_support",
        0.17,
        0.03,
        2.0,
        "ratio",
        "behaviour",
        "M6",
        "Weekly severity reduction of maatwerk in care & support (Wmo support at home), relative to intensive team support (heavy_support_effect) in a domain where the generalist has no handicap.",
        note=(
            "Wmo support at home (household help, day activities, aids) mostly compensates for chronic limitations"
            " rather than resolving them, so it relieves slowly: 0.17 is the former calibrated maatwerk_effect"
            " (0.006) over the former team_effect (0.035); fitted in calibration against the CBS Wmo maatwerk"
            " target, not pinned on its own (calibration/NOTE.md)."
        ),
    ),
    _p(
        "maatwerk_ratio_income_work",
        1.0,
        0.1,
        3.0,
        "ratio",
        "behaviour",
        "M6",
        "Weekly severity reduction of maatwerk in income & work (debt counselling, reintegration), relative to intensive team support (heavy_support_effect) in a domain where the generalist has no handicap.",
        note=(
            "Assumed parity, as for youth care: debt counselling or reintegration relieves its own domain as fast"
            " per week as intensive generalist support. No source compares the two."
        ),
    ),
    _p(
        "maatwerk_ratio_mental_health",
        1.0,
        1.0,
        4.0,
        "ratio",
        "behaviour",
        "M6",
        "Weekly severity reduction of maatwerk in mental health (specialist GGZ), relative to intensive team support (heavy_support_effect) in a domain where the generalist has no handicap.",
        note=(
            "Specialist mental-health care (GGZ) is not weaker on mental health than a generalist with full specialist"
            " access (ratio at least 1; a generalist without it reaches generalist_mental_health_factor). Assumed parity"
            " at the default; the range lets specialists be up to four times faster."
        ),
    ),
    _p(
        "step_down_threshold",
        0.25,
        0.05,
        0.6,
        "severity (0-1)",
        "behaviour",
        "M6",
        "Severity below which a maatwerk client may be stepped down.",
        basis=(WIJLAND,),
        note="Wijland: providers press residents, saying their indication may otherwise not be renewed; no threshold is given.",
    ),
    _p(
        "step_down_rate",
        0.08,
        0.0,
        0.5,
        "per week",
        "behaviour",
        "M6",
        "Weekly chance an eligible maatwerk client is stepped down (aligned provider).",
        basis=(WIJLAND,),
        note="Wijland gives no rate. Fitted in calibration (calibration/targets.toml) and pinned by the Wmo and youth-care targets (calibration/NOTE.md).",
    ),
    _p(
        "supply_pressure",
        0.7,
        0.0,
        1.0,
        "share",
        "behaviour",
        "M6",
        "How much an unaligned provider lowers step-down to keep clients.",
        basis=(WIJLAND,),
        note="Wijland: signals from several teams that providers press residents not to go along with the generalist; no size is given.",
    ),
    _p(
        "secondment_bias",
        0.4,
        0.0,
        1.0,
        "share of decisions",
        "behaviour",
        "M6",
        "Chance a seconded worker refers a heavy case to the parent provider; also the step-down a fully seconded team forgoes.",
        basis=(WIJLAND,),
        note="Wijland: seconded workers are caught between the municipality's assignment and their provider's; no share is given.",
    ),
    # ---- M7 collective initiatives -----------------------------------------
    _p(
        "min_cluster",
        5,
        2,
        20,
        "residents",
        "behaviour",
        "M7",
        "Residents with a shared need in a block needed to start an initiative.",
        RADAR,
        type_=int,
        note="One case: the team started the Speelkamer with five children, a group a provider alone could not have started; taken as the smallest group that starts.",
    ),
    _p(
        "max_participants",
        12,
        3,
        40,
        "residents",
        "behaviour",
        "M7",
        "Largest group an initiative runs.",
        type_=int,
    ),
    _p(
        "initiative_hours",
        3.0,
        0.5,
        12.0,
        "worker hours per week",
        "behaviour",
        "M7",
        "Worker hours an initiative needs per week before volunteers take over.",
        basis=(RADAR,),
        note="The Speelkamer runs two hours once a fortnight with a provider's worker and an intern (about 2 staff hours a week), coordinated by the social worker; the default 3 is assumed.",
    ),
    _p(
        "start_rate",
        0.1,
        0.0,
        1.0,
        "per week",
        "behaviour",
        "M7",
        "Weekly chance a worker with spare collective hours starts an initiative (skill 1).",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: go into the neighbourhood with a targeted plan; no rate is given.",
    ),
    _p(
        "group_hours",
        2.0,
        0.5,
        8.0,
        "hours per participant per week",
        "behaviour",
        "M7",
        "Group-support hours one participant uses per week.",
        basis=(RADAR,),
        note="The Speelkamer children play together two hours once a fortnight (1 hour a week); the default 2 is assumed.",
    ),
    _p(
        "group_tariff",
        10.0,
        5.0,
        30.0,
        "EUR per participant-hour",
        "behaviour",
        "M7",
        "Tariff of group support.",
        TARIFFS,
        note="Group support (groepsbegeleiding).",
    ),
    _p(
        "worker_hour_cost",
        61.0,
        40.0,
        100.0,
        "EUR per hour",
        "behaviour",
        "M3",
        "Cost of one team worker hour (midpoint of individual-support tariffs).",
        TARIFFS,
        note="The midpoint of the tariffs for individual support; a provider's tariff stands in for the cost of a team worker hour.",
    ),
    _p(
        "collective_effect",
        0.03,
        0.0,
        0.15,
        "severity per week",
        "behaviour",
        "M7",
        "Weekly severity reduction of a participant (collective skill 1).",
        basis=(RADAR,),
        note="In the Speelkamer children practise social skills and parents share their problems as peers; no effect size is given. Assumed a little below light team support per week (0.86 of it), in the one domain the group serves.",
    ),
    _p(
        "recruit_rate",
        0.05,
        0.0,
        0.5,
        "per week",
        "behaviour",
        "M7",
        "Weekly chance a resident with the shared need in the block joins (no reluctance).",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: a collective offer for common problems, in which residents take part and which they partly take over; no rate is given.",
    ),
    _p(
        "volunteer_rate",
        0.25,
        0.0,
        1.0,
        "share of recovered participants",
        "behaviour",
        "M7",
        "Chance a recovered participant becomes a volunteer (no reluctance).",
        basis=(ZW_MOVISIE, RADAR),
        note="Zorg+Welzijn/Movisie: a resident who met a common problem can share the solution with neighbours; RadarAdvies: the intern is to be replaced by volunteers. No rate is given.",
    ),
    _p(
        "volunteer_stay_weeks",
        78.0,
        4.0,
        520.0,
        "weeks",
        "behaviour",
        "M7",
        "Mean time a volunteer stays.",
        basis=(ZW_MOVISIE,),
        note="Neither article says how long volunteers stay.",
    ),
    _p(
        "volunteers_to_run",
        2,
        1,
        10,
        "volunteers",
        "behaviour",
        "M7",
        "Volunteers that take over most of the worker hours of an initiative.",
        type_=int,
        basis=(RADAR,),
        note="The Speelkamer's intern is to be replaced by volunteers (plural); no number is given.",
    ),
    _p(
        "reluctance_mean",
        0.5,
        0.0,
        1.0,
        "reluctance (0-1)",
        "behaviour",
        "M7",
        "Mean reluctance (schroom) of residents to join collective activities.",
        basis=(PRUIM,),
        note="Pruim: some reluctance (schroom) among workers and clients to tackle problems collectively; no level is given.",
    ),
    # ---- M8 self- and shared reliance -------------------------------------
    _p(
        "self_reliance_mean",
        0.6,
        0.1,
        0.9,
        "self-reliance (0-1)",
        "behaviour",
        "M8",
        "Mean initial self-reliance (zelfredzaamheid) of residents.",
    ),
    _p(
        "self_reliance_gain",
        0.3,
        0.0,
        2.0,
        "self-reliance per unit severity resolved",
        "behaviour",
        "M8",
        "Gain in self-reliance per unit of severity solved with own strength.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: tackling common problems collectively makes residents more self-reliant (zelf- en samenredzaamheid); no size is given.",
    ),
    _p(
        "collective_reliance_gain",
        0.004,
        0.0,
        0.05,
        "per week",
        "behaviour",
        "M8",
        "Weekly self-reliance and tie gain of a collective participant.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: a collective approach raises self- and shared reliance and the sense of community; no size is given.",
    ),
    _p(
        "dependence_loss",
        0.002,
        0.0,
        0.02,
        "per week",
        "behaviour",
        "M8",
        "Weekly self-reliance loss under maatwerk after a year of dependence.",
        basis=(WIJLAND,),
        note="Wijland: teams seek lasting solutions with own strength, against supply-driven provision; no size is given.",
    ),
    _p(
        "reliance_reversion",
        0.005,
        0.0,
        0.05,
        "per week",
        "behaviour",
        "M8",
        "Weekly reversion of self-reliance and ties towards the resident's baseline.",
    ),
    _p(
        "zrm_reliance_weight",
        0.5,
        0.0,
        1.0,
        "share",
        "behaviour",
        "reporting",
        "How much a resident's self-reliance counts in the ZRM score: level = 1 + round(4 (1 - s)"
        " (1 - w (1 - sr))). Changes no dynamics, only the ZRM KPIs.",
        basis=(ZRM,),
        note="The ZRM scores self-reliance per life domain from 1 (acute problems) to 5 (fully self-reliant): the outcome of the situation in the domain and of the person's own skills; it gives no formula from a severity and a self-reliance. The weight and the rule are assumed; at 0.5 and typical self-reliance (0.6) the level bands fall near the model's own thresholds (acute from about the crisis severity 0.85, not self-reliant from about the heavy threshold 0.5).",
    ),
    _p(
        "neighbour_help",
        0.01,
        0.0,
        0.05,
        "severity per week",
        "behaviour",
        "M8",
        "Weekly severity reduction when all neighbours have full spare capacity and ties are dense.",
        basis=(ZW_MOVISIE,),
        note="Zorg+Welzijn/Movisie: the neighbourhood can help each other earlier where needed; no size is given.",
    ),
    _p(
        "network_k",
        6,
        2,
        20,
        "neighbours",
        "behaviour",
        "M8",
        "Mean number of network neighbours (Watts-Strogatz ring degree).",
        type_=int,
    ),
    _p(
        "network_rewire",
        0.1,
        0.0,
        1.0,
        "probability",
        "behaviour",
        "M8",
        "Share of network ties rewired to random residents (Watts-Strogatz).",
    ),
    _p(
        "block_size",
        250,
        50,
        2000,
        "residents",
        "behaviour",
        "M7",
        "Residents per block (street cluster) in which initiatives recruit.",
        type_=int,
    ),
    # ---- M9 municipality ----------------------------------------------------
    _p(
        "input_cut_step",
        0.1,
        0.0,
        0.5,
        "share per year",
        "behaviour",
        "M9",
        "Extra visit-cap cut a year after overspending under input steering.",
        basis=(MOVISIE,),
        note="Van Arum: under input steering professionals are told to guard the common money against misuse; no cut is given.",
    ),
    _p(
        "reinvest_capacity_share",
        0.5,
        0.0,
        1.0,
        "share of savings",
        "behaviour",
        "M9",
        "Share of reinvested savings spent on extra team hours (the rest: collective provisions).",
        basis=(RADAR,),
        note="RadarAdvies: municipalities should reinvest the money left over in renewal and room for tailoring, 'also in capacity and expertise'; no split is given.",
    ),
    _p(
        "reinvest_max_share",
        0.5,
        0.0,
        1.0,
        "share of team hours",
        "behaviour",
        "M9",
        "Most extra team hours reinvested savings may buy, as a share of the team's own hours.",
    ),
    _p(
        "desk_fte_per_1000",
        0.25,
        0.05,
        1.0,
        "FTE per 1,000 residents",
        "behaviour",
        "M10",
        "Staff of the municipal indication desk when it takes every decision; it scales with the share of decisions it takes (1 - mandate).",
        basis=(RADAR,),
        note="RadarAdvies compares the teams with the approach before 2015; no staffing of the indication desk is given. The same desk decides what a team without mandate cannot, so it is costed in both approaches.",
    ),
    _p(
        "welfare_fte_per_1000",
        0.6,
        0.0,
        3.0,
        "FTE per 1,000 residents",
        "behaviour",
        "M10",
        "Pre-2015 staffing of general social work (AMW), youth and family centres (CJG) and community work together.",
        note=(
            "Assumed, no figure checked: about three quarters of the default team's 0.8 FTE per 1,000, on"
            " the assumption that the teams were formed largely from these organisations' staff, joined by"
            " workers seconded from care providers (the secondment Wijland describes). Set to the team's"
            " staffing in the equal-staff comparison and derived from spending in the equal-spending one"
            " (experiments/scenarios/pre_2015_*.toml). Candidate sources, not checked: branch figures of"
            " the welfare sector (e.g. the Branchemonitor Welzijn) before 2015."
        ),
    ),
    _p(
        "community_work_share",
        0.15,
        0.0,
        0.6,
        "share of worker time",
        "behaviour",
        "M10",
        "Pre-2015: share of the welfare workers' direct time for community work (opbouwwerk) and outreach.",
        basis=(MOVISIE,),
        note=(
            "Van Arum mentions municipalities that keep welfare activities and community work (opbouwwerk)"
            " outside the team; no share of time is given. Assumed: below the team's default target (0.25),"
            " as community workers were a minority of the welfare staff."
        ),
    ),
    _p(
        "reask_weeks",
        26,
        1,
        104,
        "weeks",
        "behaviour",
        "M10",
        "Weeks a resident turned away by the desk waits before asking again (only where no light-support staff exists).",
        type_=int,
        note="Assumed: half a year. With welfare workers the desk refers a rejected application back to them for light support instead.",
    ),
    # ---- setup --------------------------------------------------------------
    _p(
        "n_residents",
        5000,
        200,
        200000,
        "residents",
        "setup",
        "-",
        "Residents in the neighbourhood.",
        type_=int,
        note="A Dutch neighbourhood (wijk); DESIGN section 2.",
    ),
    _p(
        "weeks",
        520,
        1,
        2600,
        "weeks",
        "setup",
        "-",
        "Reported horizon, after the burn-in.",
        type_=int,
        note="Ten years; DESIGN section 2.",
    ),
    _p(
        "burn_in_weeks",
        104,
        0,
        520,
        "weeks",
        "setup",
        "-",
        "Weeks simulated before reporting starts.",
        type_=int,
    ),
    _p(
        "init_maatwerk_per_1000",
        120.0,
        0.0,
        200.0,
        "clients per 1,000 residents",
        "setup",
        "M6",
        "Maatwerk clients (all domains) at the start of the burn-in.",
        note="About the default steady state of all domains; Wmo alone is 67 per 1,000 (CBS 2019).",
    ),
    # ---- mechanism switches -------------------------------------------------
    _p(
        "m1_escalation",
        True,
        0,
        1,
        "switch",
        "switch",
        "M1",
        "Untreated severity escalates and several domains make a complex case.",
        type_=bool,
        basis=(MOVISIE, ZW_MOVISIE),
    ),
    _p(
        "m2_early_signalling",
        True,
        0,
        1,
        "switch",
        "switch",
        "M2",
        "Outreach, collective presence and neighbours signal hidden need.",
        type_=bool,
        basis=(ZW_MOVISIE, CPB),
    ),
    _p(
        "m3_capacity_limit",
        True,
        0,
        1,
        "switch",
        "switch",
        "M3",
        "Worker hours are limited: excess demand queues and squeezes collective time.",
        type_=bool,
        basis=(MOVISIE, PRUIM),
    ),
    _p(
        "m4_skill_dynamics",
        True,
        0,
        1,
        "switch",
        "switch",
        "M4",
        "Collective skill grows with training and practice and decays without.",
        type_=bool,
        basis=(PRUIM, RADAR),
    ),
    _p(
        "m5_mandate_rules",
        True,
        0,
        1,
        "switch",
        "switch",
        "M5",
        "Decisions without mandate wait for an indication; input steering caps visits.",
        type_=bool,
        basis=(RADAR, MOVISIE),
    ),
    _p(
        "m6_provider_behaviour",
        True,
        0,
        1,
        "switch",
        "switch",
        "M6",
        "Supply pressure, secondment bias and the limit of specialist access.",
        type_=bool,
        basis=(WIJLAND, MOVISIE),
    ),
    _p(
        "m7_initiatives",
        True,
        0,
        1,
        "switch",
        "switch",
        "M7",
        "Collective initiatives form, run, recruit volunteers and fold.",
        type_=bool,
        basis=(RADAR, ZW_MOVISIE, PRUIM),
    ),
    _p(
        "m8_reliance_dynamics",
        True,
        0,
        1,
        "switch",
        "switch",
        "M8",
        "Self-reliance changes and neighbours help.",
        type_=bool,
        basis=(ZW_MOVISIE, WIJLAND),
    ),
    _p(
        "m9_municipal_review",
        True,
        0,
        1,
        "switch",
        "switch",
        "M9",
        "Yearly budget review: input steering cuts, outcome steering reinvests.",
        type_=bool,
        basis=(MOVISIE, RADAR),
    ),
]

# ---- priors (issue #18) ---------------------------------------------------------------
# name -> (distribution, prior range or None for low-high, why). Numeric parameters not
# listed have a uniform prior on their allowed range: wide because their basis is weak.
# Log-uniform where a rate or ratio is uncertain by orders of magnitude (its floor > 0 is
# where the mechanism becomes negligible; the switches turn a mechanism off); triangular,
# with the mode at the default, where a document gives the number. Every prior range holds
# the default, and is assumed.
_LOG_RATE = "a rate uncertain by orders of magnitude; the floor is a tenth or less of the default"
PRIORS: dict[str, tuple[str, tuple[float, float] | None, str]] = {
    "escalation_rate": ("loguniform", (0.005, 0.1), _LOG_RATE),
    "own_recovery_rate": ("loguniform", (0.001, 0.05), _LOG_RATE),
    "outreach_effect": ("loguniform", (0.002, 0.3), _LOG_RATE),
    "presence_effect": ("loguniform", (0.001, 0.2), _LOG_RATE),
    "neighbour_signal_effect": ("loguniform", (0.002, 0.5), _LOG_RATE),
    "light_case_hours": ("loguniform", None, "hours per case span an order of magnitude"),
    "heavy_case_hours": ("loguniform", None, "hours per case span an order of magnitude"),
    "light_support_effect": ("loguniform", None, _LOG_RATE),
    "heavy_support_effect": ("loguniform", None, _LOG_RATE),
    "skill_learning_rate": ("loguniform", (0.0004, 0.05), _LOG_RATE),
    "training_effect": ("loguniform", (0.0004, 0.05), _LOG_RATE),
    "skill_decay": ("loguniform", (0.0002, 0.05), _LOG_RATE),
    "lef_rate": ("loguniform", (0.001, 0.1), _LOG_RATE),
    "maatwerk_ratio_youth_family": ("loguniform", None, "a ratio around 1: as likely halved as doubled"),
    "maatwerk_ratio_care_support": ("loguniform", None, "a ratio spanning two orders of magnitude"),
    "maatwerk_ratio_income_work": ("loguniform", None, "a ratio around 1: as likely halved as doubled"),
    "maatwerk_ratio_mental_health": ("loguniform", None, "a ratio of at least 1 (GGZ is harder to end)"),
    "step_down_rate": ("loguniform", (0.005, 0.5), _LOG_RATE),
    "start_rate": ("loguniform", (0.01, 1.0), _LOG_RATE),
    "collective_effect": ("loguniform", (0.003, 0.15), _LOG_RATE),
    "recruit_rate": ("loguniform", (0.005, 0.5), _LOG_RATE),
    "volunteer_stay_weeks": ("loguniform", None, "a month to ten years: orders of magnitude"),
    "collective_reliance_gain": ("loguniform", (0.0004, 0.05), _LOG_RATE),
    "dependence_loss": ("loguniform", (0.0002, 0.02), _LOG_RATE),
    "reliance_reversion": ("loguniform", (0.0005, 0.05), _LOG_RATE),
    "neighbour_help": ("loguniform", (0.001, 0.05), _LOG_RATE),
    "desk_fte_per_1000": ("loguniform", None, "staffing spanning a factor 20"),
    "block_size": ("loguniform", None, "a street block to a whole district: a factor 40"),
    "indication_delay_weeks": (
        "triangular",
        None,
        "the legal terms give 8 weeks; practice can be faster or (often) slower, up to half a year",
    ),
    "maatwerk_cost_year": (
        "triangular",
        (2300.0, 6900.0),
        "CBS gives EUR 4,600 (+-50%): the mean includes protected housing, support at home costs less",
    ),
    "group_tariff": ("triangular", (7.0, 13.0), "tariff lists give about EUR 10 (+-30%)"),
    "worker_hour_cost": ("uniform", (56.0, 66.0), "the tariff lists give the range EUR 56-66"),
    "min_cluster": ("triangular", (3.0, 10.0), "one case (the Speelkamer) of five children"),
}


def _with_prior(p: Param) -> Param:
    if p.name not in PRIORS:
        return p
    kind, rng, why = PRIORS[p.name]
    return replace(p, prior=kind, prior_range=rng, prior_note=why)


def _check_prior(p: Param) -> None:
    """A prior that cannot be drawn from, or excludes the default, is a bug in the table above."""
    if p.type is bool:
        return
    lo, hi = p.prior_low, p.prior_high
    if p.prior not in PRIOR_KINDS:
        raise RuntimeError(f"prior of '{p.name}': {p.prior!r} is not one of {PRIOR_KINDS}")
    if not (p.low <= lo < hi <= p.high) or not (lo <= p.default <= hi):
        raise RuntimeError(
            f"prior range of '{p.name}' [{lo}, {hi}] must hold the default within [{p.low}, {p.high}]"
        )
    if p.prior == "loguniform" and lo <= 0:
        raise RuntimeError(f"prior of '{p.name}': log-uniform needs a positive lower end")


_ENTRIES = [_with_prior(p) for p in _ENTRIES]
for _param in _ENTRIES:
    _check_prior(_param)
REGISTRY: dict[str, Param] = {p.name: p for p in _ENTRIES}
if len(REGISTRY) != len(_ENTRIES):  # pragma: no cover - guards the table above
    raise RuntimeError("duplicate parameter name in the registry")


class Params(Mapping[str, Any]):
    """A complete, validated and immutable set of parameter values.

    Read values as ``params["mandate"]`` or ``params.mandate``.
    """

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        values = {name: p.default for name, p in REGISTRY.items()}
        for name, value in (overrides or {}).items():
            values[name] = _lookup(name).check(value)
        # Values double as instance attributes: the model reads them every week.
        self.__dict__.update(values)
        object.__setattr__(self, "_values", values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is immutable; use .replace(...)")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != REGISTRY[k].default}
        return f"Params({changed})"

    def __reduce__(self):
        return (Params, (self.overrides(),))

    def replace(self, **overrides: Any) -> Params:
        """A copy with some values changed (validated)."""
        return Params({**self._values, **overrides})

    def overrides(self) -> dict[str, Any]:
        """The values that differ from the registry defaults."""
        return {k: v for k, v in self._values.items() if v != REGISTRY[k].default}


def _lookup(name: str) -> Param:
    try:
        return REGISTRY[name]
    except KeyError:
        close = sorted(n for n in REGISTRY if n.split("_")[0] == name.split("_")[0])
        hint = f" (did you mean: {', '.join(close)}?)" if close else ""
        raise ParameterError(
            f"unknown parameter '{name}'{hint}; see docs/parameters.md for the {len(REGISTRY)} "
            "known parameters"
        ) from None


def validate(values: Mapping[str, Any] | Params | None = None) -> Params:
    """Validate overrides against the registry and return a complete :class:`Params`.

    Raises :class:`ParameterError` naming the parameter, the value and the allowed range.
    """
    if isinstance(values, Params):
        return values
    if values is not None and not isinstance(values, Mapping):
        raise ParameterError(f"parameters must be a mapping of name to value, not {values!r}")
    return Params(values)


def defaults() -> Params:
    """All parameters at their registry defaults."""
    return Params()


def names(kind: str | Iterable[str] | None = None) -> list[str]:
    """Parameter names of the given kind(s), in registry order."""
    if kind is None:
        return list(REGISTRY)
    kinds = {kind} if isinstance(kind, str) else set(kind)
    unknown = kinds - set(KINDS)
    if unknown:
        raise ParameterError(f"unknown parameter kind {sorted(unknown)}; allowed: {list(KINDS)}")
    return [n for n, p in REGISTRY.items() if p.kind in kinds]


def policy_levers(numeric_only: bool = True) -> list[str]:
    """The policy levers; by default only those with a numeric range (not ``pre_2015``)."""
    return [n for n in names("policy") if not (numeric_only and REGISTRY[n].type is bool)]


def salib_problem(param_names: Iterable[str] | None = None) -> dict[str, Any]:
    """A SALib problem dict (names, bounds, num_vars) built from the registry.

    Defaults to the numeric policy levers. Boolean parameters cannot be sampled. Where a chosen
    parameter's prior is not uniform on its allowed range, the dict also has SALib's ``dists``
    (``unif``, ``logunif``, ``triang``) and ``bounds`` are the prior's (for ``triang``: start,
    end and the mode as a fraction of the width).
    """
    chosen = list(param_names) if param_names is not None else policy_levers()
    for n in chosen:
        if _lookup(n).type is bool:
            raise ParameterError(f"parameter '{n}' is a switch and cannot be sampled")
    params = [REGISTRY[n] for n in chosen]
    problem: dict[str, Any] = {
        "num_vars": len(chosen),
        "names": chosen,
        "bounds": [[float(p.low), float(p.high)] for p in params],
    }
    if all(p.prior == "uniform" and p.prior_range is None for p in params):
        return problem
    dists, bounds = [], []
    for p in params:
        lo, hi = p.prior_low, p.prior_high
        if p.prior == "triangular":
            dists.append("triang")
            bounds.append([lo, hi, (float(p.default) - lo) / (hi - lo)])
        else:
            dists.append("logunif" if p.prior == "loguniform" else "unif")
            bounds.append([lo, hi])
    problem["bounds"], problem["dists"] = bounds, dists
    return problem


def draw_priors(n: int, param_names: Iterable[str], seed: int) -> dict[str, np.ndarray]:
    """``n`` draws from the priors of ``param_names``: a Latin hypercube in unit space, mapped
    through each prior's quantile function (integers rounded). Same ``seed``, same draws."""
    chosen = list(param_names)
    for name in chosen:
        if _lookup(name).type is bool:
            raise ParameterError(f"parameter '{name}' is a switch and cannot be drawn")
    if int(n) < 1:
        raise ParameterError(f"draw_priors: n = {n} is not allowed: expected an integer >= 1")
    unit = qmc.LatinHypercube(d=max(len(chosen), 1), rng=np.random.default_rng(seed)).random(int(n))
    return {name: REGISTRY[name].from_unit(unit[:, j]) for j, name in enumerate(chosen)}


def source_counts() -> dict[str, dict[str, int]]:
    """Number of entries per kind (and ``"all"``) in each source class."""
    counts = {kind: Counter(p.source_class for p in REGISTRY.values() if p.kind == kind) for kind in KINDS}
    counts["all"] = Counter(p.source_class for p in REGISTRY.values())
    return {kind: {c: counter[c] for c in SOURCE_CLASSES} for kind, counter in counts.items()}


def _source_lines() -> list[str]:
    """The explanation of the source classes and their count table, for ``docs/parameters.md``."""
    lines = [
        "## Sources",
        "",
        "Every entry is in one of three classes (DESIGN section 5):",
        "",
        "- **sourced**: the default is taken from the named *source*. One of the five articles is a"
        " source only where its text contains the number; the registry quotes the sentence"
        " (`FIGURES` in `model/params.py`).",
        "- **basis**: a named document (*basis*) motivates the rule or the parameter, or is the"
        " calibration target the value is set against, but contains no figure for it; the number"
        " is assumed.",
        "- **assumed**: no document behind the number or the rule.",
        "",
        "The *note* says what the documents do say about the number, and names candidate sources"
        " not checked here. *Range* is the allowed values; *prior* the assumed uncertainty that"
        " history matching (`wijkteam calibrate`) starts from: uniform on the range unless"
        " narrowed, log-uniform for rates uncertain by orders of magnitude, triangular (mode at"
        " the default) where a document gives the number; the reason follows in brackets. CBS figures are as"
        " given in DESIGN section 0, still to be checked against CBS StatLine (calibration/NOTE.md).",
        "",
        "| kind | " + " | ".join(SOURCE_CLASSES) + " | total |",
        "|---|" + "---:|" * (len(SOURCE_CLASSES) + 1),
    ]
    for kind, counts in source_counts().items():
        cells = [str(counts[c]) for c in SOURCE_CLASSES] + [str(sum(counts.values()))]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def parameters_markdown() -> str:
    """The parameter table of ``docs/parameters.md``, generated from the registry."""
    lines = [
        "# Parameters",
        "",
        "Generated from the registry in `model/params.py` by `python -m model --write-docs`;"
        " do not edit by hand (a test fails when this file is stale).",
        "",
        "Kinds: **policy** levers a municipality sets (sampled by sensitivity analysis);"
        " **behaviour** rates, effects and costs (fitted by calibration); **setup** size and"
        " horizon; **switch** turns one mechanism (DESIGN M1-M9) on or off.",
        "",
        *_source_lines(),
    ]
    for kind in KINDS:
        lines += [
            f"## {kind}",
            "",
            "| name | default | range | prior | unit | mechanism | meaning | class | source | basis | note |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for p in REGISTRY.values():
            if p.kind != kind:
                continue
            default = str(p.default).lower() if p.type is bool else f"{p.default:g}"
            rng = "true/false" if p.type is bool else f"{p.low:g} – {p.high:g}"
            basis = "; ".join(p.basis)
            prior = f"{p.prior_text} ({p.prior_note})" if p.prior_note else p.prior_text
            lines.append(
                f"| `{p.name}` | {default} | {rng} | {prior} | {p.unit} | {p.mechanism} | {p.meaning}"
                f" | {p.source_class} | {p.source} | {basis} | {p.note} |"
            )
        lines.append("")
    return "\n".join(lines)


def parameters_odd_markdown() -> str:
    """The compact parameter tables of ``docs/ODD.md`` (one per kind), generated from the registry."""
    lines = [
        "Every parameter of the registry (`model/params.py`), by kind: default, range, unit, mechanism"
        " and source class (sourced / basis / assumed; the sources and notes are in"
        " `docs/parameters.md`).",
        "",
    ]
    for kind in KINDS:
        chosen = [p for p in REGISTRY.values() if p.kind == kind]
        lines += [
            f"**{kind}** ({len(chosen)})",
            "",
            "| name | default | range | unit | mechanism | class |",
            "|---|---|---|---|---|---|",
        ]
        for p in chosen:
            default = str(p.default).lower() if p.type is bool else f"{p.default:g}"
            rng = "true/false" if p.type is bool else f"{p.low:g} – {p.high:g}"
            lines.append(f"| `{p.name}` | {default} | {rng} | {p.unit} | {p.mechanism} | {p.source_class} |")
        lines.append("")
    return "\n".join(lines[:-1])
