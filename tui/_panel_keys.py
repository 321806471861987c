"""The dashboard's panel keys: toggle (1–9, 0), maximise (z), scroll, latency percentile (l),
events filter (f) and search (/). A base of :class:`~soakwatch.tui.app.SoakwatchApp`."""

from __future__ import annotations

from textual import on
from textual.app import App
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Input

from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._deck import PanelDeck
from soakwatch.tui.widgets import EventsPanel, LatencyPanel
from soakwatch.tui.widgets._panel import Panel

__all__ = ["PanelKeysApp"]


class PanelKeysApp(App[str | None]):
    """Panel layout and the keys that act on panels; the app sets :attr:`deck` on mount."""

    deck: PanelDeck | None = None
    _search_target = "events"

    @property
    def shown_snapshot(self) -> Snapshot | None:
        """The snapshot on screen (the app's reactive)."""
        raise NotImplementedError

    def replan(self) -> None:
        """Fit the panels to the screen again (resize, a panel grew, collapsed or was toggled)."""
        if self.deck is not None:
            self.deck.replan(self.shown_snapshot)

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self.replan)

    @on(Panel.NeedsLayout)
    def _panel_changed(self) -> None:
        self.call_after_refresh(self.replan)

    def _focused_panel(self) -> Widget | None:
        node = self.focused
        while node is not None and node.parent is not self.query_one("#body"):
            node = node.parent if isinstance(node.parent, Widget) else None
        return node

    def action_toggle_panel(self, pid: str) -> None:
        if self.deck is None:
            return
        panel = self.deck.panels[pid]
        if self.deck.maximised is not None:
            self.deck.maximised = None
        shown = self.deck.toggle(pid)
        if shown and panel.has_class("-collapsed"):
            self.notify(f"{pid}: nothing to show in this stage yet", timeout=3)
        self.replan()
        if shown:
            panel.focus()

    def action_maximise(self) -> None:
        if self.deck is None:
            return
        panel = self._focused_panel()
        if self.deck.maximised is not None:
            self.deck.maximised = None
        elif panel is not None and panel.id:
            self.deck.maximised = panel.id
        else:
            self.notify("tab to a panel first, then z maximises it", timeout=3)
            return
        self.replan()

    def action_scroll_panel(self, rows: int) -> None:
        panel = self._focused_panel()
        if isinstance(panel, Panel):
            panel.scroll_by(rows)

    def action_latency_pct(self) -> None:
        pct = self.query_one(LatencyPanel).cycle()
        self.notify(f"latency chart shows {pct}", timeout=2)

    def action_latency_heat(self) -> None:
        self.query_one(LatencyPanel).toggle_heat()  # the panel's subtitle says which view it shows

    def action_events_filter(self) -> None:
        name = self.query_one(EventsPanel).next_filter()
        self.notify(f"events: {name}", timeout=2)

    def action_search(self) -> None:
        """Search the focused panel (events, or the target output); the search line sits above the footer."""
        search = self.query_one("#search", Input)
        target = self._focused_panel()
        self._search_target = "output" if target is not None and target.id == "output" else "events"
        search.placeholder = f"search {self._search_target}: enter or esc to leave"
        search.add_class("-open")
        search.focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        needle = event.value.strip()
        if self._search_target == "output":
            self.query_one("#output-filter", Input).value = needle
        else:
            self.query_one(EventsPanel).needle = needle

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#search", Input).remove_class("-open")
        self.query_one("#output" if self._search_target == "output" else "#events").focus()

    def key_escape(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_class("-open"):
            search.value = ""
            self._search_done()
