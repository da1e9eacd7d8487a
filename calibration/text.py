"""Report text: numbers, Markdown tables and the plain-text table ``wijkteam validate`` prints.

No statistics here (:mod:`calibration.patterns`, :mod:`calibration.fit`) and no figures
(:mod:`calibration.figures`); :mod:`calibration.report` puts the text in ``report.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from calibration.patterns import MAX_RATIO, PatternResult
from calibration.targets import TargetSet
from model.params import validate as validate_params


def fmt(value: float) -> str:
    """A number with a sensible number of digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def markdown(df: pd.DataFrame, floatfmt: Callable[[float], str] = fmt) -> str:
    """A DataFrame as a Markdown table, floats through ``floatfmt``."""
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = [
        "| " + " | ".join(floatfmt(v) if isinstance(v, float) else str(v) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def fit_table_markdown(table: pd.DataFrame, labels: Sequence[str]) -> str:
    """The fit table: each target, its source and value, and each labelled vector's mean (SD)."""
    head = "| target | KPI | source | target value | " + " | ".join(
        f"{lb}: simulated (SD) | within" for lb in labels
    )
    lines = [head + " |", "|---" * (4 + 2 * len(labels)) + "|"]
    for _, r in table.iterrows():
        sign = {"max": "≤ ", "min": "≥ "}.get(r["bound"], "")
        tol = "" if r["bound"] != "two-sided" else f" ± {fmt(r['tolerance'])}"
        role = r["role"] if "role" in r else ("fitted" if r["fitted"] else "consistency")
        fitted = "" if role == "fitted" else f" ({role.replace('_', ' ')}, not fitted)"
        cells = [
            f"{r['target']}{fitted}",
            f"`{r['kpi']}`",
            r["source"],
            f"{sign}{fmt(r['value'])}{tol}",
        ]
        for lb in labels:
            within = "yes" if r[f"{lb}_within"] else "**no**"
            cells += [f"{fmt(r[f'{lb}_mean'])} ({fmt(r[f'{lb}_sd'])})", within]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sources_markdown(targets: TargetSet) -> str:
    """One bullet per target: name, KPI, citation and note."""
    lines = []
    for t in targets.targets:
        note = f" {t.note}" if t.note else ""
        lines.append(f"- **{t.name}** (`{t.kpi}`, {t.role.replace('_', ' ')}): {t.citation}.{note}")
    return "\n".join(lines)


def size_text(setup: Mapping[str, Any]) -> str:
    """The neighbourhood size and run length in words."""
    p = validate_params(dict(setup))
    return f"{p.n_residents} residents, {p.weeks} reported weeks after a burn-in of {p.burn_in_weeks} weeks"


def base_text(base: Mapping[str, Any] | None) -> str:
    """The behaviour values applied to every scenario, as a clause ('' without any)."""
    if not base:
        return ""
    return " with " + ", ".join(f"`{k} = {v:.4g}`" for k, v in base.items())


# ---- pattern results -------------------------------------------------------------------
def format_effect(r: PatternResult) -> str:
    """The measured effect with its CI, as printed in the table."""
    if math.isnan(r.effect):
        return "n/a"
    if "%" in r.criterion:
        return f"{100 * r.effect:+.1f}% [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"
    if r.criterion.startswith("steepest"):
        hi = "≥99" if r.ci_high >= MAX_RATIO else f"{r.ci_high:.1f}"
        return f"×{r.effect:.1f} [{r.ci_low:.1f}, {hi}]"
    return f"{r.effect:.3g} [{r.ci_low:.3g}, {r.ci_high:.3g}]"


def text_table(results: Sequence[PatternResult]) -> str:
    """A plain-text table: pattern, seed article, KPI, measured effect with CI, pass or fail."""
    rows = [
        (
            "pattern",
            "kind",
            "KPI",
            "contrast",
            "baseline -> treatment",
            "effect [95% CI]",
            "criterion",
            "result",
        )
    ]
    for r in results:
        levels = f"{r.treatment:.3g}" if math.isnan(r.baseline) else f"{r.baseline:.3g} -> {r.treatment:.3g}"
        rows.append(
            (
                r.pattern,
                r.kind,
                r.kpi,
                r.contrast,
                levels,
                format_effect(r),
                r.criterion,
                "pass" if r.passed else "FAIL",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def per_seed_markdown(results: Sequence[PatternResult]) -> str:
    """Each check's effect seed by seed (shows spread and bimodality the mean hides)."""
    lines = []
    for r in results:
        if "%" in r.criterion:
            values = ", ".join("n/a" if math.isnan(v) else f"{100 * v:+.1f}%" for v in r.per_seed)
        else:
            values = ", ".join("n/a" if math.isnan(v) else f"{v:.3g}" for v in r.per_seed)
        lines.append(f"- {r.pattern} `{r.kpi}`: {values}")
    return "\n".join(lines)


def markdown_table(results: Sequence[PatternResult]) -> str:
    """The results as a Markdown table (for report.md)."""
    lines = [
        "| pattern | kind | seed article | KPI | contrast | baseline → treatment | effect [95% CI] "
        "| criterion | n | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        levels = f"{r.treatment:.3g}" if math.isnan(r.baseline) else f"{r.baseline:.3g} → {r.treatment:.3g}"
        verdict = "pass" if r.passed else "**fail**"
        note = f" ({r.note})" if r.note else ""
        lines.append(
            f"| {r.pattern} | {r.kind} | {r.source} | `{r.kpi}` | {r.contrast} | {levels} "
            f"| {format_effect(r)} | {r.criterion} | {r.n} | {verdict}{note} |"
        )
    return "\n".join(lines)


def origins_markdown(results: Sequence[PatternResult]) -> str:
    """Per check: verification (the rule that imposes it) or validation (the mechanisms)."""
    return "\n".join(f"- {r.pattern} `{r.kpi}`, **{r.kind}**: {r.origin}" for r in results)
