"""Provenance for the manifest: package versions, the lock file, and the git commit of the code that ran."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import numba
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK_FILE = REPO / "uv.lock"
PROJECT = "wijkteam-sim"

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


def package_versions() -> dict[str, Any]:
    """Python, platform, the versions of the packages a run depends on, and the lock status.

    ``lock_sha256`` is the SHA-256 of ``uv.lock``; ``environment_matches_lock`` is true when every
    package the project runs on (its run-time dependencies and theirs, as installed here) has a
    version the lock file names; ``lock_mismatches`` lists those that do not.
    """
    versions: dict[str, Any] = {
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
    versions.update(lock_status())
    return versions


def lock_status(lock_file: Path = LOCK_FILE) -> dict[str, Any]:
    """The lock file's hash and whether this environment has the versions it locks."""
    if not lock_file.is_file():
        return {
            "lock_sha256": None,
            "environment_matches_lock": False,
            "lock_mismatches": [f"no lock file at {lock_file}"],
        }
    text = lock_file.read_bytes()
    locked: dict[str, set[str]] = {}
    for package in tomllib.loads(text.decode("utf-8")).get("package", []):
        locked.setdefault(canonicalize_name(package["name"]), set()).add(str(package.get("version")))
    mismatches = []
    for name, version in sorted(runtime_packages().items()):
        if name == PROJECT:
            continue
        if version is None:
            mismatches.append(f"{name}: not installed")
        elif version not in locked.get(name, set()):
            wanted = ", ".join(sorted(locked.get(name, set()))) or "not in the lock"
            mismatches.append(f"{name}: {version} installed, lock has {wanted}")
    return {
        "lock_sha256": hashlib.sha256(text).hexdigest(),
        "environment_matches_lock": not mismatches,
        "lock_mismatches": mismatches,
    }


def runtime_packages(root: str = PROJECT) -> dict[str, str | None]:
    """Installed version of every package ``root`` needs at run time (``None``: missing).

    Walks the installed packages' requirements from ``root`` (without its extras, so without the
    test tools), following the extras each requirement asks for and the markers that hold here.
    """
    found: dict[str, str | None] = {}
    extras_seen: dict[str, set[str]] = {}
    stack: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while stack:
        name, extras = stack.pop()
        key = canonicalize_name(name)
        if key in found and extras <= extras_seen[key]:
            continue
        extras_seen.setdefault(key, set()).update(extras)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            found[key] = None
            continue
        found[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in extras_seen[key] | {""}
            )
            if wanted:
                stack.append((req.name, frozenset(req.extras)))
    return found


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
