"""Faults found by a fault-injection audit of ``wijkteam sweep/run/sa`` (issue #15), reproduced.

Each test attacks the results store, the executor or the command line the way the audit
did, and checks the outcome is either correct results or one clear line with exit status
2, with nothing lost or mixed.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from experiments import execute, make_tasks
from experiments.cli import main
from experiments.designs import parse_param
from experiments.executor import _alive, default_workers
from experiments.scenario import load as load_scenario
from experiments.store import DB_NAME, ResultsStore
from model import REGISTRY, ParameterError, validate
from model import run as model_run

TINY = ["--residents", "200", "--weeks", "8", "--burn-in", "2", "--workers", "1", "--quiet"]
SWEEP = ["sweep", "--param", "mandate=0:1:3", "--replicates", "2"]


def one_line_error(capsys, code: int, *fragments: str) -> str:
    """Assert exit status 2 and a single line on stderr holding every fragment."""
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def sweep(out: Path, *extra: str) -> int:
    return main([*SWEEP, *TINY, "--out", str(out), *extra])


def spawn(code: str, *args: str) -> subprocess.Popen:
    """A Python process running ``code``; it prints 'ready' once it holds what it should."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


HOLD = """
import sys, time
from experiments.store import ResultsStore
store = ResultsStore(sys.argv[1]).open(command="holder")
print("ready", flush=True)
time.sleep(120)
"""


# ---- 1. concurrent writers -------------------------------------------------------------------
def test_a_second_writer_gets_one_line_and_overwrite_deletes_nothing(tmp_path, capsys):
    out = tmp_path / "x"
    assert sweep(out) == 0
    before = pd.read_parquet(out / "runs.parquet")
    holder = spawn(HOLD, str(out))
    try:
        for extra in ((), ("--resume",), ("--overwrite",)):
            err = one_line_error(capsys, sweep(out, *extra), f"{out} is in use by process {holder.pid} since")
            assert "wait for it to finish" in err
        pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), before)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the lock died with its process: the folder is usable again, and still holds its runs
    assert sweep(out, "--resume") == 0
    assert "0 computed now" in capsys.readouterr().out


def test_two_sweeps_started_at_once_never_mix(tmp_path):
    out = tmp_path / "both"
    command = [sys.executable, "-m", "experiments", *SWEEP, *TINY, "--out", str(out)]
    procs = [
        subprocess.Popen([*command, "--residents", residents], stderr=subprocess.PIPE, text=True)
        for residents in ("200", "300")
    ]
    codes = [p.wait(timeout=300) for p in procs]
    errors = [p.stderr.read() for p in procs]
    assert sorted(codes) == [0, 2], errors
    loser = errors[codes.index(2)]
    assert ("is in use by process" in loser) or ("already holds results" in loser), loser
    winner = ("200", "300")[codes.index(0)]
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6 and set(runs["p_n_residents"]) == {int(winner)}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["setup"]["n_residents"] == int(winner) and manifest["runs"]["done"] == 6


# ---- 2. the design lives in the database ---------------------------------------------------
def test_resume_checks_the_design_even_without_any_other_file(tmp_path, capsys):
    out = tmp_path / "d"
    assert sweep(out) == 0
    for name in ("manifest.json", "runs.parquet", "sweep.png"):
        (out / name).unlink()
    code = main([*SWEEP, *TINY, "--out", str(out), "--resume", "--residents", "300"])
    one_line_error(capsys, code, "holds results of a different design")
    assert sweep(out, "--resume") == 0  # the same design resumes, and the exports come back
    assert len(pd.read_parquet(out / "runs.parquet")) == 6


# ---- 3. nothing of a user's is deleted -------------------------------------------------------
def test_run_never_clears_a_folder_that_is_not_its_own(tmp_path, capsys):
    mine = tmp_path / "figures"
    mine.mkdir()
    for name in ("my_plot.png", "report.md"):
        (mine / name).write_text("the user's own work")
    run = ["run", "mandate", "--replicates", "1", *TINY]
    for extra in ((), ("--overwrite",)):
        one_line_error(capsys, main([*run, "--out", str(mine), *extra]), "holds no wijkteam results")
    assert sorted(p.name for p in mine.iterdir()) == ["my_plot.png", "report.md"]
    assert (mine / "report.md").read_text() == "the user's own work"
    swept = tmp_path / "sweep"
    assert sweep(swept) == 0
    one_line_error(capsys, main([*run, "--out", str(swept)]), "already holds results", "--overwrite")
    assert len(pd.read_parquet(swept / "runs.parquet")) == 6 and (swept / "sweep.png").exists()
    assert main([*run, "--out", str(swept), "--overwrite"]) == 0  # asked for: replaced
    assert list(pd.read_parquet(swept / "runs.parquet")["scenario"]) == ["mandate"]
    assert not (swept / "sweep.png").exists()
    assert main([*run, "--out", str(swept)]) == 0  # run replaces its own comparison


def test_out_that_is_a_file_is_one_line(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("not a folder")
    one_line_error(capsys, sweep(target), "is a file, not a folder")
    assert target.read_text() == "not a folder"


# ---- 4. resume checks the weekly series ------------------------------------------------------
def test_resume_recomputes_runs_whose_series_are_incomplete(tmp_path, capsys):
    out = tmp_path / "s"
    assert sweep(out, "--series") == 0
    reference = pd.read_parquet(out / "series.parquet")
    with duckdb.connect(str(out / DB_NAME)) as con:  # lose part of the series of two runs
        con.execute("DELETE FROM series WHERE run_id = 1 OR (run_id = 4 AND week > 3)")
    capsys.readouterr()
    assert sweep(out, "--series", "--resume") == 0
    assert "2 computed now" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out / "series.parquet"), reference)


# ---- 5. damaged files -------------------------------------------------------------------------
def _flip_bytes(path: Path, start: int, count: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["bit flips", "truncated", "garbage"])
def test_a_damaged_database_is_one_line_and_overwrite_recovers(tmp_path, capsys, damage):
    out = tmp_path / "c"
    assert sweep(out) == 0
    expected = pd.read_parquet(out / "runs.parquet").drop(columns="elapsed_s")
    db = out / DB_NAME
    if damage == "bit flips":  # inside every data block after the headers
        for block in range(1, db.stat().st_size // 262144 + 1):
            _flip_bytes(db, 12288 + (block - 1) * 262144 + 100, 64)
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[:5000])
    else:
        db.write_bytes(b"\x00garbage" * 1000)
    (out / "manifest.json").write_text('{"status": "runn')  # garbled too
    one_line_error(capsys, sweep(out, "--resume"), f"{db} is damaged", "--overwrite")
    assert sweep(out, "--overwrite") == 0
    again = pd.read_parquet(out / "runs.parquet").drop(columns="elapsed_s")
    pd.testing.assert_frame_equal(again, expected)
    assert json.loads((out / "manifest.json").read_text())["status"] == "done"


def test_a_folder_of_the_parquet_store_is_recognised(tmp_path, capsys):
    out = tmp_path / "old"
    (out / "parts").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"design_sha256": "abc", "status": "running"}))
    pd.DataFrame({"run_id": [0]}).to_parquet(out / "parts" / "runs-000001.parquet")
    one_line_error(capsys, sweep(out, "--resume"), "earlier wijkteam (Parquet files")
    assert (out / "parts" / "runs-000001.parquet").exists()
    assert sweep(out, "--overwrite") == 0 and not (out / "parts").exists()


def test_manifest_of_a_killed_sweep_does_not_stay_running(tmp_path):
    out = tmp_path / "k"
    holder = spawn(
        HOLD.replace(
            'print("ready"',
            'store.prepare("x", resume=False, overwrite=False)\n'
            'store.write_manifest({"status": "running", "sessions": [{"status": "running"}]})\n'
            'print("ready"',
        ),
        str(out),
    )
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with ResultsStore(out).open() as store:
        manifest = store.read_manifest()
    assert manifest["status"] == "interrupted" and "killed" in manifest["sessions"][0]["status"]


# ---- 12. file modes ---------------------------------------------------------------------------
def test_result_tables_are_as_readable_as_figures(tmp_path):
    previous = os.umask(0o022)
    try:
        out = tmp_path / "m"
        assert main(["run", "mandate", "--replicates", "1", *TINY, "--out", str(out)]) == 0
    finally:
        os.umask(previous)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir() if not p.name.startswith(".")}
    assert set(modes.values()) == {0o644}, modes


# ---- 6. a run that kills its worker ---------------------------------------------------------
TINY_SETUP = {"n_residents": 200, "weeks": 8, "burn_in_weeks": 2}
KILLED = "worker process died (exit -9, SIGKILL: out of memory, or killed)"


def killer_runner(params, seed, collect):
    """A run that kills its own worker process at mandate 0.5, as the out-of-memory killer would."""
    if params["mandate"] == 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return model_run(params, seed=seed, collect=collect)


def test_a_run_that_kills_its_worker_is_a_failed_run_not_a_hang(tmp_path):
    out = tmp_path / "w"
    tasks = make_tasks([{"mandate": m} for m in (0.0, 0.5, 1.0)], replicates=2, setup=TINY_SETUP)
    outcome = execute(tasks, out, workers=2, chunk_size=2, progress=False, runner=killer_runner)
    runs = outcome.runs
    assert outcome.computed == 6 and outcome.failed == 2
    bad = runs[runs["status"] != "ok"]
    assert list(bad["p_mandate"]) == [0.5] * 2
    # The signal is named where the forkserver reports it; on a busy machine its report can be lost,
    # and multiprocessing then gives exit code 255 (popen_forkserver): still a failed run, with a reason.
    reasons = set(bad["error"])
    assert reasons <= {KILLED, "worker process died (exit 255)"}, reasons
    reference = execute(tasks, None, workers=1, progress=False).runs
    pd.testing.assert_frame_equal(
        results_only(runs[runs["status"] == "ok"]), results_only(reference[reference["p_mandate"] != 0.5])
    )
    resumed = execute(tasks, out, workers=2, resume=True, progress=False, runner=killer_runner)
    assert resumed.computed == 2 and resumed.failed == 2  # tried again, failed again, no hang
    assert json.loads((out / "manifest.json").read_text())["runs"] == {
        "total": 6, "done": 4, "failed": 2, "todo": 0
    }  # fmt: skip


def test_the_reason_names_the_signal_that_killed_the_worker():
    from experiments.executor import _death_reason

    assert _death_reason(-signal.SIGKILL) == KILLED
    assert _death_reason(-signal.SIGSEGV) == "worker process died (exit -11, SIGSEGV)"
    assert _death_reason(None) == "worker process died (exit status unknown)"


def results_only(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["elapsed_s"]).sort_values("run_id").reset_index(drop=True)


# ---- 7. no orphans ----------------------------------------------------------------------------
def sleepy_runner(params, seed, collect):
    """Notes its worker's pid, then works for a long time."""
    Path(os.environ["WIJKTEAM_TEST_PIDS"], str(os.getpid())).touch()
    time.sleep(120)
    return model_run(params, seed=seed, collect=collect)


SLEEPY_SWEEP = """
from experiments import execute, make_tasks
from tests.test_faults import sleepy_runner
tasks = make_tasks([{"mandate": 0.0}, {"mandate": 1.0}], setup={"n_residents": 200, "weeks": 8})
print("ready", flush=True)
execute(tasks, None, workers=2, chunk_size=1, progress=False, runner=sleepy_runner)
"""


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _gone(pids: list[int], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_die_with_their_main_process(tmp_path, monkeypatch):
    monkeypatch.setenv("WIJKTEAM_TEST_PIDS", str(tmp_path))
    main_process = spawn(SLEEPY_SWEEP)
    try:
        assert _gone_until(lambda: len(list(tmp_path.iterdir())) == 2, time.monotonic() + 120)
        workers = [int(p.name) for p in tmp_path.iterdir()]
        forkserver = {_parent_of(pid) for pid in workers} - {main_process.pid}
    finally:
        main_process.send_signal(signal.SIGKILL)
        main_process.wait()
    assert _gone(workers + sorted(forkserver), time.monotonic() + 20)


def _gone_until(condition, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# ---- 8. legal bounds --------------------------------------------------------------------------
def test_the_model_runs_with_every_arrival_rate_at_zero():
    zero = {name: 0.0 for name in REGISTRY if name.startswith("arrival_")}
    assert len(zero) == 4
    summary, weekly = model_run(seed=1, n_residents=200, weeks=8, burn_in_weeks=2, **zero)
    assert summary["cases_per_1000_year"] == 0.0 and summary["escalations_per_1000_year"] == 0.0
    assert summary["caught_early_share"] == 0.0  # documented: 0 without intakes
    assert weekly["caught_early_share"].isna().all()  # documented: NaN in a week without intakes


# ---- 9. --workers ------------------------------------------------------------------------------
def test_workers_are_capped_at_the_cores(tmp_path, capsys):
    out = tmp_path / "many"
    assert main([*SWEEP, *TINY, "--workers", "1000", "--out", str(out)]) == 0
    assert f"--workers 1000 capped at the {default_workers()} cores" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["executor"]["workers"] == default_workers()


# ---- 10. one line, not a traceback -----------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["sweep", "--param", "mandate=,"], "malformed --param 'mandate=,': no values"),
        (["sweep", "--param", "mandate", "--scheduler", "notanaddress"], "Dask scheduler at 'notanaddress'"),
        (["sweep", "--sample", "100000000"], "--sample must be in [1, 1,000,000]"),
        (["sweep", "--param", "mandate=0:1:2000000"], "'mandate=0:1:2000000': STEPS must be in [1, 1,0"),
        (["run", "NOT_UTF8"], "not UTF-8 text"),
        (["viz", "--port", "99999"], "99999 is not a port: use 1-65535"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, match):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('title = "Caf\xe9"\n'.encode("latin-1"))
    argv = [str(bad) if a == "NOT_UTF8" else a for a in argv]
    out = tmp_path / "out"
    extra = [] if argv[0] == "viz" else [*TINY, "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main([*argv, *extra]))
    one_line_error(capsys, exit_info.value.code, match)
    assert not out.exists()


# ---- 11. one rule for values, in Python, TOML and on the command line -----------------------
def test_numpy_scalars_are_numbers_and_switches_follow_one_rule(tmp_path):
    p = validate(
        {
            "mandate": np.float32(0.5),
            "min_cluster": np.int64(3),
            "steering": np.array(1.0),
            "pre_2015": np.bool_(True),
        }
    )
    assert (p["mandate"], p["min_cluster"], p["steering"], p["pre_2015"]) == (0.5, 3, 1.0, True)
    assert type(p["min_cluster"]) is int and type(p["pre_2015"]) is bool
    words = {True: ("true", "Yes", "on", "1", 1, 1.0, np.int64(1)), False: ("false", "NO", "off", "0", 0)}
    toml = tmp_path / "switch.toml"
    for expected, values in words.items():
        for value in values:
            assert validate({"pre_2015": value})["pre_2015"] is expected
            if isinstance(value, str):
                assert parse_param(f"pre_2015={value}") == ("pre_2015", expected)
            text = f'"{value}"' if isinstance(value, str) else str(int(value))
            head = 'name = "switch"\ntitle = "t"\nrationale = "r"\nsource = "s"\n'
            toml.write_text(f"{head}[params]\npre_2015 = {text}\n")
            assert load_scenario(toml).params["pre_2015"] is expected
    for bad in (2, 0.5, "maybe"):
        with pytest.raises(ParameterError, match="expected true or false"):
            validate({"pre_2015": bad})
    with pytest.raises(ParameterError, match="expected a number"):
        validate({"mandate": np.bool_(True)})
