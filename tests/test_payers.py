"""M9 who pays (model/payers.py): unit costs by kind, payers, ledger, NPV and payback."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import run
from model.params import REGISTRY, defaults
from model.payers import (
    KINDS,
    MUNICIPAL,
    PAYERS,
    discount_factor,
    ledger,
    maatwerk_clients,
    payback,
    payer_table,
    unit_costs,
)
from model.resident import (
    ADULT,
    CARE_SUPPORT,
    DOMAINS,
    ELDERLY,
    INCOME_WORK,
    MAATWERK,
    MENTAL_HEALTH,
    TEAM,
    YOUTH,
    YOUTH_FAMILY,
)

TINY = {"n_residents": 400, "weeks": 120, "burn_in_weeks": 8}


def test_every_kind_is_paid_in_full_by_known_payers():
    p = defaults().replace(mental_health_zvw_share=0.55)
    table = payer_table(p)
    assert set(table) == {*KINDS, "team", "collective"}
    for kind, shares in table.items():
        assert set(shares) <= set(PAYERS), kind
        assert sum(shares.values()) == pytest.approx(1.0), kind
    assert table["mental_health"] == {"insurers_zvw": 0.55, "municipality_wmo": pytest.approx(0.45)}


def test_unit_costs_come_from_the_registry():
    p = defaults()
    unit = unit_costs(p)
    assert unit["wmo_home"] == pytest.approx(p.maatwerk_cost_year * p.wmo_home_cost_ratio)
    assert unit["youth_care"] == p.youth_care_cost_year > p.maatwerk_cost_year
    assert list(unit) == list(KINDS)


def test_the_kind_follows_domain_and_age():
    # One client for every (domain, age) pair, and a team case that costs nothing here.
    dom = np.repeat(np.arange(4), 3).astype(np.int8)
    age = np.tile([YOUTH, ADULT, ELDERLY], 4).astype(np.int8)
    status = np.full(12, MAATWERK, np.int8)
    clients = maatwerk_clients(np.append(status, TEAM), np.append(dom, 0), np.append(age, 0))
    youth, wmo, income, mental = (KINDS.index(k) for k in KINDS)
    assert clients[youth, YOUTH_FAMILY] == 3  # youth & family is youth care at any age
    assert clients[youth, CARE_SUPPORT] == 1 and clients[wmo, CARE_SUPPORT] == 2
    assert clients[income, INCOME_WORK] == 3  # the Participatiewet, the under-23s included
    assert clients[youth, MENTAL_HEALTH] == 1 and clients[mental, MENTAL_HEALTH] == 2
    assert clients.sum() == 12


def test_the_budget_review_counts_only_what_the_municipality_pays(small_model):
    model = small_model(seed=2)
    for _ in range(30):  # into the reported period (burn-in 26 weeks), before a review
        model.step()
    before = model.municipality.spent_year
    model.step()
    row = model.now
    municipal = sum(row[f"cost_{k}"] for k in MUNICIPAL)
    total = row["cost_team"] + row["cost_maatwerk"] + row["cost_collective"]
    assert row["cost_insurers_zvw"] > 0
    assert model.municipality.spent_year - before == pytest.approx(municipal)
    assert municipal < total


def test_discount_rate_changes_only_the_npv():
    a, _ = run(seed=4, collect=False, discount_rate=0.0, **TINY)
    b, _ = run(seed=4, collect=False, discount_rate=0.08, **TINY)
    years = TINY["weeks"] / 52.0
    for k in PAYERS:
        assert a[f"npv_{k}_per_resident"] == pytest.approx(a[f"cost_{k}_per_resident_year"] * years)
        if a[f"cost_{k}_per_resident_year"] > 0:
            assert b[f"npv_{k}_per_resident"] < a[f"npv_{k}_per_resident"]
    same = [k for k in a if not k.startswith("npv_")]
    assert {k: a[k] for k in same} == {k: b[k] for k in same}


def test_discount_factor_by_reported_year():
    assert discount_factor(0.1, 1) == discount_factor(0.1, 52) == 1.0
    assert discount_factor(0.1, 53) == pytest.approx(1 / 1.1)
    assert discount_factor(0.1, 105) == pytest.approx(1 / 1.21)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    pre_2015=st.booleans(),
    zvw=st.floats(0.3, 1.0),
    youth_cost=st.floats(5000.0, 30000.0),
    ratio=st.floats(0.5, 1.0),
    fte=st.floats(0.2, 3.0),
    rate=st.floats(0.0, 0.1),
)
def test_payers_sum_exactly_to_the_total(seed, pre_2015, zvw, youth_cost, ratio, fte, rate):
    params = {
        **TINY,
        "pre_2015": pre_2015,
        "mental_health_zvw_share": zvw,
        "youth_care_cost_year": youth_cost,
        "wmo_home_cost_ratio": ratio,
        "fte_per_1000": fte,
        "discount_rate": rate,
    }
    s, series = run(seed=seed, **params)
    total = s["cost_total_per_resident_year"]
    assert sum(s[f"cost_{k}_per_resident_year"] for k in PAYERS) == total
    kinds = sum(s[f"cost_{k}_per_resident_year"] for k in ("team", "maatwerk", "collective"))
    assert kinds == pytest.approx(total, rel=1e-12)
    domains = sum(s[f"cost_maatwerk_{d}_per_resident_year"] for d in DOMAINS)
    assert domains == pytest.approx(s["cost_maatwerk_per_resident_year"], rel=1e-12)
    assert s["cost_wlz_per_resident_year"] == 0.0
    municipal = sum(s[f"cost_{k}_per_resident_year"] for k in MUNICIPAL)
    assert s["cost_municipality_per_resident_year"] == pytest.approx(municipal)
    assert s["budget_balance_per_resident_year"] == pytest.approx(
        REGISTRY["budget_per_resident"].default - municipal
    )
    weekly = series[[f"cost_{k}" for k in PAYERS]].sum(axis=1)
    by_kind = series["cost_team"] + series["cost_maatwerk"] + series["cost_collective"]
    np.testing.assert_allclose(weekly, by_kind, rtol=1e-12)
    book = ledger(series, TINY["n_residents"], rate)
    assert list(book["weeks"]) == [52, 52, 16]
    assert book["total"].sum() == pytest.approx(s["npv_total_per_resident"], rel=1e-9)
    assert ledger(series, TINY["n_residents"])["total"].sum() == pytest.approx(total * 120 / 52, rel=1e-9)


def _ledger(rows: dict[str, list[float]]) -> pd.DataFrame:
    years = len(next(iter(rows.values())))
    table = pd.DataFrame({k: rows.get(k, [0.0] * years) for k in PAYERS}, index=range(1, years + 1))
    table["total"] = table.sum(axis=1)
    return table


def test_payback_of_an_investment_that_lands_with_another_payer():
    # The welfare budget spends 100 a year more; the insurers save 40, 80, 120, 160.
    base = _ledger({"municipality_welfare": [200.0] * 4, "insurers_zvw": [400.0] * 4})
    scen = _ledger({"municipality_welfare": [300.0] * 4, "insurers_zvw": [360.0, 320.0, 280.0, 240.0]})
    result = payback(scen, base)
    assert result.investor == "municipality_welfare"
    assert list(result.cumulative["total"]) == [-60.0, -80.0, -60.0, 0.0]
    assert result.years["municipality_welfare"] is None  # never repaid within the investor's budget
    assert result.years["insurers_zvw"] == 0  # never cost the insurers anything
    assert result.years["total"] == 4
    assert result.covers_investor["insurers_zvw"] == 4  # 40+80+120+160 = 400 = 4 x 100
    assert result.covers_investor["municipality_wmo"] is None


def test_payback_needs_the_cumulative_saving_to_stay_positive():
    base = _ledger({"municipality_youth": [500.0] * 3, "municipality_welfare": [100.0] * 3})
    # total saving +100, -300, +100 -> cumulative +100, -200, -100: never paid back.
    bumpy = _ledger({"municipality_youth": [300.0, 700.0, 300.0], "municipality_welfare": [200.0] * 3})
    assert payback(bumpy, base).years["total"] is None
    # total saving -100, +100, +100 -> cumulative -100, 0, +100: paid back in year 2.
    late = _ledger({"municipality_youth": [500.0, 300.0, 300.0], "municipality_welfare": [200.0] * 3})
    result = payback(late, base)
    assert result.years["total"] == 2 and result.investor == "municipality_welfare"
    assert result.covers_investor["municipality_youth"] == 2  # youth care saved 0, 200 against 100, 200
    assert payback(base, base).investor is None


def test_a_model_without_the_zvw_share_charges_no_insurer():
    s, _ = run(seed=1, collect=False, mental_health_zvw_share=0.3, **TINY)
    t, _ = run(seed=1, collect=False, mental_health_zvw_share=1.0, **TINY)
    assert t["cost_insurers_zvw_per_resident_year"] > s["cost_insurers_zvw_per_resident_year"] > 0


def test_wijkteam_run_reports_who_pays_and_the_payback(tmp_path, capsys):
    from experiments.cli import main

    out = tmp_path / "cmp"
    tiny = ["--residents", "300", "--weeks", "60", "--burn-in", "4", "--workers", "1", "--quiet"]
    assert (
        main(
            ["run", "pre_2015_equal_spending", "default_team", "--replicates", "1", "--out", str(out), *tiny]
        )
        == 0
    )
    assert (out / "payers.png").is_file() and (out / "payback.png").is_file()
    report = (out / "report.md").read_text()
    assert "## Who pays" in report and "### Payback against Pre-2015 approach, equal spending" in report
    assert "| Default team" in report.split("### Payback")[1]
    series = pd.read_parquet(out / "series.parquet")
    assert {f"cost_{k}" for k in PAYERS} <= set(series.columns)
    capsys.readouterr()
