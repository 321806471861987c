"""The stage's control socket: snapshots out, operator commands in, for any number of clients.

``run``'s TUI (in its own process) and, later, ``attach`` and ``ctl`` talk to the stage
through a Unix domain socket in the run dir (wire format in :mod:`soakwatch.control.wire`).
The socket is created mode 0600 in a private directory and only then moved into
place, so no other user can ever connect; the peer's uid is checked again on accept.
With the tcp transport (Windows; anywhere with ``control_transport = "tcp"``) it listens
on 127.0.0.1 at a random port instead, and a client's first line must carry the random
token written owner-only to ``control.tcp``: anything else is refused and hung up on.

Never in the stage's way: :meth:`ControlServer.publish` only stores the snapshot and
wakes the server thread, which serialises it once and offers it to every subscriber.
Each client keeps at most one unsent snapshot; a newer one replaces it (carrying its
events along), so a client that does not read costs the stage nothing and gets the
newest state when it reads again. Commands run one at a time in a command thread, so
a slow command (a truncate) never holds up the snapshots of other clients.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import queue
import secrets
import selectors
import shutil
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from soakwatch.config.errors import SoakwatchError
from soakwatch.config.safetext import exc_text
from soakwatch.control import wire as wire
from soakwatch.control._bind import bind_tcp, bind_unix
from soakwatch.control._refused import MARK as REFUSED
from soakwatch.control._refused import RECV_BYTES, Refused
from soakwatch.control._server_client import Client as _Client
from soakwatch.control._server_client import same_user as _same_user
from soakwatch.core.snapshot import Snapshot

__all__ = ["ControlServer", "Handler"]

#: a command: (name, args) -> one-line answer; raises ValueError to refuse
#: (command, args, source: the name the client gave in its hello, or "socket") -> answer
Handler = Callable[[str, dict[str, Any], str], str]
#: ("attach" | "detach", client name): a named client came or went
ClientHook = Callable[[str, str], None]
#: longest client name kept from a hello
MAX_CLIENT_NAME = 32

#: how long close() waits for subscribers to read the last snapshot before it hangs up
FINAL_GRACE = 2.0
#: replies a client may leave unread before it is hung up on (it is not reading at all)
MAX_UNREAD_REPLIES = 1000
#: snapshots published faster than the I/O thread offers them are merged; beyond this many, the oldest go
MAX_UNOFFERED = 64
#: kernel send buffer per client: what a slow reader finds queued there is stale, so keep it small
#: (a snapshot is a few KB to a few tens of KB; the newest one waits in user space)
SEND_BUFFER = 32 * 1024
#: pending connections the kernel queues
BACKLOG = 16


class ControlServer:
    """A Unix socket (or loopback TCP) server in the stage process; start() binds and starts its threads."""

    def __init__(
        self,
        run_dir: Path,
        handler: Handler,
        info: dict[str, Any] | None = None,
        on_client: ClientHook | None = None,
        transport: str | None = None,
    ) -> None:
        self.run_dir = run_dir
        #: "unix" or "tcp" (the profile's control_transport, else $SOAKWATCH_CONTROL_TRANSPORT, else the platform's)
        self.transport = wire.choose_transport(transport)
        #: what a tcp client must send first; None for the Unix socket (its mode and the peer's uid decide)
        self._token: str | None = None
        self.handler = handler
        self.on_client = on_client
        self.info = dict(info or {})
        self.address: Path | None = None
        self._private_dir: Path | None = None
        self._listener: socket.socket | None = None
        self._sel = selectors.DefaultSelector()
        self._clients: dict[int, _Client] = {}
        self._refused = Refused(self._sel)  # read until they hang up, so they can read why
        self._dropped_gone = 0  # snapshots dropped for clients that have since disconnected
        self._n = 0
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        #: published but not yet offered to the clients (the I/O thread fell behind)
        self._fresh: deque[Snapshot] = deque(maxlen=MAX_UNOFFERED)
        self._replies: deque[tuple[_Client, bytes]] = deque()
        self._commands: queue.Queue[tuple[_Client, wire.Request] | None] = queue.Queue()
        self._wake_r, self._wake_w = socket.socketpair()  # a socket, so select() takes it on Windows too
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._closing = False
        self._drain_deadline = 0.0
        self._loop_thread: threading.Thread | None = None
        self._cmd_thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Path:
        """Bind the socket (mode 0600) and start serving; returns the socket's path (control.tcp for tcp)."""
        try:
            if self.transport == "tcp":
                self._token = secrets.token_urlsafe(32)
                self._listener, self.address = bind_tcp(self.run_dir, self._token)
            else:
                self._listener, self.address, self._private_dir = bind_unix(self.run_dir)
        except BaseException:
            self._cleanup()  # the wake-up sockets too: nothing is left open by a server that never started
            raise
        self._listener.setblocking(False)
        self._listener.listen(BACKLOG)
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._loop_thread = threading.Thread(target=self._loop, name="control-io", daemon=True)
        self._cmd_thread = threading.Thread(target=self._run_commands, name="control-cmd", daemon=True)
        self._loop_thread.start()
        self._cmd_thread.start()
        return self.address

    def publish(self, snap: Snapshot) -> None:
        """Offer a snapshot to every subscriber. O(1) for the caller (the stage thread)."""
        with self._lock:
            self._fresh.append(snap)
        self._wake()

    __call__ = publish

    def close(self, grace: float = FINAL_GRACE) -> None:
        """Give subscribers up to ``grace`` seconds to read the last snapshot, then hang up and clean up."""
        if self._loop_thread is None:
            self._cleanup()
            return
        self._drain_deadline = time.monotonic() + grace
        self._closing = True
        self._wake()
        self._loop_thread.join(grace + 1.0)
        self._commands.put(None)
        if self._cmd_thread is not None:
            self._cmd_thread.join(1.0)
        self._loop_thread = None
        self._cleanup()

    def _cleanup(self) -> None:
        for c in list(self._clients.values()):
            self._drop(c)
        self._refused.close_all()
        if self._listener is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None
        self._sel.close()
        for end in (self._wake_r, self._wake_w):
            end.close()
        if self.address is not None:
            with contextlib.suppress(OSError):
                self.address.unlink()
        with contextlib.suppress(OSError):
            (self.run_dir / wire.ADDR_NAME).unlink()
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def dropped(self) -> int:
        """Snapshots replaced before a slow client read them (all clients, so far)."""
        return self._dropped_gone + sum(c.dropped for c in list(self._clients.values()))

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"\0")

    # ---------------------------------------------------------------- I/O thread
    def _loop(self) -> None:
        while True:
            if self._closing and (time.monotonic() >= self._drain_deadline or self._all_flushed()):
                return
            timeout = max(0.0, self._drain_deadline - time.monotonic()) if self._closing else None
            for key, mask in self._sel.select(self._refused.timeout(timeout)):
                if key.data == "listen":
                    self._accept()
                elif key.data == REFUSED:
                    self._refused.read(key.fileobj)  # type: ignore[arg-type]
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError, OSError):
                        self._wake_r.recv(4096)
                else:
                    self._serve(key.data, mask)
            self._deliver()
            self._refused.expire()

    def _serve(self, client: _Client, mask: int) -> None:
        """One client's turn. Nothing a client sends may end this thread: a bug hangs up on that client."""
        try:
            if mask & selectors.EVENT_READ:
                self._read(client)
            if mask & selectors.EVENT_WRITE and not client.closed:
                self._write(client)
        except Exception as exc:
            with contextlib.suppress(OSError):
                client.sock.send(wire.error_reply(f"internal error, connection closed: {type(exc).__name__}"))
            self._drop(client)

    def _all_flushed(self) -> bool:
        with self._lock:
            fresh = bool(self._fresh)
        return not fresh and not self._replies and not any(c.wants_write() for c in self._clients.values())

    def _deliver(self) -> None:
        with self._lock:
            fresh = list(self._fresh)
            self._fresh.clear()
            replies = list(self._replies)
            self._replies.clear()
        for client, line in replies:
            if not client.closed:
                client.replies.append(line)
                self._write(client)
        if fresh:
            snap = fresh[0]
            for newer in fresh[1:]:
                snap = wire.coalesce(snap, newer)
            self._latest = snap
            subs = [c for c in self._clients.values() if c.subscribed]
            if subs:
                line = snap.model_dump_json().encode() + b"\n"
                for c in subs:
                    c.offer(snap, line)
                    self._write(c)

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if self._closing or (self._token is None and not _same_user(conn)):
                with contextlib.suppress(OSError):
                    conn.sendall(wire.error_reply("refused: not the owner of this stage"))
                self._refused.add(conn)
                continue
            conn.setblocking(False)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self._n += 1
            client = _Client(conn, self._n)
            client.authed = self._token is None
            self._clients[client.n] = client
            self._sel.register(conn, selectors.EVENT_READ, client)

    def _read(self, client: _Client) -> None:
        try:
            data = client.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(client)
            return
        client.inbuf += data
        while True:
            nl = client.inbuf.find(b"\n")
            if nl < 0:
                if len(client.inbuf) > wire.MAX_REQUEST_BYTES:
                    if not client.discarding:
                        client.replies.append(wire.error_reply(f"message longer than {wire.MAX_REQUEST_BYTES} bytes"))
                    client.discarding = True
                    client.inbuf.clear()
                break
            line = bytes(client.inbuf[:nl])
            del client.inbuf[: nl + 1]
            if client.discarding:
                client.discarding = False
                continue
            if len(line) > wire.MAX_REQUEST_BYTES:
                client.replies.append(wire.error_reply(f"message longer than {wire.MAX_REQUEST_BYTES} bytes"))
            elif line.strip():
                self._request(client, line)
                if client.closed:  # refused (a wrong token)
                    return
        if len(client.replies) > MAX_UNREAD_REPLIES:
            self._drop(client)
            return
        self._write(client)

    def _authenticate(self, client: _Client, line: bytes) -> None:
        """A tcp client's first line must be ``auth`` with the token; anything else is refused and hung up on."""
        try:
            req = wire.parse_request(line)
            given = req.args.get("token") if req.cmd == "auth" else None
        except wire.ProtocolError:
            given = None
        if isinstance(given, str) and self._token and hmac.compare_digest(given.encode(), self._token.encode()):
            client.authed = True  # no reply: the client's next line is its first real request
            return
        with contextlib.suppress(OSError):
            client.sock.send(wire.error_reply("refused: wrong or missing token (see control.tcp)"))
        self._drop(client, refused=True)

    def _request(self, client: _Client, line: bytes) -> None:
        if not client.authed:
            self._authenticate(client, line)
            return
        try:
            req = wire.parse_request(line)
        except wire.ProtocolError as exc:
            client.replies.append(wire.error_reply(f"malformed message: {exc}", wire.request_id(line)))
            return
        if req.cmd == "hello":
            name = req.args.get("client")
            if isinstance(name, str) and name.strip() and client.name == "socket":
                client.name = name.strip()[:MAX_CLIENT_NAME]
                self._client_hook("attach", client.name)
            info = {"protocol": wire.PROTOCOL, "pid": os.getpid(), "run_dir": str(self.run_dir), **self.info}
            client.replies.append(wire.ok_reply("soakwatch control", req.id, info=info))
        elif req.cmd == "subscribe":
            client.subscribed = True
            client.replies.append(wire.ok_reply("subscribed", req.id))
            latest = self._latest
            if latest is not None:  # the state now, without waiting for the next tick
                client.offer(latest, latest.model_dump_json().encode() + b"\n")
        elif req.cmd == "unsubscribe":
            client.subscribed = False
            client.pending = client.pending_line = None
            client.replies.append(wire.ok_reply("unsubscribed", req.id))
        else:
            self._commands.put((client, req))

    def _write(self, client: _Client) -> None:
        if client.closed:
            return
        try:
            client.flush()
        except OSError:
            self._drop(client)
            return
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if client.wants_write() else 0)
        with contextlib.suppress(KeyError, ValueError):
            self._sel.modify(client.sock, events, client)

    def _drop(self, client: _Client, refused: bool = False) -> None:
        if client.closed:
            return
        client.closed = True
        if self._clients.pop(client.n, None) is not None:
            self._dropped_gone += client.dropped
        if client.name != "socket":
            self._client_hook("detach", client.name)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._sel.unregister(client.sock)
        if refused:
            self._refused.add(client.sock)
        else:
            client.sock.close()

    def _client_hook(self, what: str, name: str) -> None:
        if self.on_client is not None:
            with contextlib.suppress(Exception):  # the stage's event log must not take the socket down
                self.on_client(what, name)

    # ---------------------------------------------------------------- command thread
    def _run_commands(self) -> None:
        while True:
            item = self._commands.get()
            if item is None:
                return
            client, req = item
            if client.closed:
                continue
            try:
                reply = wire.ok_reply(self.handler(req.cmd, req.args, client.name), req.id)
            except (ValueError, SoakwatchError) as exc:  # a refusal: nothing changed
                reply = wire.error_reply(exc_text(exc), req.id)
            except Exception as exc:  # a command's bug must not take the socket down
                reply = wire.error_reply(f"{req.cmd} failed: {type(exc).__name__}: {exc_text(exc)}", req.id)
            with self._lock:
                self._replies.append((client, reply))
            self._wake()
