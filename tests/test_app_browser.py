"""The browser view in a real browser: ``wijkteam viz`` driven by Playwright and chromium.

Uses Debian's chromium (``apt-get install chromium``; ``.ci/run`` installs it) through the
Python ``playwright`` package, without Playwright's own browser download. Skipped only where
no chromium is installed. Set ``WIJKTEAM_VIZ_SCREENSHOT`` to a path to keep a copy of the
screenshot (for instance ``/tmp/wijkteam_viz.png``).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_TIMEOUT_S = 150
PAGE_TIMEOUT_MS = 45_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is missing (install it with 'apt-get install chromium')",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _viz_command(port: int) -> list[str]:
    """``wijkteam viz`` as a user runs it: the console script installed beside this Python."""
    script = Path(sys.executable).parent / "wijkteam"
    entry = [str(script)] if script.is_file() else [sys.executable, "-m", "experiments"]
    return [*entry, "viz", "--host", "127.0.0.1", "--port", str(port)]


@pytest.fixture
def server(tmp_path):
    """``wijkteam viz`` (which starts ``solara run app.py``) on a free loopback port; stopped at teardown."""
    port = _free_port()
    log = tmp_path / "solara.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            _viz_command(port), cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"solara exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"solara did not answer within {SERVER_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:  # the whole process group: wijkteam and the solara server it started
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_page_renders_steps_and_resets_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    page_errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 2000})
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.on(
                "request",
                lambda req: (
                    outside.append(req.url) if urlparse(req.url).hostname not in ("127.0.0.1", None) else None
                ),
            )
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            expect.set_options(timeout=PAGE_TIMEOUT_MS)  # its own default is 5 s: too short on a busy machine
            page.goto(server)

            # The page renders: controls, the lever panel and the figures (map, KPI plots).
            step = page.get_by_role("button", name="Step", exact=True)
            expect(step).to_be_visible()
            expect(page.get_by_text("Scenario and policy levers")).to_be_visible()
            expect(page.get_by_text("Staffing (FTE per 1,000 residents)")).to_be_visible()
            expect(page.get_by_text("Time: 0.0")).to_be_visible()
            # One image per figure of the page: map, team time, workers, prevention, costs (by kind
            # and payer), residents and unmet need by income group.
            expect(page.locator("img")).to_have_count(7)
            expect(page.get_by_text("Summary after 0 weeks")).to_be_visible()

            # Step advances the model: the step counter and the summary table change.
            step.click()
            expect(page.get_by_text("Time: 1.0")).to_be_visible()
            expect(page.get_by_text("Summary after 1 week ")).to_be_visible()

            # A changed lever and Reset start a new run with it.
            panel = page.locator(".v-card", has_text="Scenario and policy levers")
            staffing = panel.get_by_role("slider").first
            staffing.focus()
            staffing.press("ArrowRight")
            expect(panel.get_by_text("0.81")).to_be_visible()
            page.get_by_role("button", name="Reset", exact=True).click()
            expect(page.get_by_text("Time: 0.0")).to_be_visible()
            expect(page.get_by_text("fte_per_1000 = 0.81")).to_be_visible()

            # Play five weeks a frame until week 20 or later (a history for the screenshot), pause.
            render = page.locator(".v-input", has_text="Render Interval").get_by_role("slider")
            render.focus()
            render.press("ArrowRight")
            render.press("ArrowRight")
            expect(render).to_have_attribute("aria-valuenow", "5")
            page.get_by_role("button", name="\u25b6").click()
            page.wait_for_function(
                "() => /Time: ([2-9][0-9]|[1-9][0-9]{2,})\\./.test(document.body.innerText)"
            )
            # Pause. On a busy machine the page may draw nothing between week 0 and the end of the run
            # (520 weeks take ~15 s of play while drawing lags): Play has then stopped by itself.
            pause = page.get_by_role("button", name="\u275a\u275a")
            if pause.is_enabled():
                pause.click()
            paused = page.get_by_role("button", name="Step", exact=True, disabled=False)
            ended = page.get_by_text(re.compile(r"Summary after 52\d weeks"))
            expect(paused.or_(ended).first).to_be_visible()

            shot = tmp_path / "wijkteam_viz.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            if os.environ.get("WIJKTEAM_VIZ_SCREENSHOT"):
                shutil.copy(shot, os.environ["WIJKTEAM_VIZ_SCREENSHOT"])
        finally:
            browser.close()
    assert page_errors == [], f"errors in the page: {page_errors}"
    assert outside == [], f"the page asked for resources outside this machine: {outside}"
