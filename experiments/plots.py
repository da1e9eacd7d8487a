"""Figures for policy makers: scenario comparisons over time and of the summary KPIs.

Figures are built on ``matplotlib.figure.Figure`` objects and written to files (no pyplot
state, no display needed) and label axes with units.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy import stats

from experiments.labels import lever_label, output_label
from model.outputs import INCOME_LABELS, OUTPUTS, PERCENT, SUMMARY, display_unit
from model.payers import PAYER_LABELS, PAYERS, Payback

#: Weekly series shown in the comparison: (column, label, unit, scale) where scale is
#: "share", "per1000" (count per 1,000 residents) or "eur" (EUR per week -> per resident a year).
SERIES_PANELS: tuple[tuple[str, str, str, str], ...] = (
    ("collective_time_share", "Collective and outreach work", "% of direct worker hours", "share"),
    ("caseload_per_fte", "Caseload", "cases per FTE", "raw"),
    ("waiting", "Waiting list", "residents per 1,000", "per1000"),
    ("maatwerk_clients", "Individual maatwerk", "clients per 1,000 residents", "per1000"),
    ("participants", "Collective initiatives", "participants per 1,000 residents", "per1000"),
    ("cost_total", "Total cost", "EUR per resident per year", "eur"),
)

#: Summary KPIs in the bar chart: (column, short label, unit label), from the output table.
KPI_PANELS: tuple[tuple[str, str, str], ...] = tuple(
    (o.name, o.label, display_unit(o.name)) for o in SUMMARY if o.panel
)
SMOOTH_WEEKS = 13
#: KPIs shown by income group (issue 17): the stem of the summary fields ``<stem>_<group>``.
INCOME_KPIS: tuple[str, ...] = (
    "unmet_need_per_1000_year",
    "hidden_need_per_1000",
    "self_reliance_mean",
    "requests_per_1000_year",
    "referrals_per_1000_year",
    "admissions_per_1000_year",
    "youth_care_share",
)


def scenario_colours(names: Sequence[str]) -> dict[str, tuple]:
    """One colour per scenario, the same in every figure; the pre-2015 baselines are grey."""
    cmap = matplotlib.colormaps["tab10"]
    colours, i = {}, 0
    for name in names:
        if name.startswith("pre_2015"):
            grey = 0.45 if name.endswith("staff") or name == "pre_2015" else 0.65
            colours[name] = (grey, grey, grey, 1.0)
        else:
            colours[name] = cmap(i % 10)
            i += 1
    return colours


def mean_ci(values: pd.Series, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (0 for one value)."""
    v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    if v.size == 1:
        return float(v[0]), 0.0
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return float(v.mean()), float(half)


def plot_series(series: pd.DataFrame, runs: pd.DataFrame, titles: dict[str, str], path: Path) -> Path | None:
    """Weekly series by scenario: median over replicates with a 10-90% band."""
    if series.empty:
        return None
    names = list(titles)
    colours = scenario_colours(names)
    residents = runs.set_index("run_id")["p_n_residents"]
    df = series.copy()
    df["cost_total"] = df["cost_team"] + df["cost_maatwerk"] + df["cost_collective"]
    n = df["run_id"].map(residents).astype(float)
    for column, _, _, scale in SERIES_PANELS:
        if scale == "per1000":
            df[column] = df[column] * 1000.0 / n
        elif scale == "eur":
            df[column] = df[column] * 52.0 / n
        elif scale == "share":
            df[column] = df[column] * 100.0
    df = df.sort_values(["run_id", "week"])
    fig = Figure(figsize=(15, 8.5), layout="constrained")
    axes = fig.subplots(2, 3, sharex=True)
    for ax, (column, label, unit, _) in zip(axes.flat, SERIES_PANELS, strict=True):
        smooth = df.groupby("run_id")[column].transform(
            lambda s: s.rolling(SMOOTH_WEEKS, min_periods=1).mean()
        )
        frame = df.assign(value=smooth)
        for name in names:
            sub = frame[frame["scenario"] == name]
            if sub.empty:
                continue
            wide = sub.pivot(index="week", columns="run_id", values="value")
            years = wide.index.to_numpy() / 52.0
            lo, mid, hi = (wide.quantile(q, axis=1).to_numpy() for q in (0.1, 0.5, 0.9))
            ax.fill_between(years, lo, hi, color=colours[name], alpha=0.18, linewidth=0)
            ax.plot(years, mid, color=colours[name], linewidth=1.8, label=titles[name])
        ax.set_title(label, fontsize=12)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    for ax in axes[-1]:
        ax.set_xlabel("years after burn-in")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    reps = int(runs.groupby("scenario")["replicate"].nunique().max())
    fig.legend(
        handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=10, frameon=False
    )
    fig.suptitle(
        f"Scenarios over time: median of {reps} replicates (line) and 10-90% range (band), "
        f"{SMOOTH_WEEKS}-week moving average",
        fontsize=13,
    )
    fig.savefig(path, dpi=110)
    return path


def plot_payers(ledgers: dict[str, pd.DataFrame], titles: dict[str, str], path: Path) -> Path | None:
    """Cost per payer over time, stacked, one panel per scenario (mean yearly ledger, undiscounted)."""
    names = [n for n in titles if n in ledgers and not ledgers[n].empty]
    if not names:
        return None
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(max(8.5, 5.2 * cols), 3.9 * rows + 0.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False).ravel())
    colours = dict(zip(PAYERS, matplotlib.colormaps["tab10"].colors, strict=False))
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes, names, strict=False):
        book = ledgers[name]
        years = book.index.to_numpy()
        bottom = np.zeros(len(book))
        for payer in PAYERS:
            values = book[payer].to_numpy() * 52.0 / book["weeks"].to_numpy()  # a part year per year
            ax.bar(years, values, bottom=bottom, color=colours[payer], label=PAYER_LABELS[payer], width=0.8)
            bottom += values
        ax.set_title(titles[name], fontsize=11)
        ax.set_xlabel("reported year")
        ax.set_ylabel("EUR per resident per year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("Who pays: cost per payer by reported year, mean over replicates", fontsize=13)
    fig.savefig(path, dpi=110)
    return path


def plot_payback(
    paybacks: dict[str, Payback], titles: dict[str, str], baseline: str, path: Path
) -> Path | None:
    """Cumulative discounted saving per payer against ``baseline``, one panel per scenario."""
    if not paybacks:
        return None
    cols = min(3, len(paybacks))
    rows = -(-len(paybacks) // cols)
    fig = Figure(figsize=(max(8.5, 5.2 * cols), 3.9 * rows + 1.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False).ravel())
    colours = dict(zip(PAYERS, matplotlib.colormaps["tab10"].colors, strict=False))
    for ax in axes[len(paybacks) :]:
        ax.set_visible(False)
    for ax, (name, result) in zip(axes, paybacks.items(), strict=False):
        cum = result.cumulative
        for payer in PAYERS:
            if cum[payer].abs().max() > 0:
                ax.plot(cum.index, cum[payer], marker="o", color=colours[payer], label=PAYER_LABELS[payer])
        ax.plot(cum.index, cum["total"], marker="s", color="black", linewidth=2.2, label="All payers")
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_title(titles[name], fontsize=11)
        ax.set_xlabel("reported year")
        ax.set_ylabel("cumulative saving, EUR per resident")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles, labels = [], []
    for ax in axes[: len(paybacks)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle(
        f"Payback: cumulative discounted saving per payer against {titles[baseline]}\n"
        "(above 0: the scenario has cost that payer less so far)",
        fontsize=12,
    )
    fig.savefig(path, dpi=110)
    return path


def plot_kpis(runs: pd.DataFrame, titles: dict[str, str], path: Path) -> Path:
    """The summary KPIs by scenario: mean over replicates with a 95% confidence interval."""
    names = list(titles)
    colours = scenario_colours(names)
    ok = runs[runs["status"] == "ok"]
    cols = 3 if len(KPI_PANELS) <= 9 else 4  # as many panels as the output table marks
    rows = -(-len(KPI_PANELS) // cols)
    fig = Figure(figsize=(5 * cols, 3.7 * rows), layout="constrained")
    axes = np.atleast_2d(fig.subplots(rows, cols))
    for ax in axes.flat[len(KPI_PANELS) :]:
        ax.set_visible(False)
    y = np.arange(len(names))[::-1]
    for k, (ax, (column, label, unit)) in enumerate(zip(axes.flat, KPI_PANELS, strict=False)):
        scale = 100.0 if column in PERCENT else 1.0
        means, halves = zip(
            *(mean_ci(ok.loc[ok["scenario"] == n, column] * scale) for n in names), strict=True
        )
        ax.barh(
            y,
            means,
            xerr=halves,
            color=[colours[n] for n in names],
            capsize=3,
            height=0.7,
            error_kw={"elinewidth": 1.2},
        )
        ax.set_yticks(y, [titles[n] for n in names] if k % cols == 0 else [""] * len(names))
        ax.set_title(label, fontsize=12)
        ax.set_xlabel(unit)
        ax.grid(axis="x", alpha=0.3)
    reps = int(ok.groupby("scenario")["replicate"].nunique().max()) if not ok.empty else 0
    fig.suptitle(
        f"Summary over the reported years: mean of {reps} replicates with 95% confidence interval",
        fontsize=13,
    )
    fig.savefig(path, dpi=110)
    return path


def plot_income_groups(runs: pd.DataFrame, titles: dict[str, str], path: Path) -> Path:
    """KPIs by income group per scenario (mean over replicates, 95% CI), and the concentration
    index of unmet need by income."""
    names = list(titles)
    colours = scenario_colours(names)
    ok = runs[runs["status"] == "ok"]
    groups = list(INCOME_LABELS)
    fig = Figure(figsize=(20, 8.5), layout="constrained")
    axes = fig.subplots(2, 4)
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(groups))
    for ax, stem in zip(axes.flat, INCOME_KPIS, strict=False):
        first = f"{stem}_{groups[0]}"
        scale = 100.0 if first in PERCENT else 1.0
        for j, name in enumerate(names):
            sub = ok[ok["scenario"] == name]
            means, halves = zip(*(mean_ci(sub[f"{stem}_{g}"] * scale) for g in groups), strict=True)
            ax.bar(
                x + (j - (len(names) - 1) / 2) * width,
                means,
                width,
                yerr=halves,
                capsize=2,
                color=colours[name],
                label=titles[name],
            )
        ax.set_xticks(x, [f"{g}\nincome" for g in groups])
        ax.set_title(OUTPUTS[first].label.rsplit(":", 1)[0], fontsize=12)
        ax.set_ylabel(display_unit(first))
        ax.grid(axis="y", alpha=0.3)
    ax = axes.flat[-1]
    column = "unmet_need_concentration_index"
    means, halves = zip(*(mean_ci(ok.loc[ok["scenario"] == n, column]) for n in names), strict=True)
    ax.bar(np.arange(len(names)), means, yerr=halves, capsize=3, color=[colours[n] for n in names])
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(np.arange(len(names)), [""] * len(names))
    ax.set_title("Unmet need: concentration index by income", fontsize=12)
    ax.set_ylabel("below 0: with the lower incomes")
    ax.grid(axis="y", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=10, frameon=False
    )
    reps = int(ok.groupby("scenario")["replicate"].nunique().max()) if not ok.empty else 0
    fig.suptitle(
        "By income group (low: lowest quintile, middle: quintiles 2-4, high: highest quintile): "
        f"mean of {reps} replicates with 95% confidence interval",
        fontsize=13,
    )
    fig.savefig(path, dpi=110)
    return path


def plot_sweep(
    runs: pd.DataFrame, varied: Sequence[str], path: Path, kpis: Sequence[str] | None = None
) -> Path | None:
    """Each varied parameter against key KPIs: runs as dots, the mean by value as a line."""
    ok = runs[runs["status"] == "ok"]
    varied = [v for v in varied if f"p_{v}" in ok][:5]
    if ok.empty or not varied:
        return None
    kpis = list(
        kpis
        or (
            "collective_time_share",
            "escalations_per_1000_year",
            "unmet_need_per_1000_year",
            "cost_total_per_resident_year",
        )
    )
    fig = Figure(figsize=(max(6.5, 3.6 * len(varied) + 1.5), 2.8 * len(kpis)), layout="constrained")
    axes = fig.subplots(len(kpis), len(varied), squeeze=False)
    for j, name in enumerate(varied):
        x = ok[f"p_{name}"].astype(float)
        for i, kpi in enumerate(kpis):
            ax = axes[i, j]
            yv = ok[kpi] * (100.0 if kpi in PERCENT else 1.0)
            ax.scatter(x, yv, s=8, alpha=0.35, color="tab:blue", linewidths=0)
            if x.nunique() <= 12:
                means = yv.groupby(x).mean()
                ax.plot(means.index, means.to_numpy(), color="tab:red", linewidth=2, label="mean")
            else:
                bins = pd.cut(x, 8)
                means = yv.groupby(bins, observed=True).mean()
                centres = [b.mid for b in means.index]
                ax.plot(centres, means.to_numpy(), color="tab:red", linewidth=2, label="mean")
            if j == 0:
                ax.set_ylabel(f"{output_label(kpi)}\n({display_unit(kpi)})", fontsize=9)
            if i == len(kpis) - 1:
                ax.set_xlabel(lever_label(name), fontsize=9)
            ax.grid(alpha=0.3)
    fig.suptitle(f"Sweep: {len(ok)} runs (dots), mean by parameter value (red)", fontsize=12)
    fig.savefig(path, dpi=100)
    return path
