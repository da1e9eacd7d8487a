"""The noise of a sensitivity analysis: replicate means per sample point and a two-way
analysis of variance (point × replicate) of the single runs.

Each sample point runs ``replicates`` times (replicate *i* has the same seed at every
point); the indices use the replicate means. The noise share of an output is the mean
within-point variance over the total variance of single runs; the noise left in the
replicate means is about that share divided by the number of replicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from experiments.sensitivity.problem import SensitivityError


def replicate_means(runs: pd.DataFrame, outputs: Sequence[str], n_points: int) -> pd.DataFrame:
    """Mean of each output over the successful replicates of each sample point, in point order."""
    ok = runs[runs["status"] == "ok"]
    means = ok.groupby("point")[list(outputs)].mean().reindex(range(n_points))
    missing = means.index[means.isna().all(axis=1)].tolist()
    if missing:
        raise SensitivityError(
            f"{len(missing)} of {n_points} sample points have no successful run (e.g. point "
            f"{missing[0]}); run again with --resume to retry them"
        )
    return means


def noise_table(runs: pd.DataFrame, outputs: Sequence[str]) -> pd.DataFrame:
    """The noise level of each output, from a two-way analysis of variance (point × replicate).

    Columns: ``within_variance``, the mean variance between replicates at a fixed point
    (the noise a single run carries); ``total_variance``, the variance of single runs;
    ``noise_share``, the noise over the variance of single runs (estimated as noise plus
    the variance between points, so it lies in [0, 1]); ``common_share``, the part of the
    noise shared by all points because replicate *i* has the same seed everywhere (common
    random numbers: it shifts every point alike and so does not blur the indices);
    ``noise_share_in_means``, the rest of the noise, divided by the replicates, over the
    variance of the replicate means that the indices analyse. NaN with one replicate.
    """
    ok = runs[runs["status"] == "ok"]
    rows = []
    for out in outputs:
        wide = ok.pivot_table(index="point", columns="replicate", values=out).dropna()
        points, reps = wide.shape
        row = {"output": out, "replicates": reps, "total_variance": float(ok[out].var(ddof=1))}
        if reps < 2 or points < 2:
            row.update(within_variance=math.nan, noise_share=math.nan, common_share=math.nan)
            row["noise_share_in_means"] = math.nan
            rows.append(row)
            continue
        y = wide.to_numpy(dtype=float)
        grand, by_point, by_rep = y.mean(), y.mean(axis=1), y.mean(axis=0)
        ms_point = reps * ((by_point - grand) ** 2).sum() / (points - 1)
        ms_rep = points * ((by_rep - grand) ** 2).sum() / (reps - 1)
        resid = y - by_point[:, None] - by_rep[None, :] + grand
        ms_err = (resid**2).sum() / ((points - 1) * (reps - 1))
        signal = max((ms_point - ms_err) / reps, 0.0)
        common = max((ms_rep - ms_err) / points, 0.0)
        noise = common + ms_err
        row.update(
            within_variance=float(y.var(axis=1, ddof=1).mean()),
            noise_share=noise / (noise + signal) if noise + signal > 0 else math.nan,
            common_share=common / noise if noise > 0 else math.nan,
            noise_share_in_means=(ms_err / reps) / (signal + ms_err / reps)
            if signal + ms_err > 0
            else math.nan,
        )
        rows.append(row)
    return pd.DataFrame(rows)
