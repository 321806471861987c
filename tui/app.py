"""The soakwatch TUI: a full-screen monitor of one stage, and the operator's keys.

The app is a client of a :class:`~soakwatch.core.source.SnapshotSource`: a worker reads
the snapshot stream and posts :class:`SoakwatchApp.SnapshotArrived` messages (a
backlog collapses to the newest), the app keeps the newest pending one and applies
it at most ``refresh_hz`` times a second inside ``batch_update()``; each panel
repaints only when its part of the snapshot changed. Keys become commands on the
source; a refused command is a notification, never a crash.
"""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Input, Static

from soakwatch.config.constants import DEFAULT_REFRESH_HZ
from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.core.source import CommandError, SnapshotSource
from soakwatch.tui import widgets as w
from soakwatch.tui._deck import PANEL_KEYS, PanelDeck
from soakwatch.tui._gc import QuietGC
from soakwatch.tui._help_keys import HELP_KEYS, REPLAY_HELP_KEYS
from soakwatch.tui._panel_keys import PanelKeysApp
from soakwatch.tui._toasts import toast
from soakwatch.tui.screens import ChaosScreen, ConfirmScreen, HelpScreen, QuitChoice, QuitScreen, TruncateScreen
from soakwatch.tui.widgets.replay import ReplayBar

__all__ = ["DEFAULT_REFRESH_HZ", "DETACHED", "HELP_KEYS", "REPLAY_HELP_KEYS", "SoakwatchApp", "make_app"]

#: events kept for the events panel's scrollback (each snapshot only brings the new ones)
MAX_EVENTS = 5000
#: rows PageUp/PageDown move inside the focused panel
PAGE_ROWS = 10
#: states in which the stage still takes pause/chaos/truncate/abort
LIVE_STATES = frozenset({"STARTING", "RUNNING", "PAUSED"})

#: what the app returns from run() when the operator detached (soakwatch.views.launch.DETACHED)
DETACHED = "detach"
#: the app's actions that command the stage (refused in a replay)
STAGE_ACTIONS = frozenset({"pause", "resume", "chaos", "truncate", "abort", "auto_abort", "detach"})
#: the app's actions that move a replay's time cursor
CURSOR_ACTIONS = frozenset({"seek"})


class SoakwatchApp(PanelKeysApp):
    """The live monitor of one stage."""

    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "soakwatch"
    AUTO_FOCUS = None
    #: the footer needs its width for the operator keys
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("c", "chaos", "Chaos"),
        Binding("t", "truncate", "Truncate"),
        Binding("a", "abort", "Abort"),
        Binding("g", "auto_abort", "Auto-abort"),
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("s", "save_shot", "Shot", show=False),
        Binding("d", "detach", "Detach", show=False),
        Binding("slash", "search", "Search", show=False),
        Binding("z", "maximise", "Max", show=False),
        Binding("l", "latency_pct", "pct", show=False),
        Binding("h", "latency_heat", "Heatmap", show=False),
        Binding("f", "events_filter", "Filter", show=False),
        Binding("up", "scroll_panel(-1)", show=False),
        Binding("down", "scroll_panel(1)", show=False),
        Binding("pageup", f"scroll_panel({-PAGE_ROWS})", show=False),
        Binding("pagedown", f"scroll_panel({PAGE_ROWS})", show=False),
        *(Binding(key, f"toggle_panel('{pid}')", show=False) for key, pid in PANEL_KEYS.items()),
        # replay only (check_action): priority, so the scrolling body does not take the arrows
        Binding("left", "seek(-1)", "Back", key_display="←", priority=True),
        Binding("right", "seek(1)", "Fwd", key_display="→", priority=True),
        Binding("shift+left", "seek(-10)", "Back×10", show=False, priority=True),
        Binding("shift+right", "seek(10)", "Fwd×10", show=False, priority=True),
        Binding("home", "seek_to('start')", "Start", show=False, priority=True),
        Binding("end", "seek_to('end')", "End", show=False, priority=True),
        Binding("p,c,t,a,g,d", "replay_refuse", show=False),
    ]

    class SnapshotArrived(Message):
        """A new snapshot, with the recent events gathered so far (newest last)."""

        def __init__(self, snapshot: Snapshot, recent_events: tuple[EventView, ...]) -> None:
            super().__init__()
            self.snapshot = snapshot
            self.recent_events = recent_events

        def can_replace(self, message: Message) -> bool:
            # the events ride along in recent_events, so an older snapshot loses nothing
            return isinstance(message, SoakwatchApp.SnapshotArrived)

    class StreamEnded(Message):
        """The snapshot stream ended (stage gone, socket lost)."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    # the app draws nothing itself: its reactives only feed the panels (data_bind), so no repaint here
    snapshot: reactive[Snapshot | None] = reactive(None, init=False, repaint=False)
    recent_events: reactive[tuple[EventView, ...]] = reactive((), init=False, repaint=False)
    stream_note: reactive[str] = reactive("", repaint=False)

    def __init__(self, source: SnapshotSource, *, refresh_hz: float = DEFAULT_REFRESH_HZ, replay: bool = False) -> None:
        super().__init__()
        #: a recorded run (soakwatch.views.replay.ReplaySource): only the time cursor moves
        self.replay = replay
        if refresh_hz <= 0:
            raise ValueError(f"refresh_hz must be greater than 0, got {refresh_hz}")
        self.source = source
        self.refresh_hz = refresh_hz
        #: the newest snapshot received (the final one's exit_code is the CLI's exit code)
        self.last_snapshot: Snapshot | None = None
        #: how many snapshots were applied to the screen
        self.applied = 0
        self._pending: SoakwatchApp.SnapshotArrived | None = None
        self._stream_over = False
        self._quit_when_over = False
        self._gc = QuietGC()

    def on_unmount(self) -> None:
        self._gc.restore()

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        bind = SoakwatchApp.snapshot
        yield w.StatusBar().data_bind(bind, SoakwatchApp.stream_note)
        if self.replay:
            yield ReplayBar().data_bind(bind)
        yield w.VerdictPanel(id="verdict", classes="-collapsed").data_bind(bind)
        with Container(id="body"):
            yield w.RatePanel(id="rate").data_bind(bind)
            yield w.LatencyPanel(id="latency").data_bind(bind)
            yield w.GatesPanel(id="gates", classes="-collapsed").data_bind(bind)
            yield w.NodesPanel(id="nodes", classes="-collapsed").data_bind(bind)
            yield w.ErrorsPanel(id="errors").data_bind(bind)
            yield w.EndpointsPanel(id="endpoints", classes="-collapsed").data_bind(bind)
            yield w.MemoryPanel(id="memory", classes="-collapsed").data_bind(bind)
            yield w.EventsPanel(id="events").data_bind(SoakwatchApp.recent_events, bind)
            yield w.FilesPanel(id="files", classes="-collapsed").data_bind(bind)
            yield w.SnapshotsPanel(id="snapshots", classes="-collapsed").data_bind(bind)
            yield w.OutputPanel(id="output").data_bind(bind)
        yield Static(id="more")
        yield Input(placeholder="search: enter or esc to leave", id="search", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        body = self.query_one("#body", Container)
        panels = {w.id: w for w in body.children if w.id}
        self.deck = PanelDeck(body, self.query_one("#more", Static), panels)
        self._read_stream()
        self.set_interval(1.0 / self.refresh_hz, self._apply_pending, name="refresh")

    # ---------------------------------------------------------------- the stream
    @work(exclusive=True, group="stream", exit_on_error=False)
    async def _read_stream(self) -> None:
        recent: deque[EventView] = deque(maxlen=MAX_EVENTS)
        last_seq = 0
        reason = "the stage's snapshot stream ended"
        try:
            async for snap in self.source.snapshots():
                if self.replay:  # a replay's snapshot carries every event up to the cursor
                    recent.clear()
                # a live source's first snapshot brings the history, which the next ones may overlap
                recent.extend(e for e in snap.events if self.replay or e.seq > last_seq)
                last_seq = recent[-1].seq if recent else 0
                self.post_message(self.SnapshotArrived(snap, tuple(recent)))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a lost stage is shown, never fatal
            reason = f"lost the stage: {type(exc).__name__}: {exc}"
        self.post_message(self.StreamEnded(reason))

    @on(SnapshotArrived)
    def _arrived(self, message: SnapshotArrived) -> None:
        self.last_snapshot = message.snapshot
        self._pending = message
        if self.snapshot is None or message.snapshot.finished or self.replay:
            self._apply_pending()

    @on(StreamEnded)
    def _ended(self, message: StreamEnded) -> None:
        self._apply_pending()
        self._stream_over = True
        if not self.replay and (self.last_snapshot is None or not self.last_snapshot.finished):
            self.stream_note = "stream ended"
            self.notify(message.reason, severity="warning", timeout=10)
        self.refresh_bindings()
        if self._quit_when_over:
            self.exit()

    def _apply_pending(self) -> None:
        """Show the newest pending snapshot (called by the refresh timer, so at most refresh_hz times a second)."""
        message, self._pending = self._pending, None
        if message is None:
            return
        self.applied += 1
        if self.applied == 1:
            self.call_after_refresh(self._gc.settle)
        with self.batch_update():
            self.recent_events = message.recent_events
            self.snapshot = message.snapshot
        self.call_after_refresh(self.replan)

    def watch_snapshot(self, old: Snapshot | None, new: Snapshot | None) -> None:
        if new is None:
            return
        if old is None:
            self.title = f"soakwatch {new.stage}"
        if old is None or old.state != new.state or old.auto_abort != new.auto_abort:
            self.refresh_bindings()
        if new.finished and (old is None or not old.finished) and self._quit_when_over:
            self.exit()

    @property
    def shown_snapshot(self) -> Snapshot | None:
        return self.snapshot

    # ---------------------------------------------------------------- keys
    @property
    def live(self) -> bool:
        """True while the stage can still take commands."""
        snap = self.last_snapshot
        return not self.replay and snap is not None and snap.state in LIVE_STATES and not self._stream_over

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("seek", "seek_to", "replay_refuse"):
            return self.replay and not isinstance(self.focused, Input)
        if self.replay and action in STAGE_ACTIONS:
            return False
        if action == "detach":
            return self.live  # nothing to detach from once the stage is over
        state = self.last_snapshot.state if self.last_snapshot else None
        if action in ("pause", "resume") and (action == "resume") != (state == "PAUSED"):
            return False  # "p" shows as Pause or Resume, never both
        if action in ("pause", "resume", "chaos", "truncate", "abort", "auto_abort"):
            return self.live  # the footer shows only the keys that work now
        return True

    def _send(self, name: str, args: dict[str, Any] | None = None) -> None:
        self.run_worker(self._command(name, args), group="commands", exit_on_error=False)

    async def _command(self, name: str, args: dict[str, Any] | None = None) -> str | None:
        """Send one command; the answer or the refusal becomes a notification."""
        try:
            answer = await self.source.command(name, args)
        except CommandError as exc:
            self.notify(str(exc), title=f"{name} refused", severity="error")
            return None
        except Exception as exc:  # a broken connection must not take the monitor down
            self.notify(f"{type(exc).__name__}: {exc}", title=f"{name} failed", severity="error")
            return None
        self.notify(toast(name, args, answer), timeout=4)
        return answer

    def action_pause(self) -> None:
        if self.live:
            self._send("pause")

    def action_resume(self) -> None:
        if self.live:
            self._send("resume")

    def action_chaos(self) -> None:
        snap = self.last_snapshot
        if snap is None or not self.live:
            return

        def chosen(action: str | None) -> None:
            if action:
                self._send("chaos", {"action": action})

        self.push_screen(ChaosScreen(snap.chaos_actions, snap.chaos), chosen)

    def action_truncate(self) -> None:
        snap = self.last_snapshot
        if snap is None or not self.live:
            return

        def chosen(files: list[str] | None) -> None:
            if files:
                self._send("truncate", {"files": files})

        self.push_screen(TruncateScreen(snap.files), chosen)

    def action_abort(self) -> None:
        snap = self.last_snapshot
        if snap is None or not self.live:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._send("abort")

        self.push_screen(ConfirmScreen(f"Abort stage {snap.stage}? The run ends with exit code 3.", "Abort"), confirmed)

    def action_auto_abort(self) -> None:
        snap = self.last_snapshot
        if snap is not None and self.live:
            self._send("auto_abort", {"on": not snap.auto_abort})

    def action_save_shot(self) -> None:
        snap = self.last_snapshot
        if snap is None or not snap.run_dir:
            self.notify("no run directory yet", severity="warning")
            return
        directory = Path(snap.run_dir)
        stem = f"screenshot-{int(snap.elapsed):06d}s"
        name, n = f"{stem}.svg", 1
        while (directory / name).exists():
            n += 1
            name = f"{stem}-{n}.svg"
        try:
            path = self.save_screenshot(name, str(directory))
        except OSError as exc:
            self.notify(f"{type(exc).__name__}: {exc}", title="screenshot failed", severity="error")
            return
        if self.live:
            self._send("note", {"action": "screenshot", "path": path})
        else:
            self.notify(toast("note", {"action": "screenshot", "path": path}, path))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(REPLAY_HELP_KEYS if self.replay else HELP_KEYS))

    def action_detach(self) -> None:
        """Close the UI, leave the stage running; the launcher prints how to come back."""
        if self.live:
            self.exit(DETACHED)

    # ---------------------------------------------------------------- replay
    def action_seek(self, rows: int) -> None:
        self.run_worker(self.source.command("seek", {"by": rows}), group="seek", exit_on_error=False)

    def action_seek_to(self, where: str) -> None:
        self.run_worker(self.source.command("seek", {"to": where}), group="seek", exit_on_error=False)

    def action_replay_refuse(self) -> None:
        self.notify(
            "This is a replay of a finished run: only the time cursor moves (←/→, shift for ×10, home/end).",
            title="replay",
            severity="warning",
        )

    async def action_quit(self) -> None:
        snap = self.last_snapshot
        if self.replay or snap is None or snap.finished or self._stream_over:
            self.exit()
            return

        def chosen(choice: QuitChoice | None) -> None:
            if choice == "detach":  # the same in run and attach: the UI closes, the stage goes on
                self.exit(DETACHED)
            elif choice == "abort":
                self.run_worker(self._abort_then_quit(), group="commands", exit_on_error=False)

        self.push_screen(QuitScreen(snap.stage, snap.run_dir), chosen)

    async def _abort_then_quit(self) -> None:
        if await self._command("abort") is None:
            return
        self._quit_when_over = True
        if self._stream_over or (self.last_snapshot is not None and self.last_snapshot.finished):
            self.exit()


def make_app(source: SnapshotSource, *, refresh_hz: float = DEFAULT_REFRESH_HZ, replay: bool = False) -> SoakwatchApp:
    """The app factory the CLI and the tests use; the caller owns (and closes) ``source``.

    ``replay``: the source is a recorded run (soakwatch.views.replay.ReplaySource); the cursor keys
    move through it and the stage's commands are refused.
    """
    return SoakwatchApp(source, refresh_hz=refresh_hz, replay=replay)
