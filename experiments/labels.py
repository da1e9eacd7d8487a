"""Readable names for parameters and outputs, shared by reports, figures and the browser page.

Derived from the two registries (``model.params.REGISTRY`` and ``model.outputs``), so a label
is written nowhere else:

- :func:`lever_name` - a parameter in words ("Staffing", "Collective time target");
- :func:`lever_label` - the same with its unit ("Staffing (FTE per 1,000 residents)");
- :func:`output_label` - a KPI's short label ("Escalations to maatwerk");
- :func:`effect_unit` - how to show an effect on a KPI (shares as percentage points).
"""

from __future__ import annotations

from model.outputs import OUTPUTS, PERCENT, SERIES, display_unit
from model.params import REGISTRY

#: Words written otherwise when a parameter name becomes a label.
_LABEL_WORDS = {"fte": "FTE", "1000": "1,000"}
#: The longest lead-in of a registry meaning ("Staffing: ...") used as a name.
_MAX_LEAD = 40
_SERIES = {o.name: o for o in SERIES}


def lever_name(name: str) -> str:
    """A registry parameter in words: the meaning's short lead-in before a colon, else its name."""
    meaning = REGISTRY[name].meaning if name in REGISTRY else ""
    lead = meaning.split(":")[0].strip() if ":" in meaning else ""
    if lead and len(lead) <= _MAX_LEAD:
        return lead
    text = " ".join(_LABEL_WORDS.get(w, w) for w in name.split("_"))
    return text[:1].upper() + text[1:]


def lever_label(name: str) -> str:
    """:func:`lever_name` with the unit in brackets (switches have none)."""
    text = lever_name(name)
    p = REGISTRY.get(name)
    return text if p is None or p.type is bool or not p.unit else f"{text} ({p.unit})"


def output_label(name: str) -> str:
    """A KPI's short label from the output table (summary fields, then weekly series)."""
    if name in OUTPUTS:
        return OUTPUTS[name].label
    if name in _SERIES:
        return _SERIES[name].label
    return name


def effect_unit(name: str) -> tuple[float, str]:
    """Scale and unit to show an effect on a KPI (shares as percentage points)."""
    if name in PERCENT:
        return 100.0, "percentage points"
    return (1.0, display_unit(name)) if name in OUTPUTS else (1.0, "")
