from __future__ import annotations

from pathlib import Path

from soakwatch.config.profile import load_profile
from soakwatch.stage import Stage
from soakwatch.targets.output import OutputTail


def test_worker_output_goes_to_its_log_and_the_snapshot(sandbox: Path, tmp_path: Path) -> None:
    profile = load_profile(None, {"target": "sw_targets:chatty", "root": str(sandbox), "calls": 5})
    stage = Stage(profile, out_dir=tmp_path / "runs")
    run_dir = stage.prepare()
    seen: list[list[str]] = []
    stage.subscribers.append(lambda snap: seen.append(snap.output))
    assert stage.run() == 0
    log = (run_dir / "workers" / "worker-0.log").read_text()
    assert log.count("hello from the target") == 5 and log.count("a warning on stderr") == 5
    assert any(p.name == "output" for p in stage.plugins)
    assert "[0] hello from the target" in seen[-1]


def test_tail_reads_only_what_was_appended(tmp_path: Path) -> None:
    tail = OutputTail()
    tail.dir = tmp_path
    log = tmp_path / "worker-1.log"
    log.write_text("one\ntw")
    tail.tick(0)
    assert list(tail.lines) == ["[1] one"]
    with log.open("a") as fh:
        fh.write("o\nthree\n")
    tail.tick(1)
    assert list(tail.lines) == ["[1] one", "[1] two", "[1] three"]
