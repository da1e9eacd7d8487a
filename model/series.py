"""The weekly series of a run, kept in a preallocated NumPy buffer (one row per reported week).

:class:`WeeklySeries` stands in for a Mesa ``DataCollector`` with model reporters only:
``collect(model)`` records the model's current week (``model.now``), and ``model_vars``,
``get_model_vars_dataframe()`` and ``_collection_steps`` read back as Mesa's do (with no agent
reporters), so Mesa's SolaraViz plots and ``mesa.batch_run`` work unchanged. Storing a row in a NumPy array
costs a fraction of the DataCollector's per-value copies, which mattered at 520 weeks a run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd


class WeeklySeries:
    """Weekly values of ``fields`` (floats), one row per :meth:`collect`.

    Parameters
    ----------
    fields:
        Names of the series (the columns), read from ``model.now`` at each collect.
    weeks:
        Rows to allocate at first (the reported weeks expected); the buffer doubles when full.
    """

    def __init__(self, fields: Iterable[str], weeks: int) -> None:
        self.fields: tuple[str, ...] = tuple(fields)
        self.model_reporters: dict[str, str] = {k: k for k in self.fields}
        self._rows = np.empty((max(int(weeks), 1), len(self.fields)))
        self._n = 0
        self._collection_steps: list[Any] = []  # the model's time at each collect, as Mesa's
        # No agent reporters; Mesa's batch_run reads these.
        self.agent_reporters: dict[str, Any] = {}
        self.agenttype_reporters: dict[type, dict[str, Any]] = {}
        self._agent_records: dict[Any, list[Any]] = {}
        self._agenttype_records: dict[Any, dict[type, list[Any]]] = {}

    def collect(self, model: Any) -> None:
        """Record one row: the values of ``model.now`` for the series' fields."""
        if self._n == self._rows.shape[0]:
            self._rows = np.concatenate([self._rows, np.empty_like(self._rows)])
        now = model.now
        self._rows[self._n] = [now[k] for k in self.fields]
        self._n += 1
        self._collection_steps.append(model.time)

    @property
    def model_vars(self) -> dict[str, list[float]]:
        """The recorded values as Mesa's ``DataCollector.model_vars``: a list per field."""
        rows = self._rows[: self._n]
        return {k: rows[:, j].tolist() for j, k in enumerate(self.fields)}

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One column per field, one row per collect (float64), as Mesa's DataCollector."""
        rows = self._rows[: self._n]
        return pd.DataFrame({k: rows[:, j].copy() for j, k in enumerate(self.fields)})
