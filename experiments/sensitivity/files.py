"""The files of a sensitivity analysis: the sample with replicate means, the tables, the
figures (:mod:`~experiments.sensitivity.figures`) and ``report.md``
(:mod:`~experiments.sensitivity.report`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.sensitivity.analysis import Analysis
from experiments.sensitivity.figures import plot_analysis
from experiments.sensitivity.report import write_report
from experiments.store import DB_NAME, atomic_write_bytes, atomic_write_parquet, update_manifest


def write_results(
    a: Analysis,
    out: str | Path,
    runs: pd.DataFrame | None = None,
    *,
    command: str | None = None,
    setup: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write samples, indices, convergence, noise, figures and ``report.md`` to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = write_tables(a, out)
    figures = plot_analysis(a, out)
    files += figures
    files.append(write_report(a, out / "report.md", figures, runs=runs, command=command, setup=setup))
    if (out / DB_NAME).exists():  # the analysis of a batch stored here
        update_manifest(
            out,
            {
                "analysis": {
                    "files": [f.name for f in files],
                    "warnings": a.warnings,
                    "noise_share": dict(zip(a.noise["output"], a.noise["noise_share"], strict=True)),
                }
            },
        )
    return files


def write_tables(a: Analysis, out: Path) -> list[Path]:
    """``samples.parquet`` (the sample with replicate means) and the CSV/Parquet tables."""
    files: list[Path] = []
    samples = pd.DataFrame(a.sample, columns=a.names)
    samples.insert(0, "point", np.arange(len(samples)))
    samples = pd.concat([samples, a.means.reset_index(drop=True).add_prefix("mean_")], axis=1)
    atomic_write_parquet(out / "samples.parquet", samples)
    files.append(out / "samples.parquet")
    tables = {"indices": a.indices, "convergence": a.convergence, "noise": a.noise}
    if a.second_order is not None:
        tables["second_order"] = a.second_order
    else:  # from an earlier analysis in this folder
        (out / "second_order.csv").unlink(missing_ok=True)
    for name, table in tables.items():
        atomic_write_bytes(out / f"{name}.csv", table.to_csv(index=False).encode())
        files.append(out / f"{name}.csv")
    atomic_write_parquet(out / "indices.parquet", a.indices)
    files.append(out / "indices.parquet")
    return files
