"""Sensitivity analysis (experiments.sensitivity, experiments.tipping, ``wijkteam sa``).

The pipeline (SALib sample -> executor tasks -> results store -> replicate means -> SALib
analysis -> files) is checked on the Ishigami function, whose Sobol' indices are known,
by a runner that maps three registry levers onto [-pi, pi]; and on the model, where a
lever whose mechanism is switched off must rank last.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments import sensitivity as sa
from experiments.commands import sa as sa_command
from experiments.options import Parser
from experiments.store import ResultsStore
from experiments.tipping import take_off_boundary, tipping_map
from model import REGISTRY

ISHIGAMI = ("mandate", "steering", "independence")
A, B = 7.0, 0.1
# Analytic indices (Ishigami and Homma 1990; Saltelli et al. 2008).
_V1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
_V2 = A**2 / 8
_V13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
KNOWN_S1 = np.array([_V1 / _V, _V2 / _V, 0.0])
KNOWN_ST = np.array([(_V1 + _V13) / _V, _V2 / _V, _V13 / _V])


def ishigami(params) -> float:
    x = [
        -math.pi + 2 * math.pi * (params[n] - REGISTRY[n].low) / (REGISTRY[n].high - REGISTRY[n].low)
        for n in ISHIGAMI
    ]
    return math.sin(x[0]) + A * math.sin(x[1]) ** 2 + B * x[2] ** 4 * math.sin(x[0])


def ishigami_runner(params, seed, collect):
    """A runner with model.run's signature: the Ishigami value as two KPIs."""
    y = ishigami(params)
    return {"escalations_per_1000_year": y, "unmet_need_per_1000_year": -2.0 * y}, pd.DataFrame()


NOISE_SD = 2.0


def noisy_runner(params, seed, collect):
    """Ishigami plus noise: independent per run (first KPI) and common per seed (second)."""
    key = [seed, *(int(params[n] * 1e9) for n in ISHIGAMI)]
    y = ishigami(params)
    own = np.random.default_rng(key).normal(0.0, NOISE_SD)
    common = np.random.default_rng(seed).normal(0.0, NOISE_SD)
    return {"escalations_per_1000_year": y + own, "unmet_need_per_1000_year": y + common}, pd.DataFrame()


class Interrupted:
    """Ishigami that raises KeyboardInterrupt (Ctrl-C) at its n-th call."""

    def __init__(self, after: int) -> None:
        self.after, self.calls = after, 0

    def __call__(self, params, seed, collect):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return ishigami_runner(params, seed, collect)


OUTPUTS = ["escalations_per_1000_year", "unmet_need_per_1000_year"]
QUIET = {"workers": 1, "progress": False}


# ---- the problem and the sample ------------------------------------------------------------
def test_problem_comes_from_the_registry():
    prob = sa.problem()
    assert prob["names"] == [n for n, p in REGISTRY.items() if p.kind == "policy" and p.type is not bool]
    assert prob["bounds"][0] == [REGISTRY[prob["names"][0]].low, REGISTRY[prob["names"][0]].high]
    assert sa.problem("fte_per_1000, mandate")["names"] == ["fte_per_1000", "mandate"]
    with pytest.raises(sa.SensitivityError, match="at least two"):
        sa.problem(["mandate"])
    with pytest.raises(sa.SensitivityError, match="unknown output"):
        sa.resolve_outputs("escalations")


def test_saltelli_rows_come_in_blocks_per_base_row():
    """The first N/4 base rows of a Saltelli sample are the sample of size N/4: the
    convergence subsets are consistent Saltelli samples (SALib's layout, checked)."""
    prob = sa.problem(ISHIGAMI)
    for second in (False, True):
        block = sa.block_size("sobol", 3, second)
        full = sa.draw_sample("sobol", prob, 64, seed=3, second_order=second)
        assert full.shape == (64 * block, 3)
        small = sa.draw_sample("sobol", prob, 16, seed=3, second_order=second)
        np.testing.assert_array_equal(full[: 16 * block], small)
        # in each block, row k (1..D) differs from row 0 ("A") only in parameter k-1
        first = full[:block]
        for k in range(1, 4):
            assert list(np.flatnonzero(first[k] != first[0])) == [k - 1]
    with pytest.raises(sa.SensitivityError, match="power of two"):
        sa.draw_sample("sobol", prob, 100)


# ---- Ishigami through the whole pipeline -------------------------------------------------------
def test_ishigami_sobol_indices_match_known_values(tmp_path):
    out = tmp_path / "ishigami"
    result = sa.sobol(
        list(ISHIGAMI),
        OUTPUTS,
        n=1024,
        replicates=1,
        runner=ishigami_runner,
        out=out,
        chunk_size=2048,
        **QUIET,
    )
    a = result.analysis
    assert len(result.runs) == 1024 * 5 and (result.runs["status"] == "ok").all()
    for output in OUTPUTS:
        idx = a.indices[a.indices["output"] == output].set_index("parameter").loc[list(ISHIGAMI)]
        for key, known in (("S1", KNOWN_S1), ("ST", KNOWN_ST)):
            est, conf = idx[key].to_numpy(), idx[f"{key}_conf"].to_numpy()
            assert (conf < 0.1).all(), f"{key} intervals too wide to mean anything: {conf}"
            assert (np.abs(est - known) <= conf + 0.01).all(), f"{output} {key}: {est} ± {conf} vs {known}"
        assert list(a.ranking(output)["parameter"]) == ["mandate", "steering", "independence"]
    # convergence at N/4, N/2, N; the files of the results store
    assert sorted(a.convergence["n"].unique()) == [256, 512, 1024]
    for name in ("report.md", "indices.csv", "indices.parquet", "convergence.csv", "noise.csv"):
        assert (out / name).exists(), name
    for name in ("sobol_indices.png", "sobol_st_heatmap.png", "convergence.png", "runs.parquet"):
        assert (out / name).stat().st_size > 1000, name
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 1024 * 5 and "mean_escalations_per_1000_year" in samples
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sensitivity"]["method"] == "sobol"
    assert manifest["sensitivity"]["problem"]["names"] == list(ISHIGAMI)
    assert "report.md" in manifest["analysis"]["files"]
    report = (out / "report.md").read_text()
    assert "| 1 | Mandate (`mandate`) |" in report and "Noise" in report


def test_ishigami_morris_ranks_and_matches_salib():
    result = sa.morris(list(ISHIGAMI), OUTPUTS[:1], n=40, replicates=1, runner=ishigami_runner, **QUIET)
    a = result.analysis
    idx = a.indices.set_index("parameter")
    assert (idx["mu_star"] > 0).all() and (idx["sigma_conf"] > 0).all()
    assert (idx["mu_star"] >= idx["mu"].abs()).all()
    # the elementary effects used for sigma's interval are SALib's
    ee = sa.elementary_effects(a.problem, a.sample, a.means.iloc[:, 0].to_numpy())
    np.testing.assert_allclose(np.abs(ee).mean(axis=0), idx.loc[list(ISHIGAMI), "mu_star"], rtol=1e-9)
    np.testing.assert_allclose(ee.std(axis=0, ddof=1), idx.loc[list(ISHIGAMI), "sigma"], rtol=1e-9)


def test_noise_share_is_measured_and_common_noise_is_recognised():
    result = sa.sobol(
        list(ISHIGAMI), OUTPUTS, n=64, replicates=3, runner=noisy_runner, chunk_size=1000, **QUIET
    )
    noise = result.analysis.noise.set_index("output")
    expected = NOISE_SD**2 / (NOISE_SD**2 + _V)
    own, common = noise.loc["escalations_per_1000_year"], noise.loc["unmet_need_per_1000_year"]
    assert own["noise_share"] == pytest.approx(expected, abs=0.06)
    assert own["common_share"] < 0.1
    assert own["noise_share_in_means"] == pytest.approx(NOISE_SD**2 / 3 / (NOISE_SD**2 / 3 + _V), abs=0.05)
    # noise common to every point (one value per seed) does not blur the indices
    assert common["common_share"] > 0.95 and common["noise_share_in_means"] < 0.01
    assert common["noise_share"] < expected + 0.2  # its size rests on 3 draws only


def test_interrupted_analysis_resumes_to_the_same_indices(tmp_path):
    out = tmp_path / "resume"
    kwargs = {"n": 32, "replicates": 1, "out": out, "chunk_size": 10, **QUIET}
    with pytest.raises(KeyboardInterrupt):
        sa.sobol(list(ISHIGAMI), OUTPUTS, runner=Interrupted(after=75), **kwargs)
    with ResultsStore(out).open() as store:  # what the interrupted analysis committed
        stored = store.read_runs()
    assert 0 < len(stored) < 32 * 5
    resumed = sa.sobol(list(ISHIGAMI), OUTPUTS, runner=ishigami_runner, resume=True, **kwargs)
    assert resumed.outcome.computed < 32 * 5
    fresh = sa.sobol(list(ISHIGAMI), OUTPUTS, n=32, replicates=1, runner=ishigami_runner, **QUIET)
    pd.testing.assert_frame_equal(resumed.analysis.indices, fresh.analysis.indices)


def test_sensitivity_runs_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    kwargs = {"n": 16, "replicates": 1, "runner": ishigami_runner, "progress": False}
    local = sa.morris(list(ISHIGAMI), OUTPUTS, workers=1, **kwargs)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = sa.morris(list(ISHIGAMI), OUTPUTS, scheduler=client, out=tmp_path / "dask", **kwargs)
    pd.testing.assert_frame_equal(remote.analysis.indices, local.analysis.indices)
    assert json.loads((tmp_path / "dask" / "manifest.json").read_text())["executor"]["backend"] == "dask"


# ---- the model: a switched-off lever ranks last ---------------------------------------------------------
def run_cli(argv: list[str]) -> int:
    parser = Parser(prog="wijkteam")
    sa_command.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    args.command_line = " ".join(["wijkteam", *argv])
    return args.func(args)


def test_model_morris_ranks_a_switched_off_lever_last(tmp_path):
    """Training hours act only through skill dynamics (M4): with M4 off they have no effect."""
    out = tmp_path / "morris"
    levers = "fte_per_1000,training_hours,collective_time_target,mandate"
    status = run_cli(
        [
            "sa",
            "morris",
            "--params",
            levers,
            "--n",
            "4",
            "--replicates",
            "2",
            "--fix",
            "m4_skill_dynamics=false",
        ]
        + ["--residents", "400", "--weeks", "40", "--burn-in", "8", "--workers", "1", "--quiet"]
        + ["--out", str(out)]
    )
    assert status == 0
    indices = pd.read_csv(out / "indices.csv")
    assert set(indices["output"]) == set(sa.DEFAULT_OUTPUTS)
    off = indices[indices["parameter"] == "training_hours"]
    assert (off["mu_star"] == 0).all() and (off["sigma"] == 0).all()
    for output, sub in indices.groupby("output"):
        if (sub.loc[sub["parameter"] != "training_hours", "mu_star"] > 0).all():
            assert sub.set_index("parameter").loc["training_hours", "rank"] == 4, output
    staffing = indices[
        (indices["parameter"] == "fte_per_1000") & (indices["output"] == "cost_total_per_resident_year")
    ]
    assert int(staffing["rank"].iloc[0]) == 1  # staffing drives the cost
    report = (out / "report.md").read_text()
    assert "| 4 | Training hours (`training_hours`) |" in report
    assert "m4_skill_dynamics = false" in report
    assert (out / "morris_mu_sigma.png").stat().st_size > 1000


def test_cli_reports_user_errors_in_one_line(capsys, tmp_path):
    assert "sa" in cli.COMMANDS
    out = str(tmp_path / "x")
    assert cli.main(["sa", "sobol", "--n", "100", "--out", out]) == 2
    assert "power of two" in capsys.readouterr().err
    assert cli.main(["sa", "morris", "--outputs", "nonsense", "--out", out]) == 2
    assert "unknown output" in capsys.readouterr().err
    assert cli.main(["sa", "morris", "--params", "mandate,steering", "--fix", "mandate=1", "--out", out]) == 2
    assert "both sampled and fixed" in capsys.readouterr().err
    assert cli.main(["sa", "morris", "--params", "mandate,bogus", "--out", out]) == 2
    assert "unknown parameter 'bogus'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# ---- the tipping-point map -----------------------------------------------------------------------
def take_off_runner(params, seed, collect):
    """Collective time rises steeply with staffing around 1.0 FTE; escalations fall with it."""
    share = 0.25 / (1 + math.exp(-(params["fte_per_1000"] - 1.0) * 8))
    return {"collective_time_share": share, "escalations_per_1000_year": 50 - 120 * share}, pd.DataFrame()


def test_tipping_map_marks_the_take_off(tmp_path):
    out = tmp_path / "tipping"
    m = tipping_map(
        "fte_per_1000=0.4:1.6:7",
        ("collective_budget_share", 0.0, 0.2, 3),
        replicates=1,
        runner=take_off_runner,
        out=out,
        **QUIET,
    )
    assert len(m.grid) == 21
    assert m.boundary["fte_per_1000_at_take_off"].to_numpy() == pytest.approx([1.0, 1.0, 1.0])
    assert m.escalation_midpoint == pytest.approx(
        (m.grid["escalations_per_1000_year"].agg(["min", "max"]).sum()) / 2
    )
    for name in ("tipping_map.png", "report.md", "tipping_grid.csv", "tipping_boundary.csv", "manifest.json"):
        assert (out / name).exists(), name
    assert "| 0.1 | 1.00 |" in (out / "report.md").read_text()


def test_take_off_boundary_edge_cases():
    grid = pd.DataFrame(
        {
            "y": [0, 0, 1, 1, 2, 2],
            "x": [1, 2, 1, 2, 1, 2],
            "collective_time_share": [0.0, 0.05, 0.2, 0.3, 0.1, 0.2],
            "take_off_level": 0.125,
        }
    )
    b = take_off_boundary(grid, "x", "y").set_index("y")
    assert math.isnan(b.loc[0, "x_at_take_off"]) and "never" in b.loc[0, "note"]
    assert math.isnan(b.loc[1, "x_at_take_off"]) and "already" in b.loc[1, "note"]
    assert b.loc[2, "x_at_take_off"] == pytest.approx(1.25)


def test_sa_parser_defaults():
    parser = Parser(prog="wijkteam")
    sa_command.register(parser.add_subparsers())
    args = parser.parse_args(["sa", "sobol"])
    assert (args.n, args.replicates, args.params, args.out) == (256, 2, "policy", "results/sa-sobol")
    assert args.outputs.split(",") == list(sa.DEFAULT_OUTPUTS)
    assert isinstance(parser.parse_args(["sa", "tipping"]).x, str)
    assert isinstance(args, argparse.Namespace)


# ---- behaviour parameters and the emulator path (issue #18, item 5) ---------------------------------
def test_params_behaviour_builds_the_problem_of_every_numeric_behaviour_parameter(monkeypatch):
    import importlib

    from model.params import names, policy_levers, salib_problem

    behaviour = [n for n in names("behaviour") if REGISTRY[n].type is not bool]
    prob = sa.problem("behaviour")
    assert prob["names"] == behaviour and prob["num_vars"] == len(behaviour) > 50
    assert prob["bounds"] == [[REGISTRY[n].prior_low, REGISTRY[n].prior_high] for n in behaviour]
    assert sa.problem("all")["names"] == policy_levers() + behaviour
    assert sa.problem("behaviour,mandate")["names"] == [*behaviour, "mandate"]
    assert not set(sa.problem("policy")["names"]) & set(behaviour)
    problem_module = importlib.import_module("experiments.sensitivity.problem")
    calls = []  # the problem is built through model.params.salib_problem (where the priors live)
    monkeypatch.setattr(
        problem_module, "salib_problem", lambda chosen: calls.append(chosen) or salib_problem(chosen)
    )
    sa.problem("behaviour")
    assert calls == [behaviour]


def contrast_runner(params, seed, collect):
    """Escalations: the team scenario's contrast with pre-2015 is 10 x (escalation_rate's position - 0.3),
    so its sign flips at 30% of that parameter's range; unmet need: a small effect of another one."""
    pos = {n: (params[n] - REGISTRY[n].low) / (REGISTRY[n].high - REGISTRY[n].low) for n in EMU_PARAMS}
    team = 0.0 if params["pre_2015"] else 1.0
    noise = np.random.default_rng(seed).normal(0.0, 0.05)  # common to both sides of a point
    return {
        "escalations_per_1000_year": 50.0 + team * 10.0 * (pos["escalation_rate"] - 0.3) + noise,
        "unmet_need_per_1000_year": 100.0
        + team * (5.0 * pos["help_threshold"] + 0.5 * pos["own_recovery_rate"]),
    }, pd.DataFrame()


EMU_PARAMS = ("escalation_rate", "own_recovery_rate", "help_threshold", "complex_threshold")


def test_emulator_names_the_assumption_that_decides_the_sign(tmp_path):
    from experiments.sensitivity.emulator import run_emulated, write_emulated

    result = run_emulated(
        ",".join(EMU_PARAMS),
        "escalations_per_1000_year,unmet_need_per_1000_year",
        n=48,
        runner=contrast_runner,
        base_n=256,
        **QUIET,
    )
    assert result.contrast == ("success_conditions", "pre_2015_equal_staff")
    fit = result.fit.set_index("output")
    assert (fit["r2"] > 0.8).all()  # a smooth response: the emulator predicts it out of sample
    esc = result.deciders("escalations_per_1000_year")
    assert esc["parameter"].iloc[0] == "escalation_rate" and esc["ST"].iloc[0] > 0.8
    assert esc["main_effect"].iloc[0] > 5.0  # higher escalation rate: the team raises escalations
    assert result.deciders("unmet_need_per_1000_year")["parameter"].iloc[0] == "help_threshold"
    shares = result.shares.set_index("output")
    assert shares.loc["escalations_per_1000_year", "emulated_negative"] == pytest.approx(0.3, abs=0.08)
    assert shares.loc["unmet_need_per_1000_year", "direct_negative"] == 0.0
    files = write_emulated(result, tmp_path, "test")
    assert all(f.exists() for f in files)
    report = (tmp_path / "report.md").read_text()
    assert "`escalation_rate`" in report and "R² =" in report


def test_emulator_refuses_a_design_too_small_for_its_r2():
    from experiments.sensitivity.emulator import run_emulated

    with pytest.raises(sa.SensitivityError, match="at least 10 design points"):
        run_emulated(",".join(EMU_PARAMS), n=6, runner=contrast_runner, **QUIET)


def test_sa_emulate_parser_defaults():
    parser = Parser(prog="wijkteam")
    sa_command.register(parser.add_subparsers())
    args = parser.parse_args(["sa", "emulate"])
    assert (args.params, args.n, args.emulator, args.replicates) == ("behaviour", 64, "gb", 1)
    assert args.contrast == "success_conditions:pre_2015_equal_staff" and args.out == "results/sa-emulate"
    assert sa_command._contrast("none") is None
    with pytest.raises(sa.SensitivityError, match="TREATMENT:BASELINE"):
        sa_command._contrast("mandate")


def test_behaviour_problem_samples_uniformly_within_the_prior_ranges():
    """Triangular and log-uniform priors give SALib 3-value bounds and ``dists``; the sensitivity
    problem keeps plain [low, high] prior ranges so every method's design can be built."""
    from experiments.sensitivity.problem import problem
    from model.params import REGISTRY

    prob = problem("behaviour")
    assert "dists" not in prob
    shaped = [n for n in prob["names"] if REGISTRY[n].prior != "uniform"]
    assert shaped  # the check covers the shaped priors
    for name, bounds in zip(prob["names"], prob["bounds"], strict=True):
        assert bounds == [REGISTRY[name].prior_low, REGISTRY[name].prior_high]
