"""One chart redraw, ours vs plotext: the cost a panel pays each time its data changes.

The rate panel of a 160×48 terminal is about 50×10 cells; it redraws at most at the
refresh rate (2 Hz), so the chart's share of a core is ``2 × time per redraw``. plotext
(what textual-plotext draws with) builds its whole canvas on every redraw; soakwatch's
braille renderer (tui/_braille.py) maps the visible points to dots. Run with plotext
installed to compare (``pip install plotext``); without it only ours is measured.
"""

from __future__ import annotations

import io
import math
import sys
import time

from rich.console import Console

from soakwatch.tui._braille import LineChart

WIDTH, HEIGHT = 50, 10
POINTS = 120
REPEAT = 200
REFRESH_HZ = 2.0


def _values() -> list[float]:
    return [39 + 2.5 * math.sin(i / 3) - (9 if 60 < i < 80 else 0) for i in range(POINTS)]


def ours() -> float:
    console = Console(width=WIDTH, file=io.StringIO(), color_system="truecolor", force_terminal=True)
    values = _values()
    t0 = time.perf_counter()
    for _ in range(REPEAT):
        console.print(LineChart(values, height=HEIGHT, fmt=lambda v: f"{v:g}/s"))
    return (time.perf_counter() - t0) / REPEAT


def plotext_chart() -> float | None:
    try:
        import plotext as plt  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    values = _values()
    fig = plt.figure
    t0 = time.perf_counter()
    for _ in range(REPEAT):
        fig.clear()
        fig.plot_size(WIDTH, HEIGHT)
        fig.draw(fig.signal(values, marker="braille"))
        str(fig.build())
    return (time.perf_counter() - t0) / REPEAT


def main() -> int:
    mine = ours()
    print(
        f"soakwatch braille chart {WIDTH}x{HEIGHT}, {POINTS} points: {mine * 1000:.2f} ms per redraw "
        f"({mine * REFRESH_HZ * 100:.2f}% of a core at {REFRESH_HZ:g} Hz)"
    )
    other = plotext_chart()
    if other is None:
        print("plotext not installed: pip install plotext to compare")
    else:
        print(
            f"plotext {WIDTH}x{HEIGHT}: {other * 1000:.2f} ms per redraw ({other * REFRESH_HZ * 100:.2f}% of a core); "
            f"ours is {other / mine:.1f}x cheaper"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
