"""The one result object of a sensitivity analysis, :class:`Analysis`, and :func:`analyse`,
a function of the results table only (whatever the method)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.labels import lever_name, output_label
from experiments.sensitivity.methods import method_of
from experiments.sensitivity.noise import noise_table, replicate_means
from experiments.sensitivity.problem import Method, SensitivityError, resolve_outputs

#: Share of the variance of the replicate means that may be noise before a warning.
NOISY_MEANS = 0.2


@dataclass
class Analysis:
    """Indices, convergence and noise of one sensitivity analysis (a function of the runs).

    ``indices`` has one row per output and lever (Morris: ``mu``, ``mu_star``, ``sigma`` and
    intervals; Sobol': ``S1``, ``ST`` and intervals), with ``rank`` and
    ``ci_wider_than_index``; :meth:`to_df` returns it, :meth:`plot` draws the figures.
    """

    method: str
    problem: dict[str, Any]
    outputs: list[str]
    n: int
    replicates: int
    sample: np.ndarray
    means: pd.DataFrame
    indices: pd.DataFrame
    convergence: pd.DataFrame
    noise: pd.DataFrame
    second_order: pd.DataFrame | None = None
    num_levels: int = 4
    warnings: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.problem["names"])

    @property
    def spec(self) -> Method:
        """The method (its ranking index, its sample blocks)."""
        return method_of(self.method)

    def ranking(self, output: str) -> pd.DataFrame:
        """The levers for one output, most influential first."""
        sub = self.indices[self.indices["output"] == output]
        return sub.sort_values(self.spec.key, ascending=False, kind="stable").reset_index(drop=True)

    def last_change(self, output: str) -> float:
        """Largest change of ST (Sobol') or relative μ* (Morris) between the last two sizes."""
        conv = self.convergence[self.convergence["output"] == output]
        sizes = sorted(conv["n"].unique())
        if len(sizes) < 2:
            return math.nan
        key = self.spec.key
        last = conv[conv["n"] == sizes[-1]].set_index("parameter")[key]
        prev = conv[conv["n"] == sizes[-2]].set_index("parameter")[key]
        return self.spec.last_change(last, prev)

    def to_df(self) -> pd.DataFrame:
        """The indices, one row per output and lever (as SALib's results' ``to_df``)."""
        return self.indices.copy()

    def plot(self, out: str | Path) -> list[Path]:
        """Draw the method's figures and the convergence figure into folder ``out``."""
        from experiments.sensitivity.figures import plot_analysis

        return plot_analysis(self, Path(out))


def analyse(
    method: str,
    prob: Mapping[str, Any],
    sample: np.ndarray,
    runs: pd.DataFrame,
    outputs: Sequence[str] | None = None,
    *,
    second_order: bool = False,
    num_levels: int = 4,
    seed: int = 0,
) -> Analysis:
    """Analyse a results table (one row per run with ``point``, ``replicate``, ``status`` and
    the outputs as columns; ``point`` indexes the rows of ``sample``)."""
    chosen = method_of(method)
    outputs = resolve_outputs(outputs)
    missing = [o for o in outputs if o not in runs]
    if missing:
        raise SensitivityError(f"the results have no column {', '.join(missing)}")
    block = chosen.block_size(len(prob["names"]), second_order)
    if len(sample) % block:
        raise SensitivityError(f"a {method} sample of {len(sample)} rows does not fit blocks of {block}")
    n = len(sample) // block
    means = replicate_means(runs, outputs, len(sample))
    indices, convergence, s2 = chosen.analyse(
        prob, sample, means, outputs, n, second_order=second_order, num_levels=num_levels, seed=seed
    )
    noise = noise_table(runs, outputs)
    result = Analysis(
        method=method,
        problem=dict(prob),
        outputs=list(outputs),
        n=n,
        replicates=int(noise["replicates"].min()) if not noise.empty else 0,
        sample=sample,
        means=means,
        indices=indices,
        convergence=convergence,
        noise=noise,
        second_order=s2,
        num_levels=num_levels,
    )
    result.warnings = warnings_of(result)
    return result


def warnings_of(a: Analysis) -> list[str]:
    """Plain-language warnings: wide intervals, unsettled indices, much noise."""
    out = []
    for output in a.outputs:
        wide = _wide_interval_warning(a, output)
        if wide:
            out.append(wide)
        unsettled = a.spec.convergence_warning(output_label(output), a.last_change(output))
        if unsettled:
            out.append(unsettled)
    if a.replicates < 2:
        out.append("Only one replicate per sample point: the noise level is not measured.")
    for row in a.noise.itertuples():
        if row.noise_share_in_means == row.noise_share_in_means and row.noise_share_in_means > NOISY_MEANS:
            out.append(
                f"{output_label(row.output)}: {row.noise_share_in_means:.0%} of the variance of the "
                "replicate means is noise; indices of this output are blurred (add --replicates)."
            )
    return out


def _wide_interval_warning(a: Analysis, output: str) -> str | None:
    """Levers whose 95% interval is wider than their index, or ``None``."""
    ranked = a.ranking(output)
    wide = ranked[ranked["ci_wider_than_index"]]
    if wide.empty:
        return None
    top = wide[wide["rank"] <= 3]
    levers = ", ".join(lever_name(p) for p in wide["parameter"])
    text = (
        f"{output_label(output)}: the 95% interval is wider than the index for {levers}; "
        "their influence cannot be told apart from zero"
    )
    if not top.empty:
        leaders = ", ".join(lever_name(p) for p in top["parameter"])
        verb = "ranks" if len(top) == 1 else "rank"
        text += f". {leaders} {verb} among the top three: increase --n (or --replicates)"
    return text + "."
