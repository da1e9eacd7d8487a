"""Labels come from the two registries, one rule for reports, figures and the browser page."""

from __future__ import annotations

from experiments.labels import effect_unit, lever_label, lever_name, output_label
from model.outputs import OUTPUTS


def test_lever_names_from_the_registry_meaning() -> None:
    assert lever_name("fte_per_1000") == "Staffing"
    assert lever_label("fte_per_1000") == "Staffing (FTE per 1,000 residents)"
    assert lever_label("mandate") == "Mandate (share of decisions)"
    # a switch has no unit
    assert lever_label("pre_2015") == "The pre-2015 approach"


def test_output_labels_and_units_from_the_output_table() -> None:
    name = "escalations_per_1000_year"
    assert output_label(name) == OUTPUTS[name].label
    assert effect_unit(name) == (1.0, OUTPUTS[name].unit)
    assert effect_unit("caught_early_share") == (100.0, "percentage points")
    assert output_label("not_an_output") == "not_an_output"
