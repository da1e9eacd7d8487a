"""What ``wijkteam calibrate`` and ``wijkteam validate`` write: manifest, tables, figures, report.

Folder layout (``results/calibration/`` and ``results/validation/``)::

    manifest.json          command, parameters, seeds, versions, git commit, times, run counts
    report.md              the report (fit table, fitted values, identifiability, patterns)
    *.parquet, *.csv       tables (fit table, loss history, profiles, pattern results, runs)
    *.png                  figures
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from calibration.targets import TargetSet, kpi_unit
from experiments.provenance import git_info, package_versions
from experiments.store import atomic_write_bytes, atomic_write_parquet, json_default
from model.params import REGISTRY

#: Files a calibration or validation folder owns (replaced on the next run).
OWNED_SUFFIXES = (".png", ".parquet", ".csv", ".md", ".json")


def prepare_out(out: Path) -> None:
    """Create ``out`` and remove what an earlier calibration or validation wrote there."""
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        if f.is_file() and f.suffix in OWNED_SUFFIXES:
            f.unlink()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_manifest(out: Path, manifest: Mapping[str, Any]) -> None:
    full = {
        **manifest,
        "parameters": {
            **dict(manifest.get("parameters", {})),
            "defaults": {k: p.default for k, p in REGISTRY.items()},
        },
        "versions": package_versions(),
        "git": git_info(),
    }
    text = json.dumps(full, indent=2, default=json_default) + "\n"
    atomic_write_bytes(out / "manifest.json", text.encode())


def write_table(out: Path, name: str, df: pd.DataFrame) -> None:
    """A table as Parquet and CSV (the CSV for a quick look)."""
    atomic_write_parquet(out / f"{name}.parquet", df)
    atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())


def write_text(path: Path, text: str) -> Path:
    atomic_write_bytes(path, text.encode())
    return path


# ---- markdown --------------------------------------------------------------------------
def fmt(value: float) -> str:
    """A number with a sensible number of digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fit_table_markdown(table: pd.DataFrame, labels: Sequence[str]) -> str:
    head = "| target | KPI | source | target value | " + " | ".join(
        f"{lb}: simulated (SD) | within" for lb in labels
    )
    lines = [head + " |", "|---" * (4 + 2 * len(labels)) + "|"]
    for _, r in table.iterrows():
        sign = {"max": "≤ ", "min": "≥ "}.get(r["bound"], "")
        tol = "" if r["bound"] != "two-sided" else f" ± {fmt(r['tolerance'])}"
        fitted = "" if r["fitted"] else " (checked, not fitted)"
        cells = [
            f"{r['target']}{fitted}",
            f"`{r['kpi']}`",
            r["source"],
            f"{sign}{fmt(r['value'])}{tol}",
        ]
        for lb in labels:
            within = "yes" if r[f"{lb}_within"] else "**no**"
            cells += [f"{fmt(r[f'{lb}_mean'])} ({fmt(r[f'{lb}_sd'])})", within]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(df: pd.DataFrame, floatfmt=fmt) -> str:
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = [
        "| " + " | ".join(floatfmt(v) if isinstance(v, float) else str(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


# ---- figures ---------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss_history(history: pd.DataFrame, path: Path, population: int) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    loss = history["loss"].to_numpy(float)
    ax.plot(np.arange(loss.size), loss, "o", ms=3, alpha=0.5, label="evaluated vector")
    ax.plot(np.arange(loss.size), np.minimum.accumulate(loss), "-", color="C3", lw=2, label="best so far")
    for g in range(population, loss.size, population):
        ax.axvline(g - 0.5, color="0.6", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("parameter vectors evaluated (grey lines: generations)")
    ax.set_ylabel("loss (sum of squared deviations\nin tolerances, log scale)")
    ax.set_title("Differential evolution: loss history")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_fit(table: pd.DataFrame, labels: Sequence[str], path: Path) -> Path:
    """Each simulated target (not the inputs): the target band and each vector's mean ± SD."""
    plt = _plt()
    rows = table[~table["kpi"].str.startswith("param:")].reset_index(drop=True)
    fig, axes = plt.subplots(1, len(rows), figsize=(3.0 * len(rows), 3.6), squeeze=False)
    for ax, (_, r) in zip(axes[0], rows.iterrows(), strict=True):
        lo, hi = r["value"] - r["tolerance"], r["value"] + r["tolerance"]
        if r["bound"] == "max":
            lo = 0.0
            hi = r["value"]
        ax.axhspan(lo, hi, color="C2", alpha=0.2, label="target (tolerance)")
        ax.axhline(r["value"], color="C2", lw=1.5)
        for i, lb in enumerate(labels):
            ax.errorbar(
                [i], [r[f"{lb}_mean"]], yerr=[r[f"{lb}_sd"]], fmt="o", capsize=5, color=f"C{i}", label=lb
            )
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_title(r["target"].replace("_", " "), fontsize=9)
        ax.set_ylabel(f"{r['kpi']}\n({kpi_unit(r['kpi'])})", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Targets against simulation (mean ± SD over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_profiles(
    prof: pd.DataFrame, best: Mapping[str, float], best_loss: float, path: Path, delta: float
) -> Path:
    plt = _plt()
    names = list(dict.fromkeys(prof["parameter"]))
    cols = min(3, len(names))
    nrows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.0 * cols, 3.2 * nrows), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        sub = prof[prof["parameter"] == name].sort_values("value")
        ax.plot(sub["value"], sub["loss"], "o-")
        ax.axvline(best[name], color="C3", ls="--", lw=1, label="fitted")
        ax.axhline(best_loss + delta, color="0.5", ls=":", lw=1, label=f"best + {delta:g}")
        ax.set_xlabel(f"{name}\n({REGISTRY[name].unit})", fontsize=8)
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Loss profiles (one parameter varied, the others at the fitted values)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def sources_markdown(targets: TargetSet) -> str:
    lines = []
    for t in targets.targets:
        note = f" {t.note}" if t.note else ""
        lines.append(f"- **{t.name}** (`{t.kpi}`): {t.citation}.{note}")
    return "\n".join(lines)
