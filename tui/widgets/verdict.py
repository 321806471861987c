"""The end of the run: the verdict line, every gate that failed, warned or was not judged,
the operator and chaos actions within each such gate's window, and the report paths."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from soakwatch.core.snapshot import GateView, Mark, Snapshot
from soakwatch.tui._format import STATE_STYLES, fmt_duration, fmt_with_unit
from soakwatch.tui.widgets._panel import Panel

__all__ = ["VerdictPanel", "linked_actions", "render_verdict"]

#: gate statuses at the end, grouped the way the verdict lists them: (statuses, mark, style, word)
GROUPS: tuple[tuple[frozenset[str], str, str, str], ...] = (
    (frozenset({"fail", "failed", "abort"}), "✗", "bold red", "failed"),
    (frozenset({"warn"}), "!", "bold yellow", "warned"),
    (frozenset({"insufficient_data", "pending", "insufficient", "unjudged"}), "?", "bold magenta", "not judged"),
)
#: chart marks that are actions someone took (the verdict links failures to them)
ACTION_MARKS = frozenset({"chaos", "op"})
#: actions linked per gate, at most
MAX_LINKS = 3


def linked_actions(gate: GateView, marks: list[Mark]) -> list[Mark]:
    """Chaos and operator actions within the gate's window before it changed state."""
    if gate.changed_at is None:
        return []
    start = gate.changed_at - gate.window_s if gate.window_s is not None else 0.0
    found = [m for m in marks if m.kind in ACTION_MARKS and start <= m.t <= gate.changed_at]
    return found[-MAX_LINKS:]


def _action(mark: Mark) -> str:
    """``operator pause`` / ``chaos error_burst for 10s``: the mark's event in a few words."""
    if mark.kind == "op":
        return "operator " + mark.label.split(" (", 1)[0].split(":", 1)[0]
    return mark.label


def _gate_line(g: GateView, mark: str, style: str, marks: list[Mark]) -> Text:
    line = Text.assemble(
        (f"{mark} ", style),
        (g.name, "bold"),
        (f" [{g.subject}]" if g.subject and g.subject not in g.name else "", "dim"),
        f"  {g.check or g.condition}",
        ("  observed ", "dim"),
        (fmt_with_unit(g.observed, g.unit), "bold"),
    )
    links = linked_actions(g, marks)
    if links:
        line.append("  after ", style="dim")
        line.append(", ".join(f"{_action(m)} at {fmt_duration(m.t)}" for m in links), style="cyan")
    return line


def _reports(snap: Snapshot) -> Text:
    """``reports: summary.md · failures.md`` (names inside the run dir, full paths otherwise)."""
    prefix = snap.run_dir.rstrip("/") + "/"
    names = [p[len(prefix) :] if p.startswith(prefix) else p for p in snap.reports]
    return Text.assemble(("reports ", "dim"), (" · ".join(names), "underline"))


def render_verdict(snap: Snapshot) -> RenderableType:
    """The verdict line, the gates that did not plainly pass, the report files; every line wraps
    rather than cut a number or a path."""
    verdict = snap.verdict or snap.state
    lines: list[RenderableType] = [
        Text(f" {verdict} ", style=STATE_STYLES.get(snap.state, "reverse")),
        Text.assemble(
            ("exit code ", "dim"),
            (str(snap.exit_code) if snap.exit_code is not None else "—", "bold"),
            ("  run dir ", "dim"),
            (snap.run_dir, ""),
        ),
    ]
    if not snap.gates:
        lines.append(Text("no gates defined: nothing was judged beyond the run itself", style="bold yellow"))
    for statuses, mark, style, _word in GROUPS:
        for g in snap.gates:
            if g.status.lower() in statuses:
                lines.append(_gate_line(g, mark, style, snap.marks))
    counts = [
        f"{n} {word}"
        for statuses, _m, _s, word in GROUPS
        if (n := sum(1 for g in snap.gates if g.status.lower() in statuses))
    ]
    if snap.gates:
        passed = len(snap.gates) - sum(int(c.split()[0]) for c in counts)
        lines.append(Text(f"gates: {passed} passed" + "".join(f", {c}" for c in counts), style="dim"))
    if snap.reports:
        lines.append(_reports(snap))
    return Group(*lines)


class VerdictPanel(Panel):
    """Shown once the stage has ended; stays until the operator quits."""

    DEFAULT_CSS = """
    VerdictPanel { height: auto; max-height: 16; border: heavy $accent; }
    """
    TITLE = "verdict"
    LAYOUT_ON_CHANGE = True
    #: a long path or gate line wraps rather than being cut
    WRAPS = True
    can_focus = False

    def select(self, snap: Snapshot) -> object:
        return (snap.finished, snap.verdict, snap.reports, snap.gates if snap.finished else None)

    def has_content(self, snap: Snapshot) -> bool:
        return snap.finished

    def subtitle(self, snap: Snapshot) -> str:
        return "q close · s screenshot"

    def render_snapshot(self, snap: Snapshot, width: int, height: int) -> RenderableType:
        return render_verdict(snap)
