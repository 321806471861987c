"""`run` on a terminal: the stage in a child process, a view over its socket here, the stage's exit code.

The real Textual app is exercised by tests/e2e/test_tmux_demo.py; here a small fake app
(the same factory signature, a real SocketSource) drives the launch path, so each
way a TUI can end — normally, closed early, crashed, aborting — is checked quickly.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from soakwatch.cli import main
from soakwatch.control.client import SocketSource
from soakwatch.core.events import read_events
from soakwatch.core.snapshot import Snapshot
from soakwatch.views import launch as _tui_launch

Script = Callable[["FakeApp"], Coroutine[Any, Any, None]]


class FakeApp:
    """Stands in for tui.app's App: run() drives a script against the SocketSource it was given."""

    def __init__(self, source: SocketSource, refresh_hz: float, script: Script) -> None:
        self.source = source
        self.refresh_hz = refresh_hz
        self.script = script
        self.last_snapshot: Snapshot | None = None
        self.seen = 0
        self.stage_pid: int | None = None

    def run(self) -> None:
        async def main() -> None:
            try:
                self.stage_pid = (await self.source.hello())["pid"]
                await self.script(self)
            finally:
                await self.source.close()

        asyncio.run(main())

    async def read_until(self, pred: Callable[[Snapshot], bool]) -> Snapshot:
        async for snap in self.source.snapshots():
            self.last_snapshot = snap
            self.seen += 1
            if pred(snap):
                return snap
        raise AssertionError("the stream ended first")


@pytest.fixture
def fake_tui(monkeypatch: pytest.MonkeyPatch) -> Callable[[Script], list[FakeApp]]:
    def install(script: Script) -> list[FakeApp]:
        apps: list[FakeApp] = []

        def make_app(source: SocketSource, *, refresh_hz: float = 2.0) -> FakeApp:
            apps.append(FakeApp(source, refresh_hz, script))
            return apps[-1]

        module = types.ModuleType("soakwatch.tui.app")
        module.make_app = make_app  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "soakwatch.tui.app", module)
        monkeypatch.setattr(_tui_launch, "wants_tui", lambda no_tui: not no_tui)
        return apps

    return install


@pytest.fixture
def run_args(sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[str]]:
    monkeypatch.chdir(sandbox)
    monkeypatch.delenv("SOAKWATCH_ROOT", raising=False)

    def args(calls: int = 300, rate: float = 150.0, target: str = "sw_targets:noop") -> list[str]:
        return [
            "run", "--target", target, "--root", str(sandbox), "--calls", str(calls), "--rate", str(rate),
            "--isolation", "inline", "--out-dir", str(tmp_path / "runs"), "--set", "tick=0.1",
        ]  # fmt: skip

    return args


def only_run_dir(tmp_path: Path) -> Path:
    (run_dir,) = (tmp_path / "runs").iterdir()
    return run_dir


def test_the_view_reads_a_stage_in_another_process(fake_tui, run_args, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async def script(app: FakeApp) -> None:
        await app.read_until(lambda s: s.calls > 0)
        assert await app.source.command("pause") == "pause: ok"
        await app.source.command("note", {"action": "screenshot", "path": "shot.svg"})
        assert await app.source.command("resume") == "resume: ok"
        await app.read_until(lambda s: s.finished)

    apps = fake_tui(script)
    assert main(run_args()) == 0
    (app,) = apps
    assert app.stage_pid is not None and app.stage_pid != os.getpid()
    assert app.last_snapshot is not None and app.last_snapshot.exit_code == 0 and app.last_snapshot.calls == 300
    run_dir = only_run_dir(tmp_path)
    log = (run_dir / "stage.log").read_text()
    assert "stage adhoc: PASSED" in log and f"→ {run_dir}" in log
    ops = [(e["action"], e["source"]) for e in read_events(run_dir / "events.jsonl") if e["kind"] == "operator"]
    # the TUI named itself to the stage: what it did is recorded as the TUI's, and so is its coming and going
    assert ops == [("pause", "tui"), ("screenshot", "tui"), ("resume", "tui")]
    clients = [(e["kind"], e["client"]) for e in read_events(run_dir / "events.jsonl") if "client" in e]
    assert clients[0] == ("client_attached", "tui")
    out = capsys.readouterr().out
    assert f"→ {run_dir}" in out and "run dir:" in out  # the summary on this terminal at the end


def test_closing_the_view_leaves_the_stage_running(fake_tui, run_args, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async def script(app: FakeApp) -> None:
        await app.read_until(lambda s: s.calls > 0)  # then the operator closes the TUI

    apps = fake_tui(script)
    assert main(run_args(calls=400, rate=200.0)) == 0
    assert apps[0].last_snapshot is not None and not apps[0].last_snapshot.finished
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    assert summary["calls"] == 400 and summary["state"] == "PASSED"
    out = capsys.readouterr().out
    assert "the stage goes on" in out and "PASSED" in out


def test_a_view_that_crashes_does_not_stop_the_stage(fake_tui, run_args, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async def script(app: FakeApp) -> None:
        await app.read_until(lambda s: s.calls > 0)
        raise RuntimeError("the view broke")

    fake_tui(script)
    assert main(run_args(calls=400, rate=200.0)) == 0
    assert json.loads((only_run_dir(tmp_path) / "summary.json").read_text())["calls"] == 400
    assert "the TUI stopped (RuntimeError: the view broke)" in capsys.readouterr().err


def test_abort_from_the_view_is_the_exit_code(fake_tui, run_args, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def script(app: FakeApp) -> None:
        await app.read_until(lambda s: s.calls > 0)
        await app.source.command("abort")
        final = await app.read_until(lambda s: s.finished)
        assert final.exit_code == 3

    fake_tui(script)
    assert main(run_args(calls=100_000)) == 3
    ends = [e for e in read_events(only_run_dir(tmp_path) / "events.jsonl") if e["kind"] == "stage_end"]
    assert ends[0]["state"] == "ABORTED"


def test_a_stage_that_cannot_start_is_reported_here(fake_tui, run_args, capsys) -> None:  # type: ignore[no-untyped-def]
    apps = fake_tui(lambda app: asyncio.sleep(0))
    assert main(run_args(target="no_such_module:fn")) == 2
    assert apps == []
    assert "no_such_module" in capsys.readouterr().err


def test_no_tui_and_no_terminal_stay_headless(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _tui_launch.wants_tui(no_tui=True) is False
    assert _tui_launch.wants_tui(no_tui=False) is False  # pytest captures stdout: not a terminal
    monkeypatch.setenv("TERM", "dumb")
    assert _tui_launch.wants_tui(no_tui=False) is False


def test_the_socket_and_launch_modules_import_no_textual_or_httpx() -> None:
    code = "import sys, soakwatch.control.client, soakwatch.control.server, soakwatch.chaos.plugin\n"
    code += "import soakwatch.views.launch\n"
    code += "print('LOADED', 'textual' in sys.modules, 'httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "LOADED False False" in out.stdout


def test_a_headless_run_imports_no_textual(sandbox: Path, tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from soakwatch.cli import main\n"
        f"code = main(['run', '--target', 'sw_targets:noop', '--root', {str(sandbox)!r}, '--calls', '50',"
        f" '--isolation', 'inline', '--out-dir', {str(tmp_path / 'runs')!r}])\n"
        "assert code == 0, code\n"
        "print('LOADED', 'textual' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SOAKWATCH_ROOT"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "LOADED False" in out.stdout
