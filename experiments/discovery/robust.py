"""Robust policies: regret against the best policy in each world, and satisficing.

For a set of policies (the named policy scenarios and a representative policy per discovered
box), each run in every world with the same seeds, this module computes per policy:

- per objective (lower is better: unmet need, total cost, admissions to maatwerk), the mean
  over worlds, the *regret* in each world (the policy's value minus the best value any of the
  policies reached in that world), its mean and maximum, the maximum as a share of the best
  value, and the share of worlds in which the policy is the best;
- the *satisficing* share: the worlds in which the policy does not fail (it does no worse than
  the pre-2015 approach at equal spending in that world, see :mod:`.outcomes`), and the share in
  which it escapes the caseload trap;
- cost per resident (and, when the runs carry them, any other ``cost_*`` columns, such as cost
  per payer: every ``cost_..._per_..._year`` KPI is averaged over worlds).

Regret is relative to the policies compared (Savage's minimax-regret criterion): adding a
policy can raise every other policy's regret.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.discovery.outcomes import OutcomeSpec, escapes, fails
from model.outputs import OUTPUTS, display_unit

#: Objectives of the regret table (lower is better), with short words for the sentences.
OBJECTIVES: dict[str, str] = {
    "unmet_need_per_1000_year": "unmet need",
    "cost_total_per_resident_year": "total cost",
    "escalations_per_1000_year": "admissions to maatwerk",
}
_COST = re.compile(r"^cost_.+_per_.+_year$")


def cost_columns(columns: Sequence[str]) -> list[str]:
    """The cost KPIs present (``cost_total_per_resident_year`` first; per payer when present)."""
    found = [c for c in columns if _COST.match(c)]
    return sorted(found, key=lambda c: (c != "cost_total_per_resident_year", c))


def regret_table(
    results: pd.DataFrame,
    reference: pd.DataFrame,
    spec: OutcomeSpec,
    *,
    escalation_cut: float,
    objectives: Sequence[str] = tuple(OBJECTIVES),
) -> pd.DataFrame:
    """One row per policy (see the module docstring).

    ``results`` has one row per (policy, member) with KPI means over replicates; ``reference``
    one row per member (the pre-2015 reference); ``escalation_cut`` is the design's admissions
    threshold of "escapes" (so a policy is judged against the same bar as the design).
    """
    worlds = sorted(results["member"].unique())
    complete = results.groupby("policy")["member"].nunique()
    partial = complete[complete < len(worlds)]
    if not partial.empty:
        raise ValueError(f"policies {list(partial.index)} lack results in some worlds")
    data = results.copy()
    data["fails"] = fails(data, reference, spec)
    data["escapes"] = escapes(data, spec, threshold=escalation_cut)
    rows = {policy: {"policy": policy, "worlds": len(worlds)} for policy in data["policy"].unique()}
    for objective in objectives:
        wide = data.pivot(index="member", columns="policy", values=objective)
        best = wide.min(axis=1)
        regret = wide.sub(best, axis=0)
        relative = regret.div(best.abs().replace(0, np.nan), axis=0)
        is_best = wide.eq(best, axis=0)
        for policy in wide.columns:
            rows[policy].update(
                {
                    f"{objective}": float(wide[policy].mean()),
                    f"{objective}_regret_mean": float(regret[policy].mean()),
                    f"{objective}_regret_max": float(regret[policy].max()),
                    f"{objective}_regret_max_rel": float(relative[policy].max()),
                    f"{objective}_best_share": float(is_best[policy].mean()),
                }
            )
    for policy, group in data.groupby("policy"):
        rows[policy]["satisficing_share"] = float((~group["fails"]).mean())
        rows[policy]["escapes_share"] = float(group["escapes"].mean())
        for cost in cost_columns(data.columns):
            if cost not in objectives:
                rows[policy][cost] = float(group[cost].mean())
    table = pd.DataFrame(list(rows.values()))
    first = objectives[0]
    return table.sort_values(f"{first}_regret_max").reset_index(drop=True)


def _amount(value: float) -> str:
    """A regret in words: three significant digits, thousands separated."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def sentences(table: pd.DataFrame, titles: dict[str, str] | None = None) -> list[str]:
    """Plain-language findings from :func:`regret_table` (numbers only from the table)."""
    titles = titles or {}
    name = lambda p: titles.get(p, p)  # noqa: E731
    if table.empty:
        return []
    n = int(table["worlds"].iloc[0])
    out = []
    for objective, words in OBJECTIVES.items():
        if f"{objective}_regret_max" not in table:
            continue
        robust = table.sort_values(f"{objective}_regret_max").iloc[0]
        best_avg = table.sort_values(objective).iloc[0]
        unit = display_unit(objective) if objective in OUTPUTS else ""
        line = (
            f"On {words}, '{name(robust['policy'])}' is never more than "
            f"{_amount(robust[f'{objective}_regret_max'])} {unit} worse than the best of the compared "
            f"policies in any of the {n} worlds"
        )
        if best_avg["policy"] != robust["policy"]:
            line += (
                f"; '{name(best_avg['policy'])}' is best on average but up to "
                f"{_amount(best_avg[f'{objective}_regret_max'])} worse than the best in some world"
            )
        out.append(line + ".")
    most = table.sort_values("satisficing_share", ascending=False).iloc[0]
    least = table.sort_values("satisficing_share").iloc[0]
    out.append(
        f"'{name(most['policy'])}' does no worse than the pre-2015 approach in "
        f"{most['satisficing_share']:.0%} of worlds; '{name(least['policy'])}' fails in "
        f"{1 - least['satisficing_share']:.0%} of worlds."
    )
    esc = table.sort_values("escapes_share", ascending=False).iloc[0]
    out.append(
        f"'{name(esc['policy'])}' escapes the caseload trap in the most worlds ({esc['escapes_share']:.0%})."
    )
    return out
