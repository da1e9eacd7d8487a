"""Calibration: the targets file, the KPIs and loss, the fit, the write-back step, the API and the CLI."""

import argparse
import json
import math
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import calibration
from calibration import calibrate, validate, write_calibration, write_validation
from calibration import fit as fitting
from calibration.cli import register
from calibration.runs import Simulator, crn_seeds, measured_run, run_one
from calibration.targets import CHECK_KINDS, Target, TargetsError, kpis, load_targets
from calibration.writeback import PARAMS_FILE, WriteBackError, write_back
from model import REGISTRY, run
from model.params import validate as checked_params
from model.payers import unit_costs

TINY = {"n_residents": 300, "weeks": 26, "burn_in_weeks": 8}


def test_targets_file_has_the_sourced_targets():
    ts = load_targets()
    by_kpi = {t.kpi: t for t in ts.targets}
    assert by_kpi["wmo_maatwerk_per_1000"].value == 67.0
    assert by_kpi["param:maatwerk_cost_year"].value == 4600.0
    assert by_kpi["param:youth_care_cost_year"].value == pytest.approx(12800.0)
    assert not by_kpi["cost_municipality_youth_per_resident_year"].fit
    assert by_kpi["youth_care_share"].value == pytest.approx(0.106)
    assert by_kpi["youth_care_team_share"].value == pytest.approx(0.15)
    assert by_kpi["collective_to_individual_cost_ratio"].bound == "max"
    assert {"param:group_tariff", "param:worker_hour_cost"} <= set(by_kpi)
    for t in ts.targets:
        assert t.tolerance > 0
        assert t.source.get("title") and t.source.get("publisher") and t.source.get("year")


def test_only_behaviour_parameters_are_fitted():
    ts = load_targets()
    assert ts.fit_parameters
    assert all(REGISTRY[f.name].kind == "behaviour" for f in ts.fit_parameters)


def test_a_policy_lever_in_the_fit_is_refused(tmp_path):
    text = load_targets().path.read_text() + "\n"
    text = text.replace(
        '{ name = "help_threshold"',
        '{ name = "mandate", low = 0.0, high = 1.0 },\n    { name = "help_threshold"',
    )
    bad = tmp_path / "targets.toml"
    bad.write_text(text)
    with pytest.raises(TargetsError, match="behaviour parameters only"):
        load_targets(bad)


def test_target_tolerance_and_one_sided_bounds():
    two = Target("a", "wmo_maatwerk_per_1000", 67.0, 13.0, {})
    assert two.within(60.0) and not two.within(81.0)
    assert two.deviation(80.0) == pytest.approx(1.0)
    cap = Target("b", "collective_to_individual_cost_ratio", 0.5, 0.1, {}, bound="max")
    assert cap.within(0.2) and not cap.within(0.6)
    assert cap.deviation(0.2) == 0.0 and cap.deviation(0.7) == pytest.approx(2.0)
    assert not two.within(math.nan) and two.deviation(math.nan) > 1


def test_derived_kpis_keep_the_accounting():
    summary, _ = run(seed=1, collect=False, **TINY, fte_per_1000=1.6)
    k = kpis(summary, {**TINY, "fte_per_1000": 1.6})
    # Maatwerk is costed per kind of support (model/payers.py): the mean lies between the unit costs.
    per_client = summary["cost_maatwerk_per_resident_year"] * 1000.0 / summary["maatwerk_clients_per_1000"]
    assert k["maatwerk_cost_per_client_year"] == pytest.approx(per_client)
    units = unit_costs(checked_params(TINY))
    assert min(units.values()) <= per_client <= max(units.values())
    assert k["group_to_individual_tariff_ratio"] == pytest.approx(10.0 / 61.0)
    # Without the team's hours on initiatives P2's costing is undefined, never the tariff alone.
    assert math.isnan(k["collective_cost_per_participant_year"])
    assert math.isnan(k["collective_to_individual_cost_ratio"])


#: Enough staff and time for initiatives to run (P2's scenario) on a small neighbourhood.
GROUPS = {"n_residents": 1000, "weeks": 104, "burn_in_weeks": 52, "fte_per_1000": 1.6}


def test_measured_run_is_the_model_run_and_finds_the_team_hours_on_initiatives():
    summary, hours = measured_run(GROUPS, 3)
    assert summary == run(seed=3, collect=False, **GROUPS)[0]  # the same run, measured beside
    assert summary["participants_per_1000"] > 0.05 and hours > 0
    # Team hours on initiatives are part of the collective time (the rest is outreach).
    p = checked_params(GROUPS)
    collective_hours = (
        summary["collective_time_share"] * p.fte_per_1000 * p.hours_per_fte * p.direct_time_share
    )
    assert hours <= collective_hours * 52.0 / 1000.0 * 1.5


def test_p2_costs_the_team_hours_as_the_speelkamer_case_does():
    """The collective cost per participant is the tariff plus the team's hours at the hourly cost."""
    p = checked_params(GROUPS)
    summary, hours = measured_run(p, 3)
    k = kpis(summary, p, hours)
    per_participant = 1000.0 / summary["participants_per_1000"]
    tariff = summary["cost_collective_per_resident_year"] * per_participant
    team = hours * per_participant * p.worker_hour_cost
    assert k["collective_tariff_per_participant_year"] == pytest.approx(tariff)
    assert k["collective_team_hours_per_participant_year"] == pytest.approx(hours * per_participant)
    assert k["collective_cost_per_participant_year"] == pytest.approx(tariff + team)
    per_client = k["maatwerk_cost_per_client_year"]  # the mean over the kinds of support
    assert k["collective_to_individual_cost_ratio"] == pytest.approx((tariff + team) / per_client)
    # The tariff alone is the identity group_hours x group_tariff x 52 / maatwerk cost (about 0.21)
    # or just below it (participants of initiatives that do not run that week pay nothing).
    identity = p.group_hours * p.group_tariff * 52.0 / per_client
    assert tariff / per_client <= identity + 1e-9
    assert k["collective_to_individual_cost_ratio"] > tariff / per_client


def test_every_pattern_check_says_whether_a_rule_imposes_it():
    for pattern in load_targets().patterns:
        for check in pattern.checks:
            assert check.kind in CHECK_KINDS, (pattern.id, check.kpi)
            assert len(check.origin) > 40, (pattern.id, check.kpi)
            if check.kind == "verification":
                assert "imposed" in check.origin or "accounting" in check.origin, (pattern.id, check.kpi)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('  kind = "verification"\n', '  kind = "built-in"\n', "kind must be verification or validation"),
        ('  kind = "verification"\n', "", "kind must be verification or validation"),
    ],
)
def test_a_check_without_its_kind_is_refused(tmp_path, old, new, message):
    text = load_targets().path.read_text().replace(old, new, 1)
    bad = tmp_path / "targets.toml"
    bad.write_text(text)
    with pytest.raises(TargetsError, match=message):
        load_targets(bad)


def test_a_check_without_its_origin_is_refused(tmp_path):
    text = load_targets().path.read_text()
    start = text.index("  origin = ")
    end = text.index('"""', text.index('"""', start) + 3) + 4
    bad = tmp_path / "targets.toml"
    bad.write_text(text[:start] + text[end:])
    with pytest.raises(TargetsError, match="origin must name the rule"):
        load_targets(bad)


def test_loss_is_zero_on_target_and_grows_with_deviation():
    ts = load_targets()
    fitted = [t for t in ts.targets if t.fit]
    exact = {t.name: (t.value, 0.0) for t in ts.targets}
    assert fitting.loss_of(fitted, exact) == 0.0
    off = dict(exact)
    off[fitted[0].name] = (fitted[0].value + 2 * fitted[0].tolerance, 0.0)
    assert fitting.loss_of(fitted, off) == pytest.approx(4.0)


def test_common_random_numbers_give_identical_runs():
    seeds = crn_seeds(2, 7)
    assert seeds == crn_seeds(2, 7) and seeds[0] != seeds[1]
    a, b = run_one(TINY, seeds[0]), run_one(TINY, seeds[0])
    assert a["escalations_per_1000_year"] == b["escalations_per_1000_year"]


def test_fit_never_returns_worse_than_the_defaults():
    ts = load_targets()
    with Simulator(TINY, workers=1) as sim:
        result = fitting.fit(ts, sim, crn_seeds(1, 0), budget=fitting.POPSIZE * len(ts.fit_parameters))
    assert set(result.best) == {f.name for f in ts.fit_parameters}
    assert result.evaluations == fitting.POPSIZE * len(ts.fit_parameters)
    assert result.best_loss <= result.default_loss
    for f in ts.fit_parameters:
        assert f.low <= result.best[f.name] <= f.high


def test_identifiability_separates_informative_from_flat_parameters():
    import pandas as pd

    ts = load_targets()
    names = [f.name for f in ts.fit_parameters]
    first = next(t for t in ts.targets if t.fit)
    rows = []
    for f in ts.fit_parameters:
        for i, v in enumerate([f.low, (f.low + f.high) / 2, f.high]):
            moves = f.name == names[0]
            values = {t.name: t.value for t in ts.targets if t.fit}
            if moves:
                values[first.name] += 3.0 * first.tolerance * (i - 1)
            loss = 1.0 + (9.0 * abs(i - 1) if moves else 0.0)
            rows.append({"parameter": f.name, "value": v, "loss": loss, **values})
    prof = pd.DataFrame(rows)
    table = fitting.identifiability(prof, ts, best_loss=1.0).set_index("parameter")
    assert table.loc[names[0], "verdict"] == "pinned"
    assert table.loc[names[0], "swing_in_tolerances"] == pytest.approx(6.0)
    assert all(table.loc[n, "verdict"] == "not pinned" for n in names[1:])
    singular, weak = fitting.joint_identifiability(prof, ts)
    assert singular[0] == pytest.approx(6.0) and len(weak) == len(names) - 1


def test_write_back_rewrites_defaults_and_sources_of_a_copy(tmp_path):
    copy = tmp_path / "params.py"
    shutil.copy(PARAMS_FILE, copy)
    before = PARAMS_FILE.read_text()
    changed = write_back({"help_threshold": 0.5123456, "step_down_rate": 0.02}, "results/cal/report.md", copy)
    assert changed["help_threshold"] == ("0.55", "0.5123")
    registry = runpy.run_path(str(copy))["REGISTRY"]
    assert registry["help_threshold"].default == pytest.approx(0.5123)
    assert registry["step_down_rate"].default == pytest.approx(0.02)
    assert registry["help_threshold"].source.startswith("calibrated: results/cal/report.md (before: assumed)")
    assert registry["step_down_rate"].source == "calibrated: results/cal/report.md (before: assumed)"
    assert registry["step_down_rate"].basis == REGISTRY["step_down_rate"].basis
    assert registry["step_down_rate"].source_class == "basis"  # a fit is not a source
    assert registry["help_threshold"].source_class == "assumed"
    assert registry["mandate"].default == REGISTRY["mandate"].default
    assert PARAMS_FILE.read_text() == before  # the real registry is untouched


@pytest.mark.parametrize("values", [{"mandate": 0.5}, {"help_threshold": 5.0}, {"nope": 1.0}])
def test_write_back_refuses_levers_out_of_range_and_unknown(tmp_path, values):
    copy = tmp_path / "params.py"
    shutil.copy(PARAMS_FILE, copy)
    with pytest.raises(WriteBackError):
        write_back(values, "r.md", copy)


def _parser():
    parser = argparse.ArgumentParser(prog="wijkteam")
    register(parser.add_subparsers())
    return parser


def test_cli_calibrate_writes_the_folder_and_apply_writes_back(tmp_path, capsys):
    out = tmp_path / "cal"
    args = _parser().parse_args(
        [
            "calibrate",
            "--method",
            "de",
            "--budget",
            "30",
            "--seeds",
            "1",
            "--profile-points",
            "2",
            "--no-patterns",
            "--residents",
            "300",
            "--weeks",
            "26",
            "--burn-in",
            "8",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert args.func(args) == 0
    for name in (
        "report.md",
        "manifest.json",
        "fitted_values.json",
        "fit_table.parquet",
        "loss_history.parquet",
        "profiles.parquet",
        "identifiability.csv",
        "fit.png",
        "loss_history.png",
        "profiles.png",
    ):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "calibration" and manifest["runs"]["failed"] == 0
    assert "Identifiability" in (out / "report.md").read_text()
    copy = tmp_path / "params.py"
    shutil.copy(PARAMS_FILE, copy)
    args = _parser().parse_args(["calibrate", "--apply", str(out), "--params-file", str(copy)])
    assert args.func(args) == 0
    fitted = json.loads((out / "fitted_values.json").read_text())["values"]
    registry = runpy.run_path(str(copy))["REGISTRY"]
    for name, value in fitted.items():
        assert registry[name].default == pytest.approx(value, rel=1e-3)
        assert "report.md" in registry[name].source


def test_cli_validate_writes_table_and_one_figure_per_pattern(tmp_path, capsys):
    out = tmp_path / "val"
    args = _parser().parse_args(
        [
            "validate",
            "--patterns",
            "P2,P5",
            "--seeds",
            "2",
            "--residents",
            "300",
            "--weeks",
            "26",
            "--burn-in",
            "8",
            "--workers",
            "1",
            "--out",
            str(out),
        ]
    )
    status = args.func(args)
    assert status in (0, 1)
    printed = capsys.readouterr().out
    assert "P2" in printed and "P5" in printed and "effect [95% CI]" in printed
    assert "verification" in printed  # P2 and P5 are imposed by rules, and the table says so
    assert (out / "P2.png").exists() and (out / "P5.png").exists() and not (out / "P1.png").exists()
    assert (out / "patterns.parquet").exists() and (out / "report.md").exists()
    assert json.loads((out / "manifest.json").read_text())["kind"] == "validation"


def test_validate_set_takes_behaviour_parameters_only(tmp_path):
    from model import ParameterError

    args = _parser().parse_args(["validate", "--set", "mandate=1.0", "--out", str(tmp_path / "v")])
    with pytest.raises(ParameterError, match="behaviour parameters only"):
        args.func(args)
    args = _parser().parse_args(["validate", "--set", "help_threshold=7", "--out", str(tmp_path / "v")])
    with pytest.raises(ParameterError):
        args.func(args)
    assert not (tmp_path / "v").exists()


def test_validate_api_returns_one_row_per_check_and_the_writer_writes_the_folder(tmp_path):
    ts = load_targets()
    result = validate(ts, TINY, crn_seeds(2, 0), workers=1, only=["P2", "P5"])
    table = result.to_df()
    expected = [(p.id, c.kpi) for p in ts.patterns if p.id in ("P2", "P5") for c in p.checks]
    assert list(zip(table["pattern"], table["kpi"], strict=True)) == expected
    assert result.n_passed == int(table["passed"].sum()) and result.runs_failed == 0
    assert set(result.runs["seed"]) == set(crn_seeds(2, 0))
    out = write_validation(result, tmp_path / "val")
    tables = {f"{n}.{s}" for n in ("patterns", "runs") for s in ("parquet", "csv")}
    assert {f.name for f in out.iterdir()} == {"P2.png", "P5.png", "report.md", "manifest.json", *tables}
    assert pd.read_parquet(out / "patterns.parquet")["effect"].equals(table["effect"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "validation" and manifest["seeds"]["list"] == crn_seeds(2, 0)
    report = (out / "report.md").read_text()
    assert "P5" in report
    assert list(table["kind"]) == [c.kind for p in ts.patterns if p.id in ("P2", "P5") for c in p.checks]
    for _, row in table.iterrows():  # each check's kind and origin are in the report
        assert f"{row['pattern']} `{row['kpi']}`, **{row['kind']}**: {row['origin']}" in report


def test_calibrate_api_returns_the_fit_and_the_writer_writes_the_folder(tmp_path):
    ts = load_targets()
    budget = fitting.POPSIZE * len(ts.fit_parameters)
    result = calibrate(ts, TINY, crn_seeds(1, 0), budget=budget, workers=1, profile_points=2, patterns=False)
    assert result.labels == ["defaults", "fitted"] and result.patterns == []
    assert list(result.to_df()["target"]) == [t.name for t in ts.targets]
    assert set(result.fitted_values) == {f.name for f in ts.fit_parameters}
    assert list(result.values_df()["parameter"]) == [f.name for f in ts.fit_parameters]
    out = write_calibration(result, tmp_path / "cal")
    names = ("fitted_values", "loss_history", "fit_table", "profiles", "identifiability")
    tables = {f"{n}.{s}" for n in names for s in ("parquet", "csv")}
    figures = {"fit.png", "loss_history.png", "profiles.png"}
    files = {"report.md", "manifest.json", "fitted_values.json"}
    assert {f.name for f in out.iterdir()} == files | figures | tables
    fitted = json.loads((out / "fitted_values.json").read_text())
    assert fitted["values"] == result.fitted_values and fitted["loss"] == result.fit.best_loss
    assert pd.read_parquet(out / "fit_table.parquet").equals(result.table)


def test_no_calibration_module_selects_a_matplotlib_backend(tmp_path):
    """Figures are built on matplotlib.figure.Figure: no matplotlib.use, no pyplot state."""
    for path in Path(calibration.__file__).parent.glob("*.py"):
        text = path.read_text()
        assert "matplotlib.use(" not in text and "matplotlib.pyplot" not in text, path.name
    code = (
        "import matplotlib, pandas as pd, calibration.cli, calibration.figures as f\n"
        "history = pd.DataFrame({'loss': [3.0, 2.0, 1.0]})\n"
        f"f.plot_loss_history(history, __import__('pathlib').Path({str(tmp_path)!r}) / 'h.png', 2)\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "svg" and (tmp_path / "h.png").exists()
