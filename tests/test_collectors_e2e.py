"""End to end through the real CLI: watched state logs, snapshots, truncation, integrity, sandbox refusals."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import only_run_dir, run_cli

ENGINE = Path(__file__).parent / "collectors_engine.py"

PROFILE = """
name = "final"
target = "collectors_engine:run"
calls = {calls}
isolation = "inline"
tick = 0.2

[watch]
files = ["state/pra_log.json", "state/tul_log.json"]
snapshot_every = 100
warn_size_kb = 100
truncate_over_kb = 200
truncate_every = 200
reset_before = ["state/pra_log.json"]
unchanged = ["dag/**"]
"""

pytestmark = pytest.mark.e2e


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "state").mkdir(parents=True)
    (root / "dag").mkdir()
    for name in ("00-a.json", "01-b.json", "02-c.json"):
        (root / "dag" / name).write_text(json.dumps({"node": name}) + "\n")
    shutil.copy(ENGINE, root / "collectors_engine.py")
    # left over from an earlier stage: reset_before must delete it
    (root / "state" / "pra_log.json").write_text("[]\n" * 50)
    return root


def _run(tmp_path: Path, root: Path, calls: int, env: dict[str, str] | None = None, *extra: str) -> Path:
    prof = tmp_path / f"final-{calls}.toml"
    prof.write_text(PROFILE.format(calls=calls))
    out = tmp_path / f"runs-{calls}"
    res = run_cli(
        ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out), *extra],
        cwd=tmp_path,
        env=env,
        timeout=90,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return only_run_dir(out)


def _events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    evs = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    return [e for e in evs if e["kind"] == kind]


def test_5000_calls_snapshots_truncation_integrity(tmp_path: Path) -> None:
    root = _root(tmp_path)
    run_dir = _run(tmp_path, root, 5000)
    pra, tul = "state/pra_log.json", "state/tul_log.json"

    assert [e["file"] for e in _events(run_dir, "reset")] == [pra]

    snaps = _events(run_dir, "snapshot")
    assert [s["label"] for s in snaps] == [f"final_{n}" for n in range(100, 5001, 100)]
    assert [s["previous"] for s in snaps] == ["final_0"] + [f"final_{n}" for n in range(100, 5000, 100)]
    assert "final_400 → final_500: pra_log.json Δ=+0 lines" in snaps[4]["msg"]

    # the bounded log settles: Δ = 0 after it filled; the growing one gains a line per call
    assert snaps[0]["files"][pra]["delta"] > 0
    assert all(s["files"][pra]["delta"] == 0 for s in snaps[1:])
    assert all(s["files"][tul]["delta"] == 100 for s in snaps)

    # truncations: at multiples of truncate_every, of a file over 200 KB; Δ counts from the truncation
    truncs = _events(run_dir, "truncate")
    assert len(truncs) >= 2
    assert {t["file"] for t in truncs} == {tul}
    trunc_calls = []
    for t in truncs:
        assert t["bytes"] > 200 * 1024
        snap = max((s for s in snaps if s["t"] <= t["t"]), key=lambda s: s["calls"])
        assert snap["calls"] % 200 == 0
        assert t["lines"] == snap["files"][tul]["lines"]
        trunc_calls.append(snap["calls"])
    last_trunc = 0
    for s in snaps:
        assert s["files"][tul]["lines"] == s["calls"] - last_trunc
        assert s["files"][tul]["truncated"] == (s["calls"] - 100 in trunc_calls)
        if s["calls"] in trunc_calls:
            last_trunc = s["calls"]
    assert _events(run_dir, "size_warning")

    # the last snapshot agrees with the files on disk
    last = snaps[-1]["files"]
    assert last[pra]["lines"] == len((root / pra).read_text().splitlines())
    on_disk = len((root / tul).read_text().splitlines())
    assert on_disk == (0 if 5000 in trunc_calls else last[tul]["lines"])

    with (run_dir / "timeline.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    sizes = [float(r[f"size_kb[{tul}]"]) for r in rows if r[f"size_kb[{tul}]"]]
    assert sizes and max(sizes) > 100 and max(sizes) < 300
    assert any(r[f"size_kb[{pra}]"] for r in rows)

    summary = json.loads((run_dir / "summary.json").read_text())["sections"]
    assert summary["integrity"]["unchanged"] is True
    assert summary["integrity"]["baseline_files"] == 3
    assert summary["snapshots"]["count"] == 50
    assert summary["actions"]["counts"]["truncate"] == len(truncs)
    md = (run_dir / "summary.md").read_text()
    assert "**unchanged**" in md and "### `state/tul_log.json`" in md


def test_second_run_reports_exactly_the_dag_file_it_wrote(tmp_path: Path) -> None:
    root = _root(tmp_path)
    run_dir = _run(tmp_path, root, 300, {"COLLECTORS_ENGINE_TOUCH": "dag/01-b.json"})
    changes = [e for e in _events(run_dir, "integrity") if e.get("change") not in ("baseline", "final")]
    assert [(c["file"], c["change"], c["label"]) for c in changes] == [("dag/01-b.json", "modified", "final_200")]
    integ = json.loads((run_dir / "summary.json").read_text())["sections"]["integrity"]
    assert integ["changed_files"] == ["dag/01-b.json"]
    assert integ["unchanged"] is False


def test_half_written_json_is_a_corrupt_read_and_the_run_goes_on(tmp_path: Path) -> None:
    root = _root(tmp_path)
    prof_extra = ["--set", 'watch.files=["state/pra_log.json","state/tul_log.json","state/epoch.json"]']
    run_dir = _run(tmp_path, root, 300, {"COLLECTORS_ENGINE_HALF": "state/epoch.json"}, *prof_extra)
    corrupt = _events(run_dir, "corrupt_read")
    assert [c["file"] for c in corrupt] == ["state/epoch.json"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["calls"] == 300 and summary["state"] == "PASSED"
    files = {f["file"]: f for f in summary["sections"]["files"]}
    assert files["state/epoch.json"]["corrupt_reads"] == 1
    assert files["state/pra_log.json"]["corrupt_reads"] == 0


@pytest.mark.parametrize("field", ["reset_before", "backup_before", "files"])
@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_file_actions_outside_the_root_are_refused_with_exit_2(tmp_path: Path, field: str, how: str) -> None:
    root = _root(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "precious.json"
    victim.write_text("keep me\n")
    if how == "dotdot":
        path = "state/../../outside/precious.json"
    else:
        (root / "state" / "link").symlink_to(outside)
        path = "state/link/precious.json"
    prof = tmp_path / "p.toml"
    prof.write_text(PROFILE.format(calls=10))
    out = tmp_path / "runs"
    res = run_cli(
        [
            "run",
            "--profile",
            str(prof),
            "--root",
            str(root),
            "--no-tui",
            "--out-dir",
            str(out),
            "--set",
            f'watch.{field}=["{path}"]',
        ],
        cwd=tmp_path,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "outside the sandbox root" in res.stderr and f"watch.{field}" in res.stderr
    assert victim.read_text() == "keep me\n"
    # refused before anything ran: the leftover PRA log (reset_before) is still there
    assert (root / "state" / "pra_log.json").exists()
    run_dirs = list(out.iterdir()) if out.exists() else []
    assert not any((d / "backup").exists() for d in run_dirs)
