"""CmdRunner: one subprocess per call, outcomes from exit codes, signals, stderr and timeouts."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.cmd import CmdConfig
from soakwatch.config.errors import UsageError
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.targets.cmd import CmdRunner, stderr_tail
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import parse_target
from tests.helpers import only_run_dir, run_cli

REPO = Path(__file__).resolve().parent.parent


def make(
    command: str, root: Path, cases: list[Any] | None = None, plan: Plan | None = None, **cfg: Any
) -> tuple[CmdRunner, Recorder]:
    plan = plan or Plan(calls=len(cases) if cases else 4, duration=None, concurrency=2, timeout=10)
    rec = Recorder(None, EventLog(None), open_model=plan.rate is not None)
    runner = CmdRunner(plan, rec, parse_target(f"cmd:{command}"), root, cases, config=CmdConfig(**cfg))
    runner.prepare()
    return runner, rec


def run(command: str, root: Path, cases: list[Any] | None = None, plan: Plan | None = None, **cfg: Any) -> Recorder:
    runner, rec = make(command, root, cases, plan, **cfg)
    runner.run()
    rec.tick()
    return rec


def kinds(rec: Recorder) -> dict[str, int]:
    return {k: v.count for k, v in rec.kinds.items()}


def test_exit_codes_and_stderr_tail(tmp_path: Path) -> None:
    script = 'echo "warming up" >&2; echo "bad case $1" >&2; exit $(( $1 % 3 ))'
    cases = [{"n": n} for n in range(9)]
    rec = run(f"sh -c '{script}' sh {{n}}", tmp_path, cases)
    assert (rec.calls, rec.ok) == (9, 3)
    assert kinds(rec) == {"exit 1": 3, "exit 2": 3}
    msg = rec.kinds["exit 2"].first_message
    assert msg.startswith("warming up | bad case ") and int(msg[-1]) % 3 == 2


def test_expect_exit_and_signal(tmp_path: Path) -> None:
    rec = run("sh -c 'exit 5'", tmp_path, expect_exit=[0, 5])
    assert rec.ok == 4 and not rec.kinds
    rec = run("sh -c 'kill -SEGV $$'", tmp_path)
    assert kinds(rec) == {"signal SIGSEGV": 4}


def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # the shell starts a long sleep in the background and waits: both must die at the timeout
    plan = Plan(calls=1, duration=None, timeout=0.3)
    t0 = time.monotonic()
    rec = run(f"sh -c 'sleep 30 & echo $! > {pid_file}; wait'", tmp_path, plan=plan)
    assert time.monotonic() - t0 < 10
    assert (rec.timeouts, kinds(rec)) == (1, {"Timeout": 1})
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return True


def test_case_on_stdin_and_in_argv(tmp_path: Path) -> None:
    out = tmp_path / "seen"
    out.mkdir()
    cases = [{"id": i, "prompt": f"it's case {i}"} for i in range(3)]
    run(f"sh -c 'cat > {out}/$1.json' sh {{id}}", tmp_path, cases, stdin="json")
    seen = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert seen == {f"{c['id']}.json": c for c in cases}
    # through a shell, placeholders are quoted: a quote in the case stays data
    run(f"printf %s {{prompt}} > {out}/shell-{{id}}.txt", tmp_path, cases, shell=True)
    assert (out / "shell-1.txt").read_text() == "it's case 1"


def test_bad_commands_are_refused_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found on PATH"):
        make("no-such-program-xyz --flag", tmp_path)
    with pytest.raises(UsageError, match="not an executable"):
        make("./missing.sh", tmp_path)
    with pytest.raises(UsageError, match="prompt"):
        make("echo {prompt}", tmp_path)
    with pytest.raises(UsageError, match=r"cmd\.stdin"):
        make("cat", tmp_path, stdin="json")
    with pytest.raises(UsageError, match=r"cmd\.cwd"):
        make("true", tmp_path, cwd="nope")


def test_stderr_tail_is_bounded() -> None:
    assert stderr_tail(b"", 50) == "(no stderr)"
    tail = stderr_tail(("x" * 500 + "\nlast line").encode(), 40)
    assert len(tail) <= 41 and tail.endswith("last line")


@pytest.mark.e2e
def test_cmd_example_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    r = run_cli(
        ["run", "--profile", "examples/cmd/profile.toml", "--calls", "20", "--no-tui", "--out-dir", str(out)],
        cwd=REPO,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads((only_run_dir(out) / "summary.json").read_text())
    by_kind = {k["kind"]: k for k in summary["errors_by_kind"]}
    # case 7 is rejected (exit 3), case 13 sleeps past the 2 s timeout
    assert {k: v["count"] for k, v in by_kind.items()} == {"exit 3": 1, "Timeout": 1}
    assert "case 7 rejected" in by_kind["exit 3"]["first_message"]
    assert summary["ok"] == 18
