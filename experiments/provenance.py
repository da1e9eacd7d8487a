"""Provenance for the manifest: package versions and the git commit of the code that ran."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numba

REPO = Path(__file__).resolve().parent.parent

_PACKAGES = (
    "wijkteam-sim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "numba",
    "SALib",
    "dask",
    "distributed",
    "matplotlib",
    "tqdm",
)


def package_versions() -> dict[str, str | None]:
    """Python, platform and the versions of the packages a run depends on."""
    versions: dict[str, str | None] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    # Whether the loops ran compiled or, with NUMBA_DISABLE_JIT=1, as plain Python (same results).
    versions["compiled_kernels"] = "off (NUMBA_DISABLE_JIT=1)" if numba.config.DISABLE_JIT else "numba"
    return versions


def git_info() -> dict[str, Any]:
    """The commit of the repository and whether the working tree had changes (read-only)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "--no-optional-locks", *args],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def command_line(argv: list[str] | None = None) -> str:
    """The command as the user typed it (for the manifest)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["wijkteam", *args])
