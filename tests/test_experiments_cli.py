"""The ``wijkteam`` command line: user errors are one line with exit status 2, runs write the store."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from experiments.cli import COMMANDS, build_parser, main

TINY = ["--residents", "200", "--weeks", "12", "--burn-in", "4", "--workers", "1", "--quiet"]


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["sweep", "--param", "mandat=0:1:3"], "unknown parameter 'mandat'"),
        (
            ["sweep", "--param", "mandate=0:3:3"],
            "'mandate' = 3.0 is out of range: expected a number in [0, 1]",
        ),
        (["sweep", "--param", "mandate=0:1:many"], "'many' is not a number"),
        (["sweep", "--param", "mandate=0:1", "--design", "grid", "--sample", "0"], "must be at least 1"),
        (["sweep"], "nothing to sweep"),
        (["sweep", "--param", "mandate", "--design", "sobol"], "needs --sample"),
        (["run", "nope"], "unknown scenario 'nope'"),
        (["run", "mandate", "--residents", "50"], "'n_residents' = 50 is out of range"),
        (["run", "mandate", "--seed", "-1"], "must not be negative"),
        (["sweep", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(tmp_path, capsys, argv, match):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main([argv[0], *TINY, *argv[1:], "--out", str(out)]))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert match in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_run_writes_store_figures_and_report(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["run", "pre_2015_equal_staff", "mandate", "--replicates", "2", "--out", str(out), *TINY])
    assert code == 0
    for name in ("manifest.json", "runs.parquet", "series.parquet", "kpis.png", "series.png", "report.md"):
        assert (out / name).is_file(), name
    from experiments.store import GENERATED, STORE_FILES

    assert {f.name for f in out.iterdir()} <= {*GENERATED, *STORE_FILES}  # what --overwrite removes
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["scenario"].unique()) == ["pre_2015_equal_staff", "mandate"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"].startswith("wijkteam run pre_2015_equal_staff mandate")
    assert manifest["runs"]["done"] == 4
    report = (out / "report.md").read_text()
    assert "Team with full mandate" in report and "RadarAdvies" in report
    assert "Team with full mandate" in capsys.readouterr().out
    # run replaces an earlier comparison in the same folder
    assert main(["run", "mandate", "--replicates", "1", "--out", str(out), *TINY]) == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 1


def test_sweep_resume_and_refusal_to_overwrite(tmp_path, capsys):
    out = tmp_path / "sw"
    argv = ["sweep", "--param", "mandate=0:1:2", "--param", "steering=0,1", "--out", str(out), *TINY]
    assert main(argv) == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 4
    assert (out / "sweep.png").is_file()
    capsys.readouterr()
    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "0 computed now" in capsys.readouterr().out
    assert main([*argv, "--overwrite"]) == 0


def test_failed_runs_give_exit_status_1(tmp_path, monkeypatch, capsys):
    import experiments.executor as executor

    def boom(params, seed, collect):
        raise RuntimeError("model bug")

    monkeypatch.setattr(executor, "model_run", boom)
    out = tmp_path / "f"
    assert main(["sweep", "--param", "mandate=0:1:2", "--out", str(out), *TINY]) == 1
    assert "2 runs failed" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text())["runs"]["failed"] == 2


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    for name in COMMANDS:
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args([name, "--help"])
        assert exit_info.value.code == 0
        assert "usage: wijkteam " + name in capsys.readouterr().out


def test_python_dash_m_and_shared_options(capsys):
    done = subprocess.run(
        [sys.executable, "-m", "experiments", "--help"], capture_output=True, text=True, check=True
    )
    assert "sweep" in done.stdout and "run" in done.stdout
    parser = build_parser()
    for name in ("run", "sweep"):
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        text = capsys.readouterr().out
        for option in (
            "--residents",
            "--weeks",
            "--seed",
            "--out",
            "--workers",
            "--scheduler",
            "--resume",
            "--replicates",
        ):
            assert option in text, (name, option)


def test_viz_reports_a_missing_app(monkeypatch, tmp_path, capsys):
    import experiments.commands.viz as viz

    monkeypatch.setattr(viz, "REPO", tmp_path)
    assert main(["viz", "--port", "9999"]) == 2
    assert "app.py does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("script", ["caseload_trap", "mandate_vs_steering"])
def test_experiment_scripts_run_on_a_tiny_neighbourhood(tmp_path, script):
    import importlib

    module = importlib.import_module(f"experiments.{script}")
    figure = module.main(
        residents=200, weeks=8, replicates=2, out=tmp_path / script, workers=1, progress=False
    )
    assert figure.is_file() and (tmp_path / script / "runs.parquet").is_file()
