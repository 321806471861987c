"""One control-socket connection as the server sees it: its buffers, its pending snapshot, its peer."""

from __future__ import annotations

import socket
import struct
from collections import deque

from soakwatch.control import wire as wire
from soakwatch.core import platform as plat
from soakwatch.core.snapshot import Snapshot

__all__ = ["Client", "same_user"]


class Client:
    """One connection: its input buffer, unread replies and at most one unsent snapshot."""

    def __init__(self, sock: socket.socket, n: int) -> None:
        self.sock = sock
        self.n = n
        self.inbuf = bytearray()
        self.discarding = False  # skipping the rest of an over-long line
        self.replies: deque[bytes] = deque()
        self.pending: Snapshot | None = None
        self.pending_line: bytes | None = None
        self.current: memoryview | None = None
        self.subscribed = False
        self.closed = False
        #: a tcp client has sent the token (a Unix socket's peers are checked on accept)
        self.authed = True
        self.dropped = 0
        #: what the client called itself in its hello (tui, attached tui, ctl)
        self.name = "socket"

    def offer(self, snap: Snapshot, line: bytes) -> None:
        if self.pending is not None:
            self.dropped += 1
            self.pending = wire.coalesce(self.pending, snap)
            self.pending_line = None  # serialised when it is sent
        else:
            self.pending, self.pending_line = snap, line

    def wants_write(self) -> bool:
        return self.current is not None or bool(self.replies) or self.pending is not None

    def flush(self) -> None:
        """Send as much as the socket takes now; never blocks."""
        while True:
            if self.current is None:
                if self.replies:
                    self.current = memoryview(self.replies.popleft())
                elif self.pending is not None:
                    line = self.pending_line or (self.pending.model_dump_json().encode() + b"\n")
                    self.pending = self.pending_line = None
                    self.current = memoryview(line)
                else:
                    return
            try:
                sent = self.sock.send(self.current)
            except BlockingIOError:
                return
            self.current = self.current[sent:] if sent < len(self.current) else None


def same_user(conn: socket.socket) -> bool:
    """The peer runs as our user (SO_PEERCRED); where the kernel cannot say, the 0600 mode decides."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return True
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    except OSError:
        return True
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == plat.uid())
