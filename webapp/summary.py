"""The page's summary table, derived from the output table (:mod:`model.outputs`).

One row per summary field of :data:`model.outputs.SUMMARY` (the reported weeks are in the
heading), in the table's order, with its label (:func:`experiments.labels.output_label`) and
unit (:func:`model.outputs.display_unit`). "Mean so far" is the run's summary
(:meth:`NeighbourhoodModel.summary`); "This week" is the same aggregation over the last reported
week alone: the summary of the difference between the tally now and before that week. Fields
aggregated over closed calendar years (the youth-care shares) have no weekly value and show
"\u2013" until the first reported year has closed.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

from experiments.labels import output_label
from model import NeighbourhoodModel
from model.outputs import OUTPUTS, SUMMARY, display_unit, summarise
from model.reporters import Tally
from webapp.levers import DEFAULT_PRESET, PRESET_PROBLEMS

#: The summary fields the table shows, in the output table's order.
ROWS: tuple[str, ...] = tuple(o.name for o in SUMMARY if o.name != "reported_weeks")
HEADING = "<div style='font-size:15px;font-weight:500;margin-bottom:4px'>"
DASH = "\u2013"


def _closed_years(tally: Tally) -> int:
    return len(tally.youth_years)


def _yearly_fields() -> frozenset[str]:
    """Summary fields that change only when a calendar year closes (probed on two small tallies)."""
    without = summarise(Tally(weeks=1), 1000, 0.0)
    year = Tally(weeks=1, youth_years=[(4, 3, 2, 1)])
    year.groups["youth"] += 4.0
    year.groups["youth_care"] += 2.0
    with_year = summarise(year, 1000, 0.0)
    return frozenset(k for k in without if without[k] != with_year[k])


#: Summary fields aggregated over closed calendar years.
YEARLY: frozenset[str] = _yearly_fields()


def tally_since(now: Tally, before: Tally) -> Tally:
    """The tally of the weeks between ``before`` and ``now`` (a copy of the same tally, taken earlier);
    fields marked fixed (the income groups' sizes) are kept as they are."""

    def minus(a: Any, b: Any) -> Any:
        if isinstance(a, dict):
            return {k: minus(v, b.get(k, 0)) for k, v in a.items()}
        if isinstance(a, list):
            return a[len(b) :]
        return a - b

    return Tally(
        **{
            f.name: getattr(now, f.name)
            if f.metadata.get("fixed")
            else minus(getattr(now, f.name), getattr(before, f.name))
            for f in dataclasses.fields(now)
        }
    )


def digits(name: str) -> int:
    """Decimals a summary field is shown with: none for per cent and euros, 3 for 0-1 and shares, else 1."""
    unit = OUTPUTS[name].unit
    if OUTPUTS[name].percent or unit.startswith("EUR"):
        return 0
    return 3 if unit.endswith("0-1") or unit.startswith("share") else 1


def fmt(name: str, value: float | None) -> str:
    """A summary value as the table shows it (shares in per cent); a dash when there is none."""
    if value is None or math.isnan(value):
        return DASH
    scale = 100.0 if OUTPUTS[name].percent else 1.0
    return f"{value * scale:,.{digits(name)}f}"


def summary_rows(model: NeighbourhoodModel) -> list[tuple[str, str, str, str]]:
    """Rows (indicator, this week, mean since the start, unit) of the summary table."""
    reported = bool(model.now) and model.tally.weeks > 0
    before = getattr(model, "tally_before", None)
    mean: dict[str, float] = model.summary() if reported else {}
    week: dict[str, float] = {}
    if reported and before is not None:
        week = summarise(tally_since(model.tally, before), model.p.n_residents, model.p.budget_per_resident)
    years = _closed_years(model.tally)
    rows = []
    for name in ROWS:
        if name in YEARLY:
            this_week, so_far = "", fmt(name, mean.get(name) if years else None)
        else:
            this_week = fmt(name, week.get(name)) if week else ""
            so_far = fmt(name, mean.get(name))
        rows.append((output_label(name), this_week, so_far, display_unit(name)))
    return rows


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
    """The summary table as HTML (every text escaped), with a line for each preset file skipped."""
    week = getattr(model, "reported_weeks", model.week)
    head = (
        f"{HEADING}Summary after {week} week{'' if week == 1 else 's'} (year {week / 52:.1f})</div>"
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
