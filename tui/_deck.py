"""The panels of the dashboard as a deck: which are shown, in what order, how tall.

The app owns one :class:`PanelDeck`; it re-plans (:mod:`soakwatch.tui._layout`) when the
terminal is resized, when a panel collapses or grows, and when the operator toggles a
panel (1–9, 0) or maximises the focused one (``z``). Applying a plan only touches the
grid's styles, the panels' ``-off`` class and their order, so a plan that did not change
costs nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol, cast

from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Static

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._layout import Need, Plan, columns_for, plan

__all__ = ["PANEL_KEYS", "PRIORITY", "PanelDeck", "Sized"]

#: panels in priority order: what an operator needs first is placed first
PRIORITY = (
    "rate",
    "latency",
    "gates",
    "nodes",
    "errors",
    "endpoints",
    "memory",
    "events",
    "files",
    "snapshots",
    "output",
)
#: the key that toggles each panel
PANEL_KEYS = {
    "1": "rate",
    "2": "latency",
    "3": "errors",
    "4": "gates",
    "5": "nodes",
    "6": "memory",
    "7": "files",
    "8": "snapshots",
    "9": "events",
    "0": "output",
    "e": "endpoints",
}
KEY_OF = {pid: key for key, pid in PANEL_KEYS.items()}
#: rows of a panel's border
BORDER = 2


class Sized(Protocol):
    """What the deck asks of a panel widget."""

    WIDE: bool

    def rows(self, snap: Snapshot) -> tuple[int, int]: ...


class PanelDeck:
    """Plans and applies the layout of the dashboard's panels."""

    def __init__(self, body: Container, hint: Static, panels: dict[str, Widget]) -> None:
        self.body = body
        self.hint = hint
        self.panels = panels
        #: panels the operator switched off, and those switched on (placed first)
        self.hidden: set[str] = set()
        self.pinned: list[str] = []
        #: the maximised panel (z), or None
        self.maximised: str | None = None
        self.plan: Plan | None = None

    def toggle(self, pid: str) -> bool:
        """Switch a panel off when it is shown, on (first in line) when it is not; True if now shown."""
        if self.plan is not None and pid in self.plan.shown:
            self.hidden.add(pid)
            if pid in self.pinned:
                self.pinned.remove(pid)
            return False
        self.hidden.discard(pid)
        if pid not in self.pinned:
            self.pinned.insert(0, pid)
        return True

    def shown(self) -> list[str]:
        """The panels on screen now, in screen order."""
        return [pid for row in self.plan.rows for pid in row] if self.plan else []

    def _needs(self, snap: Snapshot | None) -> list[Need]:
        needs: list[Need] = []
        order = [*self.pinned, *(p for p in PRIORITY if p not in self.pinned)]
        for pid in order:
            widget = self.panels[pid]
            if widget.has_class("-collapsed") or pid in self.hidden:
                continue
            if self.maximised is not None and pid != self.maximised:
                continue
            sized = cast(Sized, widget)  # every panel of the body has rows() and WIDE
            lo, want = sized.rows(snap) if snap is not None else (3, 6)
            wide = sized.WIDE
            needs.append(Need(pid, lo + BORDER, want + BORDER, wide, pid in self.pinned))
        return needs

    def replan(self, snap: Snapshot | None) -> None:
        """Plan for the body's size now and apply the plan if it changed."""
        size = self.body.size
        if size.height <= 0 or size.width <= 0:
            return
        needs = self._needs(snap)
        if self.maximised is not None:
            new = Plan(rows=((self.maximised,),), heights=(size.height,), spans={self.maximised: 1}, more=())
            cols = 1
        else:
            new = plan(needs, size.width, size.height)
            cols = columns_for(size.width)
        if new == self.plan:
            return
        self.plan = new
        self._apply(new, cols)

    def _apply(self, new: Plan, cols: int) -> None:
        shown = new.shown
        for pid, widget in self.panels.items():
            off = pid not in shown
            if widget.has_class("-off") != off:
                widget.set_class(off, "-off")
            if not off and widget.styles.column_span != new.spans[pid]:
                widget.styles.column_span = new.spans[pid]
        self.body.styles.grid_size_columns = cols
        self.body.styles.grid_rows = " ".join(str(h) for h in new.heights) or "1fr"
        order = self.shown()
        for before, after in itertools.pairwise(order):
            self.body.move_child(self.panels[after], after=self.panels[before])
        self.hint.update(hint_text(new.more, self.hidden, self.maximised))
        self.hint.display = bool(new.more or self.hidden or self.maximised)


def hint_text(more: Sequence[str], hidden: set[str], maximised: str | None) -> str:
    """``more: events (9) snapshots (8)``: what is not on screen and the key that brings it."""
    if maximised is not None:
        return f"{maximised} maximised · z back · 1–9 0 toggle panels"
    left = [*more, *(p for p in PRIORITY if p in hidden and p not in more)]
    return "more: " + "  ".join(f"{pid} ({KEY_OF[pid]})" for pid in left) + "  · z maximise · ? keys"
