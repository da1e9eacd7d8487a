"""``wijkteam run --ensemble`` and ``wijkteam validate --ensemble`` (issue #18, item 4)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibration.ensemble import from_ranges, save_ensemble
from experiments.cli import main
from experiments.ensemble import (
    better_sign,
    ensemble_tasks,
    headline,
    member_seed,
    summarise,
    world_effects,
)
from experiments.scenario import load_many
from model.outputs import OUTPUTS

TINY = ["--residents", "300", "--weeks", "12", "--burn-in", "4", "--workers", "1", "--quiet"]


def _runs(values: dict[tuple[int, str], list[float]], kpi: str = "escalations_per_1000_year") -> pd.DataFrame:
    """A hand-made results table: (member, scenario) -> the KPI by replicate."""
    rows = [
        {"member": m, "scenario": s, "replicate": r, "status": "ok", kpi: v}
        for (m, s), vs in values.items()
        for r, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def test_world_effects_are_paired_means_with_their_replicate_se():
    runs = _runs(
        {(0, "ref"): [10.0, 20.0], (0, "a"): [8.0, 14.0], (1, "ref"): [10.0, 10.0], (1, "a"): [12.0, 12.0]}
    )
    eff = world_effects(runs, "ref", ["escalations_per_1000_year"]).set_index("member")
    assert eff.loc[0, "effect"] == pytest.approx(-4.0)  # (-2 + -6) / 2
    assert eff.loc[0, "se"] == pytest.approx(np.std([-2.0, -6.0], ddof=1) / math.sqrt(2))
    assert eff.loc[0, "relative"] == pytest.approx(-4.0 / 15.0)
    assert eff.loc[1, "effect"] == pytest.approx(2.0)
    assert eff.loc[1, "se"] == pytest.approx(0.0)


def test_failed_runs_are_left_out_of_the_pairs():
    runs = _runs({(0, "ref"): [10.0, 20.0], (0, "a"): [8.0, 99.0]})
    runs.loc[(runs["scenario"] == "a") & (runs["replicate"] == 1), "status"] = "failed"
    eff = world_effects(runs, "ref", ["escalations_per_1000_year"])
    assert eff["effect"].iloc[0] == pytest.approx(-2.0) and eff["n"].iloc[0] == 1
    assert math.isnan(eff["se"].iloc[0])


def test_shares_and_intervals_on_a_hand_made_table():
    # 20 worlds; scenario a lowers escalations in 15 of them (effects -1..-15, then +1..+5)
    effects = [-float(k) for k in range(1, 16)] + [float(k) for k in range(1, 6)]
    values = {}
    for m, e in enumerate(effects):
        values[(m, "ref")] = [100.0, 100.0]
        values[(m, "a")] = [100.0 + e, 100.0 + e]
    summary = summarise(world_effects(_runs(values), "ref", ["escalations_per_1000_year"]))
    row = summary.iloc[0]
    assert row["worlds"] == 20
    assert row["share_better"] == pytest.approx(0.75) and row["share_worse"] == pytest.approx(0.25)
    assert row["share_better_clear"] == pytest.approx(0.75)  # no replicate noise: every world is clear
    assert row["median"] == pytest.approx(np.median(effects))
    assert row["low"] == pytest.approx(np.quantile(effects, 0.05))
    assert row["high"] == pytest.approx(np.quantile(effects, 0.95))
    text = headline(summary, {"a": "A", "ref": "R"}, "ref", ["escalations_per_1000_year"])
    assert text == ["A lowers admissions to maatwerk against R in 75% of plausible worlds (15 of 20)"]


def test_noisy_worlds_are_better_but_not_clearly_better():
    values = {(0, "ref"): [10.0, 20.0], (0, "a"): [9.0, 20.0], (1, "ref"): [10.0, 10.0], (1, "a"): [9.0, 9.0]}
    values[(2, "ref")], values[(2, "a")] = [0.0, 0.0], [0.0, 0.0]  # a tie: neither better nor worse
    row = summarise(world_effects(_runs(values), "ref", ["escalations_per_1000_year"])).iloc[0]
    assert row["share_better"] == pytest.approx(2 / 3) and row["share_worse"] == 0.0
    assert row["share_better_clear"] == pytest.approx(1 / 3)  # world 0: -0.5 with SE 0.5; world 2 a tie


def test_direction_comes_from_the_output_table():
    assert better_sign("escalations_per_1000_year") == -1.0
    assert better_sign("self_reliance_mean") == 1.0
    assert math.isnan(better_sign("collective_time_share"))  # a process measure: no direction
    runs = _runs({(0, "ref"): [0.2], (0, "a"): [0.3]}, kpi="collective_time_share")
    row = summarise(world_effects(runs, "ref", ["collective_time_share"])).iloc[0]
    assert math.isnan(row["share_better"]) and row["median"] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="better"):
        type(OUTPUTS["self_reliance_mean"])("x", "u", "l", "m", better="up")


def test_common_random_numbers_across_scenarios_within_a_member():
    ens = from_ranges(3, seed=5)
    scenarios = load_many(["pre_2015_equal_staff", "mandate", "success_conditions"])
    tasks = ensemble_tasks(ens, scenarios, replicates=2, base_seed=7, setup={"n_residents": 300})
    assert len(tasks) == 3 * 3 * 2 and len({t.run_id for t in tasks}) == len(tasks)
    seeds = {(t.tags["member"], t.tags["scenario"], t.replicate): t.seed for t in tasks}
    for m in ens.ids:
        for r in range(2):
            same = {seeds[(m, s.name, r)] for s in scenarios}
            assert same == {member_seed(7, m, r)}  # one seed per member and replicate
    per_member = {seeds[(m, "mandate", 0)] for m in ens.ids}
    assert len(per_member) == 3  # and different between members
    # each run carries its member's parameters, the scenario's on top
    first = next(t for t in tasks if t.tags == {"member": 1, "scenario": "mandate"})
    name = next(p for p in ens.parameters if p not in scenarios[1].params)
    assert first.params[name] == pytest.approx(ens.overrides(1)[name])
    assert first.params["mandate"] == scenarios[1].params["mandate"]
    # the size asked for wins over one the ensemble fixes
    sized = ensemble_tasks(
        from_ranges(1, seed=5, fixed={"n_residents": 2000}), scenarios[:1], 1, 0, {"n_residents": 300}
    )
    assert sized[0].params["n_residents"] == 300


def test_run_ensemble_end_to_end_on_three_members(tmp_path, capsys):
    folder = save_ensemble(tmp_path / "ens", from_ranges(3, seed=1))
    out = tmp_path / "res"
    argv = ["run", "pre_2015_equal_staff", "success_conditions", "--ensemble", str(folder), *TINY]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "on 3 worlds" in printed
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 3 * 2 * 2 and set(runs["member"]) == {0, 1, 2}
    summary = pd.read_csv(out / "ensemble_summary.csv")
    esc = summary[summary["kpi"] == "escalations_per_1000_year"].iloc[0]
    assert esc["worlds"] == 3 and 0.0 <= esc["share_better"] <= 1.0
    effects = pd.read_csv(out / "world_effects.csv")
    assert set(effects["scenario"]) == {"success_conditions"}
    report = (out / "report.md").read_text()
    assert "of plausible worlds" in report and "Not a calibrated ensemble" in report
    assert "Not scored: fewer than 20 worlds" in report  # too few worlds to rank the assumptions
    assert (out / "deciding_assumptions.csv").is_file()
    from experiments.store import GENERATED, STORE_FILES

    assert {f.name for f in out.iterdir()} <= {*GENERATED, *STORE_FILES}  # what --overwrite removes
    assert (out / "ensemble_effects.png").stat().st_size > 10_000
    # resumable: the same command with --resume computes nothing
    assert main([*argv, "--out", str(out), "--resume"]) == 0
    assert "(0 computed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("missing", "does not exist"),
        ("empty", "holds no ensemble"),
        ("file", "is a file"),
    ],
)
def test_bad_ensemble_path_is_one_line(tmp_path, capsys, where, match):
    path = tmp_path / where
    if where == "empty":
        path.mkdir()
    elif where == "file":
        path.write_text("x")
    assert main(["run", "--ensemble", str(path), *TINY, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and err[0].startswith("wijkteam: error: ensemble:")


def test_unknown_reference_is_one_line(tmp_path, capsys):
    folder = save_ensemble(tmp_path / "ens", from_ranges(2, seed=1))
    argv = ["run", "mandate", "success_conditions", "--ensemble", str(folder), "--reference", "typical_2019"]
    assert main([*argv, *TINY, "--out", str(tmp_path / "out")]) == 2
    assert "not among the scenarios run" in capsys.readouterr().err


# ---- wijkteam validate --ensemble ------------------------------------------------------------------
def _result(effect: float, baseline: float = 0.0, passed: bool = False):
    from calibration.patterns import PatternResult

    return PatternResult(
        pattern="X", title="t", source="s", contrast="c", kpi="k", baseline=baseline, treatment=0.0,
        effect=effect, ci_low=math.nan, ci_high=math.nan, criterion="", n=2, passed=passed,
    )  # fmt: skip


def test_world_rule_is_the_mean_effect_against_the_criterion():
    from calibration.patterns import world_holds
    from calibration.targets import Check, Pattern

    down = Check(kpi="k", direction="decrease", min_effect=0.05)
    contrast = Pattern(id="X", title="t", source="s", kind="contrast", checks=(down,))
    assert world_holds(contrast, down, _result(-0.06), {})
    assert not world_holds(contrast, down, _result(-0.04), {})
    assert not world_holds(contrast, down, _result(math.nan), {})
    up = Check(kpi="k", direction="increase", min_effect=0.1)
    assert world_holds(contrast, up, _result(0.1), {}) and not world_holds(contrast, up, _result(-0.5), {})
    below = Check(kpi="k", below=0.5)
    level = Pattern(id="X", title="t", source="s", kind="level", checks=(below,))
    assert world_holds(level, below, _result(0.4), {}) and not world_holds(level, below, _result(0.5), {})
    steep = Check(kpi="k", min_effect=2.0, trapped_below=0.5)
    curve = Pattern(id="X", title="t", source="s", kind="curve", checks=(steep,))
    target = {"collective_time_target": 0.4}  # trapped at or below 0.2
    assert world_holds(curve, steep, _result(3.0, baseline=0.1), target)
    assert not world_holds(curve, steep, _result(3.0, baseline=0.3), target)
    assert not world_holds(curve, steep, _result(1.5, baseline=0.1), target)


def test_pattern_shares_on_a_hand_made_table():
    from calibration.patterns import world_shares

    table = pd.DataFrame(
        {
            "member": [0, 1, 2, 3, 0, 1, 2, 3],
            "pattern": ["P1"] * 4 + ["P9"] * 4,
            "title": ["t"] * 8,
            "kpi": ["a"] * 4 + ["b"] * 4,
            "kind": ["validation"] * 8,
            "criterion": ["c"] * 8,
            "effect": [-0.1, -0.2, 0.1, -0.3, 1.0, 2.0, 3.0, 4.0],
            "holds": [True, True, False, True, False, False, False, True],
            "passed": [False, True, False, False, False, False, False, False],
            "n": [2] * 8,
        }
    )
    shares = world_shares(table).set_index("pattern")
    assert shares.loc["P1", "share_holds"] == pytest.approx(0.75)
    assert shares.loc["P1", "share_passed"] == pytest.approx(0.25)
    assert shares.loc["P9", "share_holds"] == pytest.approx(0.25)  # generic over the file's patterns
    assert shares.loc["P9", "median"] == pytest.approx(2.5) and shares.loc["P9", "seeds"] == 2
    assert shares.loc["P9", "low"] == pytest.approx(np.quantile([1.0, 2.0, 3.0, 4.0], 0.05))


def test_validate_ensemble_end_to_end(tmp_path, capsys):
    folder = save_ensemble(tmp_path / "ens", from_ranges(2, seed=3))
    out = tmp_path / "val"
    argv = ["validate", "--ensemble", str(folder), "--patterns", "P5", "--seeds", "1", *TINY]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "P5" in printed and "of 2)" in printed
    worlds = pd.read_csv(out / "world_patterns.csv")
    assert sorted(set(worlds["member"])) == [0, 1] and set(worlds["pattern"]) == {"P5"}
    shares = pd.read_csv(out / "pattern_shares.csv")
    assert shares["worlds"].iloc[0] == 2 and shares["seeds"].iloc[0] == 1
    assert "Rule" in (out / "report.md").read_text()


def test_validate_bad_ensemble_path_is_one_line(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["validate", "--ensemble", str(missing), *TINY, "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]


# ---- --members: the first N members ----------------------------------------------------------------
def test_members_runs_the_first_members_only(tmp_path, capsys):
    folder = save_ensemble(tmp_path / "ens", from_ranges(4, seed=1))
    out = tmp_path / "res"
    argv = ["run", "pre_2015_equal_staff", "success_conditions", "--ensemble", str(folder), "--members", "2"]
    assert main([*argv, *TINY, "--replicates", "1", "--out", str(out)]) == 0
    assert "on 2 worlds" in capsys.readouterr().out
    assert set(pd.read_parquet(out / "runs.parquet")["member"]) == {0, 1}
    val = tmp_path / "val"
    argv = ["validate", "--ensemble", str(folder), "--members", "3", "--patterns", "P5", "--seeds", "1"]
    loud = [a for a in TINY if a != "--quiet"]
    assert main([*argv, *loud, "--out", str(val)]) == 0
    assert sorted(set(pd.read_csv(val / "world_patterns.csv")["member"])) == [0, 1, 2]
    printed = capsys.readouterr().out  # a progress line per world
    assert "world 1/3 (member 0): " in printed and "world 3/3 (member 2): " in printed


@pytest.mark.parametrize("command", ["run", "validate", "discover"])
def test_members_beyond_the_ensemble_or_without_one_is_one_line(tmp_path, capsys, command):
    folder = save_ensemble(tmp_path / "ens", from_ranges(2, seed=1))
    out = ["--out", str(tmp_path / "out")]
    assert main([command, "--ensemble", str(folder), "--members", "5", *TINY, *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--members = 5 is not allowed: expected an integer in [1, 2]" in err[0]
    assert main([command, "--members", "1", *TINY, *out]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--members is for --ensemble runs" in err[0]
    assert not (tmp_path / "out").exists()


# ---- which assumptions decide a conclusion ---------------------------------------------------------
def test_deciding_assumptions_finds_the_parameter_that_sets_the_effect():
    from scipy.stats import spearmanr

    from experiments.ensemble import deciding_assumptions, drivers_table

    ens = from_ranges(40, seed=4)
    table = ens.to_df()
    driver = "heavy_threshold"
    noise = np.random.default_rng(1).normal(0.0, 0.02, len(table))
    effect = 1.0 - 2.0 * table[driver].to_numpy(float) + noise
    rows = [
        {"member": m, "scenario": "s", "kpi": "escalations_per_1000_year", "effect": e}
        for m, e in zip(table["member"], effect, strict=True)
    ] + [
        {"member": m, "scenario": "s", "kpi": "unmet_need_per_1000_year", "effect": 1.0}
        for m in table["member"]
    ]
    drivers = deciding_assumptions(ens, pd.DataFrame(rows))
    assert set(drivers["kpi"]) == {"escalations_per_1000_year"}  # a constant effect has nothing to separate
    first = drivers.iloc[0]
    assert first["parameter"] == driver and first["rho"] < -0.9 and first["bonferroni"]
    assert first["share_better"] == pytest.approx(float(np.mean(effect < 0)))
    other = drivers.iloc[1]
    expected = spearmanr(table[other["parameter"]], effect)
    assert other["rho"] == pytest.approx(expected.statistic) and other["p"] == pytest.approx(expected.pvalue)
    assert f"`{driver}` " in drivers_table(drivers, {"s": "S"}) and "| S |" in drivers_table(
        drivers, {"s": "S"}
    )
    assert deciding_assumptions(ens.head(19), pd.DataFrame(rows)).empty  # too few worlds to rank 89 inputs
