"""Pattern-oriented validation on a small neighbourhood: DESIGN section 7, P1-P8.

Every check carries its kind from ``calibration/targets.toml``: verification (a rule imposes the
pattern; the check shows the code does what the rule says) or validation (it emerges).

The same checks as ``wijkteam validate`` (scenarios, KPIs, directions and minimum effects
from ``calibration/targets.toml``), on 2,000 residents over three reported years with four
seeds and common random numbers; P3, P4 and the staffing curve of P6 on the default size
(see :data:`LARGER`). Each test asserts the direction and the minimum effect of the mean; the
confidence interval is reported by ``wijkteam validate`` on the default neighbourhood.
"""

import pytest

from calibration.patterns import run_patterns
from calibration.runs import Simulator, crn_seeds
from calibration.targets import load_targets

SETUP = {"n_residents": 2000, "weeks": 156, "burn_in_weeks": 52}
SEEDS = crn_seeds(4, 2019)
#: Patterns that need the default size and more time, with their own setup and seeds:
#: the staffing curve needs enough worker positions to resolve six staffing levels (at 2,000
#: residents 0.5-2.2 FTE per 1,000 is one to four workers) and years for collective work to
#: reinforce itself; outcome steering tips a run into the collective regime or not (a bimodal
#: effect), which a small neighbourhood over three years does not show; the mandate effect on
#: escalation is small (about -7%) and needs the twelve seeds of ``wijkteam validate``.
LARGER = {
    "P6b": ({"n_residents": 5000, "weeks": 260, "burn_in_weeks": 52}, crn_seeds(3, 2019)),
    "P4": ({"n_residents": 5000, "weeks": 520}, crn_seeds(6, 2019)),
    "P3": ({"n_residents": 5000, "weeks": 520}, crn_seeds(12, 2019)),
}

TARGETS = load_targets()
CHECKS = [(p.id, c.kpi) for p in TARGETS.patterns for c in p.checks]

#: Checks that do not hold (see calibration/NOTE.md), expected to fail strictly: the test fails
#: when one of them starts to hold, so the list cannot silently outlive its reason.
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    ("P2", "collective_to_individual_cost_ratio"): (
        "costed as the Speelkamer case is (tariff plus the team's hours that run the group), a"
        " collective arrangement costs 0.641 [0.626, 0.656] of maatwerk per participant on the twelve"
        " seeds of wijkteam validate, not less than half"
    ),
    ("P4", "unmet_need_per_1000_year"): (
        "with the fair pre-2015 baseline, stated effect sizes and the M8 fix of issue 16, outcome"
        " steering lowers unmet need by 10.0% [-21.0, +1.0] on the twelve seeds of wijkteam validate"
        " (the interval includes 0) and by less than 10% on the six seeds here. Reported, not tuned."
    ),
    ("P8", "youth_care_share_low"): (
        "the model gives the opposite of the CPB note: in a team's first three years, outreach lowers"
        " registered youth care use of the low income group from 0.175 to 0.130, -25.5% [-29.9, -21.0],"
        " on the twelve seeds of wijkteam validate (5,000 residents), while their inflow rises by 64%"
        " and under-23s with any support rise (0.126 -> 0.194): need found early gets light team"
        " support that resolves it, so their referrals to maatwerk fall by two thirds (79 -> 26 per"
        " 1,000 a year). Reported, not tuned."
    ),
}


@pytest.fixture(scope="module")
def results():
    small = [p.id for p in TARGETS.patterns if p.id not in LARGER]
    with Simulator(SETUP, workers=1) as sim:
        found, _, _ = run_patterns(TARGETS, sim, SEEDS, only=small)
    for pid, (setup, seeds) in LARGER.items():
        with Simulator(setup, workers=1) as sim:
            found += run_patterns(TARGETS, sim, seeds, only=[pid])[0]
    return {(r.pattern, r.kpi): r for r in found}


def _params():
    out = []
    for key in CHECKS:
        marks = [pytest.mark.xfail(reason=KNOWN_FAILURES[key], strict=True)] if key in KNOWN_FAILURES else []
        out.append(pytest.param(key, id=f"{key[0]}-{key[1]}", marks=marks))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("key", _params())
def test_pattern(results, key):
    r = results[key]
    pattern = next(p for p in TARGETS.patterns if p.id == key[0])
    check = next(c for c in pattern.checks if c.kpi == key[1])
    assert (r.kind, r.origin) == (check.kind, check.origin)  # verification or validation, and why
    if pattern.kind == "contrast":
        sign = -1.0 if check.direction == "decrease" else 1.0
        assert sign * r.effect >= check.min_effect, (
            f"{r.pattern} {r.kpi}: effect {r.effect:+.3f}, needs {check.direction} by {check.min_effect}"
        )
    elif pattern.kind == "level":
        assert r.effect < check.below, f"{r.pattern} {r.kpi}: {r.effect:.3f} is not below {check.below}"
    else:
        assert r.effect >= check.min_effect, f"{r.pattern}: slope ratio {r.effect:.2f} < {check.min_effect}"
        assert not r.note, r.note


def test_every_pattern_of_the_design_is_checked():
    ids = {p.id.rstrip("b") for p in TARGETS.patterns}
    assert ids == {f"P{i}" for i in range(1, 9)}
