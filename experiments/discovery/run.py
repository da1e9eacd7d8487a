"""Scenario discovery end to end: the design, the runs, the boxes, the robustness table.

The design crosses a Latin hypercube of the numeric policy levers (registry ranges) with the
worlds (the members of a plausible ensemble, or Latin-hypercube draws of the behaviour
parameters from their registry ranges when no ensemble is given), with common random
numbers: replicate *i* uses the same seed at every design point, in every world, for the
pre-2015 reference and for every named policy. All runs of the first batch (design, reference
and policies) go through the executor into one results store (``out``); the representative
policies of the boxes found go into a second store (``out/box_policies``), since they depend on
the first batch. Both resume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from calibration.ensemble import Ensemble, from_ranges, load_ensemble
from experiments.api import setup_overrides
from experiments.discovery.boxes import Box, Cube, bootstrap_box, cart_leaves, feature_scores, find_boxes
from experiments.discovery.outcomes import (
    OUTCOME_KPIS,
    OutcomeError,
    OutcomeSpec,
    classify,
    escalation_threshold,
)
from experiments.discovery.robust import cost_columns, regret_table
from experiments.executor import execute, make_tasks
from experiments.scenario import MAIN_SCENARIOS, load
from experiments.store import StoreError
from model import SUMMARY_FIELDS
from model.params import REGISTRY, policy_levers

REFERENCE = "pre_2015_equal_spending"
#: The named policy scenarios compared for robustness (the main ones but the pre-2015 approach).
POLICY_SCENARIOS: tuple[str, ...] = tuple(n for n in MAIN_SCENARIOS if not n.startswith("pre_2015"))
BOX_STORE = "box_policies"


class DiscoveryError(OutcomeError):
    """A discovery that cannot be run as asked; one line naming the option."""


@dataclass
class Discovery:
    """What :func:`discover` found (also written to ``out``)."""

    spec: OutcomeSpec
    cube: Cube
    inputs: pd.DataFrame  # PRIM inputs per case
    cases: pd.DataFrame  # inputs, KPI means and outcomes per case
    boxes: dict[str, list[Box]]
    cart: dict[str, pd.DataFrame]
    scores: pd.DataFrame
    bootstrap: pd.DataFrame
    robustness: pd.DataFrame
    policy_results: pd.DataFrame  # (policy, member) KPI means, with the reference
    policy_titles: dict[str, str]
    escalation_cut: float
    levers: list[str]
    assumptions: list[str]
    info: dict[str, Any] = field(default_factory=dict)


def check_levers(levers: Sequence[str] | None) -> list[str]:
    allowed = policy_levers()
    chosen = list(levers) if levers else allowed
    bad = [n for n in chosen if n not in allowed]
    if bad:
        raise DiscoveryError(
            f"--levers: '{bad[0]}' is not a numeric policy lever: expected some of {', '.join(allowed)}"
        )
    if len(set(chosen)) != len(chosen):
        raise DiscoveryError("--levers: a lever is given twice")
    return chosen


def design_points(levers: Sequence[str], sample: int, seed: int) -> pd.DataFrame:
    """A Latin hypercube of ``sample`` points over the levers' registry ranges (seeded)."""
    if sample < 2:
        raise DiscoveryError(f"--sample: {sample} is not allowed: expected at least 2 design points")
    unit = qmc.LatinHypercube(d=len(levers), rng=np.random.default_rng([seed, 19])).random(sample)
    table = {}
    for j, name in enumerate(levers):
        p = REGISTRY[name]
        x = p.low + unit[:, j] * (p.high - p.low)
        table[name] = np.round(x).astype(float) if p.type is int else x
    return pd.DataFrame(table)


def worlds_for(
    ensemble: str | Path | Ensemble | None, n_worlds: int, seed: int, members: int | None = None
) -> Ensemble:
    """The ensemble given (a folder or an :class:`Ensemble`; its first ``members``, or all), or
    ``n_worlds`` draws from the ranges."""
    if members is not None and ensemble is None:
        raise DiscoveryError("--members is for --ensemble runs: it picks the ensemble's first N members")
    if isinstance(ensemble, Ensemble):
        return ensemble.head(members)
    if ensemble is not None:
        return load_ensemble(ensemble).head(members)
    if n_worlds < 2:
        raise DiscoveryError(f"--worlds: {n_worlds} is not allowed: expected at least 2 worlds")
    return from_ranges(n_worlds, seed)


def _ensemble_words(ensemble: str | Path | Ensemble | None, n: int) -> str:
    if isinstance(ensemble, str | Path):
        return str(ensemble)
    if ensemble is not None:
        return "an ensemble given in Python"
    return f"{n} draws from the registry ranges (no calibration)"


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def first_batch(
    points: pd.DataFrame, ensemble: Ensemble, policies: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parameter overrides and tags of the design, the reference and the named policies."""
    params, tags = [], []
    members = list(ensemble.iter_overrides())
    for p, row in points.iterrows():
        levers = {k: _python(v) for k, v in row.items()}
        for m, world in members:
            params.append({**world, **levers})
            tags.append({"role": "design", "policy": f"point {p}", "design_point": int(p), "member": m})
    for name in (REFERENCE, *policies):
        scenario = load(name)
        role = "reference" if name == REFERENCE else "policy"
        for m, world in members:
            params.append({**world, **scenario.params})
            tags.append({"role": role, "policy": name, "design_point": -1, "member": m})
    return params, tags


def build_cube(runs: pd.DataFrame, points: pd.DataFrame, ensemble: Ensemble, replicates: int) -> Cube:
    """Arrays (points, worlds, replicates) of the outcome KPIs; failed runs are NaN."""
    ids = ensemble.ids
    index = {m: j for j, m in enumerate(ids)}
    kpis = {k: np.full((len(points), len(ids), replicates), np.nan) for k in OUTCOME_KPIS}
    reference = {k: np.full((len(ids), replicates), np.nan) for k in OUTCOME_KPIS}
    ok = runs[runs["status"] == "ok"]
    design = ok[ok["role"] == "design"]
    p_idx = design["design_point"].to_numpy(int)
    m_idx = design["member"].map(index).to_numpy(int)
    r_idx = design["replicate"].to_numpy(int)
    ref = ok[ok["role"] == "reference"]
    for k in OUTCOME_KPIS:
        kpis[k][p_idx, m_idx, r_idx] = design[k].to_numpy(float)
        reference[k][ref["member"].map(index).to_numpy(int), ref["replicate"].to_numpy(int)] = ref[
            k
        ].to_numpy(float)
    worlds = ensemble.to_df()[["member", *ensemble.parameters]].reset_index(drop=True)
    return Cube(points.reset_index(drop=True), worlds, kpis, reference)


def policy_means(runs: pd.DataFrame) -> pd.DataFrame:
    """KPI means over replicates per (policy, member) of the reference and policy runs."""
    ok = runs[(runs["status"] == "ok") & runs["role"].isin(["reference", "policy", "box"])]
    kpis = [k for k in SUMMARY_FIELDS if k in ok.columns]
    means = ok.groupby(["role", "policy", "member"], sort=False)[kpis].mean().reset_index()
    means["collective_time_target"] = (
        ok.groupby(["role", "policy", "member"], sort=False)["p_collective_time_target"].first().to_numpy()
    )
    return means


def box_policy(box: Box, levers: Sequence[str]) -> dict[str, float] | None:
    """The representative policy of a box: the centre of each restricted lever, the registry
    default for the other levers (assumption restrictions are not a policy); ``None`` if the
    box restricts no lever."""
    restricted = box.limits[box.limits["name"].isin(levers)]
    if restricted.empty:
        return None
    policy = {}
    for row in restricted.itertuples():
        p = REGISTRY[row.name]
        centre = (row.low + row.high) / 2
        policy[row.name] = float(round(centre)) if p.type is int else float(centre)
    return policy


def discover(
    *,
    sample: int = 64,
    levers: Sequence[str] | None = None,
    ensemble: str | Path | Ensemble | None = None,
    worlds: int = 20,
    members: int | None = None,
    replicates: int = 2,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    spec: OutcomeSpec | None = None,
    boxes: int = 2,
    min_density: float = 0.75,
    box_on: str = "all",
    n_boot: int = 500,
    policies: Sequence[str] = POLICY_SCENARIOS,
    out: str | Path | None = None,
    **execute_options: Any,
) -> Discovery:
    """Run a scenario discovery (see the module docstring); results in memory and in ``out``."""
    spec = spec or OutcomeSpec()
    chosen = check_levers(levers)
    if box_on not in ("all", "levers"):
        raise DiscoveryError(f"--box-on: '{box_on}' is not allowed: expected all or levers")
    if not 0.0 < min_density <= 1.0:
        raise DiscoveryError(f"--min-density: {min_density} is out of range: expected > 0 and <= 1")
    if n_boot < 10:
        raise DiscoveryError(f"--bootstrap: {n_boot} is not allowed: expected at least 10 resamples")
    for name in policies:
        load(name)
    points = design_points(chosen, sample, seed)
    world_set = worlds_for(ensemble, worlds, seed, members)
    setup = setup_overrides(residents, weeks, burn_in)
    params, tags = first_batch(points, world_set, policies)
    tasks = make_tasks(params, replicates=replicates, base_seed=seed, setup=setup, tags=tags)
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "discovery": {
            "levers": chosen,
            "design_points": sample,
            "worlds": len(world_set),
            "ensemble": _ensemble_words(ensemble, len(world_set))
            + (f" (its first {members} members)" if members else ""),
            "outcomes": spec.to_dict(),
            "policies": [REFERENCE, *policies],
        },
    }  # fmt: skip
    outcome = execute(tasks, out, kind="discover", info=info, **execute_options)
    runs = outcome.runs
    cube = build_cube(runs, points, world_set, replicates)
    assumptions = [c for c in cube.worlds.columns if c != "member" and cube.worlds[c].nunique() > 1]
    inputs = cube.inputs(assumptions if box_on == "all" else [])
    cases = cube.cases()
    reference = cube.reference_means()
    ys = classify(cases, reference, spec)
    cut = escalation_threshold(cases, spec)

    found = {
        name: find_boxes(inputs, y, name, n_boxes=boxes, min_density=min_density) for name, y in ys.items()
    }
    trees = {name: cart_leaves(inputs, y) for name, y in ys.items()}
    scores = feature_scores(inputs, ys, seed=seed)

    def classifier(name: str):
        return lambda c, r: classify(c, r, spec, (name,))[name]

    boot_rows = []
    for name, found_boxes in found.items():
        for box in found_boxes:
            inside = box.contains(inputs)
            for mode in ("replicates", "both"):
                if mode == "replicates" and replicates < 2:
                    continue
                stats = bootstrap_box(cube, inside, classifier(name), n_boot=n_boot, seed=seed, resample=mode)
                boot_rows.append({"outcome": name, "box": box.number, **stats})
    boot = pd.DataFrame(boot_rows)

    # ---- robustness of the named policies and of a representative policy per 'escapes' box
    box_params, box_tags, titles = [], [], {name: load(name).title for name in policies}
    for box in found.get("escapes", []):
        policy = box_policy(box, chosen)
        if policy is None:
            continue
        label = f"escapes box {box.number}"
        titles[label] = f"Centre of 'escapes' box {box.number}"
        for m, world in world_set.iter_overrides():
            box_params.append({**world, **policy})
            box_tags.append({"role": "box", "policy": label, "design_point": -1, "member": m})
    all_runs = runs
    if box_params:
        box_tasks = make_tasks(box_params, replicates=replicates, base_seed=seed, setup=setup, tags=box_tags)
        box_out = Path(out) / BOX_STORE if out is not None else None
        box_info = {**info, "discovery": {**info["discovery"], "box_policies": titles}}
        options = {**execute_options}
        if options.get("command"):
            options["command"] = f"{options['command']} (representative policies of the boxes)"
        try:
            box_outcome = execute(box_tasks, box_out, kind="discover-boxes", info=box_info, **options)
        except StoreError as exc:
            # resumed with other analysis options: other boxes, other representative policies; these
            # runs are derived from the first batch, so they are replaced, not an error
            if not options.get("resume") or "different design" not in str(exc):
                raise
            options.update(resume=False, overwrite=True)
            box_outcome = execute(box_tasks, box_out, kind="discover-boxes", info=box_info, **options)
        all_runs = pd.concat([runs, box_outcome.runs], ignore_index=True)
    means = policy_means(all_runs)
    ref_means = means[means["role"] == "reference"]
    policy_rows = means[means["role"] != "reference"]
    robustness = regret_table(policy_rows, ref_means, spec, escalation_cut=cut)

    table = pd.concat(
        [inputs.reset_index(drop=True), cases.drop(columns=["collective_time_target"], errors="ignore")],
        axis=1,
    )
    table = table.loc[:, ~table.columns.duplicated()]
    for name, y in ys.items():
        table[name] = y
    return Discovery(
        spec=spec,
        cube=cube,
        inputs=inputs,
        cases=table,
        boxes=found,
        cart=trees,
        scores=scores,
        bootstrap=boot,
        robustness=robustness,
        policy_results=means,
        policy_titles=titles,
        escalation_cut=cut,
        levers=chosen,
        assumptions=assumptions if box_on == "all" else [],
        info={
            **info,
            "runs": outcome.total,
            "failed": outcome.failed,
            "cost_columns": cost_columns(means.columns),
        },
    )


def summary(disc: Discovery) -> Mapping[str, Any]:
    """A compact summary of the boxes for the manifest."""
    return {
        name: [
            {"box": b.number, "coverage": b.coverage, "density": b.density, "mass": b.mass,
             "limits": b.limits.to_dict(orient="records")}
            for b in found
        ]
        for name, found in disc.boxes.items()
    }  # fmt: skip
