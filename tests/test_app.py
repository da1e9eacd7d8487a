"""Component tests of the browser view (``app.py``), without a browser.

The page is built with Solara's test renderer; the pure helpers (sliders from the registry,
presets, map layout, colours) are tested directly.
"""

import importlib.util
import sys
from pathlib import Path

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pytest
import solara
import solara.widgets
from matplotlib.figure import Figure

from model import REGISTRY, ParameterError
from model.params import names
from model.resident import STATUSES

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_residents": 600, "burn_in_weeks": 4, "weeks": 6}


def _load_app():
    """Import ``app.py`` from the repository root (it is a script, not a package)."""
    if "app" in sys.modules:
        return sys.modules["app"]
    spec = importlib.util.spec_from_file_location("app", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    return module


app = _load_app()
POLICY = names("policy")


def small_model(**overrides):
    settings = overrides.pop("settings", None)
    return app.ViewModel(settings, seed=overrides.pop("seed", 3), **{**SMALL, **overrides})


# ---- sliders from the registry -------------------------------------------------------------
@pytest.mark.parametrize("name", POLICY)
def test_every_policy_lever_has_an_input_matching_the_registry(name):
    p = REGISTRY[name]
    spec = app.input_spec(name)
    assert spec["label"].strip()
    if p.type is bool:
        assert spec["type"] == "Checkbox"
        assert spec["value"] is p.default
        return
    assert spec["type"] == {float: "SliderFloat", int: "SliderInt"}[p.type]
    assert (spec["min"], spec["max"], spec["value"]) == (p.low, p.high, p.default)
    assert p.unit in spec["label"]
    positions = (p.high - p.low) / spec["step"]
    assert 50 <= positions <= 1000
    assert app.snap(name, p.default) == p.default  # the default is a slider position


def test_model_params_hold_settings_seed_and_size():
    settings = app.Settings()
    spec = app.model_params(settings)
    assert spec["settings"] is settings
    assert spec["seed"]["type"] == "SliderInt"
    size = spec["n_residents"]
    p = REGISTRY["n_residents"]
    assert (size["min"], size["value"]) == (p.low, p.default)
    assert size["max"] == min(p.high, app.MAX_VIEW_RESIDENTS)


def test_labels_come_from_the_registry_meaning_or_name():
    assert app.lever_label("fte_per_1000") == "Staffing (FTE per 1,000 residents)"
    assert app.lever_label("mandate") == "Mandate (share of decisions)"
    assert app.lever_label("pre_2015") == "The pre-2015 approach"


def test_snap_rounds_to_the_step_and_keeps_bounds():
    assert app.snap("mandate", 0.30000000000000004) == 0.3
    assert app.snap("mandate", 1.0000001) == 1.0
    assert app.snap("training_hours", 15.6) == 16.0
    assert app.snap("pre_2015", 1) is True


# ---- presets --------------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def test_load_presets_reads_valid_files_and_reports_bad_ones(tmp_path):
    _write(
        tmp_path / "a_mandate.toml",
        'name = "mandate"\ntitle = "Full mandate"\nsource = "RadarAdvies"\nrationale = "r"\n'
        "[params]\nmandate = 1.0\n",
    )
    _write(tmp_path / "b_same_title.toml", 'name = "other"\ntitle = "Full mandate"\n[params]\n')
    _write(tmp_path / "c_out_of_range.toml", 'name = "bad"\ntitle = "Bad"\n[params]\nmandate = 7.0\n')
    _write(tmp_path / "d_unknown.toml", 'name = "unk"\ntitle = "Unknown"\n[params]\nno_such_lever = 1\n')
    _write(tmp_path / "e_broken.toml", "name = \n")
    _write(tmp_path / "f_not_a_table.toml", 'name = "x"\nparams = 3\n')
    presets, problems = app.load_presets(tmp_path)
    assert list(presets) == ["Registry defaults", "Full mandate", "Full mandate (other)"]
    assert presets["Full mandate"].params == {"mandate": 1.0}
    assert presets["Full mandate"].source == "RadarAdvies"
    assert [p.split(":")[0] for p in problems] == [
        "c_out_of_range.toml",
        "d_unknown.toml",
        "e_broken.toml",
        "f_not_a_table.toml",
    ]
    assert "mandate" in problems[0]


def test_no_preset_files_gives_just_the_defaults(tmp_path):
    presets, problems = app.load_presets(tmp_path / "missing")
    assert list(presets) == [app.DEFAULT_PRESET.title]
    assert problems == []


def test_settings_follow_a_preset_and_single_levers(monkeypatch):
    preset = app.Preset("t", "Test preset", params={"mandate": 0.9, "steering": 1.0, "weeks": 10})
    monkeypatch.setitem(app.PRESETS, preset.title, preset)
    settings = app.Settings()
    settings.choose("Test preset")
    assert settings.levers["mandate"] == 0.9
    assert settings.levers["fte_per_1000"] == REGISTRY["fte_per_1000"].default
    settings.set("fte_per_1000", 1.2300000001)
    params = app.resolve_params(app.PRESETS[settings.preset], settings.levers, n_residents=800)
    assert (params.mandate, params.steering, params.fte_per_1000) == (0.9, 1.0, 1.23)
    assert (params.weeks, params.n_residents) == (10, 800)  # non-lever preset values are kept
    with pytest.raises(ParameterError):
        app.resolve_params(app.DEFAULT_PRESET, {}, n_residents=10)


# ---- the model as the page runs it -------------------------------------------------------
def test_view_model_starts_after_burn_in_and_stops_at_the_horizon():
    model = small_model()
    assert (model.week, model.time, model.reported_weeks) == (SMALL["burn_in_weeks"], 0.0, 0)
    assert model.now == {}
    while model.running:
        model.step()
    assert model.reported_weeks == SMALL["weeks"] == model.time
    assert model.now["week"] == SMALL["weeks"]
    assert len(model.datacollector.model_vars["week"]) == SMALL["weeks"]


def test_view_model_uses_the_settings():
    settings = app.Settings()
    settings.set("pre_2015", True)
    model = small_model(settings=settings)
    assert model.p.pre_2015 and model.mandate == 0.0  # welfare workers without mandate (M10)


# ---- drawing ------------------------------------------------------------------------------------
def test_map_layout_puts_each_resident_in_its_own_cell_next_to_its_street_neighbour():
    block = np.arange(1050) // 100  # 11 blocks, the last one short
    rows, cols, shape, side = app.map_layout(block)
    assert side == 10
    assert rows.max() < shape[0] and cols.max() < shape[1]
    assert np.unique(rows * shape[1] + cols).size == block.size
    same = block[1:] == block[:-1]
    step = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    assert np.all(step[same] == 1)


def test_block_grid_is_wider_than_high_and_leaves_few_holes():
    assert app.block_grid(20) == (4, 5)
    for n in (1, 2, 7, 20, 80, 400):
        r, c = app.block_grid(n)
        assert r * c >= n and r <= c and r * c - n < c


def test_colours_show_state_and_darken_with_severity():
    none, team = STATUSES.index("none"), STATUSES.index("team")
    rgb = app.resident_colours(np.array([none, none, team, team]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert rgb.shape == (4, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0].sum() > rgb[1].sum()  # unsupported and severe: darker grey
    assert rgb[2].sum() > rgb[3].sum()
    np.testing.assert_allclose(rgb[3], app._rgb(app.STATUS_COLOURS["team"]))
    assert set(app.STATUS_COLOURS) == set(STATUSES) == set(app.STATUS_LABELS)


def test_trailing_mean_ignores_missing_weeks():
    got = app.trailing_mean(np.array([1.0, np.nan, 3.0, 5.0]), weeks=2)
    np.testing.assert_allclose(got, [1.0, 1.0, 3.0, 4.0])


DRAWINGS = [
    app.draw_map,
    app.draw_workers,
    app.draw_team_time,
    app.draw_prevention,
    app.draw_residents,
    app.draw_costs,
]


@pytest.mark.parametrize("pre_2015", [False, True])
def test_every_figure_draws_before_and_after_the_first_week(pre_2015):
    settings = app.Settings()
    settings.set("pre_2015", pre_2015)
    model = small_model(settings=settings)
    for _ in range(2):
        for draw in DRAWINGS:
            fig = draw(model)
            assert isinstance(fig, Figure)
            assert app.figure_png(fig).startswith(b"\x89PNG")
        assert "Summary after" in app.summary_html(model)
        model.step()


def test_summary_table_escapes_text_and_shows_units(monkeypatch):
    preset = app.Preset("x", "<b>bold</b>")
    monkeypatch.setitem(app.PRESETS, preset.title, preset)
    settings = app.Settings()
    settings.choose(preset.title)
    model = small_model(settings=settings)
    model.step()
    text = app.summary_html(model)
    assert "<b>bold</b>" not in text and "&lt;b&gt;" in text
    assert "EUR per resident per year" in text and "cases per FTE" in text
    about = app.about_html(model)
    assert "<b>bold</b>" not in about and "Scenario: &lt;b&gt;" in about


# ---- the page -----------------------------------------------------------------------------------
@solara.component
def _InLayout(page):
    with solara.AppLayout():
        page()


def _summary(rc) -> str:
    return "".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def test_page_builds_with_controls_levers_and_figures():
    box, rc = solara.render(_InLayout(app.Page), handle_error=False)
    try:
        for label in ("Step", "Reset", "\u25b6"):
            rc.find(v.Btn, children=[label]).assert_single()
        numeric = [n for n in POLICY if REGISTRY[n].type is not bool]
        for name in numeric:
            rc.find(v.Html, children=[app.lever_label(name)]).assert_single()
        sliders = [s for s in rc.find(v.Slider).widgets if s.label == ""]
        assert [(s.min, s.max, s.v_model) for s in sliders] == [
            (REGISTRY[n].low, REGISTRY[n].high, REGISTRY[n].default) for n in numeric
        ]
        boxes = [c.label for c in rc.find(v.Checkbox).widgets]
        assert app.lever_label("pre_2015") in boxes
        assert rc.find(v.Select, label="Scenario preset").widget.items == list(app.PRESETS)
        assert len(rc.find(widgets.Image).widgets) == len(DRAWINGS)
        assert "Summary after 0 weeks" in _summary(rc)
    finally:
        rc.close()


def test_step_advances_and_reset_starts_a_new_run_with_the_changed_lever():
    box, rc = solara.render(_InLayout(app.Page), handle_error=False)
    try:
        rc.find(v.Html, children=["Time: 0.0"]).assert_single()
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Html, children=["Time: 1.0"]).assert_single()
        assert "Summary after 1 week " in _summary(rc)

        mandate = [s for s in rc.find(v.Slider).widgets if s.label == ""][POLICY.index("mandate")]
        mandate.v_model = 0.9
        rc.find(v.Html, children=["0.90"]).assert_single()  # the panel shows the new value
        rc.find(v.Btn, children=["Reset"]).widget.click()
        rc.find(v.Html, children=["Time: 0.0"]).assert_single()
        assert "mandate = 0.9" in _summary(rc)
    finally:
        rc.close()
