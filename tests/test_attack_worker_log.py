"""Attack: a target that prints without end must not fill the disk (issue 13, case 8).

Before the fix 100 MB of output per call grew ``workers/worker-0.log`` to 314 MB in 3 calls.
Now the worker keeps the head (``worker-<slot>.log``) and the newest tail
(``worker-<slot>.tail.log`` and its ``.1``) within soakwatch.config.limits, and a line says how
many bytes were dropped. The target prints a known number of bytes; the test accounts for
every one of them: kept in a file, or counted as dropped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from soakwatch.config.limits import WORKER_LOG_HEAD, WORKER_LOG_TAIL
from tests.helpers import counted, only_run_dir

CALLS = 12
MB_PER_CALL = 4  # 48 MB in all: head + two tails are 20 MB
LINE = 65536  # the target's line: 65535 characters and a newline


def _output_bytes(path: Path) -> int:
    """Bytes of the target's output in a log file (soakwatch's own notes left out)."""
    data = path.read_bytes()
    notes = re.findall(rb"\n?\[soakwatch: [^\]]*\]\n", data)
    return len(data) - sum(len(n) for n in notes)


def test_a_target_printing_48_mb_keeps_head_and_tail_within_the_cap(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "soakwatch", "run", "--target", "sw_lifecycle:chatty", "--calls", str(CALLS)]
    cmd += ["--no-tui", "--out-dir", str(out)]
    env = {**os.environ, "SOAKWATCH_ROOT": str(sandbox), "SW_PRINT_MB": str(MB_PER_CALL)}
    res = subprocess.run(cmd, cwd=sandbox, capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert counted(sandbox, "chatty") == CALLS
    workers = only_run_dir(out) / "workers"
    head, tail, older = workers / "worker-0.log", workers / "worker-0.tail.log", workers / "worker-0.tail.log.1"
    files = sorted(p.name for p in workers.glob("worker-0*"))
    assert files == ["worker-0.log", "worker-0.tail.log", "worker-0.tail.log.1"]
    on_disk = sum(p.stat().st_size for p in workers.glob("worker-0*"))
    assert on_disk <= WORKER_LOG_HEAD + 2 * WORKER_LOG_TAIL + 1024
    printed = CALLS * MB_PER_CALL * 16 * LINE
    assert _output_bytes(head) == WORKER_LOG_HEAD
    assert older.stat().st_size == WORKER_LOG_TAIL  # a full tail, moved aside (its note line included)
    assert b"output goes on in worker-0.tail.log" in head.read_bytes()[-200:]
    first = tail.read_bytes().split(b"\n", 1)[0].decode()
    m = re.fullmatch(r"\[soakwatch: (\d+) bytes of output dropped before worker-0\.tail\.log\.1\]", first)
    assert m, first
    # every byte the target printed is in a file or in the count of dropped ones
    kept = _output_bytes(head) + _output_bytes(older) + _output_bytes(tail)
    assert kept + int(m.group(1)) == printed
