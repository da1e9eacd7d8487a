"""The page's inputs: sliders and switches from the parameter registry, and the scenario presets.

Every policy lever of :data:`model.params.REGISTRY` gets a slider or switch (label from
:mod:`experiments.labels`, bounds, step and default from the registry). The presets are the
scenario files of ``experiments/scenarios/``, read by :func:`experiments.scenario.load_all`;
choosing one moves every lever to the preset's value or its default. :class:`ViewModel` is the
model as the page runs it: built from these settings, its burn-in already done.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.labels import lever_label
from experiments.scenario import SCENARIO_DIR, Scenario, load_all
from model import REGISTRY, NeighbourhoodModel, Params, validate
from model.params import names

#: Largest neighbourhood the size slider offers: the map stays readable and a step fast.
MAX_VIEW_RESIDENTS = 20_000
#: Default seed of a run in the browser.
DEFAULT_SEED = 1

#: The preset that changes nothing.
DEFAULT_PRESET = Scenario("default", "Registry defaults", "Every parameter at its registry default.", "")


# ---- sliders from the registry -------------------------------------------------
def slider_step(low: float, high: float) -> float:
    """A round step giving about 50 to 500 positions between ``low`` and ``high``."""
    return 10.0 ** math.floor(math.log10((high - low) / 50.0))


def _digits(name: str) -> int:
    """Decimals of a float lever's slider step."""
    p = REGISTRY[name]
    return max(0, -int(math.log10(slider_step(p.low, p.high))))


def input_spec(name: str, *, high: float | None = None, value: Any = None) -> dict[str, Any]:
    """The SolaraViz input for one registry parameter (label, bounds, step and default).

    ``high`` lowers the upper bound (for the neighbourhood size); ``value`` overrides the default.
    """
    p = REGISTRY[name]
    value = p.default if value is None else value
    if p.type is bool:
        return {"type": "Checkbox", "value": bool(value), "label": lever_label(name)}
    top = p.high if high is None else min(p.high, high)
    if p.type is int:
        step = max(1, int(slider_step(p.low, top)))
        kind, low, top, value = "SliderInt", int(p.low), int(top), int(value)
    else:
        step = slider_step(p.low, top)
        kind, low, top, value = "SliderFloat", float(p.low), float(top), float(value)
    return {"type": kind, "value": value, "min": low, "max": top, "step": step, "label": lever_label(name)}


def snap(name: str, value: Any) -> Any:
    """``value`` as the registry type, floats rounded to their slider step and kept in bounds.

    Slider arithmetic (0.30000000000000004) then never fails validation.
    """
    p = REGISTRY[name]
    if p.type is bool:
        return bool(value)
    if p.type is int:
        return int(round(value))
    return min(max(round(float(value), _digits(name)), p.low), p.high)


def format_value(name: str, value: Any) -> str:
    """A lever value as the panel shows it (as many decimals as the slider step has)."""
    p = REGISTRY[name]
    if p.type is bool:
        return "on" if value else "off"
    if p.type is int:
        return f"{int(value):,}"
    return f"{float(value):,.{_digits(name)}f}"


# ---- scenario presets ---------------------------------------------------------------
def load_presets(directory: str | Path = SCENARIO_DIR) -> tuple[dict[str, Scenario], list[str]]:
    """Scenario presets from ``directory/*.toml``, keyed by their title (the label shown).

    Returns ``(presets, problems)``: the registry defaults first, then every scenario that loads
    (in :func:`experiments.scenario.load_all`'s order); ``problems`` has one line for each file
    that was skipped. A title met twice gets the scenario's name in brackets.
    """
    scenarios, problems = load_all(directory)
    presets = {DEFAULT_PRESET.title: DEFAULT_PRESET}
    for scenario in scenarios:
        if scenario.title in presets:
            scenario = dataclasses.replace(scenario, title=f"{scenario.title} ({scenario.name})")
        presets[scenario.title] = scenario
    return presets, problems


PRESETS, PRESET_PROBLEMS = load_presets()


def preset_levers(preset: Scenario) -> dict[str, Any]:
    """Values of every policy lever under ``preset``: its overrides, else the registry default."""
    return {name: preset.params.get(name, REGISTRY[name].default) for name in names("policy")}


def resolve_params(preset: Scenario, levers: Mapping[str, Any], **setup: Any) -> Params:
    """The parameters of a run: the preset's overrides, the sidebar's levers, then ``setup``."""
    return validate({**preset.params, **{k: snap(k, v) for k, v in levers.items()}, **setup})


@dataclass
class Settings:
    """The scenario preset and lever values the next Reset uses; the lever panel edits them.

    One object per browser session. SolaraViz hands it to :class:`ViewModel` as a fixed
    model parameter, so Mesa's Reset button builds the run from what the sidebar shows.
    """

    preset: str = DEFAULT_PRESET.title
    levers: dict[str, Any] = field(default_factory=lambda: preset_levers(DEFAULT_PRESET))

    def choose(self, title: str) -> None:
        """Select a preset: every lever goes to the preset's value or its registry default."""
        self.preset = title
        self.levers = preset_levers(PRESETS.get(title, DEFAULT_PRESET))

    def set(self, name: str, value: Any) -> None:
        """Set one lever."""
        self.levers = {**self.levers, name: snap(name, value)}


def model_params(settings: Settings | None = None) -> dict[str, Any]:
    """The SolaraViz ``model_params``: the session's settings, the seed and the neighbourhood size.

    The policy levers and the preset are in the lever panel (``webapp.page.LeverPanel``), which
    shows their values and moves them when a preset is chosen; Mesa's own inputs cannot.
    """
    size = input_spec("n_residents", high=MAX_VIEW_RESIDENTS)
    size["label"] = "Neighbourhood size (residents)"
    seed = {"type": "SliderInt", "value": DEFAULT_SEED, "min": 0, "max": 999, "step": 1}
    return {
        "settings": Settings() if settings is None else settings,
        "seed": {**seed, "label": "Seed (random-number stream)"},
        "n_residents": size,
    }


# ---- the model as the page runs it ----------------------------------------------------
class ViewModel(NeighbourhoodModel):
    """The neighbourhood as the page runs it: built from the sidebar, burn-in already done.

    ``settings`` holds the preset and the levers, ``seed`` is the random seed and
    ``n_residents`` the size; ``overrides`` are further registry parameters. ``scenario`` is
    Mesa's own scenario object, which SolaraViz passes on reset; it carries nothing here.
    ``tally_before`` is the model's tally as it was before the last reported week (the
    summary table's "this week" column is the difference).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        seed: int = DEFAULT_SEED,
        n_residents: int = REGISTRY["n_residents"].default,
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        settings = Settings() if settings is None else settings
        self.preset = PRESETS.get(settings.preset, DEFAULT_PRESET)
        params = resolve_params(self.preset, settings.levers, n_residents=int(n_residents), **overrides)
        super().__init__(params, rng=int(seed))
        self.seed = int(seed)
        for _ in range(self.p.burn_in_weeks):  # unreported weeks: Mesa's time stays at 0
            NeighbourhoodModel.step(self)
        self.tally_before = copy.deepcopy(self.tally)

    def step(self) -> None:
        """One reported week; the run stops after ``weeks`` reported weeks."""
        self.tally_before = copy.deepcopy(self.tally)
        super().step()
        self.running = self.reported_weeks < self.p.weeks

    @property
    def reported_weeks(self) -> int:
        """Weeks since the burn-in."""
        return max(0, self.week - self.p.burn_in_weeks)
