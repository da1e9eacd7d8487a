"""The page's figures: the neighbourhood map, the workers' week and the KPI plots.

Each ``draw_*`` function takes the model and returns a new :class:`matplotlib.figure.Figure`
(no pyplot, no global backend: the page renders each to PNG with :func:`figure_png`). Panel
titles and units of the KPI plots come from the output table (:mod:`model.outputs`) through
:mod:`experiments.labels`. Colours are Okabe-Ito (colour-blind safe).
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from experiments.labels import output_label
from model import NeighbourhoodModel
from model.outputs import INCOME_LABELS, display_unit
from model.payers import PAYERS
from model.resident import DOMAINS, STATUSES

#: Weeks over which noisy weekly rates are averaged in the plots (a quarter).
SMOOTH_WEEKS = 13

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
#: The payers (model/payers.py) in the cost figure: colours and short labels.
PAYER_COLOURS = ("#56b4e9", "#e69f00", "#009e73", "#0072b2", "#cc79a7", "#999999")
PAYER_SHORT = {
    "municipality_wmo": "Wmo",
    "municipality_youth": "Jeugdwet",
    "municipality_participation": "Participatiewet",
    "municipality_welfare": "welfare and team",
    "insurers_zvw": "insurers (Zvw)",
    "wlz": "Wlz",
}
#: Income groups, from low (dark) to high (light).
INCOME_COLOURS = {"low": "#4b2991", "middle": "#c0369d", "high": "#fa8c5a"}


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
    _draw_initiatives(ax, model, side)
    _map_legend(fig, model)
    return fig


def _draw_initiatives(ax, model: NeighbourhoodModel, side: int) -> None:
    """A marker for each running initiative in its block, by domain; its size grows with the members."""
    _, cols = block_grid(model.pop.n_blocks)
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


def _map_legend(fig: Figure, model: NeighbourhoodModel) -> None:
    """The map's legend: support states, severity and the initiative markers."""
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
    _worker_ticks(ax, workers, cases)
    ax.invert_yaxis()
    ax.set_xlabel("hours per week")
    ax.set_xlim(0, max(1.0, float((served + coll + short).max()), float(cap.max())) * 1.05)
    fig.legend(loc="lower center", ncols=4, fontsize=7.5, frameon=False)
    return fig


def _worker_ticks(ax, workers: list, cases: np.ndarray) -> None:
    """Each worker's label (cases, seconded, overloaded in red): long for up to 8, short for up to 16."""
    y = np.arange(len(workers))
    if len(workers) > 16:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(workers)} workers")
        ax.set_position((0.08, 0.22, 0.89, 0.68))
        return
    if len(workers) <= 8:
        labels = [
            f"worker {i + 1}{', seconded' if w.seconded else ''}\n"
            f"{cases[i]} cases{', overloaded' if w.overloaded else ''}"
            for i, w in enumerate(workers)
        ]
    else:
        labels = [f"W{i + 1}{'s' if w.seconded else ''}: {cases[i]}" for i, w in enumerate(workers)]
    ax.set_yticks(y, labels, fontsize=8 if len(workers) <= 8 else 7)
    for i, w in enumerate(workers):
        if w.overloaded:
            ax.get_yticklabels()[i].set_color(STATUS_COLOURS["maatwerk"])


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


def _titled(name: str) -> tuple[str, str]:
    """A KPI panel's title and y label: the summary field's label and unit from the output table."""
    return output_label(name), display_unit(name)


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
    _finish(a1, *_titled("caseload_per_fte"), weeks)
    _finish(a2, *_titled("collective_time_share"), weeks)
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
    _finish(a1, *_titled("escalations_per_1000_year"), weeks)
    _finish(a2, *_titled("caught_early_share"), weeks)
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
    _finish(a1, *_titled("self_reliance_mean"), weeks)
    _finish(a2, "Initiatives and their members", "count", weeks)
    if weeks.size:
        lo = float(np.nanmin(s["self_reliance_mean"]))
        a1.set_ylim(max(0.0, lo - 0.05), min(1.0, float(np.nanmax(s["self_reliance_mean"])) + 0.05))
    return fig


def draw_income(model: NeighbourhoodModel) -> Figure:
    """Unmet need by income group so far (issue 17), with its concentration index by income."""
    fig, (ax,) = _new_kpi_figure("Unmet need by income group (mean so far)", ncols=1)
    reported = bool(model.now) and model.tally.weeks > 0
    s = model.summary() if reported else {}
    groups = list(INCOME_LABELS)
    values = [s.get(f"unmet_need_per_1000_year_{g}", 0.0) for g in groups]
    ax.bar(range(len(groups)), values, color=[INCOME_COLOURS[g] for g in groups], width=0.6)
    ax.set_xticks(range(len(groups)), [INCOME_LABELS[g] for g in groups], fontsize=8)
    ax.set_ylabel(display_unit("unmet_need_per_1000_year_low"), fontsize=8.5)
    ax.tick_params(labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    if reported:
        ci, ratio = s["unmet_need_concentration_index"], s["unmet_need_ratio_low_high"]
        ax.set_title(
            f"low / high income: {ratio:.2f}; concentration index {ci:+.2f}"
            " (below 0: with the lower incomes)",
            fontsize=9,
        )
    else:
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
    return fig


def draw_costs(model: NeighbourhoodModel) -> Figure:
    """Cost per resident per year by kind and by payer (13-week means, stacked) against the budget.

    The budget line is the municipality's: it covers the municipal payers (the lower four bands
    of the payer panel), not the health insurers' part (model/payers.py).
    """
    s = series_arrays(model)
    fig, (ax, bx) = _new_kpi_figure(f"Cost per resident ({SMOOTH_WEEKS}-week averages)")
    weeks = s.get("week", np.empty(0))
    per = 52.0 / model.p.n_residents
    top = model.p.budget_per_resident
    if weeks.size:
        kinds = ("team", "maatwerk", "collective")
        ys = [per * trailing_mean(s[f"cost_{k}"]) for k in kinds]
        ax.stackplot(
            weeks,
            *ys,
            colors=[COST_COLOURS[k] for k in kinds],
            labels=["team", "maatwerk", "collective"],
            alpha=0.85,
        )
        zs = [per * trailing_mean(s[f"cost_{k}"]) for k in PAYERS]
        bx.stackplot(weeks, *zs, colors=PAYER_COLOURS, labels=[PAYER_SHORT[k] for k in PAYERS], alpha=0.85)
        top = max(top, float(np.nanmax(sum(ys))))
    for axis in (ax, bx):
        axis.axhline(
            model.p.budget_per_resident,
            color="black",
            ls="--",
            lw=1,
            label=f"budget EUR {model.p.budget_per_resident:,.0f}",
        )
    _finish(ax, "By kind", display_unit("cost_total_per_resident_year"), weeks)
    _finish(bx, "By payer", "", weeks)
    for axis in (ax, bx):
        axis.set_ylim(0, top * 1.45)
        axis.legend(fontsize=6.5, loc="upper left", ncols=2)
    return fig


def figure_png(fig: Figure) -> bytes:
    """A figure as PNG bytes (light compression: drawing time matters more than bytes here)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
    return buf.getvalue()
