"""The weekly series buffer reads back as Mesa's DataCollector would have recorded it."""

import mesa
import numpy as np
import pandas as pd

from model import SERIES_FIELDS, NeighbourhoodModel
from model.series import WeeklySeries


def test_weekly_series_reads_like_a_mesa_datacollector():
    model = NeighbourhoodModel(n_residents=600, weeks=20, burn_in_weeks=4, rng=3)
    mesa_dc = mesa.DataCollector(model_reporters={k: (lambda m, k=k: m.now[k]) for k in SERIES_FIELDS})
    while model.week < 24:
        model.step()
        if model.week > 4:
            mesa_dc.collect(model)
    ours = model.datacollector
    pd.testing.assert_frame_equal(
        ours.get_model_vars_dataframe(), mesa_dc.get_model_vars_dataframe(), check_exact=True
    )
    assert list(ours.model_vars) == list(mesa_dc.model_vars)
    for k, values in ours.model_vars.items():
        assert len(values) == 20
        np.testing.assert_array_equal(values, mesa_dc.model_vars[k])
    assert ours._collection_steps == mesa_dc._collection_steps


def test_weekly_series_grows_past_the_rows_it_allocated():
    class Now:
        time = 0.0
        now: dict[str, float] = {}

    series = WeeklySeries(["a", "b"], weeks=2)
    source = Now()
    for week in range(5):
        source.now = {"a": float(week), "b": float("nan") if week == 3 else 2.0 * week}
        series.collect(source)
    df = series.get_model_vars_dataframe()
    assert df["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert np.isnan(df["b"][3]) and df["b"][4] == 8.0
    assert series.model_vars["a"] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_mesa_batch_run_reads_the_weekly_series():
    params = {"n_residents": 500, "weeks": 5, "burn_in_weeks": 2, "collect": True}
    last = mesa.batch_run(
        NeighbourhoodModel,
        params,
        rng=[0],
        max_steps=7,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(last) == 1 and last[0]["week"] == 5.0
    every = mesa.batch_run(
        NeighbourhoodModel,
        params,
        rng=[0],
        max_steps=7,
        data_collection_period=1,
        display_progress=False,
    )
    assert [row["week"] for row in every] == [1.0, 2.0, 3.0, 4.0, 5.0]
