"""One command for the HTTP example: start the service, run the stage, compare the counts.

    python examples/http_service/run_example.py [--port 8765] [soakwatch run options, e.g. --no-tui --calls 500]

Starts ``server.py`` on 127.0.0.1 with the faults of ``profile.toml``'s comment (2% HTTP
500 with an error envelope, 1% malformed JSON, 1% too slow), runs ``soakwatch run
--profile profile.toml`` against it (the TUI unless ``--no-tui``), then prints
soakwatch's error kinds beside the service's own ``/metrics`` counters and stops the
service. Exits with soakwatch's exit code, or 1 when a count differs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROFILE = HERE / "profile.toml"
#: the faults of the example; the timeout sleep is well past the profile's 0.5 s timeout
FAULT_ARGS = ["--error-rate", "0.02", "--malformed-rate", "0.01", "--timeout-rate", "0.01", "--timeout-sleep", "2"]
#: the service's outcome label → the error kind soakwatch gives it
KIND_OF = {
    "error": "HTTP 500 internal_error",
    "rate_limited": "HTTP 429 rate_limited",
    "malformed": "MalformedJSON",
    "empty": "EmptyBody",
    "timeout": "Timeout",
    "reset": "ConnectionReset",
}
START_TIMEOUT = 10.0
_SAMPLE = re.compile(r'^example_requests_total\{outcome="(\w+)"\} (\d+)', re.M)


def start_service(port: int, tmp: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start server.py and wait until it answers /health/live; returns it and its port."""
    port_file = tmp / "port"
    cmd = [sys.executable, str(HERE / "server.py"), "--port", str(port), "--port-file", str(port_file), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"run_example: the service exited with code {proc.returncode} (port {port} in use?)")
        if port_file.exists():
            bound = int(port_file.read_text())
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{bound}/health/live", timeout=1).read()
                return proc, bound
            except OSError:
                pass
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("run_example: the service did not start")


def server_counts(port: int) -> dict[str, int]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {m.group(1): int(m.group(2)) for m in _SAMPLE.finditer(text)}


def compare(summary: dict[str, object], counts: dict[str, int]) -> bool:
    """Print soakwatch's counts beside the service's; True when every one matches."""
    raw = summary.get("errors_by_kind")
    kinds = {str(k["kind"]): int(k["count"]) for k in raw} if isinstance(raw, list) else {}
    ok = summary.get("ok")
    rows = [("ok", "ok", ok if isinstance(ok, int) else 0, counts.get("ok", 0))]
    rows += [(outcome, kind, kinds.get(kind, 0), counts.get(outcome, 0)) for outcome, kind in KIND_OF.items()]
    print(f"{'service outcome':<16}{'soakwatch kind':<26}{'soakwatch':>10}{'service':>10}")
    same = True
    for outcome, kind, ours, theirs in rows:
        mark = "" if ours == theirs else "  ← differs"
        same = same and ours == theirs
        print(f"{outcome:<16}{kind:<26}{ours:>10}{theirs:>10}{mark}")
    return same


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--port", type=int, default=8765, help="service port (0: a free one)")
    args, rest = p.parse_known_args(argv)
    out_dir = Path(rest[rest.index("--out-dir") + 1]) if "--out-dir" in rest else Path(".soakwatch/runs")
    with tempfile.TemporaryDirectory(prefix="soakwatch-example-") as tmp_name:
        tmp = Path(tmp_name)
        proc, port = start_service(args.port, tmp, FAULT_ARGS)
        try:
            profile = tmp / "profile.toml"
            text = PROFILE.read_text().replace("127.0.0.1:8765", f"127.0.0.1:{port}")
            profile.write_text(text.replace('root = "examples/http_service"', f"root = {json.dumps(str(HERE))}"))
            before = set(out_dir.glob("http_example-*")) if out_dir.is_dir() else set()
            code = subprocess.call([sys.executable, "-m", "soakwatch", "run", "--profile", str(profile), *rest])
            counts = server_counts(port)
        finally:
            proc.terminate()
            proc.wait(5)
    new = sorted(set(out_dir.glob("http_example-*")) - before) if out_dir.is_dir() else []
    if not new or not (new[-1] / "summary.json").is_file():
        print("run_example: no run directory with a summary.json; nothing to compare")
        return code or 1
    print(f"\ncounts in {new[-1]} against the service's /metrics:")
    same = compare(json.loads((new[-1] / "summary.json").read_text()), counts)
    print("every kind counted as the service counted it" if same else "run_example: counts differ")
    return code if same else 1


if __name__ == "__main__":
    sys.exit(main())
