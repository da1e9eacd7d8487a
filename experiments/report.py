"""A short ``report.md`` for a scenario comparison, and the text printed at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from experiments.plots import INCOME_KPIS, KPI_PANELS, PERCENT, mean_ci
from experiments.scenario import Scenario
from experiments.store import atomic_write_bytes
from model.outputs import INCOME_LABELS, OUTPUTS, display_unit
from model.payers import PAYER_LABELS, PAYERS, Payback, mean_ledger, payback

#: The baselines a payback is computed against, in order of preference (the first present).
PAYBACK_BASELINES: tuple[str, ...] = ("pre_2015_equal_spending", "pre_2015_equal_staff", "pre_2015")


def scenario_ledgers(
    series: pd.DataFrame, runs: pd.DataFrame, discounted: bool = False
) -> dict[str, pd.DataFrame]:
    """Each scenario's yearly ledger per payer (EUR per resident), mean over its replicates.

    ``discounted`` applies the runs' ``discount_rate`` (the first reported year undiscounted).
    """
    ok = runs[runs["status"] == "ok"]
    if series.empty or ok.empty:
        return {}
    out = {}
    for name, sub in series[series["run_id"].isin(ok["run_id"])].groupby("scenario", sort=False):
        first = ok[ok["scenario"] == name].iloc[0]
        rate = float(first.get("p_discount_rate", 0.0)) if discounted else 0.0
        out[str(name)] = mean_ledger(sub, int(first["p_n_residents"]), rate)
    return out


def payback_baseline(names: Sequence[str]) -> str | None:
    """The scenario paybacks are computed against (:data:`PAYBACK_BASELINES`), if any is run."""
    return next((b for b in PAYBACK_BASELINES if b in names), None)


def scenario_paybacks(ledgers: dict[str, pd.DataFrame], baseline: str | None) -> dict[str, Payback]:
    """Payback of every other scenario against ``baseline`` (discounted ledgers, same seeds)."""
    if baseline is None or baseline not in ledgers:
        return {}
    return {
        name: payback(book, ledgers[baseline])
        for name, book in ledgers.items()
        if name != baseline and len(book) == len(ledgers[baseline])
    }


def kpi_table(runs: pd.DataFrame, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """Mean and 95% CI half-width of the key KPIs by scenario (percentages for shares)."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for s in scenarios:
        sub = ok[ok["scenario"] == s.name]
        row = {"scenario": s.title, "runs": len(sub)}
        for column, label, unit in KPI_PANELS:
            scale = 100.0 if column in PERCENT else 1.0
            mean, half = mean_ci(sub[column] * scale)
            row[f"{label} ({unit})"] = f"{_fmt(mean, half)} ± {_fmt(half, half)}"
        rows.append(row)
    return pd.DataFrame(rows)


def income_table(runs: pd.DataFrame, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """KPIs by income group: per scenario and KPI, the mean over replicates of the low, middle
    and high group; then the low/high ratio and the concentration index of unmet need."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for stem in INCOME_KPIS:
        first = f"{stem}_{next(iter(INCOME_LABELS))}"
        scale = 100.0 if first in PERCENT else 1.0
        row = {
            "KPI": f"{OUTPUTS[first].label.rsplit(':', 1)[0]} ({display_unit(first)}): low / middle / high"
        }
        for s in scenarios:
            sub = ok[ok["scenario"] == s.name]
            means = [mean_ci(sub[f"{stem}_{g}"] * scale)[0] for g in INCOME_LABELS]
            row[s.title] = " / ".join(_fmt(m, 0.0) for m in means)
        rows.append(row)
    for column in ("unmet_need_ratio_low_high", "unmet_need_concentration_index"):
        row = {"KPI": f"{OUTPUTS[column].label} ({OUTPUTS[column].unit})"}
        for s in scenarios:
            mean, half = mean_ci(ok.loc[ok["scenario"] == s.name, column])
            row[s.title] = f"{mean:.2f} ± {half:.2f}"
        rows.append(row)
    return pd.DataFrame(rows)


def write_report(
    path: Path,
    runs: pd.DataFrame,
    scenarios: Sequence[Scenario],
    figures: Sequence[Path],
    command: str,
    manifest: dict,
    paybacks: dict[str, Payback] | None = None,
    baseline: str | None = None,
) -> Path:
    """Write ``report.md``: what ran, the KPI table, who pays, the figures and each scenario's rationale."""
    table = kpi_table(runs, scenarios)
    failed = int((runs["status"] != "ok").sum())
    setup = manifest.get("setup", {})
    lines = [
        "# Scenario comparison",
        "",
        f"Command: `{command}`  ",
        f"Runs: {len(runs)} ({failed} failed), {manifest.get('replicates')} replicates per scenario "
        f"with common random numbers (replicate *i* has the same seed in every scenario), "
        f"base seed {manifest.get('base_seed')}.  ",
        f"Neighbourhood: {_setup_text(runs, setup)}.  ",
        f"Code: git commit `{(manifest.get('git') or {}).get('commit')}`; "
        "see `manifest.json` for versions and all parameters.",
        "",
        "## Key results",
        "",
        "Mean over replicates ± half-width of the 95% confidence interval.",
        "",
        _markdown(table.set_index("scenario").T.reset_index(names="KPI")),
        "",
        *payer_lines(runs, scenarios, paybacks or {}, baseline),
        "## By income group",
        "",
        "Low: the lowest income quintile; middle: quintiles 2-4; high: the highest quintile. Mean over"
        " replicates; the concentration index is below 0 where unmet need lies with the lower incomes.",
        "",
        _markdown(income_table(runs, scenarios)),
        "",
        "## Figures",
        "",
    ]
    lines += [f"![{f.stem}]({f.name})" for f in figures]
    lines += ["", "## Scenarios", ""]
    for s in scenarios:
        changed = ", ".join(
            f"`{k} = {str(v).lower() if isinstance(v, bool) else v}`" for k, v in s.params.items()
        )
        lines += [
            f"### {s.title} (`{s.name}`)",
            "",
            s.rationale,
            "",
            f"Parameters: {changed or 'registry defaults'}. Source: {s.source}.",
            "",
        ]
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path


def payer_table(runs: pd.DataFrame, scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """Mean cost per payer (EUR per resident per year), the total and the NPVs, by scenario."""
    ok = runs[runs["status"] == "ok"]
    rows = []
    for s in scenarios:
        sub = ok[ok["scenario"] == s.name]
        row = {"scenario": s.title}
        for k in PAYERS:
            row[PAYER_LABELS[k]] = _cell(sub, f"cost_{k}_per_resident_year")
        row["Total"] = _cell(sub, "cost_total_per_resident_year")
        row["NPV, total (EUR/res.)"] = _cell(sub, "npv_total_per_resident")
        rows.append(row)
    return pd.DataFrame(rows)


def payer_lines(
    runs: pd.DataFrame, scenarios: Sequence[Scenario], paybacks: dict[str, Payback], baseline: str | None
) -> list[str]:
    """The report's section on who pays: cost per payer and, against a baseline, the payback."""
    if not any(f"cost_{k}_per_resident_year" in runs for k in PAYERS):
        return []
    titles = {s.name: s.title for s in scenarios}
    lines = [
        "## Who pays",
        "",
        "Cost per payer, EUR per resident per year (mean ± 95% CI half-width); the payers sum to the"
        " total. The Wlz is 0: the model has no route to long-term care (model/payers.py).",
        "",
        _markdown(payer_table(runs, scenarios).set_index("scenario").T.reset_index(names="payer")),
        "",
    ]
    if not paybacks or baseline is None:
        return lines
    rate = runs["p_discount_rate"].iloc[0] if "p_discount_rate" in runs else float("nan")
    lines += [
        f"### Payback against {titles.get(baseline, baseline)}",
        "",
        f"Cumulative saving (baseline minus scenario, means over replicates with common random"
        f" numbers, discounted at {rate:.2%} a year) at the end of the run, EUR per resident, and the"
        " year from which it stays at or above 0 ('0': never a cost to that payer; '-': not within"
        " the run). The investor is the payer that spends most extra in the first year; 'covers' is"
        " the first year the payer's cumulative saving matches the investor's extra spending.",
        "",
        "| scenario | investor | " + " | ".join(PAYER_LABELS[k] for k in PAYERS) + " | All payers |",
        "|---|---|" + "---|" * (len(PAYERS) + 1),
    ]
    for name, result in paybacks.items():
        end = result.cumulative.iloc[-1]
        cells = []
        for k in [*PAYERS, "total"]:
            cell = f"{end[k]:+.0f} (yr {_year(result.years[k])})"
            if k in result.covers_investor:
                cell += f", covers {_year(result.covers_investor[k])}"
            cells.append(cell)
        investor = PAYER_LABELS.get(result.investor, "none")
        lines.append(f"| {titles.get(name, name)} | {investor} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _year(year: int | None) -> str:
    return "-" if year is None else str(year)


def _cell(sub: pd.DataFrame, column: str) -> str:
    if column not in sub or sub.empty:
        return "-"
    mean, half = mean_ci(sub[column])
    return f"{_fmt(mean, half)} ± {_fmt(half, half)}"


def summary_text(runs: pd.DataFrame, scenarios: Sequence[Scenario]) -> str:
    """A compact plain-text table of a few KPIs for the terminal."""
    ok = runs[runs["status"] == "ok"]
    cols = [
        ("caught_early_share", "early %", 100.0),
        ("referrals_per_1000_year", "refer./1000/yr", 1.0),
        ("escalations_per_1000_year", "admit./1000/yr", 1.0),
        ("zrm_change_mean", "ZRM change", 1.0),
        ("resolved_own_share", "own/netw. %", 100.0),
        ("wait_weeks_mean", "wait wk", 1.0),
        ("collective_time_share", "collective %", 100.0),
        ("unmet_need_per_1000_year", "unmet need", 1.0),
        ("cost_total_per_resident_year", "EUR/res/yr", 1.0),
    ]
    width = max(len(s.title) for s in scenarios) + 2
    header = "scenario".ljust(width) + "".join(f"{label:>16s}" for _, label, _ in cols)
    out = [header]
    for s in scenarios:
        sub = ok[ok["scenario"] == s.name]
        cells = "".join(f"{sub[c].mean() * k:16.1f}" if len(sub) else f"{'-':>16s}" for c, _, k in cols)
        out.append(s.title.ljust(width) + cells)
    return "\n".join(out)


def _fmt(value: float, spread: float) -> str:
    """A number with as many decimals as its size and spread deserve (no exponents)."""
    if value != value:  # NaN
        return "-"
    size = max(abs(value), abs(spread) * 10)
    decimals = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3
    return f"{value:.{decimals}f}"


def _setup_text(runs: pd.DataFrame, setup: dict) -> str:
    first = runs.iloc[0]
    return (
        f"{int(first['p_n_residents'])} residents, {int(first['p_weeks'])} reported weeks after "
        f"a burn-in of {int(first['p_burn_in_weeks'])} weeks"
    )


def _markdown(df: pd.DataFrame) -> str:
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body])
