"""The browser view of wijkteam-sim: a Mesa SolaraViz page of the neighbourhood and its team.

Start it with ``wijkteam viz`` or ``solara run app.py --host 127.0.0.1 --port 8765 --production``
and open http://127.0.0.1:8765 in a browser. The page needs no internet: the pinned
``solara-assets`` package ships the front end, ipyvue/ipyvuetify < 2 keep Mesa's grid on the
Vue 2 front end, and everything is drawn with matplotlib.

The sidebar is generated from the parameter registry (:data:`model.params.REGISTRY`): Mesa's
"Model Parameters" card holds the seed and the neighbourhood size, and the "Scenario and policy
levers" card a slider or switch for every policy lever (label, unit, bounds and default from
the registry, the current value shown) and the scenario presets of
``experiments/scenarios/*.toml``. Choosing a preset moves every lever to the preset's value (or
its default); Reset starts a new run with what the sidebar shows.

Each run starts after the burn-in (``burn_in_weeks``, simulated when the run is created), so
Mesa's "Time" and the plots count reported weeks; the run stops after ``weeks`` reported weeks.

The helpers at the top (slider specifications, presets, layout and colours) are pure
functions, tested in ``tests/test_app.py``; the Solara components below them draw from the
model's arrays (the model has no Mesa space).
"""

from __future__ import annotations

import html
import io
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from mesa.visualization import SolaraViz

from experiments.labels import lever_label
from model import REGISTRY, NeighbourhoodModel, ParameterError, Params, validate
from model.outputs import OUTPUTS, display_unit
from model.params import names
from model.resident import DOMAINS, STATUSES

ROOT = Path(__file__).resolve().parent
SCENARIO_DIR = ROOT / "experiments" / "scenarios"

#: Largest neighbourhood the size slider offers: the map stays readable and a step fast.
MAX_VIEW_RESIDENTS = 20_000
#: Default seed of a run in the browser.
DEFAULT_SEED = 1
#: Weeks over which noisy weekly rates are averaged in the plots (a quarter).
SMOOTH_WEEKS = 13
#: Largest height of a figure on the page (CSS): Mesa's grid gives each component about 390 px.
FIGURE_MAX_HEIGHT = "380px"
_HEADING = "<div style='font-size:15px;font-weight:500;margin-bottom:4px'>"

# Support states (model.resident.STATUSES): colour (Okabe-Ito, colour-blind safe) and label.
STATUS_COLOURS: dict[str, str] = {
    "none": "#7f7f7f",
    "waiting": "#e69f00",
    "team": "#0072b2",
    "maatwerk": "#d55e00",
    "collective": "#009e73",
    "volunteer": "#cc79a7",
}
STATUS_LABELS: dict[str, str] = {
    "none": "No support",
    "waiting": "Waiting",
    "team": "Team support",
    "maatwerk": "Maatwerk (provider)",
    "collective": "Collective initiative",
    "volunteer": "Volunteer",
}
DOMAIN_LABELS: dict[str, str] = {
    "youth_family": "youth & family",
    "care_support": "care & support",
    "income_work": "income & work",
    "mental_health": "mental health",
}
DOMAIN_MARKERS: tuple[str, ...] = ("^", "s", "D", "o")
COST_COLOURS = {"team": "#0072b2", "maatwerk": "#d55e00", "collective": "#009e73"}


# ---- sliders from the registry -------------------------------------------------
def slider_step(low: float, high: float) -> float:
    """A round step giving about 50 to 500 positions between ``low`` and ``high``."""
    return 10.0 ** math.floor(math.log10((high - low) / 50.0))


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
        return {
            "type": "SliderInt",
            "value": int(value),
            "min": int(p.low),
            "max": int(top),
            "step": step,
            "label": lever_label(name),
        }
    return {
        "type": "SliderFloat",
        "value": float(value),
        "min": float(p.low),
        "max": float(top),
        "step": slider_step(p.low, top),
        "label": lever_label(name),
    }


# ---- scenario presets ---------------------------------------------------------------
@dataclass(frozen=True)
class Preset:
    """A scenario preset: validated registry overrides with a title and rationale."""

    name: str
    title: str
    rationale: str = ""
    source: str = ""
    params: dict[str, Any] = field(default_factory=dict)


DEFAULT_PRESET = Preset("default", "Registry defaults", "Every parameter at its registry default.")


def load_presets(directory: Path = SCENARIO_DIR) -> tuple[dict[str, Preset], list[str]]:
    """Scenario presets from ``directory/*.toml``, keyed by their title (the label shown).

    Returns ``(presets, problems)``: the registry defaults first, then every readable and
    valid file in name order; ``problems`` has one line for each file that was skipped.
    """
    presets = {DEFAULT_PRESET.title: DEFAULT_PRESET}
    problems: list[str] = []
    for path in sorted(Path(directory).glob("*.toml")):
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            params = data.get("params", {})
            if not isinstance(params, Mapping):
                raise ParameterError("[params] must be a table of registry overrides")
            validate(params)
        except (OSError, tomllib.TOMLDecodeError, ParameterError) as exc:
            problems.append(f"{path.name}: {exc}")
            continue
        name = str(data.get("name", path.stem))
        title = str(data.get("title", name))
        if title in presets:
            title = f"{title} ({name})"
        presets[title] = Preset(
            name, title, str(data.get("rationale", "")).strip(), str(data.get("source", "")), dict(params)
        )
    return presets, problems


PRESETS, PRESET_PROBLEMS = load_presets()


def preset_levers(preset: Preset) -> dict[str, Any]:
    """Values of every policy lever under ``preset``: its overrides, else the registry default."""
    return {name: preset.params.get(name, REGISTRY[name].default) for name in names("policy")}


def snap(name: str, value: Any) -> Any:
    """``value`` as the registry type, floats rounded to their slider step and kept in bounds.

    Slider arithmetic (0.30000000000000004) then never fails validation.
    """
    p = REGISTRY[name]
    if p.type is bool:
        return bool(value)
    if p.type is int:
        return int(round(value))
    digits = max(0, -int(math.log10(slider_step(p.low, p.high))))
    return min(max(round(float(value), digits), p.low), p.high)


def resolve_params(preset: Preset, levers: Mapping[str, Any], **setup: Any) -> Params:
    """The parameters of a run: the preset's overrides, the sidebar's levers, then ``setup``."""
    values = {**preset.params, **{k: snap(k, v) for k, v in levers.items()}, **setup}
    return validate(values)


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

    The policy levers and the preset are in the lever panel (:func:`LeverPanel`), which shows
    their values and moves them when a preset is chosen; Mesa's own inputs cannot.
    """
    size = input_spec("n_residents", high=MAX_VIEW_RESIDENTS)
    size["label"] = "Neighbourhood size (residents)"
    return {
        "settings": Settings() if settings is None else settings,
        "seed": {
            "type": "SliderInt",
            "value": DEFAULT_SEED,
            "min": 0,
            "max": 999,
            "step": 1,
            "label": "Seed (random-number stream)",
        },
        "n_residents": size,
    }


# ---- the model as the page runs it ----------------------------------------------------
class ViewModel(NeighbourhoodModel):
    """The neighbourhood as the page runs it: built from the sidebar, burn-in already done.

    ``settings`` holds the preset and the levers, ``seed`` is the random seed and
    ``n_residents`` the size; ``overrides`` are further registry parameters. ``scenario`` is
    Mesa's own scenario object, which SolaraViz passes on reset; it carries nothing here.
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

    def step(self) -> None:
        """One reported week; the run stops after ``weeks`` reported weeks."""
        super().step()
        self.running = self.reported_weeks < self.p.weeks

    @property
    def reported_weeks(self) -> int:
        """Weeks since the burn-in."""
        return max(0, self.week - self.p.burn_in_weeks)


# ---- the map: residents in street order, block by block ----------------------------------
def block_grid(n_blocks: int, aspect: float = 1.6) -> tuple[int, int]:
    """Rows and columns of blocks for a map about ``aspect`` times wider than high.

    Of the column counts next to the ideal one, the one that leaves fewest empty places wins.
    """
    ideal = max(1, round(math.sqrt(n_blocks * aspect)))
    candidates = [c for c in (ideal, ideal + 1, ideal - 1) if 1 <= c <= n_blocks] or [1]
    cols = min(candidates, key=lambda c: math.ceil(n_blocks / c) * c - n_blocks)
    return math.ceil(n_blocks / cols), cols


def map_layout(block: np.ndarray, aspect: float = 1.6) -> tuple[np.ndarray, np.ndarray, tuple[int, int], int]:
    """Map cell (row, column) of every resident, the map shape and the side of a block square.

    Each block (street cluster) is a square of cells filled in a serpentine, so street
    neighbours stay side by side; blocks lie in a grid with one empty cell between them.
    """
    block = np.asarray(block)
    n_blocks = int(block.max()) + 1
    starts = np.searchsorted(block, np.arange(n_blocks))
    pos = np.arange(block.size) - starts[block]
    side = max(1, math.ceil(math.sqrt(np.bincount(block).max())))
    r_in, c_in = np.divmod(pos, side)
    c_in = np.where(r_in % 2 == 1, side - 1 - c_in, c_in)
    rows, cols = block_grid(n_blocks, aspect)
    br, bc = np.divmod(block, cols)
    shape = (rows * (side + 1) - 1, cols * (side + 1) - 1)
    return br * (side + 1) + r_in, bc * (side + 1) + c_in, shape, side


def _rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])


def resident_colours(status: np.ndarray, smax: np.ndarray) -> np.ndarray:
    """RGB (n x 3) of residents: colour by support state, darker with worst-domain severity.

    Residents without support go from near white (no problem) to dark grey (severe,
    hidden need); supported residents from a light to the full colour of their state.
    """
    base = np.array([_rgb(STATUS_COLOURS[s]) for s in STATUSES])[status]
    s = np.clip(smax, 0.0, 1.0)[:, None]
    none = (status == STATUSES.index("none"))[:, None]
    grey = 0.93 - 0.68 * s
    tint = 0.55 + 0.45 * s
    return np.where(none, np.repeat(grey, 3, axis=1), 1.0 - tint * (1.0 - base))


def map_image(model: NeighbourhoodModel, aspect: float = 1.6) -> tuple[np.ndarray, int]:
    """RGB image of the neighbourhood (white between blocks) and the side of a block square."""
    pop = model.pop
    r, c, shape, side = map_layout(pop.block, aspect)
    img = np.ones((*shape, 3))
    img[r, c] = resident_colours(pop.status, pop.smax)
    return img, side


def draw_map(model: NeighbourhoodModel) -> Figure:
    """The neighbourhood map with running initiatives, and its legend."""
    pop = model.pop
    img, side = map_image(model)
    rows, cols = block_grid(pop.n_blocks)
    fig = Figure(figsize=(6.6, 4.2), dpi=100)
    ax = fig.add_axes((0.01, 0.02, 0.6, 0.86))
    ax.imshow(img, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    week = getattr(model, "reported_weeks", model.week)
    fig.suptitle(
        f"Neighbourhood in week {week}: {pop.n:,} residents in {pop.n_blocks} street blocks",
        fontsize=11,
        x=0.01,
        y=0.97,
        ha="left",
    )
    by_domain: dict[int, list[tuple[float, float, float]]] = {d: [] for d in range(len(DOMAINS))}
    for ini in list(model.initiatives.values()):
        if not ini.running:
            continue
        br, bc = divmod(ini.block, cols)
        x = bc * (side + 1) + (ini.domain + 0.5) * side / len(DOMAINS) - 0.5
        y = br * (side + 1) + side * 0.2
        by_domain[ini.domain].append((x, y, ini.participants + ini.volunteers))
    for d, items in by_domain.items():
        if items:
            x, y, k = np.array(items).T
            ax.scatter(
                x,
                y,
                s=40 + 12 * k,
                marker=DOMAIN_MARKERS[d],
                facecolor="white",
                edgecolor="black",
                linewidth=1.2,
                zorder=3,
            )
    light, dark = resident_colours(np.zeros(2, np.int8), np.array([0.0, 1.0]))
    handles = [
        Patch(facecolor=light, edgecolor="0.6", label="No support, no problem"),
        Patch(facecolor=dark, label="No support, serious need"),
    ]
    handles += [Patch(facecolor=STATUS_COLOURS[s], label=STATUS_LABELS[s]) for s in STATUSES[1:]]
    handles.append(Patch(facecolor="none", edgecolor="none", label="(darker = more severe)"))
    handles += [
        Line2D(
            [],
            [],
            marker=DOMAIN_MARKERS[d],
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            label=f"initiative: {DOMAIN_LABELS[DOMAINS[d]]}",
        )
        for d in range(len(DOMAINS))
    ]
    n_running = sum(1 for i in model.initiatives.values() if i.running)
    fig.legend(
        handles=handles,
        loc="center right",
        fontsize=8.5,
        frameon=False,
        alignment="left",
        title=f"Each square is a resident.\n{n_running} initiative"
        f"{'' if n_running == 1 else 's'} running\n(marker size = members)",
        title_fontsize=9,
    )
    return fig


# ---- workers -----------------------------------------------------------------------------
def draw_workers(model: NeighbourhoodModel) -> Figure:
    """Each worker's week: individual hours, collective hours, unmet demand and capacity."""
    fig = Figure(figsize=(6.4, 3.9), dpi=100)
    ax = fig.add_axes((0.27, 0.22, 0.7, 0.68))
    workers = list(model.workers)
    ax.set_title("Social workers this week (hours per week)", fontsize=11, loc="left")
    if 8 < len(workers) <= 16:
        ax.set_ylabel("worker (s = seconded): cases", fontsize=8)
    if not workers:
        ax.text(
            0.5,
            0.5,
            "Pre-2015 approach: no neighbourhood team,\nresidents go to the municipal desk",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=10,
        )
        ax.set_axis_off()
        return fig
    cap = np.array([w.capacity for w in workers])
    demand = np.array([w.demand for w in workers])
    coll = np.array([w.collective_hours for w in workers])
    served = np.minimum(demand, cap)
    short = np.maximum(demand - cap, 0.0)
    cases = np.bincount(model.pop.worker[model.pop.worker >= 0], minlength=len(workers))
    y = np.arange(len(workers))
    ax.barh(y, served, color=STATUS_COLOURS["team"], label="individual casework")
    ax.barh(y, coll, left=served, color=STATUS_COLOURS["collective"], label="collective & outreach")
    ax.barh(
        y,
        short,
        left=served + coll,
        color="white",
        edgecolor=STATUS_COLOURS["maatwerk"],
        hatch="////",
        linewidth=0.8,
        label="demand beyond capacity",
    )
    ax.scatter(cap, y, marker="|", s=300, color="black", zorder=3, label="capacity")
    if len(workers) <= 8:
        labels = [
            f"worker {i + 1}{', seconded' if w.seconded else ''}\n"
            f"{cases[i]} cases{', overloaded' if w.overloaded else ''}"
            for i, w in enumerate(workers)
        ]
    else:
        labels = [f"W{i + 1}{'s' if w.seconded else ''}: {cases[i]}" for i, w in enumerate(workers)]
    if len(workers) <= 16:
        ax.set_yticks(y, labels, fontsize=8 if len(workers) <= 8 else 7)
        for i, w in enumerate(workers):
            if w.overloaded:
                ax.get_yticklabels()[i].set_color(STATUS_COLOURS["maatwerk"])
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(workers)} workers")
        ax.set_position((0.08, 0.22, 0.89, 0.68))
    ax.invert_yaxis()
    ax.set_xlabel("hours per week")
    ax.set_xlim(0, max(1.0, float((served + coll + short).max()), float(cap.max())) * 1.05)
    fig.legend(loc="lower center", ncols=4, fontsize=7.5, frameon=False)
    return fig


# ---- KPI plots ------------------------------------------------------------------------------
def series_arrays(model: NeighbourhoodModel) -> dict[str, np.ndarray]:
    """The recorded weekly series as arrays (empty before the first reported week)."""
    return {k: np.asarray(v, dtype=float) for k, v in model.datacollector.model_vars.items()}


def trailing_mean(values: np.ndarray, weeks: int = SMOOTH_WEEKS) -> np.ndarray:
    """Mean over the last ``weeks`` weeks (fewer at the start), ignoring NaN weeks."""
    values = np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    cnt = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(values.size)
    lo = np.maximum(idx + 1 - weeks, 0)
    n = cnt[idx + 1] - cnt[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum[idx + 1] - csum[lo]) / np.maximum(n, 1), np.nan)


def _new_kpi_figure(title: str, ncols: int = 2) -> tuple[Figure, list]:
    fig = Figure(figsize=(6.4, 3.9), dpi=100)
    fig.subplots_adjust(left=0.1, right=0.98, bottom=0.13, top=0.83, wspace=0.3)
    axes = list(np.atleast_1d(fig.subplots(1, ncols)))
    fig.suptitle(title, fontsize=11, x=0.01, y=0.97, ha="left")
    return fig, axes


def _finish(ax, title: str, ylabel: str, weeks: np.ndarray) -> None:
    """Titles, labels and limits shared by the time-series panels (y from 0, some headroom)."""
    ax.set_title(title, fontsize=9.5)
    ax.set_ylabel(ylabel, fontsize=8.5)
    ax.set_xlabel("week", fontsize=8.5)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.set_xlim(0, max(10, int(weeks[-1]) if weeks.size else 10))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    for line in ax.get_lines():
        if len(line.get_xdata()) == 1:  # the first week: a dot, since a line needs two
            line.set_marker("o")
    top = ax.dataLim.y1 if weeks.size and np.isfinite(ax.dataLim.y1) else 0.0
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    if not weeks.size:
        ax.text(
            0.5,
            0.5,
            "press Step or \u25b6",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.5",
            fontsize=9,
        )


def draw_team_time(model: NeighbourhoodModel) -> Figure:
    """Caseload per FTE and the share of worker time spent collectively (with the target)."""
    s = series_arrays(model)
    fig, (a1, a2) = _new_kpi_figure("Team time: is collective work crowded out?")
    weeks = s.get("week", np.empty(0))
    if weeks.size:
        a1.plot(weeks, s["caseload_per_fte"], color=STATUS_COLOURS["team"])
        a2.plot(weeks, 100 * s["collective_time_share"], color=STATUS_COLOURS["collective"], label="actual")
    a2.axhline(
        100 * model.p.collective_time_target,
        color="black",
        ls="--",
        lw=1,
        label=f"target {100 * model.p.collective_time_target:.0f}%",
    )
    _finish(a1, "Caseload", "cases per FTE", weeks)
    _finish(a2, "Collective share of worker time", "% of direct hours", weeks)
    a2.set_ylim(0, max(a2.get_ylim()[1], 130 * model.p.collective_time_target, 10.0))
    a2.legend(fontsize=7.5, loc="upper right")
    return fig


def draw_prevention(model: NeighbourhoodModel) -> Figure:
    """Escalations to maatwerk and the share of intakes caught early (13-week means)."""
    s = series_arrays(model)
    fig, (a1, a2) = _new_kpi_figure(f"Prevention ({SMOOTH_WEEKS}-week averages)")
    weeks = s.get("week", np.empty(0))
    if weeks.size:
        per = 52.0 * 1000.0 / model.p.n_residents
        a1.plot(weeks, per * trailing_mean(s["maatwerk_starts"]), color=STATUS_COLOURS["maatwerk"])
        early = s["caught_early_share"] * s["intakes"]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = trailing_mean(np.nan_to_num(early)) / trailing_mean(s["intakes"])
        a2.plot(weeks, 100 * share, color=STATUS_COLOURS["team"])
    _finish(a1, "Escalations to maatwerk", "per 1,000 residents per year", weeks)
    _finish(a2, "Caught early", "% of intakes", weeks)
    a2.set_ylim(0, 100)
    return fig


def draw_residents(model: NeighbourhoodModel) -> Figure:
    """Mean self-reliance; initiatives, participants and volunteers."""
    s = series_arrays(model)
    fig, (a1, a2) = _new_kpi_figure("Residents: self-reliance and collective initiatives")
    weeks = s.get("week", np.empty(0))
    if weeks.size:
        a1.plot(weeks, s["self_reliance_mean"], color="black")
        a2.plot(weeks, s["initiatives"], color="black", label="initiatives running")
        a2.plot(weeks, s["participants"], color=STATUS_COLOURS["collective"], label="participants")
        a2.plot(weeks, s["volunteers"], color=STATUS_COLOURS["volunteer"], label="volunteers")
        a2.legend(fontsize=7.5, loc="best")
    _finish(a1, "Mean self-reliance", "0 (none) to 1 (full)", weeks)
    _finish(a2, "Initiatives and their members", "count", weeks)
    if weeks.size:
        lo = float(np.nanmin(s["self_reliance_mean"]))
        a1.set_ylim(max(0.0, lo - 0.05), min(1.0, float(np.nanmax(s["self_reliance_mean"])) + 0.05))
    return fig


def draw_costs(model: NeighbourhoodModel) -> Figure:
    """Cost per resident per year by kind (13-week means, stacked) against the budget."""
    s = series_arrays(model)
    fig, (ax,) = _new_kpi_figure(f"Cost per resident ({SMOOTH_WEEKS}-week averages)", ncols=1)
    weeks = s.get("week", np.empty(0))
    per = 52.0 / model.p.n_residents
    if weeks.size:
        kinds = ("team", "maatwerk", "collective")
        ys = [per * trailing_mean(s[f"cost_{k}"]) for k in kinds]
        ax.stackplot(
            weeks,
            *ys,
            colors=[COST_COLOURS[k] for k in kinds],
            labels=["team", "maatwerk", "collective provisions"],
            alpha=0.85,
        )
    ax.axhline(
        model.p.budget_per_resident,
        color="black",
        ls="--",
        lw=1,
        label=f"budget EUR {model.p.budget_per_resident:,.0f}",
    )
    _finish(ax, "", "EUR per resident per year", weeks)
    top = model.p.budget_per_resident
    if weeks.size:
        top = max(top, float(np.nanmax(sum(ys))))
    ax.set_ylim(0, top * 1.3)
    ax.legend(fontsize=8, loc="upper left", ncols=4)
    return fig


# ---- the summary table ------------------------------------------------------------------------
#: The browser's summary table: (summary field, the weekly series value it summarises, digits);
#: labels, units and scales come from the output table.
SUMMARY_ROWS: tuple[tuple[str, str, int], ...] = (
    ("caseload_per_fte", "caseload_per_fte", 1),
    ("collective_time_share", "collective_time_share", 0),
    ("caught_early_share", "caught_early_share", 0),
    ("referrals_per_1000_year", "referrals", 1),
    ("escalations_per_1000_year", "maatwerk_starts", 1),
    ("maatwerk_waiting_per_1000", "maatwerk_waiting", 1),
    ("waiting_per_1000", "waiting", 1),
    ("wait_weeks_mean", "", 1),
    ("self_reliance_mean", "self_reliance_mean", 3),
    ("zrm_change_mean", "", 2),
    ("problem_self_reliance_gain_mean", "", 3),
    ("resolved_own_share", "", 0),
    ("initiatives_active", "initiatives", 1),
    ("volunteers_per_1000", "volunteers", 1),
)


def summary_rows(model: NeighbourhoodModel) -> list[tuple[str, str, str, str]]:
    """Rows (indicator, this week, mean since the start, unit) of the summary table."""
    now, n = model.now, model.p.n_residents
    has = bool(now) and model.tally.weeks > 0
    summ = model.summary() if has else {}

    def fmt(value: float | None, digits: int = 1, scale: float = 1.0) -> str:
        if value is None or not has or (isinstance(value, float) and math.isnan(value)):
            return "\u2013"
        return f"{value * scale:,.{digits}f}"

    per_1000, per_year = 1000.0 / n, 52.0 / n
    cost = {k: now.get(f"cost_{k}", 0.0) * per_year for k in ("team", "maatwerk", "collective")}
    cost["total"] = sum(cost.values())
    euro = OUTPUTS["cost_total_per_resident_year"].unit

    def scale(name: str) -> float:  # from a weekly value to the summary field's unit
        unit = OUTPUTS[name].unit
        if OUTPUTS[name].percent:
            return 100.0
        if unit.endswith("per year"):
            return 52.0 * per_1000
        return per_1000 if unit.startswith("per 1,000") else 1.0

    out = []
    for mean, key, digits in SUMMARY_ROWS:
        k_mean = 100.0 if OUTPUTS[mean].percent else 1.0
        this_week = fmt(now[key], 0 if key == "initiatives" else digits, scale(mean)) if key and has else ""
        out.append((OUTPUTS[mean].label, this_week, fmt(summ.get(mean), digits, k_mean), display_unit(mean)))
    out += [
        (f"Cost: {kind}", fmt(cost[kind], 0), fmt(summ.get(f"cost_{kind}_per_resident_year"), 0), euro)
        for kind in ("team", "maatwerk", "collective", "total")
    ]
    return out


def run_settings(model: NeighbourhoodModel) -> str:
    """One line on the run: preset, seed, size and the parameters that differ from the defaults."""
    preset = getattr(model, "preset", DEFAULT_PRESET)
    changed = [
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
        for k, v in model.p.overrides().items()
        if k != "n_residents"
    ]
    text = f"Scenario: {preset.title}; seed {getattr(model, 'seed', '?')}; {model.p.n_residents:,} residents"
    return text + (
        f". Changed from defaults: {', '.join(changed)}." if changed else ". All levers at their defaults."
    )


def summary_html(model: NeighbourhoodModel) -> str:
    """The summary table as HTML (every text escaped)."""
    week = getattr(model, "reported_weeks", model.week)
    head = (
        f"{_HEADING}Summary after {week} "
        f"week{'' if week == 1 else 's'} "
        f"(year {week / 52:.1f})</div>"
        f"<div style='font-size:12px;color:#444;margin-bottom:6px'>{html.escape(run_settings(model))}</div>"
    )
    cell = "padding:2px 8px;border-bottom:1px solid #e0e0e0"
    rows = "".join(
        f"<tr><td style='{cell}'>{html.escape(a)}</td>"
        f"<td style='{cell};text-align:right'>{html.escape(b)}</td>"
        f"<td style='{cell};text-align:right'>{html.escape(c)}</td>"
        f"<td style='{cell};color:#555'>{html.escape(d)}</td></tr>"
        for a, b, c, d in summary_rows(model)
    )
    th = "padding:2px 8px;text-align:left;border-bottom:2px solid #999"
    table = (
        f"<table style='border-collapse:collapse;font-size:13px'><tr><th style='{th}'>Indicator</th>"
        f"<th style='{th};text-align:right'>This week</th><th style='{th};text-align:right'>Mean so far</th>"
        f"<th style='{th}'>Unit</th></tr>{rows}</table>"
    )
    problems = "".join(
        f"<div style='color:#b00;font-size:12px'>Preset skipped: {html.escape(p)}</div>"
        for p in PRESET_PROBLEMS
    )
    return head + table + problems


# ---- Solara components --------------------------------------------------------------------------
def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (light compression: drawing time matters more than bytes here)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _figure_component(draw):
    """A SolaraViz component that redraws ``draw(model)`` once per model week.

    The image is at most :data:`FIGURE_MAX_HEIGHT` high, so that on a wide screen it never
    overflows its place in Mesa's grid.
    """

    def component(model: NeighbourhoodModel):
        png = solara.use_memo(lambda: figure_png(draw(model)), dependencies=[model, model.week])
        return rw.Image(value=png, format="png", layout={"max_height": FIGURE_MAX_HEIGHT})

    component.__name__ = draw.__name__.replace("draw_", "").title().replace("_", "")
    return component


def about_html(model: NeighbourhoodModel) -> str:
    """The scenario's rationale and a short guide to the page, as HTML (every text escaped)."""
    preset = getattr(model, "preset", DEFAULT_PRESET)
    rationale = " ".join(preset.rationale.split())
    if len(rationale) > 700:
        rationale = rationale[:700].rsplit(" ", 1)[0] + " \u2026"
    p = model.p
    guide = (
        f"One step is one week. The run starts after a {p.burn_in_weeks}-week burn-in and stops after "
        f"{p.weeks} weeks ({p.weeks / 52:.0f} years). On the map every square is a resident, in street "
        "order, grouped in street blocks; the colour is the support state and darker means a more severe "
        "problem (dark grey: serious need without any support). Markers are collective initiatives. "
        "Change the scenario or levers in the sidebar and press Reset to start a new run; Render "
        "Interval sets how many weeks one Step (or one frame of play) advances."
    )
    parts = [
        f"{_HEADING}Scenario: {html.escape(preset.title)}</div>",
        f"<p style='font-size:13px;margin:0 0 6px 0'>{html.escape(rationale)}</p>" if rationale else "",
        f"<p style='font-size:12px;color:#555;margin:0 0 10px 0'>Source: {html.escape(preset.source)}</p>"
        if preset.source
        else "",
        f"{_HEADING}How to read this page</div>",
        f"<p style='font-size:13px;margin:0'>{html.escape(guide)}</p>",
    ]
    return "".join(parts)


def SummaryTable(model: NeighbourhoodModel):
    """The summary table component."""
    return solara.HTML(tag="div", unsafe_innerHTML=summary_html(model), style="padding:8px;overflow:auto")


def About(model: NeighbourhoodModel):
    """The scenario and reading-guide component."""
    return solara.HTML(tag="div", unsafe_innerHTML=about_html(model), style="padding:8px;overflow:auto")


COMPONENTS = [
    _figure_component(draw_map),
    SummaryTable,
    _figure_component(draw_team_time),
    _figure_component(draw_workers),
    _figure_component(draw_prevention),
    _figure_component(draw_costs),
    _figure_component(draw_residents),
    About,
]


def format_value(name: str, value: Any) -> str:
    """A lever value as the panel shows it (as many decimals as the slider step has)."""
    p = REGISTRY[name]
    if p.type is bool:
        return "on" if value else "off"
    if p.type is int:
        return f"{int(value):,}"
    digits = max(0, -int(math.log10(slider_step(p.low, p.high))))
    return f"{float(value):,.{digits}f}"


@solara.component
def LeverPanel(settings: Settings):
    """The sidebar card with the scenario preset and a slider or switch for every policy lever."""
    levers, set_levers = solara.use_state(dict(settings.levers))
    preset, set_preset = solara.use_state(settings.preset)

    def choose(title: str) -> None:
        settings.choose(title)
        set_preset(title)
        set_levers(dict(settings.levers))

    def change(name: str, value: Any) -> None:
        settings.set(name, value)
        set_levers(dict(settings.levers))

    with solara.Card("Scenario and policy levers"):
        solara.Select("Scenario preset", value=preset, values=list(PRESETS), on_value=choose)
        info = PRESETS.get(preset, DEFAULT_PRESET)
        if info.source:
            solara.Text(f"Source: {info.source}", style="font-size:11px;color:#555")
        for name in names("policy"):
            spec = input_spec(name, value=levers[name])
            if spec["type"] == "Checkbox":
                solara.Checkbox(
                    label=spec["label"], value=spec["value"], on_value=lambda v, name=name: change(name, v)
                )
                continue
            with solara.Row(justify="space-between", style="margin-top:6px;font-size:13px"):
                solara.Text(spec["label"])
                solara.Text(format_value(name, levers[name]), style="font-weight:600")
            slider = solara.SliderInt if spec["type"] == "SliderInt" else solara.SliderFloat
            slider(
                "",
                value=spec["value"],
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=lambda v, name=name: change(name, v),
                thumb_label=False,  # the value is shown next to the label
            )
        solara.Text(
            "Press Reset to start a new run with these settings.",
            style="font-size:12px;color:#555;margin-top:8px",
        )


@solara.component
def Page():
    """The page: one model per browser session, Mesa's controls, the lever panel and the components."""
    settings = solara.use_memo(Settings, dependencies=[])
    model = solara.use_memo(lambda: ViewModel(settings), dependencies=[])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=model_params(settings),
        name="wijkteam-sim: a neighbourhood and its social team",
        play_interval=50,
    )
    SidebarLevers(settings)


@solara.component
def SidebarLevers(settings: Settings):
    """The lever panel in the sidebar, below Mesa's cards.

    Solara orders sidebar content by component depth, shallowest first, so the panel is
    placed from one level deeper than SolaraViz places its own cards.
    """
    _DeeperSidebar(settings)


@solara.component
def _DeeperSidebar(settings: Settings):
    with solara.Sidebar():
        LeverPanel(settings)
