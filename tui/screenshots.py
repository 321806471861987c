"""SVG screenshots of the deterministic samples: ``python -m soakwatch.tui.screenshots DIR``.

The app runs headless on sample data (:mod:`soakwatch.tui._sample`), so the files only
change when the UI does: a quick look at a change without running a stage. The README's
screenshots come from real runs (:mod:`soakwatch.tui.screenshots_live`, ``make
screenshots``). :func:`offline_fonts` keeps both free of web fonts.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from soakwatch.tui._sample import SampleSource, Situation, sample_snapshot
from soakwatch.tui.app import make_app

__all__ = ["SHOTS", "main", "offline_fonts", "take"]

#: terminal size of the README screenshots
SIZE = (160, 48)
#: how long one screenshot may take to settle before it is given up
SETTLE_TIMEOUT_S = 10.0
#: file name → (situation, keys pressed before the shot)
SHOTS: dict[str, tuple[Situation, tuple[str, ...]]] = {
    "running.svg": ("running", ()),
    "failing-gate.svg": ("failing", ()),
    "paused.svg": ("paused", ()),
    "finished.svg": ("finished_warn", ()),
    "help.svg": ("running", ("question_mark",)),
    "topology.svg": ("topology", ()),
}
#: the web-font sources Rich's SVG export puts in @font-face: a README must not load fonts from the network
_FONT_URLS = re.compile(r",\s*url\([^)]*\)\s*format\([^)]*\)")
#: installed monospace fonts tried before the generic one
FALLBACK_FONTS = "Fira Code, DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"


def offline_fonts(svg: str) -> str:
    """``svg`` with fonts from the system only: no url() sources, common monospace fallbacks."""
    return _FONT_URLS.sub("", svg).replace("font-family: Fira Code, monospace;", f"font-family: {FALLBACK_FONTS};")


async def take(situation: Situation, keys: Sequence[str] = (), size: tuple[int, int] = SIZE) -> str:
    """The SVG of the app showing ``situation`` after pressing ``keys``."""
    source = SampleSource([sample_snapshot(situation)])
    app = make_app(source)
    async with app.run_test(size=size) as pilot:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_TIMEOUT_S
        while app.applied == 0:
            if loop.time() > deadline:
                raise TimeoutError("the app showed no snapshot")
            await pilot.pause(0.01)
        if keys:
            await pilot.press(*keys)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = offline_fonts(app.export_screenshot(title=f"soakwatch · {situation}"))
        await source.close()
    return svg


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.screenshots", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="where the SVG files go (e.g. screenshots)")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, (situation, keys) in SHOTS.items():
        svg = asyncio.run(take(situation, keys))
        (args.out_dir / name).write_text(svg, encoding="utf-8")
        print(f"wrote {args.out_dir / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
