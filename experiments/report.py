"""A short ``report.md`` for a scenario comparison, and the text printed at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from experiments.plots import INCOME_KPIS, KPI_PANELS, PERCENT, mean_ci
from experiments.scenario import Scenario
from experiments.store import atomic_write_bytes
from model.outputs import INCOME_LABELS, OUTPUTS, display_unit


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
) -> Path:
    """Write ``report.md``: what ran, the KPI table, the figures and each scenario's rationale."""
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
