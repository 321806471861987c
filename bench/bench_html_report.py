"""report.html of a synthetic 24-hour run (one row a second, generated, not run): the time to write
it, its size, and how long headless Chromium takes from navigation to the last chart drawn.

The page stamps ``data-load-ms`` (``performance.now()`` when its last chart drew) on <body>; the
figure is the median of several loads of the same file. Chromium is the system package.

    python bench/bench_html_report.py [--loads 5] [--wide 80]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from soakwatch.sections import REPORT_SECTIONS
from soakwatch.views.html import write_run_report
from tests.html_rundir import write_run

DAY = 24 * 3600
_LOAD = re.compile(r'data-charts="(\d+)" data-drawn="(\d+)" data-load-ms="(\d+)"')


def load_ms(page: Path, browser: str) -> tuple[int, int]:
    """(charts drawn, ms from navigation start to the last chart drawn) of one cold load."""
    with tempfile.TemporaryDirectory(prefix="sw-bench-chromium-") as profile:
        out = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    m = _LOAD.search(out)
    if m is None or m.group(1) != m.group(2):
        raise RuntimeError("the page did not draw every chart")
    return int(m.group(2)), int(m.group(3))


def one(label: str, wide: int, loads: int, browser: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="sw-bench-html-") as tmp:
        run = write_run(Path(tmp) / "run", DAY, spike_at=DAY // 2, extra_series=wide)
        t0 = time.perf_counter()
        page = write_run_report(run.run_dir, REPORT_SECTIONS)
        write_s = time.perf_counter() - t0
        size = page.stat().st_size
        line = f"{label:<28} write {write_s:5.2f} s   size {size / 1e6:5.2f} MB"
        if browser:
            got = [load_ms(page, browser) for _ in range(loads)]
            ms = statistics.median(m for _, m in got)
            line += f"   {got[0][0]:3d} charts drawn in {ms:5.0f} ms (median of {loads})"
        print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--wide", type=int, default=80, help="extra series of the wide run")
    args = ap.parse_args()
    browser = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if browser is None:
        print("chromium not installed: load times left out")
    one("24 h, 15 series", 0, args.loads, browser)
    one(f"24 h, {15 + args.wide} series", args.wide, args.loads, browser)


if __name__ == "__main__":
    main()
