"""The installation: every import declared, every module importable, the lock file, the first compile.

These tests mean most in a brand-new virtual environment (``.ci/run`` makes one per Python
version): there, an undeclared dependency is simply missing.
"""

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from experiments import provenance
from model import compiled as compilation

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "experiments", "calibration")


def _project_modules() -> list[str]:
    names = ["app"]
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        names.append(package)
        found = pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")
        names += [m.name for m in found if not m.name.endswith(".__main__")]  # those run on import
    return names


@pytest.mark.parametrize("name", _project_modules())
def test_every_module_of_the_project_imports(name):
    importlib.import_module(name)


def _deptry(path: Path, report: Path, *options: str) -> list[dict]:
    """The issues deptry finds in the project at ``path`` (its own configuration in pyproject.toml)."""
    # "." with cwd=path: deptry matches its exclude patterns (.venv, results, ...) against relative paths.
    command = [sys.executable, "-m", "deptry", ".", "--no-ansi", "--json-output", str(report)]
    subprocess.run([*command, *options], capture_output=True, text=True, timeout=300, cwd=path)
    return json.loads(report.read_text())


def test_every_imported_package_is_declared_in_pyproject(tmp_path):
    issues = _deptry(ROOT, tmp_path / "deptry.json")
    assert issues == []


def test_the_declaration_check_ignores_a_virtual_environment_inside_the_project(tmp_path):
    # The README's first command makes .venv in the project folder: its packages are not ours.
    project = tmp_path / "project"
    (project / "model").mkdir(parents=True)
    (project / ".venv" / "lib").mkdir(parents=True)
    (project / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (project / "model" / "__init__.py").write_text("import numpy\n")
    (project / ".venv" / "lib" / "site.py").write_text("import not_a_package_xyz\n")
    assert _deptry(project, tmp_path / "deptry.json", "--ignore", "DEP002") == []


def test_the_declaration_check_fails_on_an_undeclared_import(tmp_path):
    project = tmp_path / "project"
    (project / "model").mkdir(parents=True)
    (project / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    # llvmlite comes only as numba's dependency (so it is installed wherever numba is); the other is nowhere.
    code = "import numpy\nimport llvmlite\nimport not_a_package_xyz\n"
    (project / "model" / "__init__.py").write_text(code)
    issues = _deptry(project, tmp_path / "deptry.json", "--ignore", "DEP002")
    found = {(i["error"]["code"], i["module"]) for i in issues}
    assert found == {("DEP003", "llvmlite"), ("DEP001", "not_a_package_xyz")}


# --- the lock file and the manifest ---------------------------------------------------------


def test_lock_file_is_there_and_names_every_declared_dependency():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"] for p in lock["package"]}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    missing = {canonicalize_name(Requirement(d).name) for d in declared} - locked
    assert not missing


def _write_lock(path: Path, versions: dict[str, str]) -> Path:
    body = "".join(f'[[package]]\nname = "{n}"\nversion = "{v}"\n\n' for n, v in versions.items())
    path.write_text("version = 1\n\n" + body)
    return path


def test_lock_status_matches_when_every_runtime_package_has_its_locked_version(tmp_path):
    installed = provenance.runtime_packages()
    assert installed["numpy"] and installed["mesa"] and installed["altair"]  # mesa[viz] is followed
    lock = _write_lock(tmp_path / "uv.lock", {n: v for n, v in installed.items() if v})
    status = provenance.lock_status(lock)
    assert status["environment_matches_lock"] is True, status["lock_mismatches"]
    assert len(status["lock_sha256"]) == 64


def test_lock_status_names_a_package_whose_version_differs(tmp_path):
    installed = {n: v for n, v in provenance.runtime_packages().items() if v}
    installed["numpy"] = "0.0.1"
    status = provenance.lock_status(_write_lock(tmp_path / "uv.lock", installed))
    assert status["environment_matches_lock"] is False
    assert [m for m in status["lock_mismatches"] if m.startswith("numpy:")]


def test_lock_status_without_a_lock_file(tmp_path):
    status = provenance.lock_status(tmp_path / "uv.lock")
    assert status["lock_sha256"] is None and status["environment_matches_lock"] is False


def test_run_time_packages_exclude_the_test_tools():
    assert "pytest" not in provenance.runtime_packages()


# --- the first compilation ------------------------------------------------------------------


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def test_a_compilation_of_the_models_loops_is_announced_once_per_process():
    done = _python(
        """
        import numba
        import model

        def outside(x):
            return x + 1

        numba.njit(outside)(1)  # not the model's: no message
        print("after-outside", flush=True)
        for name in ("first", "second"):
            def loop(x):
                return x * 2
            loop.__module__ = f"model._probe_{name}"
            numba.njit(loop)(1)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(compilation.MESSAGE) == 1
    assert done.stdout.strip() == "after-outside"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="nothing is compiled")
def test_first_command_says_it_compiles_before_the_progress_bar_and_later_ones_do_not(tmp_path):
    cache = tmp_path / "numba-cache"  # empty: as after a fresh install
    # Every main scenario at the default size: the workers must find every loop compiled.
    command = [sys.executable, "-m", "experiments", "run", "--replicates", "1", "--workers", "2"]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    first = subprocess.run(
        [*command, "--out", str(tmp_path / "a")], capture_output=True, text=True, env=env, timeout=600
    )
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    assert lines[0] == compilation.MESSAGE, first.stderr
    assert first.stderr.count(compilation.MESSAGE) == 1  # the workers compile nothing: they load the cache
    again = subprocess.run(
        [*command, "--out", str(tmp_path / "b")], capture_output=True, text=True, env=env, timeout=600
    )
    assert again.returncode == 0, again.stderr
    assert compilation.MESSAGE not in again.stderr
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert len(manifest["versions"]["lock_sha256"]) == 64
    assert isinstance(manifest["versions"]["environment_matches_lock"], bool)
