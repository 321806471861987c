"""Leaking targets and a leaking HTTP server for the memory-verdict tests (copied into the sandbox root).

Every call (or request) keeps ``LEAK_KB`` more memory alive and appends one line to a count
file, so the test checks soakwatch's call count against the target's own.
"""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_hold: list[bytearray] = []


def _leak(kb: int) -> None:
    # written, not calloc'd: the pages are resident and show in RSS
    _hold.append(bytearray(b"\x5a") * (kb * 1024))
    with Path(os.environ["SOAKWATCH_ROOT"], "counts", f"calls-{os.getpid()}.txt").open("a") as fh:
        fh.write("1\n")


def per_call(case: Any = None) -> int:
    """64 KB a call, about 1 ms: the 3000-call stage that reported no slope."""
    _leak(64)
    time.sleep(0.001)
    return len(_hold)


def flat(case: Any = None) -> int:
    """Keeps nothing, about 1 ms: the healthy counterpart."""
    with Path(os.environ["SOAKWATCH_ROOT"], "counts", f"calls-{os.getpid()}.txt").open("a") as fh:
        fh.write("1\n")
    _scratch = bytearray(b"\x5a") * (64 * 1024)
    time.sleep(0.001)
    return len(_scratch)


def agent(case: Any = None) -> int:
    """1 MB a call, about 10 ms: the 150-call agent stage that ended 'insufficient data'."""
    _leak(1024)
    time.sleep(0.01)
    return len(_hold)


class _Leaky(BaseHTTPRequestHandler):
    leak_kb = 512
    served = 0

    def do_GET(self) -> None:
        _Leaky.served += 1
        _hold.append(bytearray(b"\x5a") * (self.leak_kb * 1024))
        body = f'{{"served": {_Leaky.served}}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(port_file: str, count_file: str) -> None:
    """A server that leaks 512 KB a request; writes its port, and its request count when told to stop."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Leaky)
    Path(port_file).write_text(f"{server.server_address[1]}\n{os.getpid()}\n")
    import signal

    def _stop(*_: Any) -> None:
        Path(count_file).write_text(str(_Leaky.served))
        os._exit(0)

    signal.signal(signal.SIGTERM, _stop)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
