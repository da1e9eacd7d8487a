"""A plausible ensemble: parameter sets consistent with the calibration targets (issue #18).

An ensemble is a folder that ``wijkteam calibrate`` writes and ``wijkteam run --ensemble``,
``wijkteam validate --ensemble`` and ``wijkteam discover`` read. It holds two files:

``ensemble.parquet``
    one row per member: ``member`` (0, 1, ...), ``wave`` (the history-matching wave that
    produced it), ``implausibility`` (its largest implausibility over the fitted targets; lower
    is more plausible) and one column per varied parameter (the registry's behaviour
    parameters the calibration varied), in the parameter's type.
``ensemble.json``
    ``format`` (:data:`FORMAT`), ``parameters`` (the varied names, in column order), ``fixed``
    (overrides every member shares, e.g. a scenario's), ``setup`` (the neighbourhood size and
    horizon the members were judged on) and free provenance (targets, cutoff, commit, time).

A member's parameters are the registry defaults, then ``fixed``, then its own columns
(:meth:`Ensemble.overrides`). Both files are written atomically, the table first, so a reader
never sees a half-written ensemble; :func:`load_ensemble` checks every value against the
registry and names the first bad one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.store import atomic_write_bytes, atomic_write_parquet, json_default
from model.params import REGISTRY, ParameterError, draw_priors, names

FORMAT = "wijkteam-ensemble/1"
TABLE = "ensemble.parquet"
META = "ensemble.json"
#: The columns of the table that are not parameters.
COLUMNS: tuple[str, ...] = ("member", "wave", "implausibility")


class EnsembleError(ValueError):
    """An ensemble folder that cannot be read or written as asked."""


@dataclass(frozen=True)
class Ensemble:
    """The members of a plausible ensemble and what they share."""

    members: pd.DataFrame
    parameters: tuple[str, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check(self.members, self.parameters, self.fixed)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def ids(self) -> list[int]:
        """The members' ids, in table order."""
        return [int(m) for m in self.members["member"]]

    def overrides(self, member: int) -> dict[str, Any]:
        """Parameter overrides of one member (``fixed`` first, then its own values)."""
        rows = self.members.loc[self.members["member"] == member]
        if rows.empty:
            raise EnsembleError(f"ensemble: no member {member} (members are {self.ids[0]}..{self.ids[-1]})")
        row = rows.iloc[0]
        own = {name: REGISTRY[name].check(row[name]) for name in self.parameters}
        return {**self.fixed, **own}

    def iter_overrides(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(member, overrides)`` for every member, in table order."""
        for member in self.ids:
            yield member, self.overrides(member)

    def to_df(self) -> pd.DataFrame:
        """The members' table (a copy)."""
        return self.members.copy()

    def head(self, n: int | None) -> Ensemble:
        """The first ``n`` members (all with ``None``): a smaller run on the same worlds.

        Members are stored in the order they were drawn, so the first ``n`` are a random subset
        and the first ``n`` of a larger choice are among them.
        """
        if n is None:
            return self
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= len(self):
            raise EnsembleError(
                f"ensemble: --members = {n!r} is not allowed: expected an integer in [1, {len(self)}]"
            )
        if n == len(self):
            return self
        meta = {**self.meta, "members_used": f"the first {int(n)} of {len(self)}"}
        return Ensemble(self.members.iloc[: int(n)].reset_index(drop=True), self.parameters, self.fixed, meta)


def _check(members: pd.DataFrame, parameters: Sequence[str], fixed: Mapping[str, Any]) -> None:
    missing = [c for c in (*COLUMNS, *parameters) if c not in members.columns]
    if missing:
        raise EnsembleError(f"ensemble: the table lacks the column(s) {', '.join(missing)}")
    if members.empty:
        raise EnsembleError("ensemble: the table has no members")
    if members["member"].duplicated().any():
        raise EnsembleError("ensemble: a member id occurs twice in the table")
    behaviour = set(names("behaviour"))
    for name in parameters:
        if name not in REGISTRY:
            raise EnsembleError(f"ensemble: unknown parameter '{name}'")
        if name not in behaviour:
            raise EnsembleError(
                f"ensemble: '{name}' is a {REGISTRY[name].kind} parameter, not a behaviour one"
            )
    for name, value in fixed.items():
        if name not in REGISTRY:
            raise EnsembleError(f"ensemble: unknown fixed parameter '{name}'")
        REGISTRY[name].check(value)
    for name in parameters:
        for member, value in zip(members["member"], members[name], strict=True):
            try:
                REGISTRY[name].check(value)
            except ParameterError as exc:
                raise EnsembleError(f"ensemble: member {int(member)}: {exc}") from None


def save_ensemble(folder: str | Path, ensemble: Ensemble) -> Path:
    """Write ``ensemble`` to ``folder`` (created if needed): the table, then its description."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    table = ensemble.members[[*COLUMNS, *ensemble.parameters]].reset_index(drop=True)
    meta = {
        **ensemble.meta,
        "format": FORMAT,
        "parameters": list(ensemble.parameters),
        "fixed": dict(ensemble.fixed),
        "n_members": len(table),
    }
    atomic_write_parquet(path / TABLE, table)
    atomic_write_bytes(path / META, json.dumps(meta, indent=2, default=json_default).encode())
    return path


def load_ensemble(folder: str | Path) -> Ensemble:
    """Read and check the ensemble in ``folder``; one clear line if it is not one."""
    path = Path(folder)
    if not (path / META).is_file() or not (path / TABLE).is_file():
        raise EnsembleError(
            f"ensemble: {path} holds no ensemble ({META} and {TABLE}); `wijkteam calibrate` writes one"
        )
    try:
        meta = json.loads((path / META).read_text())
        table = pd.read_parquet(path / TABLE)
    except (OSError, ValueError) as exc:
        raise EnsembleError(f"ensemble: {path} cannot be read ({exc})") from None
    if meta.get("format") != FORMAT:
        raise EnsembleError(f"ensemble: {path / META} has format {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("n_members") != len(table):
        raise EnsembleError(
            f"ensemble: {path / META} describes {meta.get('n_members')} members"
            f" but the table has {len(table)}"
        )
    parameters = tuple(meta.get("parameters", ()))
    fixed = dict(meta.get("fixed", {}))
    rest = {k: v for k, v in meta.items() if k not in ("parameters", "fixed")}
    return Ensemble(table, parameters, fixed, rest)


def from_values(
    values: pd.DataFrame,
    *,
    fixed: Mapping[str, Any] | None = None,
    implausibility: Sequence[float] | None = None,
    wave: int = 0,
    meta: Mapping[str, Any] | None = None,
) -> Ensemble:
    """An ensemble whose members are the rows of ``values`` (one column per behaviour parameter)."""
    parameters = tuple(str(c) for c in values.columns)
    table = pd.DataFrame(
        {
            "member": np.arange(len(values), dtype=np.int64),
            "wave": np.full(len(values), wave, dtype=np.int64),
            "implausibility": (
                np.asarray(implausibility, dtype=float)
                if implausibility is not None
                else np.zeros(len(values))
            ),
        }
    )
    for name in parameters:
        column = values[name].to_numpy()
        table[name] = column.astype(np.int64) if REGISTRY[name].type is int else column.astype(float)
    return Ensemble(table, parameters, dict(fixed or {}), dict(meta or {}))


def from_ranges(n: int, seed: int, parameters: Sequence[str] | None = None, **kwargs: Any) -> Ensemble:
    """``n`` members drawn from the registry's priors (no calibration).

    The prior without the data: a Latin hypercube in unit space mapped through each parameter's
    prior (``model.params.draw_priors``: uniform, log-uniform or triangular on its prior range),
    for trying the ensemble commands out, and for tests. Integer parameters are rounded.
    """
    chosen = list(parameters) if parameters is not None else names("behaviour")
    bad = [
        p for p in chosen if p not in REGISTRY or REGISTRY[p].kind != "behaviour" or REGISTRY[p].type is bool
    ]
    if bad:
        raise EnsembleError(f"ensemble: cannot draw {', '.join(bad)} (numeric behaviour parameters only)")
    if n < 1:
        raise EnsembleError(f"ensemble: n = {n} is not allowed: expected an integer >= 1")
    values = draw_priors(n, chosen, seed)
    return from_values(pd.DataFrame(values), meta={"drawn": "registry priors", "seed": seed}, **kwargs)
