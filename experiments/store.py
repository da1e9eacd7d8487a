"""The results store: one DuckDB database per results folder, written by one process.

Layout of ``results/<name>/`` (see the README, section Experiments)::

    results.duckdb     the store: the design (parameters, seeds, sizes of every run), the
                       runs, the weekly series and the manifest; the one source of truth
    runs.parquet       export: one row per run (run_id, tags, point, replicate, seed,
                       status, error, p_<parameter> for every registry parameter, every KPI)
    series.parquet     export: weekly series of every run (when series were asked for)
    manifest.json      export: command, parameters, seeds, versions, git commit, times, runs
    *.png, report.md   figures and report of the command

Guarantees:

- A run's summary row and its weekly series are committed in one transaction: a run is
  stored whole or not at all, whatever kills the process.
- One writer: the process that collects the results (local pool or Dask) holds DuckDB's
  file lock for the whole experiment; a second process gets one line naming the holder.
  The lock dies with its process, so a killed sweep never leaves a stale lock.
- The design is stored in the database, so ``resume`` checks it even if every other
  file in the folder is gone; DuckDB's block checksums turn a damaged file into an error
  instead of different numbers.
- Nothing is deleted without ``overwrite``, and a folder that does not hold this
  project's results is never cleared.

Exports are rewritten from the database at the end of an experiment and on demand
(:func:`export`, ``wijkteam export DIR``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DB_NAME = "results.duckdb"
HOLDER_NAME = ".results.holder.json"  # who holds the folder: pid, host, start time, command
FORMAT = "wijkteam-results/1"
#: Files the store writes; removed (with :data:`GENERATED`) only by ``overwrite``.
STORE_FILES = (DB_NAME, DB_NAME + ".wal", "manifest.json", "runs.parquet", "series.parquet", HOLDER_NAME)
#: What ``wijkteam discover`` writes next to its store (experiments/discovery/report.py).
DISCOVERY_FILES = (
    "cases.parquet",
    "boxes.csv",
    "trajectory_escapes.csv",
    "trajectory_fails.csv",
    "cart_escapes.csv",
    "cart_fails.csv",
    "feature_scores.csv",
    "bootstrap.csv",
    "robustness.csv",
    "peeling_escapes.png",
    "peeling_fails.png",
    "box_escapes.png",
    "box_fails.png",
    "tradeoff.png",
    "report.md",
)
#: Figures, tables and reports the commands write next to the store.
GENERATED = (
    "report.md",
    "kpis.png",
    "series.png",
    "payers.png",
    "payback.png",
    "income_groups.png",
    "sweep.png",
    "morris_mu_sigma.png",
    "sobol_indices.png",
    "sobol_st_heatmap.png",
    "convergence.png",
    "tipping_map.png",
    "caseload_trap.png",
    "mandate_vs_steering.png",
    "samples.parquet",
    "indices.parquet",
    "indices.csv",
    "convergence.csv",
    "noise.csv",
    "second_order.csv",
    "tipping_grid.csv",
    "tipping_boundary.csv",
    "world_effects.csv",
    "ensemble_summary.csv",
    "ensemble_effects.png",
    "deciding_assumptions.csv",
    "emulator_design.parquet",
    "emulator_fit.csv",
    "emulator_indices.csv",
    "emulator_indices.png",
    *DISCOVERY_FILES,  # report.md is among them
)
#: Marks of a folder written by the earlier store of Parquet part files.
LEGACY = ("parts", "manifest.json", "runs.parquet")

_HELD: set[Path] = set()  # folders this process holds (DuckDB shares one file within a process)


class StoreError(RuntimeError):
    """A results folder that cannot be used as asked; the message is one line for the user."""


# ---- files written atomically -------------------------------------------------------------
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(path: Path) -> str:
    """A temporary file next to ``path`` with the usual permissions (``mkstemp`` gives 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    tmp = _temporary(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_parquet(path: Path, df: pd.DataFrame | pa.Table) -> None:
    """Write a table as Parquet (with page checksums) via a temporary file and a rename."""
    tmp = _temporary(path)
    try:
        table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, tmp, write_page_checksum=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def json_default(value: Any) -> Any:
    """JSON for what ``json.dumps`` cannot write itself: NumPy scalars and paths."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _process_start(pid: int | None) -> str | None:
    """When process ``pid`` started (UTC, ISO 8601), read from ``/proc`` (Linux), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    started = boot + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")


def _ours_in_passing(name: str) -> bool:
    """The store's own files, or their temporary names while they are being written."""
    return name.startswith((DB_NAME, HOLDER_NAME, "." + HOLDER_NAME))


def _is_lock_error(exc: BaseException) -> bool:
    return "Could not set lock" in str(exc)


# ---- the store ------------------------------------------------------------------------------
class ResultsStore:
    """A results folder and its DuckDB database; open it (a context manager) to use it.

    Opening takes DuckDB's file lock, which the process keeps until :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = self.path / DB_NAME
        self.con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- opening, locking, checking ----------------------------------------------------------
    def open(self, *, overwrite: bool = False, command: str | None = None) -> ResultsStore:
        """Take the folder (or raise :class:`StoreError` naming who holds it) and check it."""
        self._check_folder(overwrite)
        key = self.path.resolve()
        if key in _HELD:
            raise StoreError(f"{self.path} is in use by this process (process {os.getpid()})")
        self.con = self._connect(overwrite)
        _HELD.add(key)
        try:
            self._write_holder(command)
            self._init_schema()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Release the folder (DuckDB checkpoints the database on close)."""
        if self.con is None:
            return
        try:
            self.con.close()
        finally:
            self.con = None
            (self.path / HOLDER_NAME).unlink(missing_ok=True)
            _HELD.discard(self.path.resolve())

    def _check_folder(self, overwrite: bool) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"{self.path} is a file, not a folder; give a folder for --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the results folder {self.path}: {exc.strerror}") from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise StoreError(f"cannot write to the results folder {self.path}: permission denied")
        if self.db.exists():
            return
        if self._is_legacy():
            if not overwrite:
                raise StoreError(
                    f"{self.path} holds results of an earlier wijkteam (Parquet files, no {DB_NAME}): "
                    "read them with pandas.read_parquet; use another --out, or --overwrite to replace them"
                )
            self._remove(("parts", *STORE_FILES, *GENERATED))
        # (a store another process is creating this instant is found by the lock, not here)
        others = sorted(p.name for p in self.path.iterdir() if not _ours_in_passing(p.name))
        if others:
            raise StoreError(
                f"{self.path} is not empty and holds no wijkteam results (e.g. {others[0]}); "
                "nothing there is replaced: use a new or empty folder for --out"
            )

    def _is_legacy(self) -> bool:
        if (self.path / "parts").is_dir():
            return True
        try:
            manifest = json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError):
            return False
        return isinstance(manifest, dict) and "design_sha256" in manifest

    def _connect(self, overwrite: bool) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.db))
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                raise self._in_use(exc) from None
            if not overwrite:
                raise self._damaged(exc) from None
            self._remove((DB_NAME, DB_NAME + ".wal"))
            return self._connect(False)
        try:
            self._verify(con)
        except duckdb.Error as exc:
            con.close()
            if not overwrite:
                raise self._damaged(exc) from None
            self._remove((DB_NAME, DB_NAME + ".wal"))
            return self._connect(False)
        return con

    @staticmethod
    def _verify(con: duckdb.DuckDBPyConnection) -> None:
        """Read every block of every table once, so DuckDB checks its checksums."""
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            con.execute(f'SELECT count(hash(t)) FROM "{table}" AS t').fetchall()

    def _damaged(self, exc: BaseException) -> StoreError:
        reason = str(exc).splitlines()[0][:200]
        return StoreError(
            f"{self.db} is damaged ({reason}); use --overwrite to start again, or another --out"
        )

    def _in_use(self, exc: BaseException) -> StoreError:
        match = re.search(r"PID (\d+)", str(exc))
        pid = int(match[1]) if match else None
        holder = self._read_holder()
        if holder.get("pid") is not None and (pid is None or holder["pid"] == pid):
            pid, since = holder["pid"], holder.get("started")
        else:
            since = _process_start(pid)
        host = f" on host {holder['host']}" if holder.get("host") and holder.get("pid") == pid else ""
        return StoreError(
            f"{self.path} is in use by process {pid if pid is not None else '(unknown)'} since "
            f"{since or 'an unknown time'}{host}; wait for it to finish or stop it, then try again"
        )

    def _read_holder(self) -> dict[str, Any]:
        try:
            holder = json.loads((self.path / HOLDER_NAME).read_text())
        except (OSError, ValueError):
            return {}
        return holder if isinstance(holder, dict) else {}

    def _write_holder(self, command: str | None) -> None:
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "command": command}
        atomic_write_bytes(self.path / HOLDER_NAME, json.dumps(holder).encode())

    def _remove(self, names: Iterable[str]) -> None:
        for name in names:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)

    # ---- schema and metadata ------------------------------------------------------------------
    def _sql(self, query: str, *params: Any) -> list[tuple]:
        assert self.con is not None, "the store is not open"
        return self.con.execute(query, list(params) if params else None).fetchall()

    def _tables(self) -> set[str]:
        return {r[0] for r in self._sql("SELECT table_name FROM duckdb_tables()")}

    def _init_schema(self) -> None:
        tables = self._tables()
        if tables and ("meta" not in tables or self.meta("format") != FORMAT):
            raise StoreError(f"{self.db} is not a wijkteam results database; use another --out")
        if not tables:
            self._sql("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            self.set_meta("format", FORMAT)
        self._mark_dead_session()

    def meta(self, key: str) -> str | None:
        rows = self._sql("SELECT value FROM meta WHERE key = ?", key)
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._sql("INSERT OR REPLACE INTO meta VALUES (?, ?)", key, value)

    def _mark_dead_session(self) -> None:
        """A manifest still 'running' belongs to a process that died (we hold the lock now)."""
        manifest = self.read_manifest()
        if manifest and manifest.get("status") == "running":
            manifest["status"] = "interrupted"
            for session in manifest.get("sessions", []):
                if session.get("status") == "running":
                    session["status"] = "killed (found still running by a later process)"
            self.set_meta("manifest", json.dumps(manifest, default=json_default))

    # ---- the design ---------------------------------------------------------------------------
    def holds_results(self) -> bool:
        """Whether the database holds an experiment (its design), finished or not."""
        return self.meta("design_sha256") is not None

    def prepare(
        self, fingerprint: str, *, resume: bool, overwrite: bool, replaceable: str | None = None
    ) -> None:
        """Continue the stored design (``resume``), replace it, or refuse with one line.

        ``replaceable``: an experiment kind replaced without ``overwrite`` (``wijkteam run``
        replaces its own earlier comparison, nothing else).
        """
        if not self.holds_results():
            return
        if resume:
            if self.meta("design_sha256") != fingerprint:
                raise StoreError(
                    f"{self.path} holds results of a different design (other parameters, seeds or "
                    "sizes); use another --out, or --overwrite to replace them"
                )
            return
        if overwrite or (replaceable is not None and self.meta("kind") == replaceable):
            self.reset()
            return
        raise StoreError(
            f"{self.path} already holds results; add --resume to continue them or --overwrite to replace them"
        )

    def reset(self) -> None:
        """Remove the stored experiment, its exports and the figures and reports written with it."""
        for table in ("runs", "series", "design"):
            self._sql(f"DROP TABLE IF EXISTS {table}")
        self._sql("DELETE FROM meta WHERE key <> 'format'")
        self._sql("CHECKPOINT")
        self._remove(("manifest.json", "runs.parquet", "series.parquet", *GENERATED))

    def start(self, design: pd.DataFrame, fingerprint: str, kind: str) -> None:
        """Store a new design (one row per run: run_id, point, replicate, seed, params, tags)."""
        if self.holds_results():
            return
        assert self.con is not None
        self.con.begin()
        try:
            self._insert("design", design)
            self.set_meta("design_sha256", fingerprint)
            self.set_meta("kind", kind)
            self.set_meta("created", _now())
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    # ---- runs and series ----------------------------------------------------------------------
    def write_runs(self, rows: pd.DataFrame, series: pd.DataFrame | None = None) -> None:
        """Store finished runs and their weekly series in one transaction (replacing earlier rows)."""
        assert self.con is not None
        ids = [int(i) for i in rows["run_id"]]
        self.con.begin()
        try:
            for table in {"runs", "series"} & self._tables():
                self._sql(f"DELETE FROM {table} WHERE list_contains(?::BIGINT[], run_id)", ids)
            self._insert("runs", rows)
            if series is not None and not series.empty:
                self._insert("series", series)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def _insert(self, table: str, df: pd.DataFrame) -> None:
        """Append ``df`` to ``table`` by column name, creating the table or new columns as needed."""
        assert self.con is not None
        self.con.register("incoming", df)
        try:
            if table not in self._tables():
                self._sql(f"CREATE TABLE {table} AS SELECT * FROM incoming")
                return
            have = {r[0] for r in self._sql(f"DESCRIBE {table}")}
            for name, kind, *_ in self._sql("DESCRIBE SELECT * FROM incoming"):
                if name not in have:
                    self._sql(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
            self._sql(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            self.con.unregister("incoming")

    def done_ids(self, expected_weeks: Mapping[int, int] | None = None) -> set[int]:
        """Runs stored as ok (and, with ``expected_weeks``, with every week of their series)."""
        if "runs" not in self._tables():
            return set()
        ok = {int(r[0]) for r in self._sql("SELECT run_id FROM runs WHERE status = 'ok'")}
        if expected_weeks is None:
            return ok
        counts: dict[int, int] = {}
        if "series" in self._tables():
            counts = dict(self._sql("SELECT run_id, count(*) FROM series GROUP BY run_id"))
        return {r for r in ok if counts.get(r, 0) == expected_weeks.get(r)}

    def counts(self) -> tuple[int, int]:
        """Runs stored as ok and as failed."""
        if "runs" not in self._tables():
            return 0, 0
        ok, failed = self._sql(
            "SELECT count(*) FILTER (status = 'ok'), count(*) FILTER (status <> 'ok') FROM runs"
        )[0]
        return int(ok), int(failed)

    def _query(self, table: str, order: str) -> duckdb.DuckDBPyRelation | None:
        if table not in self._tables():
            return None
        assert self.con is not None
        return self.con.sql(f"SELECT * FROM {table} ORDER BY {order}")

    def read_runs(self) -> pd.DataFrame:
        """Every stored run, by run_id."""
        rel = self._query("runs", "run_id")
        return rel.to_arrow_table().to_pandas() if rel is not None else pd.DataFrame()

    def read_series(self) -> pd.DataFrame:
        """Every stored weekly series, one row per run and week."""
        rel = self._query("series", "run_id, week")
        return rel.to_arrow_table().to_pandas() if rel is not None else pd.DataFrame()

    # ---- manifest and exports -----------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        text = self.meta("manifest")
        return json.loads(text) if text else None

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Store the manifest in the database and export it as ``manifest.json``."""
        text = json.dumps(manifest, indent=2, default=json_default) + "\n"
        self.set_meta("manifest", text)
        atomic_write_bytes(self.path / "manifest.json", text.encode())

    def export(self) -> list[Path]:
        """Write ``runs.parquet``, ``series.parquet`` and ``manifest.json`` from the database."""
        written = []
        for table, order in (("runs", "run_id"), ("series", "run_id, week")):
            rel = self._query(table, order)
            if rel is not None:
                path = self.path / f"{table}.parquet"
                _write_reader(path, rel.to_arrow_reader(65536))
                written.append(path)
        manifest = self.read_manifest()
        if manifest is not None:
            self.write_manifest(manifest)
            written.append(self.path / "manifest.json")
        return written


def _write_reader(path: Path, reader: pa.RecordBatchReader) -> None:
    """Stream record batches into a Parquet file (page checksums on), atomically."""
    tmp = _temporary(path)
    try:
        with pq.ParquetWriter(tmp, reader.schema, write_page_checksum=True) as writer:
            for batch in reader:
                writer.write_batch(batch)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export(path: str | Path) -> list[Path]:
    """Export a results folder's database to Parquet and ``manifest.json`` (``wijkteam export``)."""
    store = ResultsStore(path)
    if not store.db.exists():
        raise StoreError(f"{store.path} holds no {DB_NAME}: nothing to export")
    with store.open():
        return store.export()


def update_manifest(path: str | Path, entries: Mapping[str, Any]) -> None:
    """Add entries (e.g. an analysis summary) to the stored manifest and re-export it."""
    with ResultsStore(path).open() as store:
        manifest = store.read_manifest()
        if manifest is not None:
            store.write_manifest({**manifest, **entries})
