"""The plausible-ensemble folder format (calibration/ensemble.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from calibration.ensemble import (
    META,
    TABLE,
    EnsembleError,
    from_ranges,
    from_values,
    load_ensemble,
    save_ensemble,
)
from model.params import REGISTRY, names, validate


def test_round_trip_keeps_members_and_types(tmp_path):
    ens = from_ranges(7, seed=3, fixed={"fte_per_1000": 1.0})
    save_ensemble(tmp_path, ens)
    back = load_ensemble(tmp_path)
    assert back.parameters == ens.parameters
    assert back.fixed == {"fte_per_1000": 1.0}
    pd.testing.assert_frame_equal(back.members, ens.members)
    for member, over in back.iter_overrides():
        p = validate(over)  # every member is a valid parameter set
        assert p.fte_per_1000 == 1.0
        for name in back.parameters:
            assert type(over[name]) is REGISTRY[name].type
            assert over[name] == pytest.approx(float(ens.members.loc[member, name]))


def test_draws_cover_ranges_and_differ_by_seed():
    a, b = from_ranges(20, seed=1), from_ranges(20, seed=2)
    assert set(a.parameters) == {n for n in names("behaviour") if REGISTRY[n].type is not bool}
    for name in a.parameters:
        col = a.members[name]
        assert col.min() >= REGISTRY[name].low and col.max() <= REGISTRY[name].high
    assert not a.members.equals(b.members)
    assert from_ranges(20, seed=1).members.equals(a.members)


def test_bad_values_are_named(tmp_path):
    name = "light_support_effect"
    with pytest.raises(EnsembleError, match=f"member 1: parameter '{name}'"):
        from_values(pd.DataFrame({name: [0.03, REGISTRY[name].high + 1.0]}))
    with pytest.raises(EnsembleError, match="not a behaviour one"):
        from_values(pd.DataFrame({"mandate": [0.5]}))
    with pytest.raises(EnsembleError, match="holds no ensemble"):
        load_ensemble(tmp_path)


def test_mismatched_description_is_refused(tmp_path):
    save_ensemble(tmp_path, from_ranges(3, seed=0, parameters=["light_support_effect"]))
    meta = json.loads((tmp_path / META).read_text())
    meta["n_members"] = 4
    (tmp_path / META).write_text(json.dumps(meta))
    with pytest.raises(EnsembleError, match="describes 4 members but the table has 3"):
        load_ensemble(tmp_path)
    assert (tmp_path / TABLE).exists()


def test_head_keeps_the_first_members_and_says_so():
    ens = from_ranges(5, seed=2)
    assert ens.head(None) is ens and ens.head(5) is ens
    small = ens.head(2)
    assert small.ids == ens.ids[:2] and small.meta["members_used"] == "the first 2 of 5"
    pd.testing.assert_frame_equal(small.to_df(), ens.to_df().iloc[:2])
    rule = r"--members = .* is not allowed: expected an integer in \[1, 5\]"
    for bad in (0, 6, 2.5, True):
        with pytest.raises(EnsembleError, match=rule):
            ens.head(bad)
