"""A slow HTTP server that keeps its own counts, run as a real process by the load tests.

Every request sleeps ``--delay`` seconds, then answers with the next status of ``--statuses``
(cycled); a status of 0 stalls the request ``--stall`` seconds (a client's timeout) and then
answers 200. ``by_status`` in the stats counts the statuses chosen, on arrival. The server
counts what it received and answered, keeps an in-flight gauge and its maximum, and appends one
line per answered request to ``--log``: ``<monotonic seconds at arrival> <X-Request-ID>
<status>``. ``GET /stats`` (not counted) returns the counts as JSON. ``request_queue_size`` is
raised from the default 5 so that a hundred clients connecting at once are not reset.

    python tests/slow_server.py --port-file F --log L [--delay 0.2] [--statuses 200,500]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Counts:
    def __init__(self, log: Path, statuses: list[int], delay: float, stall: float = 5.0) -> None:
        self.lock = threading.Lock()
        self.received = self.answered = self.in_flight = self.max_in_flight = 0
        self.statuses = statuses
        self.delay = delay
        self.stall = stall
        self.by_status: dict[int, int] = {}
        self.log = log.open("a", encoding="utf-8")

    def arrive(self) -> tuple[int, float]:
        with self.lock:
            n = self.received
            self.received += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            status = self.statuses[n % len(self.statuses)]
            self.by_status[status] = self.by_status.get(status, 0) + 1
            return n, time.monotonic()

    def answered_one(self, t: float, rid: str, status: int) -> None:
        with self.lock:
            self.in_flight -= 1
            self.answered += 1
            self.log.write(f"{t:.6f} {rid} {status}\n")
            self.log.flush()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "received": self.received,
                "answered": self.answered,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    counts: Counts


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: headers and body go out in two writes: without TCP_NODELAY the body waits for the client's
    #: delayed ACK (about 40 ms a request)
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/stats":
            self._reply(200, json.dumps(self.server.counts.stats()).encode())
            return
        c = self.server.counts
        n, t = c.arrive()
        status = 200
        try:
            time.sleep(c.delay)
            status = c.statuses[n % len(c.statuses)]
            if status == 0:  # a stall: the client's timeout, then a late 200
                time.sleep(c.stall)
                status = 200
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that timed out left
                self._reply(status, b'{"ok": true}' if status == 200 else b'{"error": "failing on purpose"}')
        finally:
            c.answered_one(t, self.headers.get("X-Request-ID", "-"), status)

    do_GET = _serve
    do_POST = _serve


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--log", type=Path, required=True)
    ap.add_argument("--delay", type=float, default=0.2)
    ap.add_argument("--statuses", default="200")
    ap.add_argument("--stall", type=float, default=5.0, help="seconds a status of 0 stalls")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="exit by itself after this long")
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.counts = Counts(args.log, [int(s) for s in args.statuses.split(",")], args.delay, args.stall)
    threading.Timer(args.max_seconds, server.shutdown).start()
    tmp = args.port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    tmp.rename(args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
