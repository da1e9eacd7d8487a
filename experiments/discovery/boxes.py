"""Boxes of lever and assumption values that lead to an outcome: PRIM, CART, feature scores,
and bootstrap intervals of a box's coverage and density.

PRIM, CART and feature scoring are the EMA Workbench's (``ema_workbench.analysis``); this
module chooses a box on PRIM's peeling trajectory, turns boxes into plain tables, and adds
what the Workbench lacks: intervals for a chosen box's coverage and density that account for
replicate noise and for which worlds happen to be in the ensemble (:func:`bootstrap_box`).

Terms (Bryant and Lempert's scenario discovery): *coverage* is the share of all cases of
interest that fall in the box, *density* the share of the cases in the box that are of
interest, *mass* the share of all cases in the box. A box restricts some inputs (its
*restricted dimensions*); each restriction has a quasi-p value (a one-sided binomial test of
whether dropping it would lower the density as much by chance).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

with warnings.catch_warnings():  # "ipyparallel not installed": the Workbench's parallel evaluators
    warnings.simplefilter("ignore")
    from ema_workbench.analysis import cart, feature_scoring, prim
    from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

logging.getLogger("EMA").setLevel(logging.WARNING)

#: Defaults of the PRIM run (the Workbench's own; Friedman and Fisher's peel/paste alpha).
PEEL_ALPHA = 0.05
PASTE_ALPHA = 0.05
MASS_MIN = 0.05
#: Choice of the box on the trajectory: the largest coverage with at least this density.
MIN_DENSITY = 0.75


@dataclass
class Box:
    """A box chosen on a PRIM peeling trajectory (or a CART leaf)."""

    outcome: str
    number: int  # 1 for the first box PRIM found, 2 for the next, ...
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim, n, k per step; 'chosen' marks one
    chosen: int  # the row of the trajectory chosen
    limits: pd.DataFrame  # restricted dims: name, low, high, full_low, full_high, qp_low, qp_high
    coverage: float
    density: float
    mass: float
    base_rate: float  # share of all cases that are of interest

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        """Which rows of ``x`` lie in the box (on its restricted dimensions)."""
        return in_box(x, self.limits)

    def describe(self, label: Callable[[str], str] = str) -> str:
        """The box as one line: 'a in [lo, hi] and b >= lo'."""
        return describe_limits(self.limits, label)


def in_box(x: pd.DataFrame, limits: pd.DataFrame) -> np.ndarray:
    """Rows of ``x`` within every restricted dimension of ``limits`` (bounds included)."""
    inside = np.ones(len(x), dtype=bool)
    for row in limits.itertuples():
        values = x[row.name].to_numpy(dtype=float)
        inside &= (values >= row.low) & (values <= row.high)
    return inside


def describe_limits(limits: pd.DataFrame, label: Callable[[str], str] = str) -> str:
    if limits.empty:
        return "no restriction (the whole space)"
    parts = []
    for row in limits.itertuples():
        low_cut, high_cut = row.low > row.full_low, row.high < row.full_high
        if low_cut and high_cut:
            parts.append(f"{label(row.name)} {_fmt(row.low)}–{_fmt(row.high)}")
        elif low_cut:
            parts.append(f"{label(row.name)} ≥ {_fmt(row.low)}")
        else:
            parts.append(f"{label(row.name)} ≤ {_fmt(row.high)}")
    return " and ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def choose(trajectory: pd.DataFrame, min_density: float = MIN_DENSITY) -> int:
    """The step with the largest coverage among those dense enough; if none is, the densest
    step (ties: the larger coverage).

    Dense enough: at least ``min_density``, and at least half way from the share of cases of
    interest in the data (the density of the first, unrestricted step) to 1, so that a common
    outcome (say 75% of cases) still gets a box that says where it is concentrated rather
    than "everywhere".
    """
    base = float(trajectory["density"].iloc[0])
    needed = max(min_density, base + (1.0 - base) / 2)
    dense = trajectory[trajectory["density"] >= needed]
    if not dense.empty:
        return int(dense.sort_values(["coverage", "density"], ascending=False).index[0])
    return int(trajectory.sort_values(["density", "coverage"], ascending=False).index[0])


def _limits(pbox, i: int, x: pd.DataFrame) -> pd.DataFrame:
    lims = pbox.box_lims[i]
    full = pbox.prim.box_init
    rows = []
    for name in x.columns:
        low, high = float(lims.at[0, name]), float(lims.at[1, name])
        full_low, full_high = float(full.at[0, name]), float(full.at[1, name])
        if low == full_low and high == full_high:
            continue
        qp = pbox.p_values[i].get(name, [-1, -1])
        rows.append(
            {
                "name": name,
                "low": low,
                "high": high,
                "full_low": full_low,
                "full_high": full_high,
                "qp_low": np.nan if qp[0] == -1 else float(qp[0]),
                "qp_high": np.nan if qp[1] == -1 else float(qp[1]),
            }
        )
    columns = ["name", "low", "high", "full_low", "full_high", "qp_low", "qp_high"]
    return pd.DataFrame(rows, columns=columns)


def find_boxes(
    x: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    *,
    n_boxes: int = 1,
    min_density: float = MIN_DENSITY,
    mass_min: float = MASS_MIN,
    peel_alpha: float = PEEL_ALPHA,
    paste_alpha: float = PASTE_ALPHA,
) -> list[Box]:
    """Up to ``n_boxes`` PRIM boxes for the cases ``y`` (boolean) in the inputs ``x``.

    Each box is chosen on its peeling trajectory with :func:`choose`; the next box is
    searched among the cases outside the earlier ones (the Workbench's covering). No box is
    returned when there are no cases of interest, or only such cases.
    """
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        return []
    x = x.reset_index(drop=True).astype(float)
    runner = prim.Prim(x, y.copy(), peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min)
    boxes: list[Box] = []
    for number in range(1, n_boxes + 1):
        pbox = runner.find_box()
        if pbox is None:
            break
        trajectory = pbox.peeling_trajectory.copy()
        i = choose(trajectory, min_density)
        pbox.select(i)
        trajectory["chosen"] = trajectory.index == i
        limits = _limits(pbox, i, x)
        inside = in_box(x, limits)
        hits = float(np.sum(y & inside))
        density = hits / max(inside.sum(), 1)
        if number > 1 and density <= y.mean():
            break  # a later box no richer in cases of interest than the whole design says nothing
        boxes.append(
            Box(
                outcome=outcome,
                number=number,
                trajectory=trajectory,
                chosen=i,
                limits=limits,
                coverage=hits / y.sum(),  # over the whole design (a later box's trajectory is over
                density=density,  # the cases outside the earlier boxes)
                mass=float(inside.mean()),
                base_rate=float(y.mean()),
            )
        )
        if limits.empty or not (y & ~np.any([b.contains(x) for b in boxes], axis=0)).any():
            break
    return boxes


def cart_leaves(x: pd.DataFrame, y: np.ndarray, mass_min: float = MASS_MIN) -> pd.DataFrame:
    """CART's terminal leaves (the Workbench's ``cart.CART``) with their coverage, density and
    mass, and the restrictions as text; leaves richer in cases of interest than the whole
    design first."""
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        return pd.DataFrame(columns=["leaf", "coverage", "density", "mass", "restrictions"])
    x = x.reset_index(drop=True).astype(float)
    mass_min = max(mass_min, 1.0 / len(x))  # at least one case per leaf in a small design
    tree = cart.CART(x, y, mass_min=mass_min, mode=RuleInductionType.BINARY)
    tree.build_tree()
    full = x.agg(["min", "max"]).reset_index(drop=True)
    rows = []
    for leaf, (lims, stats) in enumerate(zip(tree.boxes, tree.stats, strict=True)):
        limits = _plain_limits(lims, full)
        rows.append(
            {
                "leaf": leaf,
                "coverage": float(stats["coverage"]),
                "density": float(stats["density"]),
                "mass": float(stats["mass"]),
                "restrictions": describe_limits(limits),
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values(["density", "coverage"], ascending=False).reset_index(drop=True)


def _plain_limits(lims: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for name in lims.columns:
        low, high = float(lims.at[0, name]), float(lims.at[1, name])
        full_low, full_high = float(full.at[0, name]), float(full.at[1, name])
        if low > full_low or high < full_high:
            rows.append(
                {"name": name, "low": max(low, full_low), "high": min(high, full_high),
                 "full_low": full_low, "full_high": full_high}
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["name", "low", "high", "full_low", "full_high"])


def feature_scores(x: pd.DataFrame, outcomes: dict[str, np.ndarray], seed: int = 0) -> pd.DataFrame:
    """Extra-trees feature scores (the Workbench's) of every input for each boolean outcome;
    an outcome that is constant over the design gets no column."""
    usable = {k: np.asarray(v, dtype=int) for k, v in outcomes.items() if 0 < np.sum(v) < len(v)}
    if not usable:
        return pd.DataFrame(index=x.columns)
    scores = feature_scoring.get_feature_scores_all(
        x.reset_index(drop=True).astype(float),
        usable,
        alg="extra trees",
        mode=RuleInductionType.CLASSIFICATION,
        random_state=seed,
    )
    scores.index.name, scores.columns.name = None, None
    first = next(iter(usable))
    return scores.sort_values(first, ascending=False)


# ---- bootstrap over replicates and worlds ------------------------------------------------------
@dataclass(frozen=True)
class Cube:
    """Replicate-level results of a design crossed with worlds, for resampling.

    ``points`` holds the lever values of the P design points (one column per lever),
    ``worlds`` the M worlds (``member`` and one column per varied assumption); ``kpis`` maps a
    KPI to an array (P, M, R) over points, worlds and replicates, ``reference`` to an array
    (M, R) of the pre-2015 reference in each world (same replicate seeds). A case is
    (point p, world m), case index p * M + m.
    """

    points: pd.DataFrame
    worlds: pd.DataFrame
    kpis: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, int, int]:
        return next(iter(self.kpis.values())).shape

    def inputs(self, world_columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The PRIM inputs per case: the levers, then the world's assumptions."""
        p, m, _ = self.shape
        cols = (
            [c for c in self.worlds.columns if c != "member"]
            if world_columns is None
            else list(world_columns)
        )
        left = self.points.loc[self.points.index.repeat(m)].reset_index(drop=True)
        right = self.worlds[cols].iloc[np.tile(np.arange(m), p)].reset_index(drop=True)
        return pd.concat([left, right], axis=1)

    def cases(self, members: np.ndarray | None = None, reps: np.ndarray | None = None) -> pd.DataFrame:
        """Case means over replicates (optionally of resampled worlds and replicates).

        ``members`` (length M') picks worlds (with repeats), ``reps`` (M', R') the replicates
        averaged in each picked world; the picked worlds are numbered 0..M'-1 in ``member``.
        """
        p, m, r = self.shape
        members = np.arange(m) if members is None else np.asarray(members)
        reps = np.tile(np.arange(r), (len(members), 1)) if reps is None else np.asarray(reps)
        table = {
            "point": np.repeat(np.arange(p), len(members)),
            "member": np.tile(np.arange(len(members)), p),
        }
        for name, cube in self.kpis.items():
            picked = cube[:, members[:, None], reps]  # (P, M', R')
            table[name] = _nanmean(picked).reshape(-1)
        frame = pd.DataFrame(table)
        if "collective_time_target" in self.points.columns:
            frame["collective_time_target"] = np.repeat(
                self.points["collective_time_target"].to_numpy(dtype=float), len(members)
            )
        return frame

    def reference_means(
        self, members: np.ndarray | None = None, reps: np.ndarray | None = None
    ) -> pd.DataFrame:
        _, m, r = self.shape
        members = np.arange(m) if members is None else np.asarray(members)
        reps = np.tile(np.arange(r), (len(members), 1)) if reps is None else np.asarray(reps)
        table = {"member": np.arange(len(members))}
        for name, cube in self.reference.items():
            table[name] = _nanmean(cube[members[:, None], reps])
        return pd.DataFrame(table)


def _nanmean(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():  # a world whose runs all failed stays NaN (then not of interest)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=-1)


Classifier = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]


def bootstrap_box(
    cube: Cube,
    inside: np.ndarray,
    classify: Classifier,
    *,
    n_boot: int = 500,
    seed: int = 0,
    resample: str = "both",
    level: float = 0.9,
) -> dict[str, float]:
    """Bootstrap intervals of a fixed box's coverage and density.

    ``inside`` says which cases (index p * M + m) lie in the box; ``classify(cases,
    reference)`` gives the outcome of every case from case means (so the outcome, including
    thresholds relative to the design, is recomputed in every resample). ``resample`` is
    ``"replicates"`` (replicates drawn with replacement within each world: replicate noise
    only), ``"worlds"`` (worlds drawn with replacement) or ``"both"``. Returns the point
    estimates, the bootstrap means and the ``level`` percentile intervals.
    """
    if resample not in ("replicates", "worlds", "both"):
        raise ValueError(f"resample '{resample}' is not allowed: expected replicates, worlds or both")
    p, m, r = cube.shape
    rng = np.random.default_rng(seed)
    inside = np.asarray(inside, dtype=bool).reshape(p, m)
    coverage, density = np.full(n_boot, np.nan), np.full(n_boot, np.nan)
    for b in range(n_boot):
        members = rng.integers(m, size=m) if resample in ("worlds", "both") else np.arange(m)
        reps = (
            rng.integers(r, size=(m, r))
            if resample in ("replicates", "both")
            else np.tile(np.arange(r), (m, 1))
        )
        y = np.asarray(classify(cube.cases(members, reps), cube.reference_means(members, reps)), dtype=bool)
        box = inside[:, members].reshape(-1)
        hits = np.sum(y & box)
        if y.any():
            coverage[b] = hits / y.sum()
        if box.any():
            density[b] = hits / box.sum()
    y0 = np.asarray(classify(cube.cases(), cube.reference_means()), dtype=bool)
    box0 = inside.reshape(-1)
    tail = (1 - level) / 2 * 100
    out = {
        "coverage": float(np.sum(y0 & box0) / max(y0.sum(), 1)),
        "density": float(np.sum(y0 & box0) / max(box0.sum(), 1)),
        "resample": resample,
        "n_boot": n_boot,
        "level": level,
    }
    for name, values in (("coverage", coverage), ("density", density)):
        ok = values[np.isfinite(values)]
        out[f"{name}_mean"] = float(ok.mean()) if ok.size else float("nan")
        low, high = np.percentile(ok, [tail, 100 - tail]) if ok.size else (np.nan, np.nan)
        out[f"{name}_low"], out[f"{name}_high"] = float(low), float(high)
    return out
