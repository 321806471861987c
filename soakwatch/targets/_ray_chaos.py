"""Chaos ``kill_worker`` / ``pause_worker`` on the Ray executor's actors, wherever they run.

A pid means nothing on another machine, so the chaos plugin reaches the actors through this
:class:`~soakwatch.core.plugins.WorkerControl` instead of a signal: a kill is ``ray.kill``
(the slot's chunk in hand ends in ``RayActorError``, recorded as a ``WorkerCrash`` naming the
node, and the runner places a new actor), a pause stops the slot between two calls (the chunk
in progress ends at its next call, no new chunk is sent) until the window's end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["ANSWER_TIMEOUT", "ActorRef", "RayWorkers"]

#: how long an actor may take to acknowledge a pause or its end
ANSWER_TIMEOUT = 5.0


def _going() -> threading.Event:
    ev = threading.Event()
    ev.set()
    return ev


@dataclass
class ActorRef:
    """The coordinator's handle on one slot's actor, and where it runs."""

    handle: Any
    slot: int
    node_ip: str
    node_id: str
    pid: int
    local: bool
    restarts: int = 0
    #: cleared while chaos pauses the slot: no chunk is sent
    go: threading.Event = field(default_factory=_going)

    @property
    def node(self) -> str:
        return f"{self.node_ip} {self.node_id}"

    @property
    def short(self) -> str:
        """The node in a series name: ``127.0.0.1/820d1f94``."""
        return f"{self.node_ip}/{self.node_id[:8]}"

    @property
    def where(self) -> str:
        return f"node {self.node_ip} ({self.node_id[:8]})"

    @property
    def ident(self) -> str:
        """Who runs the slot now (another process after a replacement)."""
        return f"pid {self.pid} on {self.where}"


class _Runner(Protocol):
    """What of :class:`~soakwatch.targets.ray_runner.RayRunner` the chaos hands use."""

    _ray: Any
    _closing: bool
    _actors: list[ActorRef]


class RayWorkers:
    """The chaos plugin's hands on a :class:`RayRunner`'s actors (``worker-N`` is slot N)."""

    def __init__(self, runner: _Runner) -> None:
        self._runner = runner

    def _actors(self) -> list[ActorRef]:
        if self._runner._closing:
            return []
        return list(getattr(self._runner, "_actors", []))

    def _find(self, name: str) -> ActorRef:
        for a in self._actors():
            if f"worker-{a.slot}" == name:
                return a
        raise ValueError(f"no worker {name!r}")

    def worker_ids(self) -> dict[str, str]:
        return {f"worker-{a.slot}": a.ident for a in self._actors()}

    def kill_worker(self, name: str) -> str:
        a = self._find(name)
        self._runner._ray.kill(a.handle, no_restart=True)
        a.go.set()  # a paused slot sends its next chunk, meets the dead actor and replaces it
        return f"ray.kill {name} ({a.ident})"

    def pause_worker(self, name: str) -> str:
        a = self._find(name)
        if not a.go.is_set():
            raise ValueError(f"{name} ({a.ident}) is paused already")
        a.go.clear()  # the slot sends no new chunk
        try:  # the chunk in progress ends at its next call
            self._runner._ray.get(a.handle.pause.remote(1), timeout=ANSWER_TIMEOUT)
        except Exception as exc:
            a.go.set()
            raise ValueError(f"{name} ({a.ident}) did not take the pause: {type(exc).__name__}") from None
        return f"{name} ({a.ident}) holds between calls"

    def resume_worker(self, name: str, who: str) -> str:
        try:
            a = self._find(name)
        except ValueError:
            a = None
        if a is None or a.ident != who:
            return f"{name} ({who}) was gone before the resume (replaced meanwhile)"
        try:
            self._runner._ray.get(a.handle.pause.remote(0), timeout=ANSWER_TIMEOUT)
        except Exception as exc:
            return f"{name} ({who}) did not answer the resume ({type(exc).__name__}); its slot goes on"
        finally:
            a.go.set()
        return f"{name} ({who}) goes on"
