"""A worker's output log with a cap: the target's stdout and stderr go through a pipe to a thread
of the worker that keeps the head and the newest tail, so a target printing without end cannot
fill the disk (imports only the standard library; the bounds are in soakwatch.config.limits).

``worker-<slot>.log`` holds the first ``head`` bytes, then a line saying where the rest is;
``worker-<slot>.tail.log`` the output after it, moved to ``worker-<slot>.tail.log.1`` each time it
reaches ``tail`` bytes (the ``.1`` before it is dropped): a new tail file starts with a line
saying how many bytes were dropped so far. A worker that replaces another of the same slot goes
on in the same files, within the same bounds.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

__all__ = ["CappedLog"]

READ_CHUNK = 65536


class CappedLog:
    """Pumps a pipe into the head and tail files of one worker's log."""

    def __init__(self, head_path: str, head: int, tail: int, on_switch: Callable[[int], None] | None = None) -> None:
        self.head_path = head_path
        self.tail_path = head_path.removesuffix(".log") + ".tail.log"
        self.head_max = head
        self.tail_max = tail
        #: told the descriptor of the file being written whenever it changes (faulthandler follows it)
        self.on_switch = on_switch
        #: bytes of the target's output dropped so far (by this process: the line in the tail says all)
        self.dropped = 0
        self._fd = _open(head_path)
        self._size = os.fstat(self._fd).st_size
        self._in_tail = False
        #: output bytes (notes left out) in the tail file and in its .1 (an earlier worker's: their sizes)
        self._output = 0
        self._older = _size_of(self.tail_path + ".1")
        if self._size >= head:  # an earlier worker of this slot filled the head: go on in the tail
            self._to_tail(announce=False)
        self._thread: threading.Thread | None = None
        self._read_fd = -1

    def fd(self) -> int:
        """The file being written now (for faulthandler)."""
        return self._fd

    def start(self) -> int:
        """Start the pump; the write end of its pipe, to be made the process's stdout and stderr."""
        r, w = os.pipe()
        self._read_fd = r
        self._thread = threading.Thread(target=self._pump, name="soakwatch-log", daemon=True)
        self._thread.start()
        return w

    def drain(self, timeout: float) -> None:
        """Wait for the pump to write what is in the pipe (call after closing every write end)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self._read_fd, READ_CHUNK)
            except OSError:
                return
            if not data:
                return
            with contextlib.suppress(OSError):
                self.write(data)

    def write(self, data: bytes) -> None:
        """Append ``data`` within the bounds."""
        while data:
            limit = self.tail_max if self._in_tail else self.head_max
            room = max(0, limit - self._size)
            part, data = data[:room], data[room:]
            if part:
                os.write(self._fd, part)
                self._size += len(part)
                self._output += len(part)
            if data:
                if self._in_tail:
                    self._rotate()
                else:
                    self._to_tail(announce=True)

    def _to_tail(self, announce: bool) -> None:
        if announce:
            os.write(self._fd, f"\n[soakwatch: output goes on in {os.path.basename(self.tail_path)}]\n".encode())
        os.close(self._fd)
        self._fd = _open(self.tail_path)
        self._size = self._output = os.fstat(self._fd).st_size
        self._in_tail = True
        self._switched()

    def _rotate(self) -> None:
        old = self.tail_path + ".1"
        self.dropped += self._older
        self._older = self._output
        os.replace(self.tail_path, old)
        os.close(self._fd)
        self._fd = _open(self.tail_path)
        note = f"[soakwatch: {self.dropped} bytes of output dropped before {os.path.basename(old)}]\n".encode()
        os.write(self._fd, note)
        self._size = len(note)
        self._output = 0
        self._switched()

    def _switched(self) -> None:
        if self.on_switch is not None:
            self.on_switch(self._fd)


def _size_of(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _open(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
