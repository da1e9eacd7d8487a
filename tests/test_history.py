"""History matching (issue #18): priors, target roles, the implausibility, a toy with a known answer,
resume, bad input and a --quick calibration."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from calibration.ensemble import load_ensemble
from calibration.history import (
    HistoryError,
    Settings,
    history_match,
    implausibility,
    max_implausibility,
    target_variances,
)
from calibration.targets import Target, TargetsError, load_targets
from model.params import REGISTRY, draw_priors, names, salib_problem


# ---- priors ---------------------------------------------------------------------------------
def test_every_numeric_behaviour_prior_holds_its_default_and_draws_stay_inside():
    chosen = [n for n in names("behaviour") if REGISTRY[n].type is not bool]
    draws = draw_priors(400, chosen, seed=5)
    for name in chosen:
        p = REGISTRY[name]
        assert p.low <= p.prior_low <= p.default <= p.prior_high <= p.high, name
        assert draws[name].min() >= p.prior_low and draws[name].max() <= p.prior_high, name
    # a log-uniform prior puts as much mass in each decade: step_down_rate 0.005-0.5
    x = draws["step_down_rate"]
    assert REGISTRY["step_down_rate"].prior == "loguniform"
    assert np.mean(x < 0.05) == pytest.approx(0.5, abs=0.02)


def test_draws_are_reproducible_and_salib_gets_the_distributions():
    a = draw_priors(10, ["group_tariff", "min_cluster"], seed=1)
    b = draw_priors(10, ["group_tariff", "min_cluster"], seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["min_cluster"].dtype.kind == "i"
    prob = salib_problem(["group_tariff", "step_down_rate", "help_threshold"])
    assert prob["dists"] == ["triang", "logunif", "unif"]
    assert prob["bounds"][0] == [7.0, 13.0, 0.5]  # mode 10 halfway
    assert "dists" not in salib_problem()  # the policy levers stay uniform on their ranges


def test_unit_round_trip():
    p = REGISTRY["step_down_rate"]
    u = np.array([0.1, 0.5, 0.9])
    assert p.to_unit(p.from_unit(u)) == pytest.approx(u)
    assert p.from_unit([0.5])[0] == pytest.approx(math.sqrt(0.005 * 0.5))


# ---- target roles ---------------------------------------------------------------------------
def test_the_targets_file_has_roles_and_two_held_out_that_are_no_inputs():
    ts = load_targets()
    roles = {t.name: t.role for t in ts.targets}
    assert roles["wmo_maatwerk_clients"] == "fitted" and roles["maatwerk_cost_per_client"] == "consistency"
    held = [t for t in ts.targets if t.role == "held_out" and not t.is_input]
    assert len(held) >= 2
    assert all(t.fit == (t.role == "fitted") for t in ts.targets)


def _toml(tmp_path, body):
    path = tmp_path / "t.toml"
    path.write_text(body)
    return path


def test_a_bad_role_is_named_in_one_line(tmp_path):
    src = 'source = { title = "x", publisher = "y", year = 1 }'
    kpi = 'kpi = "wait_weeks_mean"\nvalue = 1.0\ntolerance = 1.0'
    bad = f'[[target]]\nname = "a"\nrole = "maybe"\n{kpi}\n{src}\n'
    with pytest.raises(TargetsError, match=r"target 'a': role must be one of fitted, held_out, consistency"):
        load_targets(_toml(tmp_path, bad))
    old = (
        f'[[target]]\nname = "b"\nfit = false\nkpi = "wait_weeks_mean"\nvalue = 1.0\ntolerance = 1.0\n{src}\n'
        f'[[target]]\nname = "c"\nkpi = "param:group_tariff"\nvalue = 10.0\ntolerance = 1.0\n{src}\n'
    )
    roles = [t.role for t in load_targets(_toml(tmp_path, old)).targets]
    assert roles == ["held_out", "consistency"]


# ---- the implausibility -----------------------------------------------------------------------
def test_implausibility_by_hand():
    # Wmo maatwerk 80 against 67 +- 13: V_tol = 6.5^2 = 42.25, V_disc = (0.1 * 67)^2 = 44.89,
    # V_em = 10, V_rep = 2: I = 13 / 9.9569 = 1.30563
    i = implausibility(80.0, 67.0, v_emulator=10.0, v_tolerance=42.25, v_discrepancy=44.89, v_replicate=2.0)
    assert float(i) == pytest.approx(13 / math.sqrt(99.14), rel=1e-12)
    assert float(i) == pytest.approx(1.30563, abs=1e-5)
    t = Target("w", "wmo_maatwerk_per_1000", 67.0, 13.0, {})
    assert target_variances(t, 0.1) == pytest.approx((42.25, 44.89))
    # one-sided: below a maximum is not implausible at all; above it counts
    assert float(implausibility(3.0, 6.0, v_tolerance=1.0, bound="max")) == 0.0
    assert float(implausibility(9.0, 6.0, v_tolerance=1.0, bound="max")) == pytest.approx(3.0)
    assert float(implausibility(np.nan, 6.0, v_tolerance=1.0)) == math.inf
    # the largest over targets decides
    u = Target("u", "youth_care_share", 0.1, 0.02, {})
    s = Settings(parameters=("help_threshold",), discrepancy=0.0)
    worst = max_implausibility({"w": np.array([67.0, 93.0]), "u": np.array([0.13, 0.1])}, [t, u], s, {})
    assert worst == pytest.approx([3.0, 4.0])


# ---- a toy simulator with a known answer ------------------------------------------------------
TOY_PARAMS = ("help_threshold", "complex_threshold", "skill_decay")


class Toy:
    """KPI = 100 x help_threshold (+ small seed noise); the other parameters do nothing.

    With the target 55 +- 2 (V_tolerance 1) and no discrepancy, the non-implausible region is
    help_threshold in about [0.52, 0.58]: 0.06 / 0.7 = 8.6% of the prior (uniform on 0.2-0.9).
    """

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.points = 0

    def batch(self, points, seeds):
        self.calls += 1
        if self.fail_at is not None and self.calls == self.fail_at:
            raise KeyboardInterrupt
        rows = []
        for i, pt in enumerate(points):
            for r, s in enumerate(seeds):
                noise = np.random.default_rng([int(s), int(1e6 * pt["help_threshold"])]).normal(0, 0.1)
                rows.append(
                    {
                        "point": i,
                        "replicate": r,
                        "seed": s,
                        "status": "ok",
                        "wmo_maatwerk_per_1000": 100 * pt["help_threshold"] + noise,
                        "youth_care_share": pt["complex_threshold"],
                    }
                )
        self.points += len(points)
        return pd.DataFrame(rows)


TOY_TARGETS = [
    Target("toy", "wmo_maatwerk_per_1000", 55.0, 2.0, {"title": "toy"}),
    Target("toy_held_out", "youth_care_share", 0.5, 0.1, {"title": "toy"}, role="held_out"),
]


def toy_settings(**kw):
    base = dict(
        parameters=TOY_PARAMS,
        waves=3,
        runs_per_wave=40,
        seeds=1,
        replicate_points=5,
        replicate_seeds=3,
        members=30,
        final_runs=40,
        sample=4000,
        discrepancy=0.0,
        emulator="gp",
        setup={},
    )
    return Settings(**{**base, **kw})


def test_the_region_shrinks_to_the_known_answer(tmp_path):
    result = history_match(TOY_TARGETS, toy_settings(), tmp_path, Toy())
    shares = [w.info["remaining_share"] for w in result.waves]
    assert shares[0] < 0.5 and all(b <= a + 0.02 for a, b in zip(shares, shares[1:], strict=False))
    assert shares[-1] == pytest.approx(0.06 / 0.7, abs=0.03)
    assert len(result.members) >= 30
    h = result.members["help_threshold"]
    assert h.min() > 0.515 and h.max() < 0.585  # simulated implausibility below 3: |100h - 55| < 3
    assert (result.members["implausibility"] < 3).all()
    # the held-out target is reported on the members, never used to rule out
    row = result.checks.set_index("target").loc["toy_held_out"]
    assert row["role"] == "held_out" and row["members"] == len(result.members)
    assert 0.1 < row["share_within"] < 0.5  # complex_threshold is free: about 0.2 / 0.8 of it is within
    # the folder: a plausible ensemble with each member's implausibility, the wave table, figures
    from calibration.history_report import write_history

    write_history(result, tmp_path, "test", "start", "end", {})
    ens = load_ensemble(tmp_path)
    assert list(ens.parameters) == list(TOY_PARAMS) and len(ens) == len(result.members)
    assert ens.members["implausibility"].to_numpy() == pytest.approx(
        result.members["implausibility"].to_numpy()
    )
    assert ens.meta["remaining_share"] == shares
    assert (tmp_path / "marginals.png").is_file() and (tmp_path / "pairs.png").is_file()


def test_resume_after_an_interrupted_wave_gives_the_same_result(tmp_path):
    whole = history_match(TOY_TARGETS, toy_settings(waves=2), tmp_path / "a", Toy())
    broken = Toy(fail_at=3)  # wave 1 (two batches: the points, the replicate seeds), then wave 2
    with pytest.raises(KeyboardInterrupt):
        history_match(TOY_TARGETS, toy_settings(waves=2), tmp_path / "b", broken)
    assert (tmp_path / "b" / "wave_01").is_dir() and not (tmp_path / "b" / "wave_02").exists()
    again = Toy()
    lines = []
    resumed = history_match(TOY_TARGETS, toy_settings(waves=2), tmp_path / "b", again, progress=lines.append)
    assert "wave 1/2: done earlier" in lines[0]
    assert again.points < broken.points + 40 + 40  # wave 1 was not run again
    pd.testing.assert_frame_equal(whole.members, resumed.members)
    with pytest.raises(HistoryError, match=r"other settings \(differs in: runs_per_wave\)"):
        history_match(TOY_TARGETS, toy_settings(waves=2, runs_per_wave=30), tmp_path / "b", Toy())


def test_a_larger_final_rounds_limit_continues_a_calibration_that_stopped_short(tmp_path):
    short = dict(waves=1, members=30, final_runs=10)
    straight = history_match(TOY_TARGETS, toy_settings(final_rounds=3, **short), tmp_path / "a", Toy())
    lines = []
    stopped = history_match(
        TOY_TARGETS, toy_settings(final_rounds=1, **short), tmp_path / "b", Toy(), progress=lines.append
    )
    assert len(stopped.members) < 30 and any("fewer than the 30 asked" in line for line in lines)
    again = Toy()
    extended = history_match(TOY_TARGETS, toy_settings(final_rounds=3, **short), tmp_path / "b", again)
    assert again.points == 20  # rounds 2 and 3 only
    assert len(extended.members) > len(stopped.members)
    pd.testing.assert_frame_equal(straight.members, extended.members)


def test_a_folder_in_use_by_another_calibration_is_refused_in_one_line(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "cal"
    holder = (
        "import sys, time\n"
        "from calibration.history import hold_folder\n"
        f"with hold_folder({str(folder)!r}):\n"
        "    print('ready', flush=True)\n"
        "    sys.stdin.readline()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(HistoryError, match=rf"is in use by process {proc.pid} since 20\d\d-"):
            history_match(TOY_TARGETS, toy_settings(waves=1), folder, Toy())
        assert not (folder / "wave_01").exists()
    finally:
        proc.communicate("done\n", timeout=60)
    result = history_match(TOY_TARGETS, toy_settings(waves=1), folder, Toy())  # released on exit
    assert len(result.members) >= 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cutoff", -1.0, r"cutoff = -1.0 is not allowed: expected a number in \(0, 10\]"),
        ("waves", 0, r"waves = 0 is not allowed: expected an integer in \[1, 20\]"),
        ("emulator", "nn", r"emulator = 'nn' is not allowed: expected auto, gp, gb"),
        ("parameters", ("mandate",), r"parameter 'mandate' is not allowed: expected a numeric behaviour"),
    ],
)
def test_bad_settings_are_named_in_one_line(tmp_path, field, value, message):
    with pytest.raises(HistoryError, match=message) as err:
        history_match(TOY_TARGETS, toy_settings(**{field: value}), tmp_path, Toy())
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_quick_calibration_on_the_command_line(tmp_path, capsys):
    from experiments.cli import main

    out = tmp_path / "cal"
    assert main(["calibrate", "--quick", "--workers", "1", "--out", str(out)]) == 0
    ens = load_ensemble(out)
    assert len(ens) >= 20 and (ens.members["implausibility"] < 3).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "calibration" and manifest["method"] == "history matching"
    assert (out / "waves.csv").is_file() and (out / "checks.csv").is_file() and (out / "report.md").is_file()
    text = capsys.readouterr().out
    assert "wave 1/2" in text and "wave 2/2" in text
    # rerunning continues (nothing left to run) and gives the same ensemble
    assert main(["calibrate", "--quick", "--workers", "1", "--out", str(out)]) == 0
    assert load_ensemble(out).members.equals(ens.members)
