"""A reload endpoint with a racy ``load_seq``, run as its own process by the extract tests.

Every GET answers ``{"load_seq": n}`` with an ``X-Model`` header. The sequence is
handed out with a read-then-write race that the ``--repeat-at`` request makes certain:
that request gets the previous request's number again. The service logs what it did
(``request id<TAB>load_seq`` per answer) to ``--log`` so a test can compare.

    python load_seq_service.py --port-file F --log L [--repeat-at N]
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--repeat-at", type=int, default=-1, help="this request (0-based) repeats the last number")
    args = ap.parse_args()
    lock = threading.Lock()
    state = {"served": 0, "seq": 0}
    log = open(args.log, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                n = state["served"]
                state["served"] += 1
                if n != args.repeat_at:
                    state["seq"] += 1
                seq = state["seq"]
                log.write(f"{self.headers.get('X-Request-ID', '')}\t{seq}\n")
            body = json.dumps({"load_seq": seq}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Model", "mock-1")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(args.port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
