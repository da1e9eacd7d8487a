"""The browser page: Mesa's SolaraViz with the map, the plots, the summary table and the lever panel.

:func:`Page` is what ``solara run app.py`` serves (``app.py`` at the project root imports it).
One model (:class:`webapp.levers.ViewModel`) per browser session; Mesa's controls step, play
and reset it, and the sidebar's lever panel sets the scenario preset and policy levers the
next Reset uses.
"""

from __future__ import annotations

import html
from typing import Any

import reacton.ipywidgets as rw
import solara
from mesa.visualization import SolaraViz

from model import NeighbourhoodModel
from model.params import names
from webapp import figures
from webapp.levers import DEFAULT_PRESET, PRESETS, Settings, ViewModel, format_value, input_spec, model_params
from webapp.summary import HEADING, summary_html

#: Largest height of a figure on the page (CSS): Mesa's grid gives each component about 390 px.
FIGURE_MAX_HEIGHT = "380px"
#: The longest scenario rationale shown in full (characters); longer ones are cut at a word.
MAX_RATIONALE = 700


def _figure_component(draw):
    """A SolaraViz component that redraws ``draw(model)`` once per model week.

    The image is at most :data:`FIGURE_MAX_HEIGHT` high, so that on a wide screen it never
    overflows its place in Mesa's grid.
    """

    def component(model: NeighbourhoodModel):
        png = solara.use_memo(lambda: figures.figure_png(draw(model)), dependencies=[model, model.week])
        return rw.Image(value=png, format="png", layout={"max_height": FIGURE_MAX_HEIGHT})

    component.__name__ = draw.__name__.replace("draw_", "").title().replace("_", "")
    return component


def about_html(model: NeighbourhoodModel) -> str:
    """The scenario's rationale and a short guide to the page, as HTML (every text escaped)."""
    preset = getattr(model, "preset", DEFAULT_PRESET)
    rationale = " ".join(preset.rationale.split())
    if len(rationale) > MAX_RATIONALE:
        rationale = rationale[:MAX_RATIONALE].rsplit(" ", 1)[0] + " \u2026"
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
        f"{HEADING}Scenario: {html.escape(preset.title)}</div>",
        f"<p style='font-size:13px;margin:0 0 6px 0'>{html.escape(rationale)}</p>" if rationale else "",
        f"<p style='font-size:12px;color:#555;margin:0 0 10px 0'>Source: {html.escape(preset.source)}</p>"
        if preset.source
        else "",
        f"{HEADING}How to read this page</div>",
        f"<p style='font-size:13px;margin:0'>{html.escape(guide)}</p>",
    ]
    return "".join(parts)


#: Style of a text component: as high as a figure at most, scrolling within its place in the grid.
TEXT_STYLE = f"padding:8px;overflow:auto;max-height:{FIGURE_MAX_HEIGHT}"


def SummaryTable(model: NeighbourhoodModel):
    """The summary table component."""
    return solara.HTML(tag="div", unsafe_innerHTML=summary_html(model), style=TEXT_STYLE)


def About(model: NeighbourhoodModel):
    """The scenario and reading-guide component."""
    return solara.HTML(tag="div", unsafe_innerHTML=about_html(model), style=TEXT_STYLE)


COMPONENTS = [
    _figure_component(figures.draw_map),
    SummaryTable,
    _figure_component(figures.draw_team_time),
    _figure_component(figures.draw_workers),
    _figure_component(figures.draw_prevention),
    _figure_component(figures.draw_costs),
    _figure_component(figures.draw_residents),
    _figure_component(figures.draw_income),
    About,
]


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
