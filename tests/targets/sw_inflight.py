"""A target that keeps its own record of calls in flight: one ``+ T`` line when a call enters and
one ``- T`` when it leaves (T: ``time.monotonic()``, one clock for every process of the machine),
appended to the file named by ``SW_INFLIGHT_LOG``; a test replays the file to find how many calls
the target itself saw at once, and when none started."""

from __future__ import annotations

import os
import time

#: how long each call holds its slot: long enough that every allowed slot is busy at once
HOLD_S = 0.05


def _stamp(sign: str) -> None:
    fd = os.open(os.environ["SW_INFLIGHT_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{sign} {time.monotonic():.6f}\n".encode())  # one write with O_APPEND: lines never mix
    finally:
        os.close(fd)


def call() -> None:
    _stamp("+")
    time.sleep(HOLD_S)
    _stamp("-")


if __name__ == "__main__":  # a cmd: target: one process per call
    call()
