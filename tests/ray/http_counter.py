"""Run a command line against a local HTTP server with its own counters, then write what it served.

``python http_counter.py OUT.json ARGV...``: serves on 127.0.0.1 (a free port, put in ARGV for
``{port}``) from threads of this process, runs ARGV, stops serving and writes to OUT.json the
server's own record: per request its path, the status it chose and the ``X-Request-ID`` it got.
``/a`` answers every 5th of its requests with 500, ``/b`` every 3rd of its with 404, the rest 200.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SEEN: dict[str, int] = {}
SERVED: list[tuple[str, int, str]] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections, as the clients expect
    disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:
        with LOCK:
            n = SEEN[self.path] = SEEN.get(self.path, 0) + 1
            status = 500 if self.path == "/a" and n % 5 == 0 else 404 if self.path == "/b" and n % 3 == 0 else 200
            SERVED.append((self.path, status, self.headers.get("X-Request-ID", "")))
        body = b"ok" if status == 200 else b"no"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = str(srv.server_address[1])
    rc = subprocess.run([a.replace("{port}", port) for a in argv], check=False).returncode
    srv.shutdown()
    with LOCK, open(out, "w", encoding="utf-8") as fh:
        json.dump(SERVED, fh)
    return rc


if __name__ == "__main__":
    sys.exit(main())
