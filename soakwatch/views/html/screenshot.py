"""``python -m soakwatch.views.html.screenshot OUT.png``: the README's picture of report.html.

Runs the demo stage headless (about a minute, bounded by its 2400 calls) in a temporary
directory, then has headless Chromium (the system package) take a screenshot of its
report.html. Used by ``make screenshots``; not part of the CLI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["main"]

#: the top of the report: verdict, and the first rows of charts
WINDOW = "1400,2000"
#: the demo stage is bounded by its calls; this only guards a stuck machine
DEMO_TIMEOUT_S = 600
BROWSER_TIMEOUT_S = 120


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "screenshots/report.png").resolve()
    browser = next((p for n in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(n))), None)
    if browser is None:
        print("chromium is not installed (apt-get install -y chromium): no report screenshot", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="soakwatch-shot-") as tmp:
        from soakwatch.demo import prepare_sandbox

        root = prepare_sandbox(Path(tmp) / "engine")
        runs = Path(tmp) / "runs"
        cmd = [sys.executable, "-m", "soakwatch", "demo", "--no-tui", "--root", str(root), "--out-dir", str(runs)]
        subprocess.run(cmd, check=False, timeout=DEMO_TIMEOUT_S, stdout=subprocess.DEVNULL)
        page = next(runs.iterdir()) / "report.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        shot = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        shot += [f"--user-data-dir={Path(tmp) / 'profile'}", f"--window-size={WINDOW}", f"--screenshot={out}"]
        subprocess.run([*shot, page.as_uri()], check=True, timeout=BROWSER_TIMEOUT_S, capture_output=True)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
