"""What ``wijkteam calibrate`` and ``wijkteam validate`` write, from a result object.

:func:`write_validation` and :func:`write_calibration` take what :func:`calibration.validate`
and :func:`calibration.calibrate` return. Folder layout (``results/calibration/`` and
``results/validation/``)::

    manifest.json          command, parameters, seeds, versions, git commit, times, run counts
    report.md              the report (fit table, fitted values, identifiability, patterns)
    *.parquet, *.csv       tables (fit table, loss history, profiles, pattern results, runs)
    *.png                  figures
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from calibration import fit as fitting
from calibration.api import CalibrationResult, ValidationResult, now
from calibration.figures import plot_fit, plot_loss_history, plot_pattern, plot_profiles
from calibration.patterns import results_table
from calibration.text import (
    base_text,
    fit_table_markdown,
    markdown,
    markdown_table,
    origins_markdown,
    per_seed_markdown,
    size_text,
    sources_markdown,
)
from experiments.provenance import git_info, package_versions
from experiments.store import atomic_write_bytes, atomic_write_parquet, json_default
from model.params import REGISTRY, names

#: Files a calibration or validation folder owns (replaced on the next run).
OWNED_SUFFIXES = (".png", ".parquet", ".csv", ".md", ".json")
#: How the run seeds derive from the base seed (for the manifest).
SEED_RULE = "experiments.executor.run_seed(base_seed, replicate)"


def prepare_out(out: Path) -> None:
    """Create ``out`` and remove what an earlier calibration or validation wrote there."""
    out.mkdir(parents=True, exist_ok=True)
    for f in out.iterdir():
        if f.is_file() and f.suffix in OWNED_SUFFIXES:
            f.unlink()


def write_manifest(out: Path, manifest: Mapping[str, Any]) -> None:
    """``manifest.json``: ``manifest`` plus the registry defaults, package versions and git state."""
    full = {
        **manifest,
        "parameters": {
            **dict(manifest.get("parameters", {})),
            "defaults": {k: p.default for k, p in REGISTRY.items()},
        },
        "versions": package_versions(),
        "git": git_info(),
    }
    text = json.dumps(full, indent=2, default=json_default) + "\n"
    atomic_write_bytes(out / "manifest.json", text.encode())


def write_table(out: Path, name: str, df: pd.DataFrame) -> None:
    """A table as Parquet and CSV (the CSV for a quick look)."""
    atomic_write_parquet(out / f"{name}.parquet", df)
    atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())


def write_text(path: Path, text: str) -> Path:
    """``text`` to ``path`` (atomically)."""
    atomic_write_bytes(path, text.encode())
    return path


def _run_counts(done: int, failed: int) -> dict[str, int]:
    return {"total": done + failed, "done": done, "failed": failed}


# ---- validation ------------------------------------------------------------------------
def write_validation(
    result: ValidationResult, out: str | Path, command: str = "python API (calibration.validate)"
) -> Path:
    """Write a validation folder: ``patterns`` and ``runs`` tables, one figure per pattern,
    ``report.md`` and ``manifest.json``; earlier results in ``out`` are replaced. Returns ``out``."""
    out = Path(out)
    prepare_out(out)
    write_table(out, "patterns", result.to_df())
    write_table(out, "runs", result.runs)
    figures = [
        plot_pattern(
            pattern, result.patterns, result.runs, result.where[pattern.id], out / f"{pattern.id}.png"
        )
        for pattern in result.targets.patterns
        if pattern.id in result.where
    ]
    write_text(out / "report.md", validation_markdown(result, command, figures))
    write_manifest(
        out,
        {
            "name": out.name,
            "kind": "validation",
            "command": command,
            "status": "done",
            "started": result.started,
            "finished": now(),
            "runs": _run_counts(result.runs_done, result.runs_failed),
            "setup": result.setup,
            "seeds": {"rule": SEED_RULE, "list": list(result.seeds)},
            "parameters": {
                "base": result.base,
                "patterns": [asdict(p) for p in result.targets.patterns if p.id in result.where],
            },
            "targets_file": str(result.targets.path),
        },
    )
    return out


def validation_markdown(result: ValidationResult, command: str, figures: list[Path]) -> str:
    """The text of a validation's ``report.md``."""
    lines = [
        "# Pattern-oriented validation (P1-P8)",
        "",
        f"Command: `{command}`  ",
        f"Neighbourhood: {size_text(result.setup)}; {len(result.seeds)} seeds per scenario, the same in "
        f"every scenario (common random numbers); {result.runs_done} runs ({result.runs_failed} failed) "
        f"in {result.elapsed_s:.0f} s.  ",
        f"Registry defaults{base_text(result.base)} except for what each pattern changes. "
        "Effects are per-seed contrasts (treatment against baseline), mean and 95% t-interval over "
        "seeds; minimum effects were fixed in `calibration/targets.toml` before the model was run.",
        "",
        f"**{result.n_passed} of {len(result.patterns)} checks pass.**",
        "",
        markdown_table(result.patterns),
        "",
        "### Built in or emergent",
        "",
        "A **verification** check shows that a rule of the model does what it states (the rule"
        " imposes the pattern); only a **validation** check, where the pattern emerges from"
        " mechanisms that do not state it, is evidence for the model.",
        "",
        origins_markdown(result.patterns),
        "",
        "### Effects seed by seed",
        "",
        per_seed_markdown(result.patterns),
        "",
        "## Figures",
        "",
        *[f"![{f.stem}]({f.name})" for f in figures],
        "",
    ]
    return "\n".join(lines)


# ---- calibration -----------------------------------------------------------------------
def write_calibration(
    result: CalibrationResult, out: str | Path, command: str = "python API (calibration.calibrate)"
) -> Path:
    """Write a calibration folder: fitted values, loss history, fit table, profiles,
    identifiability, patterns with the fitted values, figures, ``report.md`` and
    ``manifest.json``; earlier results in ``out`` are replaced. Returns ``out``."""
    out = Path(out)
    prepare_out(out)
    fit = result.fit
    fitted_json = {
        "values": result.fitted_values,
        "loss": fit.best_loss,
        "default_loss": fit.default_loss,
        "report": str(out / "report.md"),
        "setup": result.setup,
        "seeds": list(result.seeds),
    }
    write_text(out / "fitted_values.json", json.dumps(fitted_json, indent=2) + "\n")
    write_table(out, "fitted_values", result.values_df())
    write_table(out, "loss_history", fit.history)
    write_table(out, "fit_table", result.table)
    write_table(out, "profiles", result.profiles)
    write_table(out, "identifiability", result.identifiability)
    if result.patterns:
        write_table(out, "patterns_fitted", results_table(result.patterns))
    figures = [
        plot_loss_history(fit.history, out / "loss_history.png", fitting.POPSIZE * len(fit.names)),
        plot_fit(result.table, result.labels, out / "fit.png"),
        plot_profiles(result.profiles, fit.best, fit.best_loss, out / "profiles.png", fitting.PROFILE_DELTA),
    ]
    write_text(out / "report.md", calibration_markdown(result, command, figures))
    write_manifest(out, _calibration_manifest(result, out, command))
    return out


def _calibration_manifest(result: CalibrationResult, out: Path, command: str) -> dict[str, Any]:
    return {
        "name": out.name,
        "kind": "calibration",
        "command": command,
        "status": "done",
        "started": result.started,
        "finished": now(),
        "elapsed_s": result.elapsed_s,
        "runs": _run_counts(result.runs_done, result.runs_failed),
        "setup": result.setup,
        "seeds": {"rule": SEED_RULE, "list": list(result.seeds)},
        "parameters": {
            "fitted": {f.name: [f.low, f.high] for f in result.targets.fit_parameters},
            "budget": result.budget,
            "optimiser": f"scipy.optimize.differential_evolution(popsize={fitting.POPSIZE}, "
            "init='latinhypercube', x0=registry defaults, polish=False, updating='deferred')",
        },
        "targets_file": str(result.targets.path),
        "result": {
            "loss": result.fit.best_loss,
            "default_loss": result.fit.default_loss,
            "message": result.fit.message,
        },
    }


def calibration_markdown(result: CalibrationResult, command: str, figures: list[Path]) -> str:
    """The text of a calibration's ``report.md``."""
    sections = [
        _calibration_head(result, command),
        _fit_section(result),
        _identifiability_section(result),
        _patterns_section(result),
        [
            "## Figures",
            "",
            *[f"![{f.stem}]({f.name})" for f in figures],
            "",
            "## Sources of the targets",
            "",
            sources_markdown(result.targets),
            "",
        ],
    ]
    return "\n".join(line for section in sections for line in section)


def _fitted_targets(result: CalibrationResult) -> list[str]:
    return [t.name for t in result.targets.targets if t.fit]


def _calibration_head(result: CalibrationResult, command: str) -> list[str]:
    fit = result.fit
    return [
        "# Calibration to sourced targets",
        "",
        f"Command: `{command}`  ",
        f"Neighbourhood: {size_text(result.setup)}; {len(result.seeds)} seeds, the same for every parameter "
        f"vector (common random numbers).  ",
        f"Optimiser: SciPy differential evolution over {len(fit.names)} behaviour parameters "
        f"(policy levers are never fitted), {fit.evaluations} parameter vectors, "
        f"{result.runs_done} runs ({result.runs_failed} failed), "
        f"{result.elapsed_s / 60:.1f} min wall time.  ",
        f"Loss (sum over the fitted targets {', '.join(_fitted_targets(result))} of ((simulated - target) / "
        f"tolerance)²): registry defaults {fit.default_loss:.2f}, fitted {fit.best_loss:.2f}.",
        "",
    ]


def _fit_section(result: CalibrationResult) -> list[str]:
    table = result.table
    missed = table[~table["fitted_within"]]["target"].tolist()
    missed_def = table[~table["defaults_within"]]["target"].tolist()
    return [
        "## Fit table",
        "",
        "Simulated values are means over the seeds (SD in brackets); 'fresh' repeats the fitted values "
        "on seeds the fit never saw. 'Consistency' targets are inputs or identities of the model; "
        "'held out' targets are kept back to test the result; both are reported, not fitted.",
        "",
        fit_table_markdown(table, result.labels),
        "",
        f"Targets outside tolerance: defaults {', '.join(missed_def) or 'none'}; fitted "
        f"{', '.join(missed) or 'none'}.",
        "",
        "## Fitted values",
        "",
        "Proposed as registry defaults only through the explicit step "
        "`wijkteam calibrate --apply <this folder>`, which names this report as their source.",
        "",
        markdown(result.values_df()),
        "",
    ]


def _identifiability_section(result: CalibrationResult) -> list[str]:
    ident, prof, fitted = result.identifiability, result.profiles, result.fit.names
    ident_view = ident.assign(
        acceptable=[f"{r.acceptable_low:.3g} – {r.acceptable_high:.3g}" for r in ident.itertuples()],
        swing=[f"{r.swing_in_tolerances:.1f}" for r in ident.itertuples()],
        joint=[f"{r.joint_share:.2f}" for r in ident.itertuples()],
    )[["parameter", "strongest_target", "swing", "joint", "acceptable", "loss_min", "loss_max", "verdict"]]
    sens = fitting.sensitivity(prof, result.targets).round(2).reset_index(names="parameter")
    return [
        "## Identifiability",
        "",
        "Each fitted parameter was varied over its search range, the others held at the fitted values "
        f"({len(prof) // max(len(fitted), 1)} values each). 'swing' is how many tolerances the most "
        "sensitive target moves over the range (max - min of its mean over seeds); 'joint' (0-1) is "
        "the part of the parameter's axis that lies in the directions the targets pin down together "
        "(right singular vectors of the sensitivity matrix below with singular value ≥ 1). A parameter "
        "is *pinned* with swing ≥ 2 and joint ≥ 0.7, *partly pinned* with swing ≥ 1 and joint ≥ 0.3, "
        f"otherwise *not pinned*. 'acceptable' is the range whose loss stays within "
        f"{fitting.PROFILE_DELTA:g} of the best on this grid (a conditional profile: it ignores trade-offs "
        "and, with three seeds, the loss varies by a few units between neighbouring values, so read it "
        "together with 'joint').",
        "",
        markdown(ident_view),
        "",
        "Sensitivity matrix (target movement over each parameter's search range, linear fit, in tolerances):",
        "",
        markdown(sens),
        "",
        *_pinned_text(result),
    ]


def _pinned_text(result: CalibrationResult) -> list[str]:
    ident, fitted_targets, fitted = result.identifiability, _fitted_targets(result), result.fit.names
    unpinned = [r["parameter"] for _, r in ident.iterrows() if r["verdict"] != "pinned"]
    pinned = [r["parameter"] for _, r in ident.iterrows() if r["verdict"] == "pinned"]
    not_fitted = [n for n in names("behaviour") if n not in fitted]
    singular, weak = fitting.joint_identifiability(result.profiles, result.targets)
    return [
        f"Singular values: {', '.join(f'{v:.2g}' for v in singular)}. With {len(fitted_targets)} fitted "
        f"targets for {len(fitted)} parameters, at most {len(fitted_targets)} combinations are "
        "pinned; the others are free. Combinations the targets cannot tell apart (main loadings of the "
        "unpinned singular directions): " + "; ".join(f"({w})" for w in weak) + ".",
        "",
        f"Pinned: {', '.join(pinned) or 'none'}. Partly or not pinned: {', '.join(unpinned) or 'none'}. "
        f"The {len(not_fitted)} behaviour parameters not fitted at all are not pinned by any target: "
        f"{', '.join(not_fitted)}. Sensitivity analysis must cover them together with the partly or not "
        "pinned ones above.",
        "",
    ]


def _patterns_section(result: CalibrationResult) -> list[str]:
    if not result.patterns:
        return []
    n_pass = sum(r.passed for r in result.patterns)
    return [
        "## Patterns P1-P8 with the fitted values",
        "",
        f"{n_pass} of {len(result.patterns)} checks pass (same seeds; the registry defaults: see "
        "`wijkteam validate`).",
        "",
        markdown_table(result.patterns),
        "",
    ]
