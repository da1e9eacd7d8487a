"""Component tests of the browser view (``app.py`` and the ``webapp`` package), without a browser.

The page is built with Solara's test renderer; the plain parts (sliders from the registry,
presets, the summary table, map layout, colours) are tested directly.
"""

import ast
import math
from pathlib import Path

import ipyvuetify as v
import ipywidgets as widgets
import numpy as np
import pytest
import solara
import solara.widgets
from matplotlib.figure import Figure

import app
from experiments import scenario
from experiments.labels import lever_label, output_label
from model import REGISTRY, ParameterError
from model.outputs import SUMMARY, display_unit
from model.params import names
from model.reporters import Tally
from model.resident import STATUSES
from webapp import figures, levers, page, summary
from webapp.levers import Settings

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_residents": 600, "burn_in_weeks": 4, "weeks": 6}
POLICY = names("policy")


def small_model(**overrides):
    settings = overrides.pop("settings", None)
    return levers.ViewModel(settings, seed=overrides.pop("seed", 3), **{**SMALL, **overrides})


def test_app_py_is_the_thin_entry_solara_serves():
    assert app.Page is page.Page
    code = (ROOT / "app.py").read_text()
    assert len(code.splitlines()) < 20


# ---- sliders from the registry -------------------------------------------------------------
@pytest.mark.parametrize("name", POLICY)
def test_every_policy_lever_has_an_input_matching_the_registry(name):
    p = REGISTRY[name]
    spec = levers.input_spec(name)
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
    assert levers.snap(name, p.default) == p.default  # the default is a slider position


def test_model_params_hold_settings_seed_and_size():
    settings = Settings()
    spec = levers.model_params(settings)
    assert spec["settings"] is settings
    assert spec["seed"]["type"] == "SliderInt"
    size = spec["n_residents"]
    p = REGISTRY["n_residents"]
    assert (size["min"], size["value"]) == (p.low, p.default)
    assert size["max"] == min(p.high, levers.MAX_VIEW_RESIDENTS)


def test_labels_come_from_the_registry_meaning_or_name():
    assert lever_label("fte_per_1000") == "Staffing (FTE per 1,000 residents)"
    assert lever_label("mandate") == "Mandate (share of decisions)"
    assert lever_label("pre_2015") == "The pre-2015 approach"


def test_snap_rounds_to_the_step_and_keeps_bounds():
    assert levers.snap("mandate", 0.30000000000000004) == 0.3
    assert levers.snap("mandate", 1.0000001) == 1.0
    assert levers.snap("training_hours", 15.6) == 16.0
    assert levers.snap("pre_2015", 1) is True


# ---- presets --------------------------------------------------------------------------------
def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _scenario_file(name: str, title: str, params: str = "") -> str:
    return f'name = "{name}"\ntitle = "{title}"\nsource = "RadarAdvies"\nrationale = "r"\n[params]\n{params}'


def test_load_presets_reads_valid_files_and_reports_bad_ones(tmp_path):
    _write(tmp_path / "a_mandate.toml", _scenario_file("a_mandate", "Full mandate", "mandate = 1.0\n"))
    _write(tmp_path / "b_same_title.toml", _scenario_file("b_same_title", "Full mandate"))
    _write(tmp_path / "c_out_of_range.toml", _scenario_file("c_out_of_range", "Bad", "mandate = 7.0\n"))
    _write(tmp_path / "d_unknown.toml", _scenario_file("d_unknown", "Unknown", "no_such_lever = 1\n"))
    _write(tmp_path / "e_broken.toml", "name = \n")
    _write(tmp_path / "f_not_a_table.toml", 'name = "f_not_a_table"\nparams = 3\n')
    _write(tmp_path / "g_setup.toml", _scenario_file("g_setup", "Setup", "weeks = 10\n"))
    presets, problems = levers.load_presets(tmp_path)
    assert list(presets) == ["Registry defaults", "Full mandate", "Full mandate (b_same_title)"]
    assert presets["Full mandate"].params == {"mandate": 1.0}
    assert presets["Full mandate"].source == "RadarAdvies"
    assert [Path(p.split(":")[0]).name for p in problems] == [
        "c_out_of_range.toml",
        "d_unknown.toml",
        "e_broken.toml",
        "f_not_a_table.toml",
        "g_setup.toml",
    ]
    assert "mandate" in problems[0] and "no_such_lever" in problems[1] and "weeks" in problems[4]


def test_no_preset_files_gives_just_the_defaults(tmp_path):
    presets, problems = levers.load_presets(tmp_path / "missing")
    assert list(presets) == [levers.DEFAULT_PRESET.title]
    assert problems == []


def test_the_presets_are_the_scenario_files_as_experiments_reads_them():
    shipped = scenario.load_many()
    assert levers.PRESET_PROBLEMS == []
    assert list(levers.PRESETS) == [levers.DEFAULT_PRESET.title] + [s.title for s in shipped]
    for s in shipped:
        assert levers.PRESETS[s.title] == s


def test_load_all_puts_main_scenarios_first_then_the_others_by_name(tmp_path):
    for name in ("zzz", "mandate", "aaa", "pre_2015_equal_staff"):
        _write(tmp_path / f"{name}.toml", _scenario_file(name, name.upper()))
    found, problems = scenario.load_all(tmp_path)
    assert [s.name for s in found] == ["pre_2015_equal_staff", "mandate", "aaa", "zzz"] and problems == []


def test_settings_follow_a_preset_and_single_levers(monkeypatch):
    params = {"mandate": 0.9, "steering": 1.0, "weeks": 10}
    preset = scenario.Scenario("t", "Test preset", "", "", params=params)
    monkeypatch.setitem(levers.PRESETS, preset.title, preset)
    settings = Settings()
    settings.choose("Test preset")
    assert settings.levers["mandate"] == 0.9
    assert settings.levers["fte_per_1000"] == REGISTRY["fte_per_1000"].default
    settings.set("fte_per_1000", 1.2300000001)
    params = levers.resolve_params(levers.PRESETS[settings.preset], settings.levers, n_residents=800)
    assert (params.mandate, params.steering, params.fte_per_1000) == (0.9, 1.0, 1.23)
    assert (params.weeks, params.n_residents) == (10, 800)  # non-lever preset values are kept
    with pytest.raises(ParameterError):
        levers.resolve_params(levers.DEFAULT_PRESET, {}, n_residents=10)


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
    settings = Settings()
    settings.set("pre_2015", True)
    model = small_model(settings=settings)
    assert model.p.pre_2015 and model.mandate == 0.0  # welfare workers without mandate (M10)


# ---- drawing ------------------------------------------------------------------------------------
def test_map_layout_puts_each_resident_in_its_own_cell_next_to_its_street_neighbour():
    block = np.arange(1050) // 100  # 11 blocks, the last one short
    rows, cols, shape, side = figures.map_layout(block)
    assert side == 10
    assert rows.max() < shape[0] and cols.max() < shape[1]
    assert np.unique(rows * shape[1] + cols).size == block.size
    same = block[1:] == block[:-1]
    step = np.abs(np.diff(rows)) + np.abs(np.diff(cols))
    assert np.all(step[same] == 1)


def test_block_grid_is_wider_than_high_and_leaves_few_holes():
    assert figures.block_grid(20) == (4, 5)
    for n in (1, 2, 7, 20, 80, 400):
        r, c = figures.block_grid(n)
        assert r * c >= n and r <= c and r * c - n < c


def test_colours_show_state_and_darken_with_severity():
    none, team = STATUSES.index("none"), STATUSES.index("team")
    rgb = figures.resident_colours(np.array([none, none, team, team]), np.array([0.0, 1.0, 0.0, 1.0]))
    assert rgb.shape == (4, 3) and rgb.min() >= 0 and rgb.max() <= 1
    assert rgb[0].sum() > rgb[1].sum()  # unsupported and severe: darker grey
    assert rgb[2].sum() > rgb[3].sum()
    np.testing.assert_allclose(rgb[3], figures._rgb(figures.STATUS_COLOURS["team"]))
    assert set(figures.STATUS_COLOURS) == set(STATUSES) == set(figures.STATUS_LABELS)


def test_trailing_mean_ignores_missing_weeks():
    got = figures.trailing_mean(np.array([1.0, np.nan, 3.0, 5.0]), weeks=2)
    np.testing.assert_allclose(got, [1.0, 1.0, 3.0, 4.0])


DRAWINGS = [
    figures.draw_map,
    figures.draw_workers,
    figures.draw_team_time,
    figures.draw_prevention,
    figures.draw_residents,
    figures.draw_costs,
    figures.draw_income,
]


@pytest.mark.parametrize("pre_2015", [False, True])
def test_every_figure_draws_before_and_after_the_first_week(pre_2015):
    settings = Settings()
    settings.set("pre_2015", pre_2015)
    model = small_model(settings=settings)
    for _ in range(2):
        for draw in DRAWINGS:
            fig = draw(model)
            assert isinstance(fig, Figure)
            assert figures.figure_png(fig).startswith(b"\x89PNG")
        assert "Summary after" in summary.summary_html(model)
        model.step()


def test_summary_table_escapes_text_and_shows_units(monkeypatch):
    preset = scenario.Scenario("x", "<b>bold</b>", "", "")
    monkeypatch.setitem(levers.PRESETS, preset.title, preset)
    settings = Settings()
    settings.choose(preset.title)
    model = small_model(settings=settings)
    model.step()
    text = summary.summary_html(model)
    assert "<b>bold</b>" not in text and "&lt;b&gt;" in text
    assert "EUR per resident per year" in text and "cases per FTE" in text
    about = page.about_html(model)
    assert "<b>bold</b>" not in about and "Scenario: &lt;b&gt;" in about


# ---- the summary table ------------------------------------------------------------------------
def _rows(model) -> dict[str, tuple[str, str, str, str]]:
    return dict(zip(summary.ROWS, summary.summary_rows(model), strict=True))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_summary_rows_are_the_summary_fields_of_the_output_table_with_their_labels_and_units():
    model = small_model()
    before = summary.summary_rows(model)
    assert {row[1:3] for row in before} == {("", summary.DASH)}  # nothing reported yet
    model.step()
    shown = [o.name for o in SUMMARY if o.name != "reported_weeks"]  # the heading gives the weeks
    assert list(summary.ROWS) == shown
    assert [(r[0], r[3]) for r in summary.summary_rows(model)] == [
        (output_label(n), display_unit(n)) for n in shown
    ]


def test_this_week_is_the_last_weeks_summary_and_mean_so_far_the_runs_summary():
    model = small_model()
    for _ in range(3):
        model.step()
    rows, now, mean = _rows(model), model.now, model.summary()
    per_1000, per_year = 1000.0 / model.p.n_residents, 52.0 / model.p.n_residents
    assert _number(rows["caseload_per_fte"][1]) == pytest.approx(now["caseload_per_fte"], abs=0.051)
    assert _number(rows["waiting_per_1000"][1]) == pytest.approx(now["waiting"] * per_1000, abs=0.051)
    escalations = now["maatwerk_starts"] * 52 * per_1000
    assert _number(rows["escalations_per_1000_year"][1]) == pytest.approx(escalations, abs=0.051)
    assert _number(rows["cost_team_per_resident_year"][1]) == pytest.approx(
        now["cost_team"] * per_year, abs=0.51
    )
    assert _number(rows["caseload_per_fte"][2]) == pytest.approx(mean["caseload_per_fte"], abs=0.051)
    share = 100 * mean["collective_time_share"]
    assert _number(rows["collective_time_share"][2]) == pytest.approx(share, abs=0.51)
    assert not math.isclose(mean["caseload_per_fte"], 0.0)


def test_yearly_fields_show_a_dash_until_a_calendar_year_has_closed():
    by_group = {f"youth_care_share_{g}" for g in ("low", "middle", "high")}
    assert summary.YEARLY == {"youth_support_share", "youth_care_share", "youth_care_team_share", *by_group}
    model = small_model(weeks=80)
    model.step()
    assert _rows(model)["youth_care_share"][1:3] == ("", summary.DASH)
    while not model.tally.youth_years:
        model.step()
    this_week, so_far = _rows(model)["youth_care_share"][1:3]
    assert this_week == "" and _number(so_far) == pytest.approx(model.summary()["youth_care_share"], abs=5e-4)


def test_tally_since_is_the_difference_between_two_copies_of_a_tally():
    before = Tally(weeks=2, requests=5, sums={"waiting": 3.0}, youth_years=[(1, 1, 1, 1)])
    now = Tally(
        weeks=3,
        requests=9,
        sums={"waiting": 7.0, "volunteers": 1.0},
        youth_years=[(1, 1, 1, 1), (4, 3, 2, 1)],
    )
    week = summary.tally_since(now, before)
    assert (week.weeks, week.requests, week.youth_years) == (1, 4, [(4, 3, 2, 1)])
    assert week.sums == {"waiting": 4.0, "volunteers": 1.0}
    assert week.removed == {"own": 0.0, "neighbours": 0.0, "support": 0.0}
    sized = Tally(group_sizes=np.array([2.0, 6.0, 2.0]))
    assert summary.tally_since(sized, Tally(group_sizes=sized.group_sizes)).group_sizes.tolist() == [2, 6, 2]


# ---- the package's code ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted((ROOT / "webapp").glob("*.py")), ids=lambda p: p.name)
def test_webapp_functions_are_short_and_figures_need_no_pyplot(path):
    tree = ast.parse(path.read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert [f.name for f in functions if f.end_lineno - f.lineno + 1 > 60] == []
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {
        f"{n.module}.{a.name}" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names
    }
    assert [name for name in imported if "pyplot" in name] == []
    calls = [
        n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert "use" not in calls  # matplotlib.use: the figures are Figure objects, no global backend


# ---- the page -----------------------------------------------------------------------------------
@solara.component
def _InLayout(page):
    with solara.AppLayout():
        page()


def _summary(rc) -> str:
    return "".join(w.unsafe_innerHTML or "" for w in rc.find(solara.widgets.HTML).widgets)


def test_page_builds_with_controls_levers_and_figures():
    box, rc = solara.render(_InLayout(page.Page), handle_error=False)
    try:
        for label in ("Step", "Reset", "\u25b6"):
            rc.find(v.Btn, children=[label]).assert_single()
        numeric = [n for n in POLICY if REGISTRY[n].type is not bool]
        for name in numeric:
            rc.find(v.Html, children=[lever_label(name)]).assert_single()
        sliders = [s for s in rc.find(v.Slider).widgets if s.label == ""]
        assert [(s.min, s.max, s.v_model) for s in sliders] == [
            (REGISTRY[n].low, REGISTRY[n].high, REGISTRY[n].default) for n in numeric
        ]
        boxes = [c.label for c in rc.find(v.Checkbox).widgets]
        assert lever_label("pre_2015") in boxes
        assert rc.find(v.Select, label="Scenario preset").widget.items == list(levers.PRESETS)
        assert len(rc.find(widgets.Image).widgets) == len(DRAWINGS)
        assert "Summary after 0 weeks" in _summary(rc)
    finally:
        rc.close()


def test_step_advances_and_reset_starts_a_new_run_with_the_changed_lever():
    box, rc = solara.render(_InLayout(page.Page), handle_error=False)
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
