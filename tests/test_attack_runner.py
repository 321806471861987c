"""Attack: a broken runner must never read as PASSED (issue 13, case 3) and undecodable text
from a target or a run-directory file must not crash the monitor or ``report`` (case 4).

Before the fix ``--timeout inf``, ``--rate inf``, ``--rate 1e-300``, ``timeout = inf`` and
``target = ""`` were accepted and ran 0 calls (a runner_error, PASSED, exit 0); an exception
whose ``__str__`` raises killed the slot the same way; a message with lone surrogates made
the monitor exit 1 with a traceback and no summary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import counted, only_run_dir, run_cli


def _profile(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text('name = "p"\ntarget = "sw_hostile:ok"\ncalls = 5\n' + body, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--timeout", "inf"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--rate", "inf"], "--rate"),
        (["--rate", "1e-300"], "rate"),
        (["--duration", "1e300"], "duration"),
        (["--set", "timeout=inf"], "timeout"),
        (["--set", "rate=nan"], "rate"),
        (["--set", "calls=1e20"], "calls"),
    ],
)
def test_non_finite_and_absurd_flags_are_refused_naming_the_field(
    sandbox: Path, tmp_path: Path, flags: list[str], field: str
) -> None:
    res = run_cli(
        ["run", "--target", "sw_hostile:ok", "--no-tui", "--out-dir", str(tmp_path / "runs"), *flags], sandbox
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert field in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "runs").exists()  # nothing ran, nothing created
    assert counted(sandbox, "ok") == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("timeout = inf\n", "timeout"),
        ("timeout = nan\n", "timeout"),
        ("rate = -inf\n", "rate"),
        ("tick = 1e-300\n", "tick"),
        ('duration = "99999999999d"\n', "duration"),
    ],
)
def test_non_finite_and_absurd_profile_values_are_refused(sandbox: Path, tmp_path: Path, body: str, field: str) -> None:
    prof = _profile(tmp_path, body.replace("calls = 5\n", ""))
    res = run_cli(["run", "--profile", str(prof), "--no-tui", "--out-dir", str(tmp_path / "runs")], sandbox)
    assert res.returncode == 2, res.stdout + res.stderr
    assert field in res.stderr and str(prof) in res.stderr and "Traceback" not in res.stderr
    assert counted(sandbox, "ok") == 0


def test_an_empty_target_is_refused(sandbox: Path, tmp_path: Path) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text('name = "p"\ntarget = ""\ncalls = 5\n', encoding="utf-8")
    for args in (["run", "--profile", str(prof)], ["run", "--target", "", "--calls", "5"]):
        res = run_cli([*args, "--no-tui", "--out-dir", str(tmp_path / "runs")], sandbox)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "target" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("target", ["unprintable", "surrogates"])
def test_hostile_exception_text_is_counted_as_the_targets_error(
    sandbox: Path, tmp_path: Path, isolation: str, target: str
) -> None:
    out = tmp_path / "runs"
    args = ["run", "--target", f"sw_hostile:{target}", "--isolation", isolation, "--calls", "30"]
    res = run_cli([*args, "--no-tui", "--out-dir", str(out)], sandbox)
    assert "Traceback" not in res.stderr, res.stderr
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    # every call ran and failed the target's way: no runner error, no lost calls
    assert summary["calls"] == summary["errors"] == counted(sandbox, "raised") == 30
    assert summary["state"] != "ERROR" and res.returncode != 4
    kinds = {e["kind"]: e for e in summary["errors_by_kind"]}
    if target == "unprintable":
        assert kinds["sw_hostile.Unprintable"]["first_message"].startswith("<unprintable Unprintable")
    else:
        assert "\\udcff" in kinds["ValueError"]["first_message"]
    events = (run_dir / "events.jsonl").read_text(encoding="utf-8")
    assert "runner_error" not in events
    # and the report rebuilds from what is on disk
    rep = run_cli(["report", str(run_dir)], sandbox)
    assert rep.returncode == 0 and "Traceback" not in rep.stderr, rep.stderr


def test_report_reads_a_run_dir_with_bytes_that_are_not_utf8(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    args = ["run", "--target", "sw_hostile:ok", "--isolation", "inline", "--calls", "10"]
    res = run_cli([*args, "--no-tui", "--out-dir", str(out)], sandbox)
    assert res.returncode == 0, res.stderr
    run_dir = only_run_dir(out)
    with (run_dir / "events.jsonl").open("ab") as fh:
        fh.write(b'{"seq": 999, "t": 1.0, "kind": "error", "level": "error", "msg": "bad \xff\xfe \\ud800"}\n')
        fh.write(b"\xff\xfe\x00 not json at all\n")
        fh.write(b"[" * 5000 + b"\n")
    with (run_dir / "timeline.csv").open("ab") as fh:
        fh.write(b"\xff\xfe,\x80\n")
    for cmd in (["report", str(run_dir)], ["compare", str(run_dir), str(run_dir)]):
        rep = run_cli(cmd, sandbox)
        assert rep.returncode in (0, 1, 2), rep.stderr
        assert "Traceback" not in rep.stderr, rep.stderr
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["calls"] == 10
