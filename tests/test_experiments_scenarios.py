"""Scenario files: every shipped scenario loads, and a broken one fails with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.scenario import MAIN_SCENARIOS, ScenarioError, available, load, load_many
from model import REGISTRY

REQUIRED = {
    "pre_2015_equal_staff",
    "pre_2015_equal_spending",
    "typical_2019",
    "mandate",
    "outcome_steering",
    "collective_investment",
    "independent_team",
    "success_conditions",
}
AUTHORS = ("Pruim", "Van Arum", "Wijland", "RadarAdvies", "Zorg+Welzijn")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


GOOD = """
name = "{name}"
title = "A test"
source = "RadarAdvies, 'Sociale teams werken'"
rationale = "Because RadarAdvies, 'Sociale teams werken', says so."

[params]
{params}
"""


def test_required_scenarios_ship_and_load():
    assert REQUIRED <= set(available())
    assert set(MAIN_SCENARIOS) <= set(available())
    for s in load_many():
        assert s.name == s.path.stem
        assert s.title and len(s.rationale) > 200
        assert any(a in s.rationale for a in AUTHORS), s.name
        assert "seed" not in s.rationale.lower() and ".txt" not in s.rationale
        s.parameters(n_residents=500)  # validated by the registry


def test_scenarios_express_their_levers():
    staff, spending = load("pre_2015_equal_staff").params, load("pre_2015_equal_spending").params
    assert staff["pre_2015"] and spending["pre_2015"]
    # equal staff: the welfare workers have the default team's staffing (DESIGN M10)
    assert staff["welfare_fte_per_1000"] == REGISTRY["fte_per_1000"].default
    assert set(staff) == set(spending) == {"pre_2015", "welfare_fte_per_1000"}
    assert load("mandate").params["mandate"] == 1.0
    assert load("outcome_steering").params["steering"] == 1.0
    typical = load("typical_2019").params
    assert typical["steering"] == 0.0
    assert typical["fte_per_1000"] < REGISTRY["fte_per_1000"].default
    success = load("success_conditions").params
    assert success["mandate"] == 1.0 and success["escalation_agreements"] == 1.0
    assert success["independence"] == 1.0 and success["provider_alignment"] > 0.5
    assert success["training_hours"] > REGISTRY["training_hours"].default
    assert success["fte_per_1000"] > REGISTRY["fte_per_1000"].default
    assert success["specialist_access"] > REGISTRY["specialist_access"].default


def test_unknown_parameter_names_file_and_key(tmp_path):
    path = write(tmp_path, "bad", GOOD.format(name="bad", params="mandaat = 1.0"))
    with pytest.raises(ScenarioError) as err:
        load(path)
    message = str(err.value)
    assert str(path) in message and "mandaat" in message and "\n" not in message


def test_out_of_range_value_names_file_key_and_range(tmp_path):
    path = write(tmp_path, "bad", GOOD.format(name="bad", params="mandate = 2.0"))
    with pytest.raises(ScenarioError) as err:
        load(path)
    message = str(err.value)
    assert str(path) in message and "mandate" in message and "[0, 1]" in message


def test_wrong_type_is_rejected(tmp_path):
    path = write(tmp_path, "bad", GOOD.format(name="bad", params='pre_2015 = "maybe"'))
    with pytest.raises(ScenarioError, match="pre_2015.*true or false"):
        load(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GOOD.format(name="other", params=""), "must equal the file name"),
        (GOOD.format(name="bad", params="") + "extra = 1\n", "params"),  # lands in [params]
        ('name = "bad"\ntitle = "t"\nsource = "s"\n', "'rationale' must be a non-empty string"),
        ('colour = "red"\n' + GOOD.format(name="bad", params=""), "unknown top-level key 'colour'"),
        ("name = ", "not valid TOML"),
        (GOOD.format(name="bad", params="n_residents = 500"), "setup parameter"),
    ],
)
def test_malformed_files(tmp_path, text, match):
    path = write(tmp_path, "bad", text)
    with pytest.raises(ScenarioError, match=match):
        load(path)


def test_unknown_scenario_name_lists_the_available_ones():
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'; available: pre_2015_equal_staff"):
        load("nope")


def test_duplicate_scenario_is_an_error():
    with pytest.raises(ScenarioError, match="twice"):
        load_many(["mandate", "mandate"])
