"""The Ray executor's throughput: 1 Ray node vs 2 vs the local process executor, in one run.

A no-op target, a Python call that GETs a stdlib server on 127.0.0.1 (started here) and the
same server as an HTTP target (``http://...``: the HTTP target's slot loop in each actor) each
run for a few seconds at the same concurrency (a) on the local process executor, (b) on a Ray
cluster of one node, (c) on the same cluster with a second node. The cluster runs on 127.0.0.1
in a network and PID namespace of this benchmark's own (``unshare``, as root), so every Ray
process ends with it. On a 2-core box the second node adds no cores: the ratios, not the
absolute figures, are the claim (what the coordinator's recording costs against local workers;
that a second node takes slots).

    python bench/bench_ray.py [--seconds 4] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from _common import HERE, run_stage

PORT = 6391
BIN = Path(sys.executable).parent
COMMON = ["--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--object-store-memory", "100000000"]


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def _ray(*args: str) -> None:
    subprocess.run([str(BIN / "ray"), *args], check=True, capture_output=True, timeout=120)


def _leg(target: str, executor: str, seconds: float, concurrency: int) -> float:
    args = ["--target", target, "--root", str(HERE), "--duration", f"{seconds}s"]
    args += ["--concurrency", str(concurrency), "--executor", executor]
    summary = run_stage(args, timeout=seconds + 120)
    return float(summary["calls"]) / float(summary["duration_s"])


def inside(seconds: float, concurrency: int) -> None:
    """In the namespace: the server, the legs, the cluster grown from one node to two."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["SOAKWATCH_BENCH_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
    os.environ["RAY_ADDRESS"] = f"127.0.0.1:{PORT}"
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    targets = {
        "no-op": "bench_targets:noop",
        "HTTP GET": "bench_targets:http_get",
        "HTTP tgt": os.environ["SOAKWATCH_BENCH_URL"],
    }
    rows: dict[str, dict[str, float]] = {name: {} for name in targets}
    for name, t in targets.items():
        rows[name]["local"] = _leg(t, "local", seconds, concurrency)
    _ray("start", "--head", "--port", str(PORT), "--include-dashboard", "false", *COMMON)
    try:
        for name, t in targets.items():
            rows[name]["ray 1 node"] = _leg(t, "ray", seconds, concurrency)
        _ray("start", "--address", f"127.0.0.1:{PORT}", *COMMON)
        for name, t in targets.items():
            rows[name]["ray 2 nodes"] = _leg(t, "ray", seconds, concurrency)
    finally:
        subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True, timeout=120)
        server.shutdown()
    print(f"concurrency {concurrency}, {seconds:g} s a leg; calls/s (ratio to the local process executor)")
    for name, legs in rows.items():
        local = legs["local"]
        cells = "  ".join(f"{leg} {v:,.0f} ({v / local:.2f}×)" for leg, v in legs.items())
        print(f"  {name:<9} {cells}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inside:
        inside(a.seconds, a.concurrency)
        return 0
    try:
        import ray  # noqa: F401
    except ImportError:
        print("skipped: ray not installed (pip install '.[ray]')")
        return 0
    if shutil.which("unshare") is None or os.geteuid() != 0:
        print("skipped: needs unshare as root (the cluster runs in a loopback-only namespace)")
        return 0
    cmd = ["unshare", "--net", "--pid", "--fork", "--mount-proc", sys.executable, __file__, "--inside"]
    cmd += ["--seconds", str(a.seconds), "--concurrency", str(a.concurrency)]
    return subprocess.run(cmd, timeout=12 * (a.seconds + 60)).returncode


if __name__ == "__main__":
    sys.exit(main())
