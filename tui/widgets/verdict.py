"""The end of the run: the verdict, the failed gates and the report paths."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._format import STATE_STYLES, fmt_observed
from soakwatch.tui.widgets._panel import Panel

__all__ = ["VerdictPanel", "render_verdict"]

#: gate statuses that count as failed at the end
FAILED_STATUSES = frozenset({"fail", "failed", "abort"})


def render_verdict(snap: Snapshot) -> RenderableType:
    """The verdict line, failed gates, the report files and the way out."""
    verdict = snap.verdict or snap.state
    lines: list[RenderableType] = [
        Text.assemble(
            (f" {verdict} ", STATE_STYLES.get(snap.state, "reverse")),
            ("  exit code ", "dim"),
            (str(snap.exit_code) if snap.exit_code is not None else "—", "bold"),
            ("  run dir ", "dim"),
            (snap.run_dir, ""),
            no_wrap=True,
            overflow="ellipsis",
        )
    ]
    failed = [g for g in snap.gates if g.status.lower() in FAILED_STATUSES]
    for g in failed:
        lines.append(
            Text.assemble(
                ("  ✗ ", "bold red"),
                (g.name, "bold"),
                (f"  {g.condition}  observed {fmt_observed(g.observed)}", ""),
                no_wrap=True,
                overflow="ellipsis",
            )
        )
    for path in snap.reports:
        lines.append(Text.assemble(("  report ", "dim"), (path, "underline"), no_wrap=True, overflow="ellipsis"))
    lines.append(Text("press q to close · s to save a screenshot", style="dim italic"))
    return Group(*lines)


class VerdictPanel(Panel):
    """Shown once the stage has ended; stays until the operator quits."""

    DEFAULT_CSS = """
    VerdictPanel { height: auto; max-height: 12; border: heavy $accent; }
    """
    TITLE = "verdict"
    LAYOUT_ON_CHANGE = True

    def select(self, snap: Snapshot) -> object:
        return (snap.finished, snap.verdict, snap.reports, snap.gates if snap.finished else None)

    def has_content(self, snap: Snapshot) -> bool:
        return snap.finished

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_verdict(snap)
