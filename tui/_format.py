"""The TUI's styles; the number formats are soakwatch.core.format's, shared with every view (no textual here)."""

from __future__ import annotations

from rich.text import Text

from soakwatch.core.format import fmt_bytes, fmt_count, fmt_duration, fmt_ms, fmt_observed, fmt_rate, fmt_signed

__all__ = [
    "LEVEL_STYLES",
    "STATE_STYLES",
    "STATUS_STYLES",
    "clip_words",
    "fit_pairs",
    "fmt_bytes",
    "fmt_count",
    "fmt_duration",
    "fmt_ms",
    "fmt_observed",
    "fmt_rate",
    "fmt_signed",
    "fmt_with_unit",
]

#: the stage state badge: one colour per state, so the state reads at a glance
STATE_STYLES: dict[str, str] = {
    "STARTING": "bold black on grey70",
    "RUNNING": "bold black on green",
    "PAUSED": "bold black on yellow",
    "ABORTING": "bold black on dark_orange",
    "STOPPING": "bold black on dark_orange",
    "PASSED": "bold white on green4",
    "FAILED": "bold white on red3",
    "ABORTED": "bold white on red3",
    "INTERRUPTED": "bold white on magenta",
    "ERROR": "bold white on dark_red",
}
#: gate statuses (soakwatch.config.gates): anything unknown is shown plain
STATUS_STYLES: dict[str, str] = {
    "pass": "bold green",
    "ok": "bold green",
    "passed": "bold green",
    "warn": "bold yellow",
    "pending": "dim",
    "insufficient": "dim",
    "fail": "bold red",
    "failed": "bold red",
    "abort": "bold white on red3",
}
LEVEL_STYLES: dict[str, str] = {"debug": "dim", "info": "", "warn": "yellow", "warning": "yellow", "error": "red"}


def clip_words(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut at a word boundary with ``…`` so no number is cut in half."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space].rstrip(" :,;") if space > 0 else cut) + "…"


def fit_pairs(pairs: list[tuple[str, str, str]], width: int) -> Text:
    """``label value`` pairs on one line: long labels, then short ones, then fewer pairs from
    the end, so a number is never cut (labels shrink first)."""
    for labels in (0, 1):
        for n in range(len(pairs), 0, -1):
            text = Text(no_wrap=True)
            for i, pair in enumerate(pairs[:n]):
                label = pair[labels]
                text.append(("  " if i else "") + (label + " " if label else ""), style="dim")
                text.append(pair[2], style="bold")
            if text.cell_len <= width or (labels == 1 and n == 1):
                if labels == 0 and n < len(pairs):
                    break  # try the short labels with every pair before dropping any
                return text
    return text  # pragma: no cover - the loop returns


#: a value closer to zero than this is shown as 0
NEGLIGIBLE = 5e-4


def fmt_with_unit(value: float | str | None, unit: str = "", *, signed: bool = False) -> str:
    """A gate's value in its unit: ``3.4%`` for a ratio, ``44.1ms``, ``12.5 MB/h``, ``7s``."""
    if value is None or isinstance(value, str):
        return fmt_observed(value)
    v = float(value)
    if unit == "ratio":
        v, unit = v * 100, "%"
    if abs(v) < NEGLIGIBLE:
        v = 0.0  # float noise (a margin of 8.8e-06 s) reads as zero
    text = fmt_observed(abs(v) if signed else v)
    if signed:
        text = ("+" if v >= 0 else "-") + text
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "ms", "s") else f"{text} {unit}"
