"""Attack: ``validate`` is run's preflight (issue 13, case 12). Each of these profiles was
"ok" for ``validate`` before; now ``validate`` and ``run`` both refuse it with exit 2,
naming the file or flag and the field, and ``run`` creates nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import counted, run_cli

BASE = 'name = "x"\ntarget = "sw_hostile:ok"\ncalls = 5\n'

CASES = {
    "duplicate chaos names": BASE
    + '[[chaos]]\nname = "a"\naction = "kill_worker"\nat = "1s"\n'
    + '[[chaos]]\nname = "a"\naction = "kill_worker"\nat = "2s"\n',
    "bad scrape URL": BASE + '[[scrape]]\nname = "s"\nurl = "notaurl"\n',
    "host-less scrape URL": BASE + '[[scrape]]\nname = "s"\nurl = "http:///metrics"\n',
    "process watch without pid_file or pattern": BASE + '[processes]\nwatch = [{name = "p"}]\n',
    "calls = true": 'name = "x"\ntarget = "sw_hostile:ok"\ncalls = true\n',
    "calls and duration": BASE + 'duration = "10s"\n',
    "empty name": 'name = ""\ntarget = "sw_hostile:ok"\ncalls = 5\n',
    "host-less target URL": 'name = "x"\ntarget = "http:///path"\ncalls = 5\n',
    "non-callable target": 'name = "x"\ntarget = "sw_hostile:LONG_NAMED"\ncalls = 5\n',
    "for = 1e20": BASE + '[[gates]]\nname = "g"\nmetric = "error_ratio"\ncondition = "< 0.5"\nfor = 1e20\n',
    "burst(0)": BASE + '[[gates]]\nname = "g"\nmetric = "error_kinds"\ncondition = "burst(0) < 2"\n',
    "timeout = inf": BASE + "timeout = inf\n",
    "target = ''": 'name = "x"\ntarget = ""\ncalls = 5\n',
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_and_run_refuse_alike(sandbox: Path, tmp_path: Path, case: str) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text(CASES[case], encoding="utf-8")
    out = tmp_path / "runs"
    val = run_cli(["validate", str(prof), "--root", str(sandbox)], sandbox)
    run = run_cli(["run", "--profile", str(prof), "--root", str(sandbox), "--no-tui", "--out-dir", str(out)], sandbox)
    for res in (val, run):
        assert res.returncode == 2, (case, res.stdout, res.stderr)
        assert "Traceback" not in res.stderr and res.stderr.startswith("soakwatch: error: "), res.stderr
    assert val.stderr == run.stderr  # one check, one message
    assert not out.exists() and counted(sandbox, "ok") == 0


def test_validate_takes_runs_flags(sandbox: Path, tmp_path: Path) -> None:
    ok = run_cli(["validate", "--target", "sw_hostile:ok", "--calls", "3", "--root", str(sandbox)], sandbox)
    assert ok.returncode == 0 and "ok (adhoc)" in ok.stdout, ok.stderr
    for flags in (["--set", "timeout=inf"], ["--rate", "inf"], ["--root", str(tmp_path / "nope")], ["--cases", "x"]):
        res = run_cli(
            ["validate", "--target", "sw_hostile:ok", "--calls", "3", "--root", str(sandbox), *flags], sandbox
        )
        assert res.returncode == 2 and "Traceback" not in res.stderr, (flags, res.stderr)
    assert counted(sandbox, "ok") == 0
