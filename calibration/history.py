"""History matching to a plausible ensemble (issue #18): rule out the parameter space that cannot
reproduce the fitted targets, wave by wave, and keep parameter sets the real model confirms.

Waves
    Wave 1 runs a Latin hypercube from the priors (``model.params``: each behaviour parameter's
    prior, through its quantile function); every later wave runs points drawn from the current
    non-implausible region (a large Latin hypercube of the priors, filtered by the emulators of
    every earlier wave). Points live in the unit cube of the priors (each coordinate is the
    parameter's prior distribution function), where the emulators are trained.
Emulators
    One per fitted target and wave (:mod:`calibration.emulators`), trained on every point run so
    far (a KPI's mean over the seeds). Per wave a Gaussian process and gradient boosting are
    compared on a held-out quarter of the points; ``auto`` takes the one with the lower RMSE.
Implausibility
    ``I = |E[f(x)] - z| / sqrt(V_emulator + V_tolerance + V_discrepancy + V_replicate)`` per
    fitted target (:func:`implausibility`): ``z`` the target value; ``V_tolerance = (tolerance / 2)^2``
    (the tolerance read as two standard deviations of the observation, about a 95% band);
    ``V_discrepancy = (discrepancy * z)^2`` (model discrepancy, assumed 10% of the target);
    ``V_replicate`` the between-seed variance of a run, pooled over the points run with several
    seeds, divided by the seeds per point. A one-sided target (``bound = "max"`` / ``"min"``) has
    ``I = 0`` on its allowed side. A point is non-implausible when the *largest* ``I`` over the
    fitted targets is below the cutoff 3 (Pukelsheim's three-sigma rule): with two or three fitted
    targets the second largest would let a point miss one target entirely.
Remaining volume
    After each wave, the share of a fresh Latin hypercube of the priors that is non-implausible
    under every wave's emulators so far: the prior probability of the region left.
Final ensemble
    Points from the final non-implausible region, run with the real model (the same seeds);
    kept when their *simulated* implausibility (``V_emulator = 0``) is below the cutoff, in
    rounds until at least ``members`` are kept. Stored with their implausibility
    (:func:`calibration.ensemble.save_ensemble`) in the output folder itself, so
    ``wijkteam run --ensemble DIR`` reads it.
Held-out and consistency targets
    Evaluated on the members (share within tolerance, and the distribution), never used to rule
    anything out. A held-out target measured in a scenario of its own (the Speelkamer ratio) is
    run on the first ``heldout_members`` members only.

Resume: the settings go to ``history.json`` first; every finished wave (``wave_01``, ...), final
round (``final_01``, ...) and the held-out runs (``heldout``) is a folder written under a temporary
name and renamed when complete. Rerunning the same command continues after the last complete
step; with other settings it refuses with one line. While a calibration runs it holds a lock on
the folder (``.calibrate.lock``, released when the process ends, however it ends); a second
calibration of the same folder refuses in one line naming the process. ``final_rounds`` is only
a limit: a round's size and points depend on the rounds before it, never on the limit, so a
larger limit continues a calibration that stopped short of ``members`` with the rounds it ran.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import pickle
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.stats import qmc

from calibration.emulators import KINDS, Emulator, compare, fit_emulator
from calibration.runs import crn_seeds
from calibration.targets import Target, TargetSet
from experiments.store import atomic_write_bytes, atomic_write_parquet, json_default
from model.params import REGISTRY, names, validate

SETTINGS_FILE = "history.json"
#: Settings that only limit how far a calibration goes; raising them on resume extends it.
LIMITS = ("final_rounds",)
#: Implausibility cutoff (three-sigma rule) and model discrepancy (share of the target; assumed).
CUTOFF = 3.0
DISCREPANCY = 0.1


class HistoryError(ValueError):
    """Settings or a folder that history matching cannot use; the message says what is wrong."""


class BatchRunner(Protocol):
    """What runs the model: :class:`calibration.runs.Simulator` (or a toy for tests)."""

    def batch(self, points: Sequence[Mapping[str, Any]], seeds: Sequence[int]) -> pd.DataFrame: ...


def behaviour_priors() -> list[str]:
    """The parameters history matching varies by default: every numeric behaviour parameter."""
    return [n for n in names("behaviour") if REGISTRY[n].type is not bool]


@dataclass(frozen=True)
class Settings:
    """Everything that decides a history matching's results (checked on resume)."""

    parameters: tuple[str, ...]
    waves: int = 3
    runs_per_wave: int = 50
    seeds: int = 1
    replicate_points: int = 6
    replicate_seeds: int = 3
    members: int = 100
    final_runs: int = 120
    final_rounds: int = 3
    heldout_members: int = 20
    cutoff: float = CUTOFF
    discrepancy: float = DISCREPANCY
    sample: int = 20000
    emulator: str = "auto"
    setup: dict[str, int] = field(default_factory=dict)
    base_seed: int = 2019

    def check(self) -> None:
        """Raise :class:`HistoryError` naming the first bad field and its allowed range."""
        ints = {
            "waves": (1, 20),
            "runs_per_wave": (10, 100000),
            "seeds": (1, 100),
            "replicate_points": (0, 1000),
            "replicate_seeds": (2, 100),
            "members": (1, 100000),
            "final_runs": (1, 100000),
            "final_rounds": (1, 50),
            "heldout_members": (0, 100000),
            "sample": (100, 10_000_000),
        }
        for name, (lo, hi) in ints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise HistoryError(
                    f"calibrate: {name} = {value!r} is not allowed: expected an integer in [{lo}, {hi}]"
                )
        if not (isinstance(self.cutoff, (int, float)) and 0 < self.cutoff <= 10):
            raise HistoryError(
                f"calibrate: cutoff = {self.cutoff!r} is not allowed: expected a number in (0, 10]"
            )
        if not (isinstance(self.discrepancy, (int, float)) and 0 <= self.discrepancy <= 1):
            raise HistoryError(
                f"calibrate: discrepancy = {self.discrepancy!r} is not allowed: expected a number in [0, 1]"
            )
        if self.emulator not in ("auto", *KINDS):
            raise HistoryError(
                f"calibrate: emulator = {self.emulator!r} is not allowed: expected auto, {', '.join(KINDS)}"
            )
        if not self.parameters:
            raise HistoryError("calibrate: parameters is empty: expected at least one behaviour parameter")
        for name in self.parameters:
            p = REGISTRY.get(name)
            if p is None or p.kind != "behaviour" or p.type is bool:
                raise HistoryError(
                    f"calibrate: parameter {name!r} is not allowed: expected a numeric behaviour parameter"
                )
        validate(self.setup)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["parameters"] = list(self.parameters)
        return data


# ---- the implausibility measure ---------------------------------------------------------
def implausibility(
    mean: Any,
    z: float,
    *,
    v_emulator: Any = 0.0,
    v_tolerance: float = 0.0,
    v_discrepancy: float = 0.0,
    v_replicate: float = 0.0,
    bound: str = "two-sided",
) -> np.ndarray:
    """``|mean - z| / sqrt(V_emulator + V_tolerance + V_discrepancy + V_replicate)``.

    One-sided (``bound="max"``: only ``mean > z`` counts; ``"min"``: only ``mean < z``). A NaN
    mean (a KPI the run cannot give) is infinitely implausible.
    """
    d = np.asarray(mean, dtype=float) - float(z)
    if bound == "max":
        d = np.maximum(d, 0.0)
    elif bound == "min":
        d = np.minimum(d, 0.0)
    var = np.asarray(v_emulator, dtype=float) + v_tolerance + v_discrepancy + v_replicate
    if np.any(var <= 0):
        raise HistoryError("implausibility: the variances sum to zero; a target needs a positive tolerance")
    out = np.abs(d) / np.sqrt(var)
    return np.where(np.isnan(out), np.inf, out)


def target_variances(target: Target, discrepancy: float) -> tuple[float, float]:
    """``(V_tolerance, V_discrepancy)`` of a target: (tolerance / 2)^2 and (discrepancy * value)^2."""
    return (target.tolerance / 2.0) ** 2, (discrepancy * abs(target.value)) ** 2


def max_implausibility(
    means: Mapping[str, Any],
    targets: Sequence[Target],
    settings: Settings,
    v_replicate: Mapping[str, float],
    v_emulator: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """The largest implausibility over ``targets`` per point."""
    worst = None
    for t in targets:
        v_tol, v_disc = target_variances(t, settings.discrepancy)
        i = implausibility(
            means[t.name],
            t.value,
            v_emulator=(v_emulator or {}).get(t.name, 0.0),
            v_tolerance=v_tol,
            v_discrepancy=v_disc,
            v_replicate=v_replicate.get(t.name, 0.0),
            bound=t.bound,
        )
        worst = i if worst is None else np.maximum(worst, i)
    return np.asarray(worst)


# ---- waves ------------------------------------------------------------------------------
@dataclass
class Wave:
    """A finished wave: its points, runs, emulators and scores."""

    number: int
    unit: np.ndarray  # points x parameters, in the unit cube of the priors
    runs: pd.DataFrame
    emulators: dict[str, Emulator]
    v_replicate: dict[str, float]
    info: dict[str, Any]

    def predict_max(self, unit: np.ndarray, targets: Sequence[Target], settings: Settings) -> np.ndarray:
        means, vars_ = {}, {}
        for t in targets:
            means[t.name], vars_[t.name] = self.emulators[t.name].predict(unit)
        return max_implausibility(means, targets, settings, self.v_replicate, vars_)


def values_of(unit: np.ndarray, parameters: Sequence[str]) -> pd.DataFrame:
    """Parameter values of unit-cube points (each prior's quantile function)."""
    return pd.DataFrame({name: REGISTRY[name].from_unit(unit[:, j]) for j, name in enumerate(parameters)})


def lhs(n: int, d: int, seed: int) -> np.ndarray:
    return qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(n)


def non_implausible(
    unit: np.ndarray, waves: Sequence[Wave], targets: Sequence[Target], settings: Settings
) -> np.ndarray:
    """Whether each point is non-implausible under every wave's emulators."""
    keep = np.ones(len(unit), dtype=bool)
    for w in waves:
        idx = np.flatnonzero(keep)
        if idx.size:
            keep[idx] = w.predict_max(unit[idx], targets, settings) < settings.cutoff
    return keep


def scenarios(targets: Sequence[Target]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{}]
    for t in targets:
        if not t.is_input and t.scenario not in out:
            out.append(dict(t.scenario))
    return out


def run_points(
    runner: BatchRunner, values: pd.DataFrame, seeds: Sequence[int], scen: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Every row of ``values`` in every scenario with every seed (``point`` is the row)."""
    rows = values.to_dict("records")
    points = [{**r, **s} for r in rows for s in scen]
    runs = runner.batch(points, list(seeds))
    runs["scenario"] = runs["point"] % len(scen)
    runs["point"] = runs["point"] // len(scen)
    return runs


def point_means(runs: pd.DataFrame, targets: Sequence[Target], n_points: int) -> dict[str, np.ndarray]:
    """Mean over the ok runs of each target's KPI, per point (NaN where no run gave it)."""
    scen = scenarios(targets)
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    out = {}
    for t in targets:
        sub = ok[ok["scenario"] == scen.index(t.scenario)] if not t.is_input else ok.iloc[0:0]
        if t.kpi not in sub:
            out[t.name] = np.full(n_points, np.nan)
            continue
        means = sub.groupby("point")[t.kpi].mean()
        out[t.name] = means.reindex(range(n_points)).to_numpy(float)
    return out


def replicate_variance(runs: pd.DataFrame, targets: Sequence[Target], per_point: int) -> dict[str, float]:
    """Between-seed variance of each KPI pooled over the points with several runs, over ``per_point``."""
    scen = scenarios(targets)
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    out = {}
    for t in targets:
        sub = ok[ok["scenario"] == scen.index(t.scenario)]
        if t.kpi not in sub:
            out[t.name] = 0.0
            continue
        g = sub.groupby("point")[t.kpi]
        var = g.var(ddof=1)[g.count() >= 2].dropna()
        out[t.name] = float(var.mean()) / per_point if len(var) else 0.0
    return out


# ---- the folder -------------------------------------------------------------------------
def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=json_default).encode()).hexdigest()[:16]


def _identity(settings: Settings, targets: Sequence[Target]) -> dict[str, Any]:
    """What must be equal for a resume: the settings, the fitted targets, the priors and the defaults."""
    return {
        "settings": {k: v for k, v in settings.to_json().items() if k not in LIMITS},
        "targets": [
            {
                "name": t.name,
                "kpi": t.kpi,
                "value": t.value,
                "tolerance": t.tolerance,
                "bound": t.bound,
                "scenario": t.scenario,
            }
            for t in targets
        ],
        "priors": {
            n: [REGISTRY[n].prior, REGISTRY[n].prior_low, REGISTRY[n].prior_high, REGISTRY[n].default]
            for n in settings.parameters
        },
        "defaults": {n: p.default for n, p in REGISTRY.items()},
    }


LOCK_NAME = ".calibrate.lock"
_HELD: dict[Path, int] = {}


@contextmanager
def hold_folder(out: str | Path) -> Iterator[None]:
    """Hold the calibration folder ``out`` (created if needed) against other processes.

    An advisory ``flock`` on ``out/.calibrate.lock``: the system releases it when the process
    ends, also when it is killed, so a stale lock cannot block a resume. Re-entrant within a
    process (the command holds the folder while it writes the report too).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    key = out.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(os.read(fd, 4096) or b"{}")
        except ValueError:
            holder = {}
        os.close(fd)
        raise HistoryError(
            f"calibrate: {out} is in use by process {holder.get('pid', '(unknown)')} since "
            f"{holder.get('started', 'an unknown time')}; wait for it to finish or stop it, then try again"
        ) from None
    os.ftruncate(fd, 0)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    os.write(fd, json.dumps({"pid": os.getpid(), "started": started}).encode())
    _HELD[key] = 1
    try:
        yield
    finally:
        del _HELD[key]
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _start_folder(out: Path, identity: dict[str, Any]) -> None:
    """Write ``history.json``, or check that the one there describes the same calibration."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / SETTINGS_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            raise HistoryError(f"calibrate: {path} cannot be read; use another --out") from None
        for key in LIMITS:  # folders written before a limit left the identity
            old.get("identity", {}).get("settings", {}).pop(key, None)
        if _digest(old.get("identity")) != _digest(identity):
            diff = _differences(old.get("identity", {}), identity)
            raise HistoryError(
                f"calibrate: {out} holds a history matching with other settings ({diff}); "
                "rerun with the same settings to resume, or use another --out"
            )
        return
    atomic_write_bytes(path, json.dumps({"identity": identity}, indent=2, default=json_default).encode())


def _differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    names_ = []
    for section in ("settings", "targets", "priors", "defaults"):
        a, b = old.get(section), json.loads(json.dumps(new.get(section), default=json_default))
        if section == "settings" and isinstance(a, dict) and isinstance(b, dict):
            names_ += [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif a != b:
            names_.append(section)
    return "differs in: " + (", ".join(names_) or "the file")


def _write_step(out: Path, name: str, files: Mapping[str, Any]) -> None:
    """Write a step's files into ``.<name>.tmp`` and rename it to ``name`` when complete."""
    tmp = out / f".{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    for fname, content in files.items():
        if isinstance(content, pd.DataFrame):
            atomic_write_parquet(tmp / fname, content)
        elif isinstance(content, bytes):
            atomic_write_bytes(tmp / fname, content)
        else:
            atomic_write_bytes(tmp / fname, json.dumps(content, indent=2, default=json_default).encode())
    tmp.rename(out / name)


def _clean_partial(out: Path) -> None:
    for tmp in out.glob(".*.tmp"):
        if tmp.is_dir():
            shutil.rmtree(tmp)


def _load_wave(out: Path, number: int) -> Wave | None:
    path = out / f"wave_{number:02d}"
    if not path.is_dir():
        return None
    info = json.loads((path / "wave.json").read_text())
    emulators = pickle.loads((path / "emulators.pkl").read_bytes())
    unit = pd.read_parquet(path / "points.parquet").filter(like="u_").to_numpy(float)
    return Wave(number, unit, pd.read_parquet(path / "runs.parquet"), emulators, info["v_replicate"], info)


# ---- the whole thing --------------------------------------------------------------------
@dataclass
class HistoryResult:
    """What :func:`history_match` returns (everything is also in the output folder)."""

    settings: Settings
    waves: list[Wave]
    wave_table: pd.DataFrame
    members: pd.DataFrame  # accepted members: parameter values, implausibility, KPIs
    candidates: pd.DataFrame  # every final candidate run, with its simulated implausibility
    checks: pd.DataFrame  # held-out and consistency targets on the members
    member_targets: pd.DataFrame  # per member and target: simulated value, within
    runs_done: int
    runs_failed: int
    elapsed_s: float


def history_match(
    targets: TargetSet | Sequence[Target],
    settings: Settings,
    out: str | Path,
    runner: BatchRunner,
    progress: Callable[[str], None] | None = None,
) -> HistoryResult:
    """Run (or resume) a history matching in ``out`` with ``runner``; see the module docstring."""
    settings.check()
    all_targets = list(targets.targets if isinstance(targets, TargetSet) else targets)
    fitted = [t for t in all_targets if t.role == "fitted"]
    if not fitted:
        raise HistoryError('calibrate: the targets file has no target with role = "fitted"')
    with hold_folder(out):
        return _history_match(settings, all_targets, fitted, Path(out), runner, progress)


def _history_match(settings, all_targets, fitted, out, runner, progress) -> HistoryResult:
    say = progress or (lambda _line: None)
    _start_folder(out, _identity(settings, fitted))
    _clean_partial(out)
    t0 = time.monotonic()
    params = list(settings.parameters)
    d = len(params)
    seeds = crn_seeds(settings.seeds, settings.base_seed)
    scen = scenarios(fitted)
    counts = {"done": 0, "failed": 0}

    def run(
        values: pd.DataFrame, seed_list: Sequence[int], scen_list: Sequence[Mapping[str, Any]]
    ) -> pd.DataFrame:
        runs = run_points(runner, values, seed_list, scen_list)
        failed = int((runs["status"] != "ok").sum()) if "status" in runs else 0
        counts["done"] += len(runs) - failed
        counts["failed"] += failed
        return runs

    waves: list[Wave] = []
    for k in range(1, settings.waves + 1):
        wave = _load_wave(out, k)
        if wave is not None:
            waves.append(wave)
            say(f"wave {k}/{settings.waves}: done earlier ({wave.info['summary']})")
            continue
        start = time.monotonic()
        if k == 1:
            unit = lhs(settings.runs_per_wave, d, settings.base_seed * 100 + k)
        else:
            unit = _draw_region(
                waves, fitted, settings, settings.runs_per_wave, seed=settings.base_seed * 100 + k
            )
            if len(unit) == 0:
                raise HistoryError(
                    f"calibrate: no non-implausible point left after wave {k - 1} "
                    f"(in {5 * settings.sample} draws): no parameter set meets the fitted targets"
                )
        values = values_of(unit, params)
        runs = run(values, seeds, scen)
        if k == 1 and settings.replicate_points and settings.replicate_seeds > settings.seeds:
            extra = crn_seeds(settings.replicate_seeds, settings.base_seed)[settings.seeds :]
            rep = run(values.iloc[: settings.replicate_points].reset_index(drop=True), extra, scen)
            rep["replicate"] += settings.seeds
            runs = pd.concat([runs, rep], ignore_index=True)
        runs["wave"] = k
        wave = _finish_wave(k, unit, runs, waves, fitted, settings, params)
        wave.info["elapsed_s"] = time.monotonic() - start
        wave.info["summary"] = _wave_summary(wave, settings)
        points = pd.concat(
            [pd.DataFrame(unit, columns=[f"u_{j}" for j in range(d)]), values.add_prefix("p_")], axis=1
        )
        _write_step(
            out,
            f"wave_{k:02d}",
            {
                "points.parquet": points,
                "runs.parquet": runs,
                "emulators.pkl": pickle.dumps(wave.emulators),
                "wave.json": wave.info,
            },
        )
        waves.append(wave)
        say(f"wave {k}/{settings.waves}: {wave.info['summary']} ({time.monotonic() - t0:.0f} s)")

    checked = [t for t in all_targets if t.role != "fitted" and not t.scenario and not t.is_input]
    candidates, members = _final(out, waves, fitted, checked, settings, params, seeds, scen, run, say, t0)
    checks_runs = _heldout_runs(out, members, all_targets, settings, params, seeds, run, say)
    checks, member_targets = _evaluate_checks(all_targets, candidates, members, checks_runs, settings, params)
    return HistoryResult(
        settings,
        waves,
        wave_table(waves, fitted),
        members,
        candidates,
        checks,
        member_targets,
        stored_runs(out)["done"],
        stored_runs(out)["failed"],
        time.monotonic() - t0,
    )


def stored_runs(out: Path) -> dict[str, int]:
    """Runs stored in every finished step of ``out`` (this session's and earlier ones)."""
    done = failed = 0
    for path in sorted(out.glob("*/runs.parquet")):
        if path.parent.name.startswith("."):
            continue
        status = pd.read_parquet(path, columns=["status"])["status"]
        failed += int((status != "ok").sum())
        done += int((status == "ok").sum())
    return {"done": done, "failed": failed}


def _draw_region(
    waves: Sequence[Wave], targets: Sequence[Target], settings: Settings, n: int, seed: int
) -> np.ndarray:
    """Up to ``n`` points of the current non-implausible region (from up to 5 large hypercubes)."""
    d = waves[0].unit.shape[1]
    found: list[np.ndarray] = []
    total = 0
    for attempt in range(5):
        u = lhs(settings.sample, d, seed * 10 + attempt)
        keep = u[non_implausible(u, waves, targets, settings)]
        found.append(keep)
        total += len(keep)
        if total >= n:
            break
    pool = np.concatenate(found) if found else np.empty((0, d))
    if len(pool) <= n:
        return pool
    pick = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return pool[np.sort(pick)]


def _finish_wave(
    k: int,
    unit: np.ndarray,
    runs: pd.DataFrame,
    earlier: Sequence[Wave],
    targets: Sequence[Target],
    settings: Settings,
    params: Sequence[str],
) -> Wave:
    """Train this wave's emulators on every point so far, compare the kinds, measure the volume."""
    all_unit = np.concatenate([*(w.unit for w in earlier), unit])
    offset = 0
    frames = []
    for w in [*earlier]:
        r = w.runs.copy()
        r["point"] += offset
        offset += len(w.unit)
        frames.append(r)
    r = runs.copy()
    r["point"] += offset
    frames.append(r)
    all_runs = pd.concat(frames, ignore_index=True)
    means = point_means(all_runs, targets, len(all_unit))
    v_rep = replicate_variance(all_runs, targets, settings.seeds)
    emulators, scores = {}, {}
    for i, t in enumerate(targets):
        y = means[t.name]
        score = compare(all_unit, y, seed=settings.base_seed + 7 * k + i)
        kind = (
            settings.emulator if settings.emulator != "auto" else min(KINDS, key=lambda c: score[c]["rmse"])
        )
        emulators[t.name] = fit_emulator(kind, all_unit, y, seed=settings.base_seed + k)
        scores[t.name] = {"chosen": kind, **{f"{c}_{m}": v for c in KINDS for m, v in score[c].items()}}
    wave = Wave(k, unit, runs, emulators, v_rep, {})
    probe = lhs(settings.sample, len(params), settings.base_seed * 1000 + k)
    share = float(non_implausible(probe, [*earlier, wave], targets, settings).mean())
    wave.info = {
        "wave": k,
        "points": int(len(unit)),
        "runs": int(len(runs)),
        "failed": int((runs["status"] != "ok").sum()) if "status" in runs else 0,
        "training_points": int(len(all_unit)),
        "remaining_share": share,
        "v_replicate": v_rep,
        "scores": scores,
    }
    return wave


def _wave_summary(wave: Wave, settings: Settings) -> str:
    scores = ", ".join(
        f"{name} {s['chosen']} R² {s[s['chosen'] + '_r2']:.2f}" for name, s in wave.info["scores"].items()
    )
    return (
        f"{wave.info['runs']} runs ({wave.info['failed']} failed); emulators: {scores}; "
        f"{100 * wave.info['remaining_share']:.2f}% of the prior space remains"
    )


def wave_table(waves: Sequence[Wave], targets: Sequence[Target]) -> pd.DataFrame:
    """One row per wave and fitted target: runs, emulator scores, remaining share."""
    rows = []
    for w in waves:
        for t in targets:
            s = w.info["scores"][t.name]
            rows.append(
                {
                    "wave": w.number,
                    "points": w.info["points"],
                    "runs": w.info["runs"],
                    "failed": w.info["failed"],
                    "training_points": w.info["training_points"],
                    "target": t.name,
                    "emulator": s["chosen"],
                    **{k: v for k, v in s.items() if k != "chosen"},
                    "remaining_share": w.info["remaining_share"],
                    "elapsed_s": w.info.get("elapsed_s", math.nan),
                }
            )
    return pd.DataFrame(rows)


def _final(out, waves, fitted, checked, settings, params, seeds, scen, run, say, t0):
    """Final rounds: candidates from the region, run for real, kept below the cutoff."""
    d = len(params)
    v_rep = waves[-1].v_replicate
    frames = []
    accepted = 0
    for r in range(1, settings.final_rounds + 1):
        name = f"final_{r:02d}"
        path = out / name
        if path.is_dir():
            cand = pd.read_parquet(path / "candidates.parquet")
            say(f"final round {r}: done earlier ({int(cand['accepted'].sum())} of {len(cand)} kept)")
        else:
            if r == 1:
                n = settings.final_runs
            else:
                rate = max(accepted / max(sum(len(f) for f in frames), 1), 0.1)
                n = min(settings.final_runs, math.ceil(1.2 * (settings.members - accepted) / rate))
            unit = _draw_region(waves, fitted, settings, n, seed=settings.base_seed * 100 + 50 + r)
            if len(unit) == 0:
                raise HistoryError("calibrate: the final non-implausible region is empty; no ensemble")
            values = values_of(unit, params)
            runs = run(values, seeds, scen)
            means = point_means(runs, [*fitted, *checked], len(values))
            imp = max_implausibility(means, fitted, settings, v_rep)
            cand = pd.concat(
                [
                    pd.DataFrame({"round": r, "implausibility": imp, "accepted": imp < settings.cutoff}),
                    pd.DataFrame(unit, columns=[f"u_{j}" for j in range(d)]),
                    values,
                    pd.DataFrame({f"kpi:{k}": v for k, v in means.items()}),
                ],
                axis=1,
            )
            runs["round"] = r
            _write_step(out, name, {"candidates.parquet": cand, "runs.parquet": runs})
            say(
                f"final round {r}: {int(cand['accepted'].sum())} of {len(cand)} candidates below the cutoff "
                f"({time.monotonic() - t0:.0f} s)"
            )
        frames.append(cand)
        accepted = int(sum(int(f["accepted"].sum()) for f in frames))
        if accepted >= settings.members:
            break
    candidates = pd.concat(frames, ignore_index=True)
    candidates.insert(0, "candidate", np.arange(len(candidates)))
    members = candidates[candidates["accepted"]].reset_index(drop=True)
    if members.empty:
        raise HistoryError(
            f"calibrate: none of the {len(candidates)} final candidates is below the cutoff when run"
        )
    members.insert(0, "member", np.arange(len(members)))
    if accepted < settings.members:
        say(f"note: {accepted} members kept, fewer than the {settings.members} asked (final_rounds reached)")
    return candidates, members


def _final_runs(out: Path) -> pd.DataFrame:
    frames = [pd.read_parquet(p / "runs.parquet") for p in sorted(out.glob("final_*")) if p.is_dir()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _heldout_runs(out, members, targets, settings, params, seeds, run, say) -> pd.DataFrame:
    """Runs of the first ``heldout_members`` members in the scenarios of the checked targets."""
    extra = [s for s in scenarios([t for t in targets if t.role != "fitted"]) if s]
    if not extra or settings.heldout_members == 0:
        return pd.DataFrame()
    path = out / "heldout"
    if path.is_dir():
        return pd.read_parquet(path / "runs.parquet")
    chosen = members.iloc[: settings.heldout_members]
    runs = run(chosen[params].reset_index(drop=True), seeds, extra)
    runs["member"] = chosen["member"].to_numpy()[runs["point"].to_numpy()]
    runs["scenario_overrides"] = [json.dumps(extra[i], sort_keys=True) for i in runs["scenario"]]
    _write_step(out, "heldout", {"runs.parquet": runs})
    say(f"held-out scenarios: {len(runs)} runs on {len(chosen)} members")
    return runs


def _evaluate_checks(targets, candidates, members, extra_runs, settings, params):
    """Every target on the members: per member the simulated value; per target the shares."""
    rows, summary = [], []
    for t in targets:
        if t.is_input:
            name = t.kpi[6:]
            vals = (
                members[name].to_numpy(float)
                if name in members
                else np.full(len(members), REGISTRY[name].default)
            )
            ids = members["member"].to_numpy()
        elif not t.scenario:
            col = f"kpi:{t.name}"
            vals = members[col].to_numpy(float) if col in members else np.full(len(members), np.nan)
            ids = members["member"].to_numpy()
        else:
            key = json.dumps(dict(t.scenario), sort_keys=True)
            sub = (
                extra_runs[(extra_runs["scenario_overrides"] == key) & (extra_runs["status"] == "ok")]
                if len(extra_runs)
                else extra_runs
            )
            if len(sub) == 0 or t.kpi not in sub:
                vals, ids = np.array([]), np.array([], dtype=int)
            else:
                g = sub.groupby("member")[t.kpi].mean()
                vals, ids = g.to_numpy(float), g.index.to_numpy()
        within = np.array([t.within(v) for v in vals], dtype=bool)
        for m, v, w in zip(ids, vals, within, strict=True):
            rows.append(
                {"member": int(m), "target": t.name, "role": t.role, "value": float(v), "within": bool(w)}
            )
        finite = vals[np.isfinite(vals)] if len(vals) else vals
        q = np.quantile(finite, [0.05, 0.5, 0.95]) if len(finite) else [math.nan] * 3
        summary.append(
            {
                "target": t.name,
                "role": t.role,
                "kpi": t.kpi,
                "value": t.value,
                "tolerance": t.tolerance,
                "bound": t.bound,
                "members": int(len(vals)),
                "share_within": float(within.mean()) if len(vals) else math.nan,
                "p5": float(q[0]),
                "median": float(q[1]),
                "p95": float(q[2]),
                "source": t.citation,
            }
        )
    return pd.DataFrame(summary), pd.DataFrame(rows)
