"""The results store: one folder per experiment, written atomically and resumable.

Layout of ``results/<name>/`` (see ``results/README.md``)::

    manifest.json      command, parameters, seeds, versions, git commit, times, run counts
    runs.parquet       one row per run: run_id, tags, replicate, seed, status, error,
                       p_<parameter> for every registry parameter, every summary KPI
    series.parquet     weekly series of every run (only when series were asked for)
    parts/             chunks written while a sweep runs; merged into the files above at the end
    *.png, report.md   figures and report

Every file is written to a temporary name in the same folder and then renamed, so a
reader (or a crash) never sees half a file. A killed sweep leaves its finished chunks in
``parts/``; ``--resume`` reads them and computes only what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

#: Files and folders the store owns (removed by ``overwrite``; nothing else is touched).
OWNED = ("manifest.json", "runs.parquet", "series.parquet", "parts", "report.md")


class StoreError(RuntimeError):
    """A results folder that cannot be used as asked; the message is one line for the user."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultsStore:
    """A results folder: manifest, runs, optional series, and the parts of a running sweep."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.parts = self.path / "parts"

    # ---- state ----------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the folder already holds results of an experiment."""
        return any((self.path / name).exists() for name in OWNED)

    def clear(self) -> None:
        """Remove what an earlier experiment wrote here (only files the store owns, and PNGs)."""
        for name in OWNED:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
        for png in self.path.glob("*.png"):
            png.unlink()

    def read_manifest(self) -> dict[str, Any] | None:
        path = self.path / "manifest.json"
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, default=json_default) + "\n"
        atomic_write_bytes(self.path / "manifest.json", text.encode())

    # ---- parts ----------------------------------------------------------------
    def _next_part(self) -> int:
        numbers = [int(p.stem.split("-")[1]) for p in self.parts.glob("runs-*.parquet")]
        return max(numbers, default=0) + 1

    def write_part(self, rows: pd.DataFrame, series: pd.DataFrame | None = None) -> None:
        """Store a chunk of finished runs (series first, so a stored run always has its series)."""
        number = self._next_part()
        if series is not None and not series.empty:
            atomic_write_parquet(self.parts / f"series-{number:06d}.parquet", series)
        atomic_write_parquet(self.parts / f"runs-{number:06d}.parquet", rows)

    def read_runs(self) -> pd.DataFrame:
        """All stored runs (merged file and parts), the latest record of each run_id."""
        return _dedupe(self._frames("runs"), ["run_id"])

    def read_series(self) -> pd.DataFrame:
        """All stored weekly series, one row per run and week."""
        return _dedupe(self._frames("series"), ["run_id", "week"])

    def _frames(self, kind: str) -> list[pd.DataFrame]:
        frames = []
        merged = self.path / f"{kind}.parquet"
        if merged.exists():
            frames.append(pd.read_parquet(merged))
        frames += [pd.read_parquet(p) for p in sorted(self.parts.glob(f"{kind}-*.parquet"))]
        return [f for f in frames if not f.empty]

    def merge(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Merge the parts into ``runs.parquet`` (and ``series.parquet``); remove the parts."""
        runs, series = self.read_runs(), self.read_series()
        if not runs.empty:
            atomic_write_parquet(self.path / "runs.parquet", runs)
        if not series.empty:
            atomic_write_parquet(self.path / "series.parquet", series)
        if self.parts.exists():
            shutil.rmtree(self.parts)
        return runs, series


def _dedupe(frames: Iterable[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frames = list(frames)
    if not frames:
        return pd.DataFrame()
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(subset=keys, keep="last")
    return df.sort_values(keys, kind="stable").reset_index(drop=True)


def json_default(value: Any) -> Any:
    """JSON for what ``json.dumps`` cannot write itself: NumPy scalars and paths."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
