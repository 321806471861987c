"""A toy consensus node for soakwatch's three-node example (standard library only).

Run as N processes sharing a data folder. Every ``--interval`` seconds a node commits one
height (or catches up to the highest height of its peers, up to ``CATCHUP`` per epoch),
runs ``CHECKS`` storage challenges of which ``--fail-ratio`` fail, and writes an epoch
report ``epoch-<height>.json`` atomically into ``--reports``::

    {"epoch": 12, "node": "node1",
     "node_snapshot": {"consensus": {"committed_height": 12}},
     "network_head": 13,
     "distfs_challenge_report": {"failed_checks": 1, "total_checks": 96},
     "reward_asset_invariant_status": {"ok": true}}

Its state (height, counters) lives in ``<data>/<id>/state.json``, so a node that was
killed resumes where it was. ``<data>/<id>/ready`` is written once it runs; with
``--port`` it also serves ``/health`` and ``/metrics`` on 127.0.0.1. Fault knobs:
``--fail-ratio``, ``--exit-after N`` (exit with ``--exit-code`` after N epochs),
``--leak-kb`` (memory kept per epoch), ``--break-invariant-at H``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: heights a node behind its peers commits per epoch while it catches up
CATCHUP = 5
#: storage challenges per epoch
CHECKS = 8
#: epoch reports kept in the report folder (older ones are removed)
KEEP_REPORTS = 300


def write_atomic(path: Path, data: Any) -> None:
    """Write JSON so a reader never sees half a file: a temp file, then one rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class Node:
    def __init__(self, args: argparse.Namespace) -> None:
        self.id: str = args.id
        self.data = Path(args.data)
        self.home = self.data / self.id
        self.home.mkdir(parents=True, exist_ok=True)
        self.reports = Path(args.reports)
        self.reports.mkdir(parents=True, exist_ok=True)
        self.peers = [p for p in args.peers.split(",") if p and p != self.id]
        self.args = args
        state = read_json(self.home / "state.json") or {}
        self.height = int(state.get("height", 0))
        self.total = int(state.get("total_checks", 0))
        self.failed = int(state.get("failed_checks", 0))
        self.epochs = 0
        self.leak: list[bytes] = []
        self.rng = random.Random()
        self.stop = threading.Event()

    def peer_head(self) -> int:
        heights = [int(s.get("height", 0)) for p in self.peers if (s := read_json(self.data / p / "state.json"))]
        return max(heights, default=0)

    def epoch(self) -> None:
        head = self.peer_head()
        self.height = min(head, self.height + CATCHUP) if self.height + 1 < head else self.height + 1
        self.total += CHECKS
        self.failed += sum(self.rng.random() < self.args.fail_ratio for _ in range(CHECKS))
        broken = self.args.break_invariant_at is not None and self.height >= self.args.break_invariant_at
        report = {
            "epoch": self.height,
            "node": self.id,
            "time": time.time(),
            "node_snapshot": {"consensus": {"committed_height": self.height}},
            "network_head": max(head, self.height),
            "distfs_challenge_report": {"failed_checks": self.failed, "total_checks": self.total},
            "reward_asset_invariant_status": {"ok": not broken},
        }
        write_atomic(self.reports / f"epoch-{self.height}.json", report)
        stale = self.reports / f"epoch-{self.height - KEEP_REPORTS}.json"
        stale.unlink(missing_ok=True)
        self.save()
        if self.args.leak_kb:
            self.leak.append(b"x" * (self.args.leak_kb * 1024))
        self.epochs += 1

    def save(self) -> None:
        state = {"height": self.height, "total_checks": self.total, "failed_checks": self.failed}
        write_atomic(self.home / "state.json", state)

    def run(self) -> int:
        (self.home / "ready").write_text(f"{os.getpid()}\n")
        print(f"node {self.id} up at height {self.height} (peers: {', '.join(self.peers) or 'none'})", flush=True)
        while not self.stop.wait(self.args.interval):
            self.epoch()
            if self.args.exit_after and self.epochs >= self.args.exit_after:
                print(f"node {self.id}: exiting with code {self.args.exit_code} as asked", file=sys.stderr, flush=True)
                return int(self.args.exit_code)
        self.save()
        print(f"node {self.id} stopped at height {self.height}", flush=True)
        return 0


def serve(node: Node, port: int) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                body = b"ok\n"
            elif self.path == "/metrics":
                body = f"node_committed_height {node.height}\nnode_failed_checks {node.failed}\n".encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--id", required=True)
    ap.add_argument("--peers", default="", help="comma-separated node ids sharing --data")
    ap.add_argument("--data", default="data", help="shared data folder")
    ap.add_argument("--reports", required=True, help="folder for epoch-<n>.json")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds per epoch")
    ap.add_argument("--port", type=int, default=0, help="serve /health and /metrics on 127.0.0.1")
    ap.add_argument("--fail-ratio", type=float, default=0.01, help="share of storage challenges that fail")
    ap.add_argument("--exit-after", type=int, default=0, help="exit after this many epochs (0: never)")
    ap.add_argument("--exit-code", type=int, default=3)
    ap.add_argument("--leak-kb", type=int, default=0, help="memory kept per epoch")
    ap.add_argument("--break-invariant-at", type=int, default=None, help="report the invariant broken from this height")
    args = ap.parse_args(argv)
    node = Node(args)
    signal.signal(signal.SIGTERM, lambda *_: node.stop.set())
    signal.signal(signal.SIGINT, lambda *_: node.stop.set())
    if args.port:
        serve(node, args.port)
    return node.run()


if __name__ == "__main__":
    sys.exit(main())
