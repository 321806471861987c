"""Attack: no line a local client sends may end the control thread (issue 13, case 2),
and undecodable text in a note must not crash the final report (case 4).

Before the fix a 5000-digit integer (ValueError) or 30,000 nested brackets (RecursionError)
killed the control thread: ``ctl`` hung, ``ps`` dropped the stage; a note holding ``"\\ud800"``
was accepted and then the report crashed writing it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from soakwatch.config.profile import load_profile
from soakwatch.control.client import ControlClient, wait_for_control
from soakwatch.core.reports import build_summary, write_reports
from soakwatch.sections import REPORT_SECTIONS
from soakwatch.stage import Stage
from tests.helpers import Running, counted

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp

WAIT = 30.0

HOSTILE_LINES = [
    b'{"cmd": "hello", "id": ' + b"9" * 5000 + b"}",  # past Python's int-conversion limit
    b"[" * 30_000 + b"]" * 30_000,  # past the recursion limit
    b'{"cmd": "hello", "args": ' + b'{"a":' * 70 + b"1" + b"}" * 70 + b"}",  # deeper than any command needs
    b'{"cmd": "\xff\xfe"}',  # not UTF-8
    b'{"cmd": "note", "args": {"action": "\\ud800", "text": "\\udcff lone"}}',  # lone surrogates
    b'{"cmd": 1e999}',
    b"\x00" * 100,
]


@pytest.fixture
def running(sandbox: Path, tmp_path: Path) -> Iterator[Running]:
    profile = load_profile(
        None,
        {"target": "sw_hostile:ok", "root": str(sandbox), "duration": 60, "rate": 50.0, "isolation": "inline"},
        ["tick=0.1"],
    )
    r = Running(Stage(profile, out_dir=tmp_path / "runs", cwd=sandbox))
    yield r
    if r.thread.is_alive():
        r.stage.command("abort", source="test")
        r.thread.join(WAIT)


def test_no_line_ends_the_control_thread_and_the_report_survives_a_surrogate_note(running: Running) -> None:
    wait_for_control(running.run_dir, WAIT)
    with ControlClient(running.run_dir, timeout=WAIT, reply_timeout=10) as client:
        for line in HOSTILE_LINES:
            client.send_line(line)
            reply = client.read_reply()
            assert isinstance(reply.get("ok"), bool), (line[:40], reply)
            # the thread is alive: the next well-formed request is answered on the same connection
            assert client.request("hello")["ok"] is True, line[:40]
    with ControlClient(running.run_dir, timeout=WAIT, reply_timeout=10) as client:  # and new connections too
        refused = client.request("auto_abort", {"on": "maybe"})  # not a truth value: refused, nothing changed
        assert refused["ok"] is False and "true or false" in refused["error"]
        assert running.stage.auto_abort is True
        assert client.command("stop") == "stop: ok"
    assert running.join() == 130
    write_reports(running.run_dir, REPORT_SECTIONS)
    summary = build_summary(running.run_dir, REPORT_SECTIONS)
    assert summary.calls == counted(running.run_dir.parent.parent / "root", "ok")
    md = (running.run_dir / "summary.md").read_text(encoding="utf-8")
    assert "\\\\ud800" in md  # the note, with its surrogate shown as an escape
    notes = [
        json.loads(x)
        for x in (running.run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
        if '"operator"' in x
    ]
    assert any("\\ud800" in n["msg"] for n in notes), notes  # kept, as a visible escape
