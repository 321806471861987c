"""Clients of a stage's control socket (see :mod:`soakwatch.control.server`).

:class:`SocketSource` is the :class:`~soakwatch.core.source.SnapshotSource` the TUI reads in
``run`` (and later ``attach``): asyncio streams, a reader task that keeps only the
newest unread snapshot (older ones are merged into it, events included), and commands
matched to their replies by id. :class:`ControlClient` is the same protocol, blocking,
for scripts and tests. Closing either never stops the stage.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from soakwatch.config.constants import CONTROL_CONNECT_TIMEOUT as CONNECT_TIMEOUT
from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.control import wire as wire
from soakwatch.control._connect import connect, open_stream
from soakwatch.core.snapshot import EventView, Snapshot
from soakwatch.core.source import CommandError

__all__ = ["ControlClient", "SocketSource", "wait_for_control", "with_history"]

#: how long a client waits for the socket to appear (the stage may still be starting)
#: how long a command may take before the client gives up on its reply
COMMAND_TIMEOUT = 30.0
#: interval between looks for the socket while waiting for it
POLL_SECONDS = 0.05
#: the largest line a client accepts (a snapshot with long series tails is tens of KB)
MAX_LINE = 16 * 1024 * 1024


def wait_for_control(run_dir: Path, timeout: float = CONNECT_TIMEOUT, alive: Callable[[], bool] | None = None) -> Path:
    """The socket's path (``control.tcp`` for the tcp transport) once a connection succeeds;
    TimeoutError if it does not in time (or at once when ``alive()`` says the stage is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        ep = wire.endpoint(run_dir)
        if ep is not None:
            try:
                connect(ep, max(0.1, deadline - time.monotonic())).close()
                return ep.path if ep.path is not None else run_dir / wire.TCP_NAME
            except OSError:
                pass
        if alive is not None and not alive():
            raise TimeoutError(f"the stage ended before its control socket appeared in {run_dir}")
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no control socket in {run_dir} after {timeout:g}s")
        time.sleep(POLL_SECONDS)


def with_history(snap: Snapshot, run_dir: Path) -> Snapshot:
    """``snap`` with the run's events before it (events.jsonl from the start) ahead of its own.

    A snapshot carries only the events since the previous one, so a view that attaches
    mid-run would start with what happens after it came; with this, its first snapshot
    holds the whole history. Events of the file newer than the snapshot's come again in
    the next snapshots: the view skips seqs it already has.
    """
    from soakwatch.core.rundir_reader import read_events

    have = {e.seq for e in snap.events}
    history = [
        EventView(seq=e.seq, t=e.t, kind=e.kind, level=e.level, message=e.message)
        for e in read_events(run_dir)
        if e.seq not in have
    ]
    if not history:
        return snap
    return snap.model_copy(update={"events": sorted([*history, *snap.events], key=lambda e: e.seq)})


class SocketSource:
    """Snapshots and commands over a run's control socket (asyncio)."""

    def __init__(
        self, run_dir: Path | str, *, connect_timeout: float = CONNECT_TIMEOUT, client: str | None = None
    ) -> None:
        self.run_dir = Path(run_dir)
        self.connect_timeout = connect_timeout
        #: the name this view gives the stage in its hello: its commands are recorded under it
        self.client = client
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pending: Snapshot | None = None
        self._ready: asyncio.Event | None = None
        self._eof = False
        self._subscribed = False
        self._closed = False

    async def _connect(self) -> None:
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
            self._ready = asyncio.Event()
        async with self._connect_lock:
            if self._writer is not None or self._eof:
                return
            deadline = time.monotonic() + self.connect_timeout
            while True:
                ep = wire.endpoint(self.run_dir)
                where = str(ep) if ep is not None else str(wire.socket_address(self.run_dir))
                try:
                    if ep is None:
                        raise FileNotFoundError(f"no control socket in {self.run_dir}")
                    self._reader, self._writer = await open_stream(ep, MAX_LINE)
                    break
                except OSError as exc:
                    if time.monotonic() >= deadline:
                        self._eof = True
                        raise CommandError(f"cannot reach the stage at {where}: {exc.strerror or exc}") from None
                    await asyncio.sleep(POLL_SECONDS)
            if self.client is not None:  # no id: the reply is not waited for
                self._writer.write(wire.encode({"cmd": "hello", "args": {"client": self.client}}))
            self._task = asyncio.create_task(self._read_loop(), name="soakwatch-socket-reader")

    async def _read_loop(self) -> None:
        assert self._reader is not None and self._ready is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    obj = loads_bounded(line)
                except JsonRefused:
                    continue
                if not isinstance(obj, dict):
                    continue
                if wire.is_snapshot(obj):
                    snap = Snapshot.model_validate(obj)
                    self._pending = snap if self._pending is None else wire.coalesce(self._pending, snap)
                    self._ready.set()
                else:
                    fut = self._waiting.pop(obj["id"], None) if isinstance(obj.get("id"), int) else None
                    if fut is not None and not fut.done():
                        fut.set_result(obj)
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            self._eof = True
            self._ready.set()
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(CommandError("the stage is gone"))
            self._waiting.clear()

    async def _request(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        await self._connect()
        if self._eof or self._writer is None:
            raise CommandError("the stage is gone")
        req_id = next(self._ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[req_id] = fut
        try:
            self._writer.write(wire.encode({"cmd": cmd, "args": args or {}, "id": req_id}))
            await self._writer.drain()
        except OSError as exc:
            self._waiting.pop(req_id, None)
            raise CommandError(f"the stage is gone: {exc}") from None
        try:
            return await asyncio.wait_for(fut, COMMAND_TIMEOUT)
        except TimeoutError:
            self._waiting.pop(req_id, None)
            raise CommandError(f"no answer to {cmd} in {COMMAND_TIMEOUT:g}s") from None

    async def command(self, name: str, args: dict[str, Any] | None = None) -> str:
        """Send an operator command; the stage's answer, or CommandError when it refused."""
        reply = await self._request(name, args)
        if not reply.get("ok"):
            raise CommandError(str(reply.get("error", "refused")))
        return str(reply.get("answer", ""))

    async def hello(self) -> dict[str, Any]:
        """The server's protocol version, pid and run dir."""
        reply = await self._request("hello")
        info = reply.get("info")
        return info if isinstance(info, dict) else {}

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        """Snapshots as they come (the newest when the reader fell behind); ends when the stage is gone."""
        try:
            if not self._subscribed:
                self._subscribed = True
                await self._request("subscribe")
        except CommandError:
            return
        assert self._ready is not None
        first = True
        while True:
            if self._pending is None and not (self._eof or self._closed):
                await self._ready.wait()
            self._ready.clear()
            snap, self._pending = self._pending, None
            if snap is not None:
                if first:  # read after the first snapshot came, so nothing falls between the file and the stream
                    first = False
                    snap = await asyncio.to_thread(with_history, snap, self.run_dir)
                yield snap
            elif self._eof or self._closed:
                return

    async def close(self) -> None:
        """Hang up; the stage goes on."""
        self._closed = True
        if self._ready is not None:
            self._ready.set()
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class ControlClient:
    """A blocking client for scripts and tests: one command at a time, snapshots on request."""

    def __init__(
        self, run_dir: Path | str, timeout: float = CONNECT_TIMEOUT, reply_timeout: float = COMMAND_TIMEOUT
    ) -> None:
        self.run_dir = Path(run_dir)
        self.timeout = timeout
        self.reply_timeout = reply_timeout
        wait_for_control(self.run_dir, timeout)
        ep = wire.endpoint(self.run_dir)
        if ep is None:
            raise TimeoutError(f"the control socket in {self.run_dir} went away")
        self.sock: socket.socket = connect(ep, timeout)
        self._buf = bytearray()
        self._ids = itertools.count(1)
        self._latest: Snapshot | None = None
        #: the stage hung up (it ended, or closed the socket)
        self.gone = False

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send_line(self, line: bytes) -> None:
        """Send raw bytes (a newline is added when missing); for tests of malformed input."""
        self.sock.sendall(line if line.endswith(b"\n") else line + b"\n")

    def request(self, cmd: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command and return its reply object (``{"ok": ..., "answer"|"error": ...}``)."""
        req_id = next(self._ids)
        self.send_line(wire.encode({"cmd": cmd, "args": args or {}, "id": req_id}))
        return self.read_reply(req_id)

    def command(self, cmd: str, args: dict[str, Any] | None = None) -> str:
        """The stage's answer, or CommandError when it refused."""
        reply = self.request(cmd, args)
        if not reply.get("ok"):
            raise CommandError(str(reply.get("error", "refused")))
        return str(reply.get("answer", ""))

    def read_reply(self, req_id: int | None = None) -> dict[str, Any]:
        """The next reply (with ``req_id`` when given); snapshots read meanwhile are kept (newest)."""
        deadline = time.monotonic() + self.reply_timeout
        while True:
            obj = self._next_object(deadline)
            if obj is None:
                raise CommandError("the stage is gone")
            if wire.is_snapshot(obj):
                self._keep(obj)
            elif req_id is None or obj.get("id") in (req_id, None):
                return obj

    def next_snapshot(self, timeout: float = CONNECT_TIMEOUT) -> Snapshot | None:
        """The next snapshot (after ``subscribe``), or None when the stage is gone or none came in time."""
        if self._latest is not None:
            snap, self._latest = self._latest, None
            return snap
        deadline = time.monotonic() + timeout
        while True:
            try:
                obj = self._next_object(deadline)
            except TimeoutError:
                return None
            if obj is None:
                return None
            if wire.is_snapshot(obj):
                return Snapshot.model_validate(obj)

    def _keep(self, obj: dict[str, Any]) -> None:
        snap = Snapshot.model_validate(obj)
        self._latest = snap if self._latest is None else wire.coalesce(self._latest, snap)

    def _next_object(self, deadline: float) -> dict[str, Any] | None:
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                line = bytes(self._buf[:nl])
                del self._buf[: nl + 1]
                try:
                    obj = loads_bounded(line)
                except JsonRefused:
                    continue
                if isinstance(obj, dict):
                    return obj
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from the stage in time")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(wire.MAX_REQUEST_BYTES)
            except TimeoutError:
                raise TimeoutError("no message from the stage in time") from None
            except OSError:
                self.gone = True
                return None
            if not data:
                self.gone = True
                return None
            self._buf += data
