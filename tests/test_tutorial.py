"""docs/tutorial.ipynb runs end to end with nbmake (so it never goes stale) and is committed
without outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorial.ipynb"


def test_tutorial_is_committed_without_outputs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, "the tutorial has no code"
    cleared = all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert cleared, "clear the notebook's outputs before committing"


@pytest.mark.timeout(900)
def test_tutorial_runs(tmp_path):
    """Executes every cell with nbmake (a kernel of this Python); the notebook writes to a temp dir."""
    before = sorted(p.name for p in NOTEBOOK.parent.iterdir())
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "--nbmake-timeout=600", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), str(NOTEBOOK)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert sorted(p.name for p in NOTEBOOK.parent.iterdir()) == before  # nothing written next to it
    print(f"tutorial: {time.monotonic() - start:.0f} s")
