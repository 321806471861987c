"""Refused connections closed gracefully: the refusal, then end of stream, then their unread lines discarded.

A socket closed with input still unread makes the kernel reset the connection, and a reset can reach the
client before it has read the line that says why it was refused. So a refused connection is half-closed
(its reply is followed by an orderly end of stream) and read until the client hangs up, or for
``REFUSED_LINGER`` seconds at most.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time

#: how long a refused connection is read and discarded at most before it is closed
REFUSED_LINGER = 2.0
#: bytes read per recv (the server's clients too)
RECV_BYTES = 64 * 1024
#: the selector key's data that marks a refused connection
MARK = "refused"


class Refused:
    """The refused connections one selector serves until each hangs up or its time runs out."""

    def __init__(self, sel: selectors.BaseSelector) -> None:
        self._sel = sel
        self._until: dict[socket.socket, float] = {}

    def add(self, sock: socket.socket) -> None:
        """Half-close ``sock`` (its reply is already sent) and read it until it hangs up."""
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
            self._sel.register(sock, selectors.EVENT_READ, MARK)
        except (OSError, ValueError, KeyError):
            sock.close()
            return
        self._until[sock] = time.monotonic() + REFUSED_LINGER

    def timeout(self, other: float | None) -> float | None:
        """The select timeout: ``other``, or sooner if a refused connection's time runs out first."""
        if not self._until:
            return other
        due = max(0.0, min(self._until.values()) - time.monotonic())
        return due if other is None else min(other, due)

    def read(self, sock: socket.socket) -> None:
        """Discard what the client sent; close once it hangs up."""
        try:
            if sock.recv(RECV_BYTES):
                return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self.close(sock)

    def expire(self) -> None:
        now = time.monotonic()
        for sock in [s for s, until in self._until.items() if until <= now]:
            self.close(sock)

    def close(self, sock: socket.socket) -> None:
        self._until.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self._sel.unregister(sock)
        sock.close()

    def close_all(self) -> None:
        for sock in list(self._until):
            self.close(sock)
