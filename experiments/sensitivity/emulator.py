"""Sensitivity analysis on an emulator: which assumptions decide which conclusion (issue #18, item 5).

Sobol' indices of ~80 behaviour parameters need hundreds of thousands of direct runs. Here a
design of direct runs (a Latin hypercube of ``n`` points within the priors of
:func:`model.params.salib_problem`) trains one emulator per output (scikit-learn's gradient
boosting, or a Gaussian process), and the Sobol' indices are computed on the emulator
(Saltelli sample, SALib). The emulator's out-of-sample R² (k-fold cross-validation on the
direct runs) is reported next to every index: indices from an emulator that predicts poorly
say little.

A *conclusion* is the contrast of two scenarios (``treatment - baseline``, paired: both sides
of a design point run with the same seeds), e.g. the six success conditions against pre-2015
with equal staff; its sign on a KPI is the conclusion that the report follows. Without a
contrast the outputs are the KPIs of one scenario. Per conclusion the report names the few
parameters with the largest total index (ST) and which way each pushes the contrast (the
emulator's main effect from the low to the high third of the parameter's range): the list
of assumptions a researcher should go and measure.

Parameters a scenario of the contrast sets itself (e.g. the pre-2015 welfare staffing) are
not varied: the scenario's value holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import qmc

from experiments.executor import Outcome, Runner, Task, execute, run_seed
from experiments.labels import effect_unit, lever_name, output_label
from experiments.scenario import load
from experiments.sensitivity.problem import SensitivityError, problem, resolve_outputs, sample_points
from experiments.store import atomic_write_bytes, atomic_write_parquet
from model import validate
from model.params import salib_problem

#: The default conclusion: the six success conditions against pre-2015 with equal staff.
DEFAULT_CONTRAST = ("success_conditions", "pre_2015_equal_staff")
#: The outputs whose contrast is the default conclusion (escalations, unmet need, cost).
CONCLUSION_OUTPUTS = ("escalations_per_1000_year", "unmet_need_per_1000_year", "cost_total_per_resident_year")
EMULATORS = ("gb", "gp")
#: Below this out-of-sample R², the report says the indices are not to be trusted.
POOR_R2 = 0.5
#: Parameters named per conclusion.
TOP = 5
FILES = (
    "emulator_design.parquet",
    "emulator_fit.csv",
    "emulator_indices.csv",
    "emulator_indices.png",
    "report.md",
)


@dataclass
class EmulatorResult:
    """The design, the emulators' fit and the indices computed on them."""

    problem: dict[str, Any]
    outputs: list[str]
    contrast: tuple[str, str] | None
    design: pd.DataFrame  # one row per design point: parameters, then the response per output
    fit: pd.DataFrame  # per output: R² (k-fold), folds, the emulator
    indices: pd.DataFrame  # per output and parameter: S1, ST and intervals, main effect, rank
    shares: pd.DataFrame  # per output: share of direct points and emulated prior with a negative response
    outcome: Outcome | None
    emulator: str
    replicates: int
    kept_by_scenario: list[str] = field(default_factory=list)

    def deciders(self, output: str, top: int = TOP) -> pd.DataFrame:
        """The ``top`` parameters with the largest ST for ``output``."""
        sub = self.indices[self.indices["output"] == output]
        return sub.sort_values("ST", ascending=False).head(top).reset_index(drop=True)


def make_emulator(kind: str, seed: int = 0):
    """A scikit-learn regressor on the unit cube: gradient boosting (``gb``) or a GP (``gp``)."""
    if kind == "gb":
        from sklearn.ensemble import GradientBoostingRegressor

        # small designs (tens of points): shallow trees, small leaves, shrinkage and subsampling
        return GradientBoostingRegressor(
            n_estimators=300,
            learning_rate=0.05,
            max_depth=3,
            min_samples_leaf=3,
            subsample=0.8,
            random_state=seed,
        )
    if kind == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        def kernel(d: int):
            return ConstantKernel() * Matern(length_scale=np.ones(d), nu=2.5) + WhiteKernel()

        class _GP(GaussianProcessRegressor):
            def fit(self, x, y):  # the kernel's length scales per input, known only at fit time
                self.kernel = kernel(x.shape[1])
                return super().fit(x, y)

        return _GP(normalize_y=True, random_state=seed, n_restarts_optimizer=1)
    raise SensitivityError(f"unknown emulator '{kind}'; choose {' or '.join(EMULATORS)}")


def out_of_sample_r2(kind: str, x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0) -> float:
    """R² of k-fold cross-validated predictions (every point predicted by an emulator that never saw it)."""
    from sklearn.model_selection import KFold, cross_val_predict

    folds = max(2, min(folds, len(y)))
    pred = cross_val_predict(
        make_emulator(kind, seed), x, y, cv=KFold(folds, shuffle=True, random_state=seed)
    )
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - pred) ** 2).sum()) / ss if ss > 0 else math.nan


def unit(x: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Parameters scaled to the unit cube (the emulators' inputs)."""
    return (x - bounds[:, 0]) / np.where(bounds[:, 1] > bounds[:, 0], bounds[:, 1] - bounds[:, 0], 1.0)


def emulated_indices(
    model: Any, prob: Mapping[str, Any], base_n: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Sobol' S1 and ST (with SALib's 95% intervals) of a fitted emulator; also the sample and predictions."""
    from SALib import ProblemSpec

    sp = ProblemSpec({"names": list(prob["names"]), "bounds": [list(b) for b in prob["bounds"]]})
    sp.sample_sobol(base_n, calc_second_order=False, seed=seed)
    bounds = np.asarray(prob["bounds"], float)
    x = np.clip(np.asarray(sp.samples, float), bounds[:, 0], bounds[:, 1])
    y = model.predict(unit(x, bounds))
    sp.set_results(y)
    sp.analyze_sobol(calc_second_order=False, seed=seed)
    res = sp.analysis
    df = pd.DataFrame(
        {
            "parameter": list(prob["names"]),
            "S1": res["S1"],
            "S1_conf": res["S1_conf"],
            "ST": res["ST"],
            "ST_conf": res["ST_conf"],
        }
    )
    return df, x, y


def main_effect(x: np.ndarray, y: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per parameter: mean prediction in the top third of its range minus the bottom third."""
    u = unit(x, bounds)
    out = np.empty(u.shape[1])
    for j in range(u.shape[1]):
        lo, hi = u[:, j] < 1 / 3, u[:, j] > 2 / 3
        out[j] = float(y[hi].mean() - y[lo].mean()) if lo.any() and hi.any() else math.nan
    return out


def design_tasks(
    points: Sequence[Mapping[str, Any]],
    sides: Sequence[tuple[str, Mapping[str, Any]]],
    replicates: int,
    base_seed: int,
    setup: Mapping[str, Any],
) -> list[Task]:
    """A task per point, side and replicate; both sides of a point share its seeds (paired contrast)."""
    tasks: list[Task] = []
    for i, point in enumerate(points):
        for side, scenario_params in sides:
            params = validate({**setup, **point, **scenario_params}).overrides()
            for r in range(replicates):
                tasks.append(Task(len(tasks), params, run_seed(base_seed, r, i), r, i, {"side": side}))
    return tasks


def responses(runs: pd.DataFrame, outputs: Sequence[str], n_points: int, contrast: bool) -> pd.DataFrame:
    """Per design point and output: the mean over replicates of ``treatment - baseline`` (or the KPI)."""
    ok = runs[runs["status"] == "ok"]
    if contrast:
        t = ok[ok["side"] == "treatment"].set_index(["point", "replicate"])[list(outputs)]
        b = ok[ok["side"] == "baseline"].set_index(["point", "replicate"])[list(outputs)]
        diff = (t - b).dropna(how="all")
        means = diff.groupby(level="point").mean()
    else:
        means = ok.groupby("point")[list(outputs)].mean()
    return means.reindex(range(n_points))


def run_emulated(
    params: str | Sequence[str] | None = "behaviour",
    outputs: str | Sequence[str] | None = None,
    *,
    n: int = 64,
    contrast: tuple[str, str] | None = DEFAULT_CONTRAST,
    replicates: int = 1,
    residents: int | None = None,
    weeks: int | None = None,
    burn_in: int | None = None,
    seed: int = 0,
    fixed: Mapping[str, Any] | None = None,
    emulator: str = "gb",
    base_n: int = 1024,
    folds: int = 5,
    out: str | Path | None = None,
    runner: Runner | None = None,
    command: str | None = None,
    **execute_options: Any,
) -> EmulatorResult:
    """Run a Latin-hypercube design of ``n`` points, fit an emulator per output, and compute
    Sobol' indices on it (``base_n`` Saltelli base rows). ``contrast=(treatment, baseline)``
    (scenario names) makes each output the paired contrast; ``None`` analyses the KPIs of the
    registry defaults (with ``fixed``). Further keyword arguments go to the executor."""
    if emulator not in EMULATORS:
        raise SensitivityError(f"unknown emulator '{emulator}'; choose {' or '.join(EMULATORS)}")
    if n < 2 * folds:
        raise SensitivityError(
            f"an emulator needs at least {2 * folds} design points for {folds}-fold R², not {n}"
        )
    chosen = resolve_outputs(outputs or (CONCLUSION_OUTPUTS if contrast else None))
    fixed = dict(fixed or {})
    if contrast:
        sides = [("baseline", load(contrast[1]).params), ("treatment", load(contrast[0]).params)]
    else:
        sides = [("default", {})]
    names = problem(params)["names"]
    set_by_scenario = sorted({k for _, sp in sides for k in sp} & set(names))
    varied = [p for p in names if p not in set_by_scenario and p not in fixed]
    if len(varied) < 2:
        raise SensitivityError("an emulator needs at least two varied parameters")
    prob = salib_problem(varied)
    bounds = np.asarray(prob["bounds"], float)
    lhs = qmc.LatinHypercube(d=len(varied), rng=np.random.default_rng(seed)).random(n)
    sample = bounds[:, 0] + lhs * (bounds[:, 1] - bounds[:, 0])
    points = sample_points(sample, varied)
    x = np.asarray([[pt[v] for v in varied] for pt in points], float)
    setup = {
        k: v for k, v in {"n_residents": residents, "weeks": weeks, "burn_in_weeks": burn_in}.items() if v
    }
    tasks = design_tasks(points, [(s, {**fixed, **p}) for s, p in sides], replicates, seed, setup)
    info = {
        "replicates": replicates,
        "base_seed": seed,
        "setup": setup,
        "sensitivity": {
            "method": f"emulator ({emulator}) + Sobol'",
            "n": n,
            "problem": prob,
            "outputs": chosen,
            "contrast": list(contrast) if contrast else None,
            "fixed": fixed,
            "set_by_scenario": set_by_scenario,
            "emulator_base_n": base_n,
        },
    }
    outcome = execute(
        tasks, out, kind="sa-emulate", info=info, runner=runner, command=command, **execute_options
    )
    resp = responses(outcome.runs, chosen, n, contrast is not None)
    fits, tables, shares = [], [], []
    for k, output in enumerate(chosen):
        y = resp[output].to_numpy(float)
        keep = np.isfinite(y)
        if keep.sum() < 2 * folds:
            raise SensitivityError(
                f"{output}: only {int(keep.sum())} design points have a value; too few to emulate"
            )
        xu, yk = unit(x[keep], bounds), y[keep]
        r2 = out_of_sample_r2(emulator, xu, yk, folds, seed)
        model = make_emulator(emulator, seed).fit(xu, yk)
        table, xs, ys = emulated_indices(model, prob, base_n, seed + k)
        table["main_effect"] = main_effect(xs, ys, bounds)
        table.insert(0, "output", output)
        table["r2"] = r2
        table["rank"] = table["ST"].rank(ascending=False, method="first").astype(int)
        tables.append(table)
        fits.append(
            {"output": output, "r2": r2, "folds": folds, "points": int(keep.sum()), "emulator": emulator}
        )
        shares.append(
            {
                "output": output,
                "direct_negative": float(np.mean(yk < 0)),
                "emulated_negative": float(np.mean(ys < 0)),
                "direct_median": float(np.median(yk)),
            }
        )
    design = pd.DataFrame(x, columns=varied)
    design.insert(0, "point", np.arange(n))
    design = pd.concat([design, resp.reset_index(drop=True).add_prefix("response_")], axis=1)
    return EmulatorResult(
        problem=prob,
        outputs=chosen,
        contrast=tuple(contrast) if contrast else None,
        design=design,
        fit=pd.DataFrame(fits),
        indices=pd.concat(tables, ignore_index=True),
        shares=pd.DataFrame(shares),
        outcome=outcome,
        emulator=emulator,
        replicates=replicates,
        kept_by_scenario=set_by_scenario,
    )


# ---- files ---------------------------------------------------------------------------------------------
def conclusion_name(result: EmulatorResult, output: str) -> str:
    if result.contrast is None:
        return output_label(output)
    t, b = (load(s).title for s in result.contrast)
    return f"{output_label(output)}: {t} minus {b}"


def plot_indices(result: EmulatorResult, path: Path, top: int = 10) -> Path:
    """Per output: the ``top`` parameters by ST (bars) with S1 (dots), titled with the emulator's R²."""
    outputs = result.outputs
    fig = Figure(figsize=(6.2 * len(outputs), 0.38 * top + 1.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outputs), squeeze=False).ravel())
    for ax, output in zip(axes, outputs, strict=True):
        d = result.deciders(output, top)
        y = np.arange(len(d))[::-1]
        ax.barh(y, d["ST"], xerr=d["ST_conf"], color="tab:blue", alpha=0.7, label="ST (total)")
        ax.plot(d["S1"], y, "o", color="black", markersize=4, label="S1 (first order)")
        ax.set_yticks(y, [lever_name(p)[:38] for p in d["parameter"]], fontsize=8)
        r2 = float(d["r2"].iloc[0]) if len(d) else math.nan
        ax.set_title(f"{output_label(output)}\nemulator R² = {r2:.2f} (out of sample)", fontsize=10)
        ax.set_xlabel("share of the variance of the " + ("contrast" if result.contrast else "output"))
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Which assumptions decide the result: Sobol' indices on the emulator", fontsize=12)
    fig.savefig(path, dpi=100)
    return path


def fit_note(r2: float) -> str:
    """What the emulator's out-of-sample R² allows the report to say."""
    if not r2 > 0:
        return (
            ": the emulator predicts new points no better than their mean, so the indices, main effects and "
            "the emulated share below are not evidence of anything; run a larger design (hundreds of points "
            "for ~80 parameters) or fewer parameters."
        )
    if r2 < POOR_R2:
        return (
            f" (below {POOR_R2}): the emulator misses much of the response; trust the ranking below only "
            "loosely and add design points or replicates."
        )
    return "."


def report_text(result: EmulatorResult, command: str, figure: Path | None, setup: Mapping[str, Any]) -> str:
    n = len(result.design)
    lines = [
        "# Which assumptions decide which conclusion",
        "",
        f"Command: `{command}`  ",
        f"Design: {n} points (Latin hypercube within the priors of `model.params.salib_problem`) of "
        f"{len(result.problem['names'])} parameters, {result.replicates} replicate(s) per point and side"
        + (", both sides of a point with the same seeds" if result.contrast else "")
        + f"; setup {dict(setup) or 'registry defaults'}.  ",
        f"Emulator: {'gradient boosting' if result.emulator == 'gb' else 'Gaussian process'} per output "
        "(scikit-learn), its R² out of sample by k-fold cross-validation on the direct runs; Sobol' "
        "indices from a Saltelli sample of the emulator (SALib).",
        "",
    ]
    if result.kept_by_scenario:
        lines += [f"Set by a scenario and not varied: {', '.join(result.kept_by_scenario)}.", ""]
    lines += ["## Conclusions and the assumptions that decide them", ""]
    shares = result.shares.set_index("output")
    for output in result.outputs:
        d = result.deciders(output)
        r2 = float(d["r2"].iloc[0])
        scale, unit_text = effect_unit(output)
        s = shares.loc[output]
        lines += [
            f"### {conclusion_name(result, output)}",
            "",
            f"Negative (the treatment lowers it) in {100 * s['direct_negative']:.0f}% of the {n} direct "
            f"design points and {100 * s['emulated_negative']:.0f}% of the emulated prior; median of the "
            "direct points "
            f"{s['direct_median'] * scale:+.3g} {unit_text}. Emulator R² = {r2:.2f}{fit_note(r2)}",
            "",
            f"| rank | parameter | ST | S1 | main effect ({unit_text}, low to high third) |",
            "|---|---|---|---|---|",
        ]
        for r in d.itertuples():
            lines.append(
                f"| {r.rank} | `{r.parameter}` ({lever_name(r.parameter)}) | {r.ST:.2f} ± {r.ST_conf:.2f} | "
                f"{r.S1:.2f} | {r.main_effect * scale:+.3g} |"
            )
        lines.append("")
    lines += [
        "How to read: ST is the share of the contrast's variance across the prior that involves the "
        "parameter (alone or with others); the main effect says which way it pushes. A conclusion whose "
        "sign is negative in nearly all of the prior is robust; otherwise the top parameters are the "
        "assumptions to measure. All indices are of the emulator, so they are as good as its R².",
        "",
    ]
    if figure is not None:
        lines += [f"![{figure.stem}]({figure.name})", ""]
    return "\n".join(lines)


def write_emulated(
    result: EmulatorResult, out: str | Path, command: str = "", setup: Mapping[str, Any] | None = None
) -> list[Path]:
    """The design with its responses, the fit table, the indices, the figure and ``report.md``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_parquet(out / "emulator_design.parquet", result.design)
    atomic_write_bytes(out / "emulator_fit.csv", result.fit.to_csv(index=False).encode())
    atomic_write_bytes(out / "emulator_indices.csv", result.indices.to_csv(index=False).encode())
    figure = plot_indices(result, out / "emulator_indices.png")
    atomic_write_bytes(out / "report.md", report_text(result, command, figure, setup or {}).encode())
    return [out / f for f in FILES]
