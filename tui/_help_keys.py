"""Every key of the TUI with what it does, as the help screen (``?``) lists them."""

from __future__ import annotations

__all__ = ["HELP_KEYS", "REPLAY_HELP_KEYS"]

HELP_KEYS: list[tuple[str, str]] = [
    ("p", "pause the stage / resume it"),
    ("c", "inject chaos: choose one of the profile's chaos actions"),
    ("t", "truncate watched logs (lists files and sizes, asks to confirm)"),
    ("a", "abort the stage (asks to confirm)"),
    ("g", "toggle auto-abort when an abort gate fails"),
    ("s", "save a screenshot (SVG) into the run directory"),
    (
        "1–9 0",
        "show / hide a panel: 1 rate 2 latency 3 errors 4 gates 5 nodes 6 memory 7 files 8 snapshots 9 events 0 output",
    ),
    ("e", "show / hide the endpoints panel (a request mix: calls, share, errors, p50/p95 per endpoint)"),
    ("tab shift+tab", "move the focus between panels"),
    ("z", "maximise the focused panel / back"),
    ("↑ ↓ pgup pgdn", "scroll inside the focused panel (events: back in time)"),
    ("l", "latency chart: p50 → p95 → p99"),
    ("h", "latency: the chart ↔ a heatmap of the calls per tick by latency (log scale)"),
    ("f", "events: filter all → warn+error → chaos → gates → operator → errors"),
    ("/", "search the events (or the target output when it has the focus); enter or esc to leave"),
    ("?", "this help"),
    ("d", "detach: close the UI, the stage goes on (`soakwatch attach RUN_DIR` brings it back)"),
    ("q", "quit (while running: abort the stage, or keep it running and close the UI)"),
]
#: the keys of a replay (``soakwatch attach`` on a finished run): only the time cursor moves
REPLAY_HELP_KEYS: list[tuple[str, str]] = [
    ("← →", "move the time cursor one timeline row back / forward"),
    ("shift+← →", "ten rows at a time"),
    ("home end", "the start / the end of the run (its verdict)"),
    ("s", "save a screenshot (SVG) into the run directory"),
    ("1–9 0 z tab", "panels: toggle, maximise, focus (as in a live run)"),
    ("↑ ↓ pgup pgdn f /", "scroll, filter and search the focused panel"),
    ("?", "this help"),
    ("q", "quit"),
]
