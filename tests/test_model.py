"""The Model and the run() interface: outputs, determinism, bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from model import SERIES_FIELDS, SUMMARY_FIELDS, NeighbourhoodModel, ParameterError, run
from model.resident import STATUSES

from .conftest import SMALL


def test_run_returns_documented_summary_and_series():
    summary, series = run(seed=1, **SMALL)
    assert list(summary) == list(SUMMARY_FIELDS)
    assert all(isinstance(v, float) for v in summary.values())
    assert isinstance(series, pd.DataFrame)
    assert list(series.columns) == list(SERIES_FIELDS)
    assert len(series) == SMALL["weeks"]
    assert series["week"].tolist() == list(range(1, SMALL["weeks"] + 1))
    assert summary["reported_weeks"] == SMALL["weeks"]


def test_weeks_argument_overrides_the_horizon():
    _, series = run(seed=1, weeks=30, n_residents=500, burn_in_weeks=5)
    assert len(series) == 30


def test_same_seed_gives_identical_summary_and_series():
    a, sa = run(seed=7, **SMALL)
    b, sb = run(seed=7, **SMALL)
    assert a == b
    pd.testing.assert_frame_equal(sa, sb)


def test_different_seeds_differ():
    a, _ = run(seed=1, **SMALL)
    b, _ = run(seed=2, **SMALL)
    assert a != b


def test_collect_false_gives_the_same_summary():
    a, _ = run(seed=3, **SMALL)
    b, series = run(seed=3, collect=False, **SMALL)
    assert a == b and series.empty


def test_bad_parameters_raise_one_clear_error():
    with pytest.raises(ParameterError, match="unknown parameter 'staffing'"):
        run(seed=1, staffing=2.0)
    with pytest.raises(ParameterError, match=r"'mandate' = 1.5 is out of range.*\[0, 1\]"):
        NeighbourhoodModel({"mandate": 1.5})


def test_residents_are_mesa_agents_viewing_the_arrays():
    model = NeighbourhoodModel({**SMALL, "n_residents": 300}, rng=0)
    residents = model.residents
    assert len(residents) == 300
    r = residents.to_list()[5]
    model.pop.sev[5, 2] = 0.4
    assert r.severity[2] == 0.4
    assert r.status in STATUSES and r.age_group in ("youth", "adult", "elderly")
    assert 0.0 <= r.self_reliance <= 1.0


def test_default_run_has_plausible_dutch_magnitudes():
    """Default neighbourhood: magnitudes near the public figures (DESIGN section 0)."""
    s, _ = run(seed=0, collect=False, weeks=260)
    assert 80 <= s["maatwerk_clients_per_1000"] <= 160  # all domains; Wmo alone ~67
    assert 45 <= s["wmo_maatwerk_per_1000"] <= 100  # CBS 2019: 67 (16-104 between neighbourhoods)
    assert 400 <= s["cost_total_per_resident_year"] <= 900
    assert 0.05 <= s["youth_care_share"] <= 0.2  # CBS 2023: 10.6% of under-23s
    assert s["collective_time_share"] < 0.5 * 0.25  # P1: the caseload squeezes collective work
    assert not math.isnan(s["wait_weeks_mean"])


def test_series_values_are_finite_where_defined():
    _, series = run(seed=2, **SMALL)
    numeric = series.drop(columns=["caught_early_share"])
    assert np.isfinite(numeric.to_numpy()).all()


def test_youth_registration_threshold_changes_only_the_youth_care_kpis():
    """Registration is an observation rule: it moves the registered youth-care KPIs only."""
    short, _ = run(seed=3, collect=False, youth_registration_weeks=4, **SMALL)
    long, _ = run(seed=3, collect=False, youth_registration_weeks=52, **SMALL)
    by_group = {f"youth_care_share_{g}" for g in ("low", "middle", "high")}
    kpis = {"youth_care_share", "youth_care_team_share", *by_group}
    assert {k: v for k, v in short.items() if k not in kpis} == {
        k: v for k, v in long.items() if k not in kpis
    }
    # More team support counts as youth care when registration starts sooner.
    assert short["youth_care_team_share"] > long["youth_care_team_share"]
    assert short["youth_care_share"] > long["youth_care_share"]
    for s in (short, long):  # registered youth care is part of all support to under-23s
        assert 0.0 < s["youth_care_share"] <= s["youth_support_share"] <= 1.0
