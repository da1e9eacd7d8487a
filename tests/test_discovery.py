"""Scenario discovery (issue #19): outcomes, PRIM on a known answer, bootstrap intervals,
regret, and the ``wijkteam discover`` command."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from experiments.cli import main
from experiments.discovery.boxes import Cube, bootstrap_box, choose, find_boxes, in_box
from experiments.discovery.outcomes import OutcomeError, OutcomeSpec, escapes, fails
from experiments.discovery.robust import regret_table, sentences
from experiments.discovery.run import box_policy, design_points
from model import compiled
from model.params import REGISTRY

TINY = ["--residents", "200", "--weeks", "12", "--burn-in", "4", "--workers", "1", "--quiet"]


# ---- outcomes on a hand-made table -------------------------------------------------------------
def _cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member": [0, 0, 1, 1, 1, 0],
            "collective_time_target": [0.4, 0.1, 0.25, 0.25, 0.6, 0.0],
            "collective_time_share": [0.20, 0.02, 0.05, 0.13, 0.20, 0.00],
            "escalations_per_1000_year": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "unmet_need_per_1000_year": [100.0, 120.0, 90.0, 81.0, 70.0, 100.0],
            "cost_total_per_resident_year": [500.0, 400.0, 600.0, 600.0, 700.0, 501.0],
        }
    )


def _reference() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member": [0, 1],
            "unmet_need_per_1000_year": [110.0, 80.0],
            "cost_total_per_resident_year": [500.0, 650.0],
        }
    )


def test_escapes_needs_collective_time_and_low_admissions():
    spec = OutcomeSpec()  # target 0.25 (registry default), half of it, lowest third of admissions
    assert spec.collective_target == REGISTRY["collective_time_target"].default == 0.25
    # lowest third of admissions: 10, 20 (quantile 1/3 of 10..60 is 26.7); share >= 0.125: rows 0, 3, 4
    assert escapes(_cases(), spec).tolist() == [True, False, False, False, False, False]
    # with each case's own target: row 1 needs 0.05 (has 0.02); row 5's target is 0 but admissions are high
    own = OutcomeSpec(collective_target="own", escalation_quantile=0.5)  # cut 35
    assert escapes(_cases(), own).tolist() == [True, False, False, False, False, False]
    loose = OutcomeSpec(collective_fraction=0.1, escalation_quantile=0.5)  # share >= 0.025, cut 35
    assert escapes(_cases(), loose).tolist() == [True, False, True, False, False, False]
    # a threshold given from elsewhere (the design's) replaces the cases' own quantile
    assert escapes(_cases(), spec, threshold=45.0).tolist() == [True, False, False, True, False, False]


def test_fails_compares_each_case_with_the_reference_of_its_own_world():
    spec = OutcomeSpec()
    # world 0: reference unmet 110, cost 500; world 1: 80, 650
    assert fails(_cases(), _reference(), spec).tolist() == [False, True, True, True, True, True]
    # row 2 (90 > 80) and 3 (81 > 80) fail on unmet; row 4 on cost (700 > 650); row 5 on cost (501 > 500)
    assert fails(_cases(), _reference(), OutcomeSpec(fail_on=("cost",))).tolist() == [
        False, False, False, False, True, True,
    ]  # fmt: skip
    margin = OutcomeSpec(fail_margin=0.05)  # 5% tolerance: 81 < 84 and 501 < 525 pass
    assert fails(_cases(), _reference(), margin).tolist() == [False, True, True, False, True, False]
    with pytest.raises(OutcomeError, match="no pre-2015 reference"):
        fails(_cases(), _reference().iloc[:1], spec)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"collective_target": "all"}, "--collective-target: 'all' is not allowed"),
        ({"collective_target": 1.5}, "--collective-target: 1.5 is out of range"),
        ({"collective_fraction": 0.0}, "--collective-fraction: 0.0 is out of range"),
        ({"escalation_quantile": 1.0}, "--escalation-quantile: 1.0 is out of range"),
        ({"fail_on": ("unmet", "waiting")}, "--fails-on: 'waiting' is not allowed"),
        ({"fail_margin": -0.1}, "--fails-margin: -0.1 is out of range"),
    ],
)
def test_bad_outcome_definitions_name_the_option(kwargs, match):
    with pytest.raises(OutcomeError, match=match):
        OutcomeSpec(**kwargs)


# ---- PRIM on a planted box ---------------------------------------------------------------------
def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((800, 5)), columns=["a", "b", "c", "d", "e"])
    planted = (x["a"] > 0.6) & (x["b"] < 0.3)
    y = planted.to_numpy() ^ (rng.random(800) < 0.02)  # 2% of labels flipped
    boxes = find_boxes(x, y, "escapes", n_boxes=2)
    box = boxes[0]
    assert set(box.limits["name"]) == {"a", "b"}
    limits = box.limits.set_index("name")
    assert limits.at["a", "low"] == pytest.approx(0.6, abs=0.05)
    assert limits.at["b", "high"] == pytest.approx(0.3, abs=0.05)
    # the cases in PRIM's box are nearly those in the planted box (Jaccard index of the two sets)
    found, truth = box.contains(x), planted.to_numpy()
    assert np.sum(found & truth) / np.sum(found | truth) >= 0.8
    assert box.density > 5 * box.base_rate
    assert (limits[["qp_low", "qp_high"]].min(axis=1) < 1e-6).all()  # both restrictions significant
    assert bool(box.trajectory["chosen"].sum() == 1)
    assert box.mass == pytest.approx(in_box(x, box.limits).mean())
    # noise only: no restriction is significant
    y_noise = rng.random(800) < 0.3
    for noise_box in find_boxes(x, y_noise, "fails", n_boxes=1):
        assert (noise_box.limits[["qp_low", "qp_high"]].min(axis=1) > 1e-3).all()


def test_box_choice_prefers_coverage_among_dense_enough_steps():
    traj = pd.DataFrame({"coverage": [1.0, 0.9, 0.7, 0.3], "density": [0.2, 0.5, 0.8, 0.95]})
    assert choose(traj, 0.75) == 2
    assert choose(traj, 0.99) == 3  # none dense enough: the densest
    common = pd.DataFrame({"coverage": [1.0, 0.9, 0.6], "density": [0.8, 0.85, 0.95]})
    assert choose(common, 0.75) == 2  # a common outcome: at least half way from 0.8 to 1


def test_box_policy_is_the_centre_of_the_restricted_levers():
    limits = pd.DataFrame(
        {"name": ["fte_per_1000", "arrival_care_support"], "low": [1.0, 10.0], "high": [2.0, 20.0],
         "full_low": [0.2, 0.0], "full_high": [3.0, 100.0], "qp_low": [0.01, 0.01], "qp_high": [np.nan, 0.2]}
    )  # fmt: skip
    box = find_boxes.__globals__["Box"]("escapes", 1, pd.DataFrame(), 0, limits, 0.5, 0.9, 0.2, 0.1)
    assert box_policy(box, ["fte_per_1000", "mandate"]) == {"fte_per_1000": 1.5}
    assert box_policy(box, ["mandate"]) is None


# ---- bootstrap: the interval contains the planted box's true coverage ------------------------------
def test_bootstrap_intervals_contain_the_true_coverage_and_density():
    p, m, r = 60, 12, 4
    rng = np.random.default_rng(11)
    points = pd.DataFrame({"a": rng.random(p), "b": rng.random(p)})
    inside_point = ((points["a"] > 0.5) & (points["b"] < 0.5)).to_numpy()
    world_sd, noise_sd = 0.2, 0.3
    world = rng.normal(0, world_sd, m)
    signal = inside_point[:, None, None] + world[None, :, None] + rng.normal(0, noise_sd, (p, m, r))
    cube = Cube(points, pd.DataFrame({"member": range(m)}), {"signal": signal}, {"signal": np.zeros((m, r))})
    classify = lambda cases, reference: cases["signal"].to_numpy() > 0.5  # noqa: E731
    inside = np.repeat(inside_point, m)
    # the truth: a case is of interest when 1{in box} + world + mean noise > 0.5
    s = np.hypot(world_sd, noise_sd / np.sqrt(r))
    p_in, p_out = norm.cdf(0.5 / s), norm.sf(0.5 / s)
    share_in = inside_point.mean()
    true_coverage = share_in * p_in / (share_in * p_in + (1 - share_in) * p_out)
    true_density = p_in
    stats = bootstrap_box(cube, inside, classify, n_boot=400, seed=1, resample="both")
    assert stats["coverage_low"] <= true_coverage <= stats["coverage_high"]
    assert stats["density_low"] <= true_density <= stats["density_high"]
    assert stats["coverage_high"] - stats["coverage_low"] < 0.2  # informative, not (0, 1)
    only_reps = bootstrap_box(cube, inside, classify, n_boot=200, seed=1, resample="replicates")
    # replicate noise alone gives an interval no wider than worlds and replicates together
    width = lambda st: st["coverage_high"] - st["coverage_low"]  # noqa: E731
    assert width(only_reps) <= width(stats) + 1e-9
    with pytest.raises(ValueError, match="resample"):
        bootstrap_box(cube, inside, classify, n_boot=10, resample="points")


# ---- regret on a hand-made example -------------------------------------------------------------
def test_regret_and_satisficing_on_a_hand_made_example():
    results = pd.DataFrame(
        {
            "policy": ["A", "A", "B", "B"],
            "member": [0, 1, 0, 1],
            "unmet_need_per_1000_year": [100.0, 100.0, 80.0, 150.0],
            "cost_total_per_resident_year": [500.0, 500.0, 450.0, 520.0],
            "escalations_per_1000_year": [10.0, 10.0, 12.0, 9.0],
            "collective_time_share": [0.2, 0.2, 0.05, 0.3],
            "collective_time_target": [0.25] * 4,
            "cost_team_per_payer_year": [1.0, 3.0, 2.0, 2.0],
        }
    )
    reference = pd.DataFrame(
        {
            "member": [0, 1],
            "unmet_need_per_1000_year": [120.0, 120.0],
            "cost_total_per_resident_year": [510.0, 510.0],
        }
    )
    table = regret_table(results, reference, OutcomeSpec(), escalation_cut=11.0).set_index("policy")
    # world 0: best unmet is B (80), A regrets 20; world 1: best is A (100), B regrets 50
    assert table.at["A", "unmet_need_per_1000_year_regret_max"] == 20.0
    assert table.at["B", "unmet_need_per_1000_year_regret_max"] == 50.0
    assert table.at["A", "unmet_need_per_1000_year_regret_max_rel"] == pytest.approx(0.25)
    assert table.at["B", "unmet_need_per_1000_year_regret_max_rel"] == pytest.approx(0.5)
    assert (
        table.at["B", "unmet_need_per_1000_year"] == 115.0
        and table.at["A", "unmet_need_per_1000_year"] == 100
    )
    assert table.at["A", "unmet_need_per_1000_year_best_share"] == 0.5
    # A never fails (100 < 120, 500 < 510); B fails in world 1 (150 > 120, 520 > 510)
    assert table.at["A", "satisficing_share"] == 1.0 and table.at["B", "satisficing_share"] == 0.5
    # escapes: share >= 0.125 and admissions <= 11: A in both worlds, B only in world 1
    assert table.at["A", "escapes_share"] == 1.0 and table.at["B", "escapes_share"] == 0.5
    assert table.at["A", "cost_team_per_payer_year"] == 2.0  # a payer column is carried along
    text = " ".join(sentences(table.reset_index(), {"A": "Policy A"}))
    assert (
        "On unmet need, 'Policy A' is never more than 20 severity-weeks per 1,000 residents per year worse"
        in text
    )
    assert "'B' fails in 50% of worlds" in text


# ---- the command ----------------------------------------------------------------------------
def test_design_points_are_a_seeded_hypercube_in_the_registry_ranges():
    a = design_points(["mandate", "fte_per_1000"], 10, seed=4)
    assert a.equals(design_points(["mandate", "fte_per_1000"], 10, seed=4))
    assert a["fte_per_1000"].between(REGISTRY["fte_per_1000"].low, REGISTRY["fte_per_1000"].high).all()
    assert sorted(np.floor(a["mandate"] * 10).astype(int)) == list(range(10))  # one point per stratum


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--fails-on", "waiting"], "--fails-on: 'waiting' is not allowed"),
        (["--levers", "mandate,pre_2015"], "--levers: 'pre_2015' is not a numeric policy lever"),
        (["--collective-target", "1.2"], "--collective-target: 1.2 is out of range"),
        (["--collective-fraction", "half"], "'half' is not a number"),
        (["--min-density", "0"], "--min-density: 0.0 is out of range"),
        (["--sample", "1"], "--sample: 1 is not allowed"),
        (["--worlds", "1"], "--worlds: 1 is not allowed"),
        (["--bootstrap", "5"], "--bootstrap: 5 is not allowed"),
        (["--ensemble", "no/such/folder"], "holds no ensemble"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(["discover", *TINY, *argv, "--out", str(out)]))
    assert exit_info.value.code == 2
    # The first compilation in a process is announced on its own line (model/compiled.py): on a
    # fresh checkout this test may be the one that compiles. The error is one line beside it.
    err = capsys.readouterr().err.replace(compiled.MESSAGE + "\n", "")
    assert match in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow  # about 20 s alone, 80 s on a loaded machine
def test_tiny_discover_writes_boxes_report_and_robustness(tmp_path, capsys):
    out = tmp_path / "disc"
    argv = ["discover", *TINY, "--sample", "4", "--worlds", "2", "--replicates", "2", "--bootstrap", "20"]
    code = main([*argv, "--levers", "fte_per_1000,collective_time_target,mandate", "--out", str(out)])
    assert code == 0
    for name in ("report.md", "boxes.csv", "bootstrap.csv", "robustness.csv", "cases.parquet",
                 "feature_scores.csv", "tradeoff.png", "manifest.json", "runs.parquet"):  # fmt: skip
        assert (out / name).is_file(), name
    runs = pd.read_parquet(out / "runs.parquet")
    # 4 points x 2 worlds, the reference and 7 named policies in each world, 2 replicates each
    assert len(runs) == (4 * 2 + 8 * 2) * 2
    assert set(runs["role"]) == {"design", "reference", "policy"}
    # common random numbers: replicate r has one seed everywhere
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    cases = pd.read_parquet(out / "cases.parquet")
    assert len(cases) == 8 and {"escapes", "fails", "fte_per_1000"} <= set(cases.columns)
    robustness = pd.read_csv(out / "robustness.csv")
    assert "success_conditions" in set(robustness["policy"]) and "pre_2015_equal_spending" not in set(
        robustness["policy"]
    )
    report = (out / "report.md").read_text()
    assert "stand-in" in report and "## Robust policies" in report and "escapes" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert "discovery_boxes" in manifest and manifest["kind"] == "discover"
    assert "results in" in capsys.readouterr().out
    # resuming computes nothing new and gives the same cases
    assert (
        main(
            [*argv, "--levers", "fte_per_1000,collective_time_target,mandate", "--out", str(out), "--resume"]
        )
        == 0
    )
    assert pd.read_parquet(out / "cases.parquet").equals(cases)


def test_every_file_discover_writes_is_one_the_store_may_replace():
    from experiments.discovery.report import FILES
    from experiments.store import GENERATED

    assert set(FILES) <= set(GENERATED)  # --overwrite removes them; nothing stale is left
