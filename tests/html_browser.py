"""Open an HTML page in a real headless Chromium (the system package) and report what it did.

The page's script marks each chart it drew (``data-drawn`` on the chart, counts on <body>) once
its canvas holds pixels; ``--dump-dom`` prints the DOM after the scripts ran. Chromium prints
every console message (errors, uncaught exceptions, refused loads) with ``--enable-logging=stderr``
as ``...:CONSOLE...`` lines. Screenshots go to ``SOAKWATCH_TEST_ARTIFACTS`` (default
``test-artifacts/`` at the top of the repository).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

#: a generous bound for a cold Chromium on a loaded 2-core machine
BROWSER_TIMEOUT_S = 120
#: virtual time the page gets to run its scripts before the DOM is dumped
VIRTUAL_TIME_MS = 10_000
ARTIFACTS = Path(os.environ.get("SOAKWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
_BODY = re.compile(r'<body[^>]*\bdata-charts="(\d+)"[^>]*\bdata-drawn="(\d+)"')


def chromium() -> str:
    """The Chromium binary, or skip the test saying how to get it."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run installs it)")


@dataclass(frozen=True)
class Rendered:
    dom: str
    console: list[str]
    charts: int
    drawn: int
    canvases: int
    screenshot: Path


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="sw-chromium-") as profile:
        cmd = [
            chromium(),
            "--headless",
            "--no-sandbox",  # CI containers run as root
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False)


def render(page: Path, name: str, height: int = 3000) -> Rendered:
    """Load ``page``; return its DOM after the scripts ran, its console messages and a screenshot."""
    url = page.resolve().as_uri()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    window = ["--hide-scrollbars", f"--window-size=1400,{height}", f"--screenshot={shot}"]
    # one browser start does both: the DOM after the scripts ran on stdout, and the screenshot
    dom = _run(["--dump-dom", *window, url])
    assert dom.returncode == 0, dom.stderr[-3000:]
    stderr = dom.stderr
    if not shot.is_file():  # a Chromium that does only one of the two per start: a second one for the picture
        pic = _run([*window, url])
        assert pic.returncode == 0 and shot.is_file(), pic.stderr[-3000:]
        stderr += pic.stderr
    console = [line for line in stderr.splitlines() if ":CONSOLE" in line]
    m = _BODY.search(dom.stdout)
    assert m is not None, "the page's script did not run to its end: " + dom.stdout[:500]
    return Rendered(
        dom=dom.stdout,
        console=console,
        charts=int(m.group(1)),
        drawn=int(m.group(2)),
        canvases=dom.stdout.count("<canvas"),
        screenshot=shot,
    )
