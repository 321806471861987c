"""How a stage is steered from outside: operator commands, signals and the control socket."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from soakwatch.core import platform as plat
from soakwatch.core.events import EventLog
from soakwatch.core.plugins import StageContext
from soakwatch.core.snapshot import Snapshot, StageState
from soakwatch.targets.runner import Runner

if TYPE_CHECKING:
    from collections.abc import Callable

    from soakwatch.config.profile import Profile
    from soakwatch.control.server import ControlServer

__all__ = ["StageControl"]


class StageControl:
    """The part of :class:`soakwatch.stage.Stage` that answers commands, signals and the control socket.

    A mixin: the stage sets these attributes up (in ``__init__`` and ``prepare``).
    """

    profile: Profile
    target_label: str
    run_dir: Path | None
    state: StageState
    auto_abort: bool
    abort_reason: str | None
    runner: Runner
    events: EventLog
    ctx: StageContext
    subscribers: list[Callable[[Snapshot], None]]
    _abort_kind: str | None
    _wake: threading.Event
    _kill_now: bool
    _signals: int
    _control: ControlServer | None
    #: the first stop: when (monotonic), and the calls in flight then; the grace ran out (calls cancelled)
    _stop_t: float | None = None
    _stop_in_flight: int = 0
    _gave_up: bool = False

    def command(self, name: str, args: dict[str, Any] | None = None, source: str = "api") -> str:
        """Run an operator command; returns a one-line answer. Unknown commands, and pause/resume
        in a state that does not allow them, raise ValueError (refused, nothing changed)."""
        args = args or {}
        if name == "pause":
            if self.state != "RUNNING":
                raise ValueError(f"not running ({self.state})")  # a refusal: nothing changed
            self.runner.pause()
            self.state = "PAUSED"
        elif name == "resume":
            if self.state != "PAUSED":
                raise ValueError(f"not paused ({self.state})")
            self.runner.resume()
            self.state = "RUNNING"
        elif name in ("abort", "stop"):
            self._stop("operator" if name == "abort" else "signal", f"{name} by {source}")
        elif name == "auto_abort":
            on = args.get("on", not self.auto_abort)
            if not isinstance(on, bool):
                raise ValueError(f"auto_abort: 'on' must be true or false, got {on!r}")  # refused, nothing changed
            self.auto_abort = on
        elif name == "note":
            # an action the view did by itself (e.g. saved a screenshot), recorded like any other
            what = str(args.get("action") or "note")
            answer = f"noted: {what}"
            self.events.emit("operator", f"{what} ({source}): {args}", "info", action=what, source=source, args=args)
            return answer
        elif name in self.ctx.commands:
            answer = self.ctx.commands[name](args)
            self._record_operator(name, source, args, answer)
            return answer
        else:
            raise ValueError(f"unknown command {name!r}")
        answer = f"{name}: ok"
        self._record_operator(name, source, args, answer)
        self._wake.set()
        return answer

    def _record_operator(self, name: str, source: str, args: dict[str, Any], answer: str) -> None:
        self.events.emit("operator", f"{name} ({source}): {answer}", "info", action=name, source=source, args=args)

    def _stop(self, kind: str, reason: str) -> None:
        if self._abort_kind is None:
            self._abort_kind = kind
            self.abort_reason = reason
        if self._stop_t is None:
            self._stop_t = time.monotonic()
            self._stop_in_flight = self.runner.in_flight
        self.state = "ABORTING" if kind in ("operator", "gate") else "STOPPING"
        self.runner.stop()
        self._wake.set()

    def _gate_abort(self, gate: str, reason: str) -> None:
        if not self.auto_abort:
            self.events.emit(
                "abort_suppressed", f"gate {gate} would abort: {reason} (auto-abort off)", "warn", gate=gate
            )
            return
        self.events.emit("abort", f"aborted by gate {gate}: {reason}", "error", gate=gate, reason=reason)
        self._stop("gate", f"gate {gate}: {reason}")

    def _sut_failed(self, who: str, reason: str) -> None:
        """The system under test could not run (e.g. a node never got ready): stop, the verdict says FAILED.

        The caller records its own event (``nodes_failed``); this only stops the stage.
        """
        self._stop("failed", f"{who}: {reason}")

    # ---------------------------------------------------------------- signals
    def install_signal_handlers(self, stop_on_hangup: bool = False) -> None:
        """First SIGINT/SIGTERM: graceful stop with a full report; second SIGINT: stop now.

        SIGHUP (the terminal or the SSH connection is gone): the stage goes on headless,
        its output from then on in ``stage.log``; with ``stop_on_hangup`` it stops
        gracefully, like SIGINT.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in plat.STOP_SIGNALS:  # SIGINT, SIGTERM (and Ctrl-Break/console closed on Windows)
            signal.signal(sig, self._on_signal)
        for sig in plat.HANGUP_SIGNALS:  # SIGHUP; Windows has none
            signal.signal(sig, self._on_signal if stop_on_hangup else self._on_hangup)

    def _on_hangup(self, signum: int, frame: FrameType | None) -> None:
        from soakwatch.views.detach import output_to_log

        log = output_to_log(self.run_dir) if self.run_dir is not None else None
        self.events.emit(
            "hangup", f"SIGHUP: the terminal is gone; the stage goes on, output in {log}", "warn", log=str(log)
        )

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            self.events.emit("signal", f"{name}: stopping gracefully (again to stop now)", "warn", signal=name)
            self._stop("signal", name)
        else:
            self.events.emit("signal", f"{name}: stopping now", "warn", signal=name)
            self._kill_now = True
            self.runner.cancel_in_flight()
            self._wake.set()

    def _grace_left(self) -> float:
        """Seconds until the stop's grace is over (inf when not stopping)."""
        if self._stop_t is None or self._gave_up:
            return float("inf")
        return max(0.0, self._stop_t + self.profile.stop_grace - time.monotonic())

    def _check_grace(self) -> None:
        """Once the stop's grace (``stop_grace``) is over, the calls still in flight are cancelled."""
        if self._stop_t is None or self._gave_up or time.monotonic() - self._stop_t < self.profile.stop_grace:
            return
        self._gave_up = True
        in_flight = self.runner.in_flight
        if in_flight:
            grace = self.profile.stop_grace
            self.events.emit(
                "stop_grace_over",
                f"{in_flight} call(s) still in flight {grace:g}s after the stop: cancelled",
                "warn",
                in_flight=in_flight,
                grace=grace,
            )
        self.runner.cancel_in_flight()

    def _stop_counts(self) -> tuple[int | None, int | None, list[str]]:
        """(calls in flight at the stop that finished, calls cancelled, the caveat saying so);
        (None, None, []) for a stage that ran to its end."""
        if self._stop_t is None:
            return None, None, []
        cancelled = self.runner.cancelled
        finished = max(0, self._stop_in_flight - cancelled)
        if not cancelled:
            return finished, 0, []
        return finished, cancelled, [f"{cancelled} call(s) in flight cancelled by the stop (not results, not errors)"]

    def _start_control(self) -> None:
        """The control socket (views in other processes, attach, ctl); the stage goes on without it."""
        from soakwatch.control.server import ControlServer

        assert self.run_dir is not None
        server = ControlServer(
            self.run_dir,
            lambda name, args, source: self.command(name, args, source=source),
            info={"stage": self.profile.name, "target": self.target_label},
            on_client=self._on_client,
            transport=self.profile.control_transport,
        )
        try:
            server.start()
        except OSError as exc:
            self.events.emit("control_error", f"no control socket: {exc}", "error")
            return
        self._control = server
        self.subscribers.append(server.publish)
        from soakwatch.control.registry import register

        register(self.run_dir, self.profile.name)  # for `soakwatch ps`; a stage runs on without it

    def _on_client(self, what: str, name: str) -> None:
        """A view or a ctl that named itself came (attach) or went (detach): part of the evidence."""
        verb = "attached" if what == "attach" else "detached"
        self.events.emit(f"client_{verb}", f"{name} {verb}", "info", client=name)

    def _close_control(self) -> None:
        """Close the control socket, if it opened, and leave the registry of running stages."""
        if self._control is not None:
            self._control.close()
            from soakwatch.control.registry import unregister

            if self.run_dir is not None:
                unregister(self.run_dir)
