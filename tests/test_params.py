"""The parameter registry: completeness, validation errors, derived artefacts."""

import dataclasses
from pathlib import Path

import pytest

from model.params import (
    ARTICLES,
    ASSUMED,
    CALIBRATED,
    CITATIONS,
    FIGURES,
    KINDS,
    REGISTRY,
    SOURCE_CLASSES,
    ParameterError,
    Params,
    names,
    parameters_markdown,
    policy_levers,
    salib_problem,
    source_counts,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent

LEVERS = {
    "fte_per_1000",
    "collective_time_target",
    "collective_budget_share",
    "mandate",
    "steering",
    "independence",
    "training_hours",
    "specialist_access",
    "provider_alignment",
    "escalation_agreements",
    "pre_2015",
}


def test_registry_has_the_design_levers_as_policy():
    assert LEVERS <= set(names("policy"))


@pytest.mark.parametrize("p", list(REGISTRY.values()), ids=list(REGISTRY))
def test_every_entry_is_complete_and_its_default_valid(p):
    assert p.kind in ("policy", "behaviour", "setup", "switch")
    assert p.unit and p.meaning and p.source and p.mechanism
    assert p.check(p.default) == p.default
    if p.type is not bool:
        assert p.low < p.high


def test_unknown_parameter_is_named():
    with pytest.raises(ParameterError, match="unknown parameter 'mandat'"):
        validate({"mandat": 0.5})


def test_out_of_range_names_parameter_value_and_range():
    with pytest.raises(ParameterError) as err:
        validate({"fte_per_1000": 9.0})
    msg = str(err.value)
    assert "fte_per_1000" in msg and "9.0" in msg and "[0.2, 3]" in msg


@pytest.mark.parametrize(
    "name, value",
    [
        ("mandate", "high"),
        ("mandate", True),
        ("mandate", float("nan")),
        ("n_residents", 2.5),
        ("pre_2015", 2),  # a switch takes true/false, 1/0, yes/no, on/off (one rule)
        ("weeks", None),
    ],
)
def test_wrong_types_are_rejected(name, value):
    with pytest.raises(ParameterError, match=name):
        validate({name: value})


def test_int_given_as_integral_float_is_accepted():
    assert validate({"n_residents": 1000.0}).n_residents == 1000


def test_params_are_immutable_and_replace_validates():
    p = validate({"mandate": 0.9})
    with pytest.raises(AttributeError):
        p.mandate = 0.1
    assert p.replace(mandate=0.2).mandate == 0.2
    with pytest.raises(ParameterError):
        p.replace(mandate=2.0)
    assert p.overrides() == {"mandate": 0.9}


def test_params_pickle_round_trip():
    import pickle

    p = Params({"steering": 0.7})
    assert pickle.loads(pickle.dumps(p)) == p


def test_salib_problem_comes_from_the_registry():
    prob = salib_problem()
    assert prob["names"] == policy_levers()
    assert "pre_2015" not in prob["names"]
    for name, (lo, hi) in zip(prob["names"], prob["bounds"], strict=True):
        assert (lo, hi) == (REGISTRY[name].low, REGISTRY[name].high)
    with pytest.raises(ParameterError, match="switch"):
        salib_problem(["pre_2015"])


def test_parameters_doc_is_up_to_date():
    doc = (ROOT / "docs" / "parameters.md").read_text()
    assert doc == parameters_markdown(), "docs/parameters.md is stale: run python -m model --write-docs"


@pytest.mark.parametrize("p", list(REGISTRY.values()), ids=list(REGISTRY))
def test_every_entry_has_a_source_class_and_declared_citations(p):
    assert p.source_class in SOURCE_CLASSES
    written_back = p.source.startswith(CALIBRATED)  # by `wijkteam calibrate --apply`
    assert p.source == ASSUMED or p.source in CITATIONS or written_back, f"{p.name}: not a citation constant"
    assert all(b in CITATIONS for b in p.basis), f"{p.name}: basis must be citation constants"
    assert len(set(p.basis)) == len(p.basis)
    assert p.source not in p.basis


def test_every_sourced_default_is_on_the_reviewed_allow_list():
    sourced = {(p.name, p.source) for p in REGISTRY.values() if p.source_class == "sourced"}
    assert sourced == set(FIGURES), "a sourced default needs its figure in FIGURES, and only those"
    for (name, source), figure in FIGURES.items():
        assert REGISTRY[name].source == source and figure.strip()


def test_an_article_is_the_source_of_a_number_only_with_a_quote():
    # The five articles contain very few numbers; where one is the source of a default,
    # FIGURES quotes the (Dutch) sentence that contains it.
    for p in REGISTRY.values():
        if p.source in ARTICLES:
            quote = FIGURES[(p.name, p.source)]
            assert quote.startswith("'") and "':" in quote, f"{p.name}: quote the article's sentence"


def test_a_calibrated_default_is_not_a_source():
    p = REGISTRY["step_down_rate"]
    fitted = dataclasses.replace(p, source=f"{CALIBRATED}results/cal/report.md (before: {p.source})")
    assert fitted.source_class == "basis"
    assert dataclasses.replace(fitted, basis=()).source_class == "assumed"


def test_docs_count_table_matches_the_registry():
    doc = (ROOT / "docs" / "parameters.md").read_text().splitlines()
    start = doc.index("| kind | " + " | ".join(SOURCE_CLASSES) + " | total |")
    rows = {}
    for line in doc[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = [int(c) for c in cells[1:]]
    counts = source_counts()
    assert list(rows) == [*KINDS, "all"]
    for kind, cells in rows.items():
        assert cells == [counts[kind][c] for c in SOURCE_CLASSES] + [sum(counts[kind].values())]
    assert sum(counts["all"].values()) == len(REGISTRY)


def test_outputs_doc_is_generated_from_the_output_table():
    from model.outputs import outputs_markdown

    doc = (ROOT / "docs" / "outputs.md").read_text()
    assert doc == outputs_markdown(), "docs/outputs.md is stale: run python -m model --write-docs"
