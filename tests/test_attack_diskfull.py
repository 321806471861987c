"""Attack: disk full while the stage runs (issue 13, case 6).

Before the fix ``OSError: [Errno 28] No space left on device`` escaped the tick: a traceback,
no summary, a stale socket. Now the stage stops gracefully with a ``write_error`` event,
writes what it can and ends ERROR (exit 4); ``report`` works once there is space again.
The full disk is simulated at the writer boundary (a file object whose writes fail with
ENOSPC), which needs no privileges; the stage's own code paths are the real ones.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.constants import EXIT_ERROR
from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage
from tests.helpers import Running, counted, run_cli


class _Full:
    """A file object whose writes fail as on a full disk (other calls pass through)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", getattr(self._inner, "name", None))

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", getattr(self._inner, "name", None))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _wait(pred: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("which", ["timeline", "events"])
def test_a_full_disk_stops_the_stage_gracefully_with_exit_4(sandbox: Path, tmp_path: Path, which: str) -> None:
    profile = load_profile(
        None,
        {"target": "sw_hostile:ok", "root": str(sandbox), "duration": 60, "rate": 100.0, "isolation": "inline"},
        ["tick=0.1"],
    )
    r = Running(Stage(profile, out_dir=tmp_path / "runs", cwd=sandbox))
    _wait(lambda: r.stage.recorder.calls > 20)
    if which == "timeline":
        r.stage.recorder._timeline = _Full(r.stage.recorder._timeline)  # type: ignore[assignment]
        r.stage.recorder._timeline_writer = __import__("csv").writer(r.stage.recorder._timeline)
    else:
        r.stage.events._fh = _Full(r.stage.events._fh)  # type: ignore[assignment]
    code = r.join()
    assert code == EXIT_ERROR and r.stage.state == "ERROR"
    assert "cannot write the run directory" in (r.stage.verdict or "")
    # space is back: report rebuilds the summary from what is on disk
    res = run_cli(["report", str(r.run_dir)], sandbox)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    summary = json.loads((r.run_dir / "summary.json").read_text())
    assert 0 < summary["calls"] <= counted(sandbox, "ok")
    if which == "timeline":
        kinds = [json.loads(x)["kind"] for x in (r.run_dir / "events.jsonl").read_text().splitlines()]
        assert "write_error" in kinds and kinds[-1] == "stage_end"
