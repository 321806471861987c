"""Each plugin rebuilds its own slice of a recorded snapshot (Plugin.replay), and the replay calls it.

The run directory here is written by the real writers (EventLog for events.jsonl, the
recorder's CSV layout for timeline.csv) with a crash and a restart of a worker, a chaos
window, a watched file over its warning size and a node that was killed.
"""

from __future__ import annotations

import json
from pathlib import Path

from soakwatch.core.events import EventLog
from soakwatch.sections import REPLAY_PLUGINS
from soakwatch.views.replay import ReplaySource, snapshot_at


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    profile = {
        "name": "crashes",
        "watch": {"files": ["state/log.json"], "warn_size_kb": 2},
        "chaos": [{"name": "slow", "action": "latency"}, {"name": "kill", "action": "kill_worker"}],
    }
    (run / "run_config.json").write_text(json.dumps({"profile": profile}))
    (run / "timeline.csv").write_text(
        "t,ts,calls,ok,errors,timeouts,rss_mb[worker-0],size_kb[state/log.json],lines[state/log.json],"
        "restarts[n1]\n"
        "0.1,a,10,10,0,0,50,1,10,0\n"
        "0.2,b,20,20,0,0,49,1.5,15,0\n"
        "0.3,c,30,30,0,0,48,3,30,1\n"
    )
    log = EventLog(run / "events.jsonl")
    log.emit("stage_start", "go", workers={"worker-0": 111}, pid=100)
    log.emit("node_start", "n1 up", node="n1", pid=300)
    log.emit("chaos_start", "slow on", "warn", action="slow", duration=1.0)
    log.emit("worker_crash", "worker 0 died", "error", slot=0, exitcode=-9)
    log.emit("node_exit", "n1 killed", "error", node="n1", pid=300, code=-9, signal="SIGKILL", expected=False)
    log.close()
    lines = (run / "events.jsonl").read_text().splitlines()
    # a row shows the events up to the next row: the crash and the node's exit after row 0.2,
    # the restart and the end of the chaos window after row 0.3
    timed = [json.loads(line) | {"t": t} for line, t in zip(lines, (0.0, 0.05, 0.05, 0.25, 0.25), strict=True)]
    timed.append({"seq": 6, "t": 0.35, "ts": "", "kind": "worker_restart", "level": "warn", "msg": "again",
                  "slot": 0, "pid": 222, "restarts": 1})  # fmt: skip
    timed.append({"seq": 7, "t": 0.35, "ts": "", "kind": "chaos_end", "level": "info", "msg": "slow off",
                  "action": "slow", "ok": True})  # fmt: skip
    (run / "events.jsonl").write_text("".join(json.dumps(o) + "\n" for o in timed))
    return run


def test_processes_slice_follows_the_worker_crash_and_restart(tmp_path: Path) -> None:
    run = ReplaySource(_run_dir(tmp_path), REPLAY_PLUGINS).run
    first, crashed, restarted = (snapshot_at(run, i, REPLAY_PLUGINS) for i in range(3))
    assert [(p.name, p.pid, p.alive, p.rss_mb) for p in first.processes] == [("worker-0", 111, True, 50.0)]
    assert [(p.name, p.pid, p.alive) for p in crashed.processes] == [("worker-0", 111, False)]
    assert [(p.name, p.pid, p.alive) for p in restarted.processes] == [("worker-0", 222, True)]
    assert restarted.processes[0].rss_tail == [50.0, 49.0, 48.0]


def test_files_nodes_and_chaos_slices(tmp_path: Path) -> None:
    run = ReplaySource(_run_dir(tmp_path), REPLAY_PLUGINS).run
    first, second, last = (snapshot_at(run, i, REPLAY_PLUGINS) for i in range(3))
    (f0,), (f2,) = first.files, last.files
    assert (f0.lines, f0.size, f0.over_warn) == (10, 1024, False)
    assert (f2.lines, f2.size, f2.growth_lines, f2.over_warn) == (30, 3072, 20, True)
    assert first.chaos_actions == ["slow", "kill"] and second.extra["chaos_active"] == ["slow"]
    assert first.extra["chaos_active"] == ["slow"]
    assert last.extra["chaos_active"] == []
    assert first.extra["nodes"] == [{"id": "n1", "pid": 300, "state": "running", "restarts": 0}]
    assert second.extra["nodes"] == [{"id": "n1", "pid": None, "state": "down", "restarts": 0}]
    assert last.extra["nodes"][0]["restarts"] == 1


def test_without_plugins_the_replay_has_only_the_stages_own_numbers(tmp_path: Path) -> None:
    run = ReplaySource(_run_dir(tmp_path), ()).run
    snap = snapshot_at(run, 2, ())
    assert snap.calls == 30 and snap.files == [] and snap.processes == [] and snap.chaos_actions == []
