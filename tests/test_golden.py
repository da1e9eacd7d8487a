"""Golden fingerprints: a change that must not change results keeps these hashes.

Each configuration below is run once; the sha256 of its summary (names and exact float bits, in
field order) and of its weekly series (columns and exact float bits) must equal the hashes in
``tests/golden.json``, recorded from the code before the redesign of issue #14. A refactoring
that changes a single bit of any result fails here.

The expected hashes are never rewritten by the tests. When a change is *meant* to change results
(a new rule, a new default), regenerate them explicitly and say so in the commit::

    python -m tests.test_golden --regenerate
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from model import run
from model.params import REGISTRY

GOLDEN = Path(__file__).with_name("golden.json")
SCENARIOS = Path(__file__).resolve().parent.parent / "experiments" / "scenarios"
BASE = {"n_residents": 800, "burn_in_weeks": 52, "weeks": 104}
SWITCHES = [name for name, p in REGISTRY.items() if p.kind == "switch"]
# Mechanisms are switched off in a neighbourhood where every one of them has work to do.
ACTIVE = {**BASE, "fte_per_1000": 1.6, "collective_time_target": 0.4, "collective_budget_share": 0.1}
LEVERS = [name for name, p in REGISTRY.items() if p.kind == "policy" and p.type is float]


def _scenario(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())["params"]


def configurations() -> dict[str, tuple[int, dict[str, Any]]]:
    """Name -> (seed, parameters) of every fingerprinted run."""
    configs: dict[str, tuple[int, dict[str, Any]]] = {"defaults": (1, dict(BASE))}
    for path in sorted(SCENARIOS.glob("*.toml")):
        configs[f"scenario_{path.stem}"] = (2, {**BASE, **_scenario(path)})
    for switch in SWITCHES:
        configs[f"off_{switch}"] = (3, {**ACTIVE, switch: False})
    configs["all_on"] = (3, dict(ACTIVE))
    configs["levers_low"] = (4, {**BASE, **{k: REGISTRY[k].low for k in LEVERS}})
    configs["levers_high"] = (5, {**BASE, **{k: REGISTRY[k].high for k in LEVERS}})
    configs["pre_2015_no_burn_in"] = (6, {**BASE, "pre_2015": True, "burn_in_weeks": 0})
    configs["tiny"] = (7, {"n_residents": 200, "burn_in_weeks": 26, "weeks": 156, "fte_per_1000": 3.0})
    configs["large"] = (8, {"n_residents": 5000, "burn_in_weeks": 26, "weeks": 52})
    configs["long_mandate"] = (9, {"n_residents": 1500, "burn_in_weeks": 104, "weeks": 156,
                                   "mandate": 1.0, "steering": 1.0, "independence": 0.0})  # fmt: skip
    return configs


def fingerprint(summary: dict[str, float], series: pd.DataFrame) -> dict[str, str]:
    """sha256 of the summary (names, then exact float bits) and of the series (columns, bits)."""
    s = hashlib.sha256()
    s.update("\n".join(summary).encode())
    s.update(np.array(list(summary.values()), np.float64).tobytes())
    w = hashlib.sha256()
    w.update("\n".join(map(str, series.columns)).encode())
    w.update(repr(series.shape).encode())
    w.update(np.ascontiguousarray(series.to_numpy(np.float64)).tobytes())
    return {"summary": s.hexdigest(), "series": w.hexdigest()}


def compute(name: str) -> dict[str, str]:
    seed, params = configurations()[name]
    return fingerprint(*run(params, seed=seed))


@pytest.mark.parametrize("name", list(configurations()))
def test_results_keep_their_golden_fingerprints(name):
    expected = json.loads(GOLDEN.read_text())
    assert name in expected, f"no golden fingerprint for {name}: regenerate explicitly (see module docstring)"
    assert compute(name) == expected[name]


def test_every_fingerprint_has_a_configuration():
    assert set(json.loads(GOLDEN.read_text())) == set(configurations())


if __name__ == "__main__":
    if sys.argv[1:] != ["--regenerate"]:
        sys.exit("usage: python -m tests.test_golden --regenerate   (rewrites tests/golden.json)")
    hashes = {name: compute(name) for name in configurations()}
    GOLDEN.write_text(json.dumps(hashes, indent=1) + "\n")
    print(f"wrote {len(hashes)} fingerprints to {GOLDEN}")
