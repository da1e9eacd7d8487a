"""The parameter registry: every parameter of the model, once.

Each entry carries its default, bounds, unit, kind, one-line meaning, the
mechanism (M1-M10 of DESIGN section 4) it belongs to and its source. Validation,
the command line, the browser sliders, the SALib problem and
``docs/parameters.md`` are all derived from :data:`REGISTRY`.

Kinds
-----
``policy``     a lever a municipality sets (sampled by sensitivity analysis).
``behaviour``  a rate, effect size or cost (fitted by calibration).
``setup``      size and horizon of a run (neither sampled nor fitted).
``switch``     turns one mechanism on or off (for experiments and tests).

Sources are cited by author and title (see ``docs/ODD.md``, section
"Input data"); "assumed" marks a value with no published figure behind it,
which calibration and sensitivity analysis must cover.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["policy", "behaviour", "setup", "switch"]
KINDS: tuple[str, ...] = ("policy", "behaviour", "setup", "switch")

# Short citations used in the ``source`` field.
PRUIM = "Pruim, 'Collectief en individueel werken in balans, lukt dat wel?' (2019)"
MOVISIE = "Van Arum (Movisie), 'Sociale wijkteams are here to stay' (2019 survey)"
WIJLAND = "Wijland, 'Nut en noodzaak van een onafhankelijk sociaal (wijk)team'"
RADAR = "RadarAdvies, 'Sociale teams werken' (Speelkamer case)"
ZW_MOVISIE = "Zorg+Welzijn and Movisie, 'Collectieve aanpak in de lead' (2022)"
CBS_WMO = "CBS, Wmo maatwerk clients and spending 2019"
CBS_YOUTH = "CBS Jeugdmonitor 2023"
TARIFFS = "2023 municipal tariff lists (individual support EUR 56-66/h, group EUR 10/h)"
CPB = "CPB note on social neighbourhood teams and youth care use"
CBS_POP = "CBS population by age 2023"


class ParameterError(ValueError):
    """A parameter name or value that the registry does not accept."""


@dataclass(frozen=True)
class Param:
    """One registry entry. ``low``/``high`` are inclusive bounds."""

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


def _p(name, default, low, high, unit, kind, mechanism, meaning, source="assumed", type_=float):
    return Param(name, default, low, high, unit, kind, meaning, source, mechanism, type_)


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
        MOVISIE,
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
        MOVISIE,
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
        PRUIM,
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
        RADAR,
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
        MOVISIE,
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
        WIJLAND,
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
        RADAR,
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
        MOVISIE,
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
        WIJLAND,
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
        RADAR,
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
        "assumed: about the default neighbourhood's spending",
    ),
    _p(
        "pre_2015",
        False,
        0,
        1,
        "switch",
        "policy",
        "M10",
        "The pre-2015 approach: no team, a municipal desk indicates, providers deliver.",
        RADAR,
        bool,
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
        CBS_YOUTH,
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
        CBS_WMO,
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
        MOVISIE,
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
        CBS_WMO,
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
        MOVISIE,
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
        "calibrated to the CBS Jeugdmonitor team share (calibration/NOTE.md)",
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
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
        CPB,
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
    ),
    # ---- M3 caseload and time ---------------------------------------------
    _p("hours_per_fte", 36.0, 24.0, 40.0, "hours per week", "behaviour", "M3", "Contract hours of one FTE."),
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
        MOVISIE,
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
        MOVISIE,
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
        MOVISIE,
    ),
    _p(
        "team_effect",
        0.035,
        0.005,
        0.15,
        "severity per week",
        "behaviour",
        "M3",
        "Weekly severity reduction under fully staffed team support (skill 1).",
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
        PRUIM,
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
        PRUIM,
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
        RADAR,
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
        RADAR,
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
        MOVISIE,
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
        MOVISIE,
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
        MOVISIE,
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
        MOVISIE,
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
        MOVISIE,
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
        MOVISIE,
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
    _p(
        "maatwerk_cost_year",
        4600.0,
        1000.0,
        20000.0,
        "EUR per client per year",
        "behaviour",
        "M6",
        "Cost of one maatwerk client (Wmo spending / clients; used for all domains).",
        CBS_WMO,
    ),
    _p(
        "maatwerk_effect",
        0.006,
        0.001,
        0.1,
        "severity per week",
        "behaviour",
        "M6",
        "Weekly severity reduction in the provided domain under maatwerk.",
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
        WIJLAND,
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
        WIJLAND,
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
        WIJLAND,
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
        WIJLAND,
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
        int,
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
        RADAR,
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
        ZW_MOVISIE,
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
        RADAR,
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
        RADAR,
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
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
        RADAR,
        int,
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
        PRUIM,
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
        ZW_MOVISIE,
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
        ZW_MOVISIE,
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
        WIJLAND,
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
        "neighbour_help",
        0.01,
        0.0,
        0.05,
        "severity per week",
        "behaviour",
        "M8",
        "Weekly severity reduction when all neighbours have full spare capacity and ties are dense.",
        ZW_MOVISIE,
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
        MOVISIE,
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
        RADAR,
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
        "Staff of the municipal indication desk in the pre-2015 approach.",
        RADAR,
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
    ),
    _p("weeks", 520, 1, 2600, "weeks", "setup", "-", "Reported horizon, after the burn-in.", type_=int),
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
        "assumed: about the default steady state; Wmo alone is 67 (CBS 2019)",
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
    ),
]

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

    Defaults to the numeric policy levers. Boolean parameters cannot be sampled.
    """
    chosen = list(param_names) if param_names is not None else policy_levers()
    for n in chosen:
        if _lookup(n).type is bool:
            raise ParameterError(f"parameter '{n}' is a switch and cannot be sampled")
    return {
        "num_vars": len(chosen),
        "names": chosen,
        "bounds": [[float(REGISTRY[n].low), float(REGISTRY[n].high)] for n in chosen],
    }


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
        " horizon; **switch** turns one mechanism (DESIGN M1-M9) on or off."
        " Sources marked *assumed* have no published figure behind them.",
        "",
    ]
    for kind in KINDS:
        lines += [
            f"## {kind}",
            "",
            "| name | default | range | unit | mechanism | meaning | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for p in REGISTRY.values():
            if p.kind != kind:
                continue
            default = str(p.default).lower() if p.type is bool else f"{p.default:g}"
            rng = "true/false" if p.type is bool else f"{p.low:g} – {p.high:g}"
            lines.append(
                f"| `{p.name}` | {default} | {rng} | {p.unit} | {p.mechanism} | {p.meaning} | {p.source} |"
            )
        lines.append("")
    return "\n".join(lines)
