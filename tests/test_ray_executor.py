"""The Ray executor against a local 2-node Ray cluster the test starts (marker ``ray``).

The cluster, the stages and every Ray process live in a network and PID namespace of the
test's own (``unshare --net --pid --fork --mount-proc``, loopback only), so no traffic leaves
127.0.0.1 and everything ends with the namespace. One cluster serves the session: the fixture
starts it once, runs each scenario's stage with the real CLI, and the tests read what the
stages left (run directories) beside what the targets wrote themselves (one line a call).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from soakwatch.core.rundir_reader import read_run
from soakwatch.views.replay import snapshot_at

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]

HERE = Path(__file__).parent / "ray"
#: the head's GCS port: outside Ray's default worker-port range (10002-19999)
PORT = 6390
BIN = Path(sys.executable).parent
#: the whole session: about 40 s on an idle 2-core box, 3 min under load from other work
SESSION_TIMEOUT = 600


#: the chaos scenario: one actor killed through Ray, another paused between calls
CHAOS_PLAN = [
    {"name": "k", "action": "kill_worker", "at": 1.5, "target": "worker-1"},
    {"name": "p", "action": "pause_worker", "at": 3, "duration": 1.5, "target": "worker-0"},
]
#: the HTTP scenario: a mix of two endpoints of a server that counts what it serves
HTTP_CALLS = 1500
HTTP_PROFILE = """name = "rayhttp"
[[http.requests]]
name = "a"
path = "/a"
weight = 3
[[http.requests]]
name = "b"
path = "/b"
weight = 1
"""
#: each call's case is its index (more cases than the calls of the chaos stage: none repeats)
CASES = 30000


@dataclass
class Scenario:
    name: str
    args: list[str]


SCENARIOS = [
    Scenario("counted", ["--target", "sw_ray_target:counted", "--calls", "3000", "--concurrency", "4"]),
    Scenario(
        "http",
        ["--target", "http://127.0.0.1:{port}/a", "--calls", str(HTTP_CALLS), "--concurrency", "4", "--seed", "7"],
    ),
    Scenario(
        "httpopen",
        ["--target", "http://127.0.0.1:{port}/a", "--calls", "300", "--rate", "150", "--concurrency", "2"],
    ),
    Scenario("open", ["--target", "sw_ray_target:slow", "--calls", "200", "--rate", "100", "--concurrency", "2"]),
    Scenario("labels", ["--target", "sw_ray_target:placed", "--calls", "400", "--concurrency", "2"]),
    Scenario("nolabel", ["--target", "sw_ray_target:placed", "--calls", "10", "--concurrency", "1"]),
    Scenario("chaos", ["--target", "sw_ray_target:chaosed", "--duration", "6s", "--concurrency", "2"]),
    Scenario(
        "aborting",
        [
            "--target", "sw_ray_target:aborting", "--duration", "30s", "--concurrency", "4",
            "--abort-on", "errors: error_ratio < 0.5 over 1s",
        ],
    ),
]  # fmt: skip


def _unshare_reason() -> str | None:
    """Why the namespace cannot be made here, or None."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare or ip not installed"
    try:
        import ray  # noqa: F401
    except ImportError:
        return "ray not installed (pip install '.[ray]')"
    probe = subprocess.run(
        ["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", "-c", "ip link set lo up"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"unshare --net --pid not permitted: {probe.stderr.strip()[:200]}"
    return None


def _write_stages(base: Path, root: Path) -> None:
    """The target beside its log, the scenarios' files, and one command line per scenario."""
    shutil.copy(HERE / "sw_ray_target.py", root)
    (base / "chaos.json").write_text(json.dumps(CHAOS_PLAN))
    (base / "http.toml").write_text(HTTP_PROFILE)
    (base / "labels.toml").write_text('name = "raylabels"\nray_node_labels = { zone = "b" }\n')
    (base / "nolabel.toml").write_text('name = "raynolabel"\nray_node_labels = { zone = "nowhere" }\n')
    (base / "cases.jsonl").write_text("".join(f"{i}\n" for i in range(CASES)))
    lines = []
    for sc in SCENARIOS:
        extra = ["--chaos-plan", str(base / "chaos.json"), "--cases", str(base / "cases.jsonl")]
        extra = extra if sc.name == "chaos" else []
        if sc.name in ("http", "httpopen", "labels", "nolabel"):
            extra = ["--profile", str(base / f"{sc.name.removesuffix('open')}.toml")]
        argv = [str(BIN / "soakwatch"), "run", *sc.args, *extra, "--root", str(root), "--executor", "ray"]
        argv += ["--no-tui", "--out-dir", str(base / sc.name)]
        if sc.name.startswith("http"):  # the server counts in a process of its own, beside the stage
            argv = [sys.executable, str(HERE / "http_counter.py"), str(base / f"served-{sc.name}.json"), *argv]
        lines.append(shlex.join(argv))
    (base / "stages.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def ray_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run every scenario on one cluster; the run directory of each, by name."""
    reason = _unshare_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("ray")
    root = base / "root"
    root.mkdir()
    _write_stages(base, root)
    ray_tmp = tempfile.mkdtemp(prefix="swray")  # short: Ray's socket paths must fit in 107 bytes
    env = {
        **os.environ,
        "SW_RAY_PORT": str(PORT),
        "SW_RAY_BIN": str(BIN),
        "SW_RAY_OUT": str(base),
        "SW_RAY_TMP": ray_tmp,
        "SW_RAY_STAGES": str(base / "stages.txt"),
    }
    try:
        done = subprocess.run(
            ["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", str(HERE / "cluster.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=SESSION_TIMEOUT,
        )
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    if done.returncode == 3:
        pytest.skip(f"the local Ray cluster did not start: {done.stdout.strip()} (see {base}/head.log)")
    assert done.returncode == 0, done.stdout + done.stderr
    out = {}
    for n, sc in enumerate(SCENARIOS, 1):
        stage_out = (base / f"stage-{n}.out").read_text()
        if sc.name == "nolabel":  # refused before any run directory
            out[sc.name] = base / f"stage-{n}"
            continue
        runs = sorted((base / sc.name).iterdir()) if (base / sc.name).exists() else []
        assert len(runs) == 1, f"{sc.name}: no run directory\n{stage_out}"
        out[sc.name] = runs[0]
        (runs[0] / "rc.txt").write_text((base / f"stage-{n}.rc").read_text())
        (runs[0] / "stage.out").write_text(stage_out)
    out["root"] = root
    out["base"] = base
    return out


def _events(run: Path, kind: str) -> list[dict[str, Any]]:
    lines = (run / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def _summary(run: Path) -> dict[str, Any]:
    summary = read_run(run).summary
    assert summary is not None
    return summary


def _kinds(summary: dict[str, Any]) -> dict[str, int]:
    return {k["kind"]: k["count"] for k in summary["errors_by_kind"]}


def _rc(run: Path) -> int:
    return int((run / "rc.txt").read_text())


def test_ok_and_error_counts_equal_the_targets_own(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["counted"]
    assert _rc(run) == 0, (run / "stage.out").read_text()
    lines = (ray_runs["root"] / "counted.log").read_text().split()
    summary = _summary(run)
    assert (summary["calls"], summary["ok"], summary["errors"]) == (len(lines), lines.count("o"), lines.count("e"))
    assert summary["calls"] == 3000 and summary["verdict"] == "PASSED"
    assert _kinds(summary) == {"ValueError": lines.count("e")}
    cluster = json.loads((run / "run_config.json").read_text())["cluster"]
    assert len(cluster["nodes"]) == 2
    assert {n["address"] for n in cluster["nodes"]} == {"127.0.0.1"}
    assert cluster["slots"]["count"] == 4
    assert len(cluster["slots"]["nodes"]) == 2  # spread: both nodes hold slots


def test_an_http_target_on_ray_counts_what_the_server_served(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["http"]
    assert _rc(run) == 0, (run / "stage.out").read_text()
    served = json.loads((ray_runs["base"] / "served-http.json").read_text())
    summary = _summary(run)
    assert summary["calls"] == len(served) == HTTP_CALLS
    assert summary["ok"] == sum(1 for _, status, _ in served if status == 200)
    failed = {rid: f"HTTP {status}" for _, status, rid in served if status != 200}
    assert _kinds(summary) == {
        "HTTP 500": list(failed.values()).count("HTTP 500"),
        "HTTP 404": list(failed.values()).count("HTTP 404"),
    }
    # every failure under the request id the server saw; every call once, under the stage's prefix
    lines = (run / "failures.jsonl").read_text().splitlines()
    assert {f["request_id"]: f["kind"] for f in map(json.loads, lines)} == failed
    tag = _events(run, "http_client")[0]["request_id_prefix"]
    assert sorted(rid for _, _, rid in served) == sorted(f"{tag}-{i}" for i in range(HTTP_CALLS))
    # per endpoint, the counts summed over the actors equal the server's per path
    cols = read_run(run).timeline.columns
    for name in ("a", "b"):
        path = [p for p in served if p[0] == f"/{name}"]
        assert cols[f"requests[{name}]"][-1] == len(path)
        assert cols[f"request_errors[{name}]"][-1] == sum(1 for p in path if p[1] != 200)
    cluster = json.loads((run / "run_config.json").read_text())["cluster"]
    assert cluster["slots"]["count"] == 4 and len(cluster["slots"]["nodes"]) == 2


def test_the_open_model_on_ray_sends_or_misses_every_arrival(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["open"]
    assert _rc(run) == 0, (run / "stage.out").read_text()
    summary = _summary(run)
    made = len((ray_runs["root"] / "slow.log").read_text().split())
    assert summary["calls"] == summary["ok"] == made
    assert summary["calls"] + summary["missed_arrivals"] == 200 and summary["missed_arrivals"] > 0
    assert "arrivals missed" in summary["verdict"]
    # latency from the due time: never less than from the call's own start
    assert summary["latency_scheduled"]["p50"] >= summary["latency"]["p50"]


def test_an_http_target_on_ray_follows_a_rate(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["httpopen"]
    assert _rc(run) == 0, (run / "stage.out").read_text()
    served = json.loads((ray_runs["base"] / "served-httpopen.json").read_text())
    summary = _summary(run)
    assert summary["calls"] == len(served) and summary["calls"] + summary["missed_arrivals"] == 300
    assert summary["ok"] == sum(1 for _, status, _ in served if status == 200)
    assert summary["latency_scheduled"]["p50"] >= summary["latency"]["p50"]


def test_actors_are_placed_by_node_label(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["labels"]
    assert _rc(run) == 0, (run / "stage.out").read_text()
    cluster = json.loads((run / "run_config.json").read_text())["cluster"]
    zone_b = [n["node_id"] for n in cluster["nodes"] if n["labels"] == {"zone": "b"}]
    assert len(zone_b) == 1 and cluster["slots"]["labels"] == {"zone": "b"}
    assert cluster["slots"]["nodes"] == [f"node 127.0.0.1 ({zone_b[0][:8]})"]
    # where the target itself says it ran: every call on the zone=b node
    where = (ray_runs["root"] / "placed.log").read_text().split()
    assert set(where) == set(zone_b) and len(where) == _summary(run)["calls"] == 400


def test_a_label_no_node_has_is_refused_at_once(ray_runs: dict[str, Path]) -> None:
    stage = ray_runs["nolabel"]
    out = stage.with_suffix(".out").read_text()
    assert int(stage.with_suffix(".rc").read_text()) == 2, out
    assert "no live node of the Ray cluster has the labels zone=nowhere" in out
    assert "zone=a, zone=b" in out and "Traceback" not in out


def _ts(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


def test_chaos_kills_an_actor_through_ray_and_it_is_recorded_and_replaced(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["chaos"]
    out = (run / "stage.out").read_text()
    starts = {e["action"]: e for e in _events(run, "chaos_start")}
    ends = {e["action"]: e for e in _events(run, "chaos_end")}
    assert sorted(starts) == sorted(ends) == ["k", "p"], out
    assert starts["k"]["detail"].startswith("ray.kill worker-1 (pid "), starts["k"]
    assert "replaced" in ends["k"]["msg"]
    crashes = _events(run, "worker_crash")
    assert [(c["slot"], c["node"][:10]) for c in crashes] == [(1, "127.0.0.1 ")], out
    assert [(r["slot"], r["restarts"]) for r in _events(run, "worker_restart")] == [(1, 1)]
    # the target's own log: (call index, pid, start) per call it completed
    made = [line.split() for line in (ray_runs["root"] / "chaosed.log").read_text().splitlines()]
    pids_of: dict[int, set[str]] = {}
    for index, pid, _ in made:
        pids_of.setdefault(int(index), set()).add(pid)
    # the dead actor's last chunk, first..last: the first call is the WorkerCrash, the rest ran again
    first, last = map(int, crashes[0]["msg"].split("died during calls ")[1].split(":")[0].split(".."))
    rerun = {i for i, pids in pids_of.items() if len(pids) > 1}
    assert rerun <= set(range(first + 1, last + 1))
    summary = _summary(run)
    assert summary["calls"] < CASES
    assert _kinds(summary) == {"WorkerCrash": 1}
    assert summary["ok"] == len(set(pids_of) - {first})
    assert summary["calls"] == len(set(pids_of) | {first})
    # what the dead actor did in its last chunk did not come back: the verdict line says so
    bound = int(summary["verdict"].split("up to ")[1].split()[0])
    assert summary["verdict"].startswith("PASSED, up to ") and bound >= len(rerun), summary["verdict"]
    assert _rc(run) == 0
    # each node's actors' memory and CPU, measured on the node, are series of the run
    cols = read_run(run).timeline.columns
    for kind in ("ray_rss_mb", "ray_actors"):
        per_node = [c for c in cols if c.startswith(f"{kind}[127.0.0.1/")]
        assert len(per_node) == 2, sorted(cols)
        assert all(any(v > 0 for v in cols[c]) for c in per_node)
    # ... and rows of the nodes panel (here as the replay rebuilds the last screen): the actors
    # placed per node, the one the killed actor lived on with one replaced actor
    rows = {n.id: n for n in snapshot_at(read_run(run), 10**9).nodes}
    dead_on = "127.0.0.1/" + crashes[0]["node"].split()[1][:8]
    assert sorted(rows) == sorted(c[len("ray_actors[") : -1] for c in cols if c.startswith("ray_actors["))
    assert {k: n.restarts for k, n in rows.items()} == {k: int(k == dead_on) for k in rows}
    assert sum(n.fields["actors"] for n in rows.values()) == 2
    assert all(n.state == "running" and (n.rss_mb or 0) > 0 for n in rows.values() if n.fields["actors"])


def test_chaos_pauses_an_actor_between_calls_for_its_window(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["chaos"]
    start = next(e for e in _events(run, "chaos_start") if e["action"] == "p")
    end = next(e for e in _events(run, "chaos_end") if e["action"] == "p")
    assert start["detail"].startswith("worker-0 (pid ") and start["detail"].endswith("holds between calls for 1.5s")
    assert end["detail"].endswith("goes on"), end
    paused = start["detail"].split("(pid ")[1].split()[0]
    t0, t1 = _ts(start), _ts(start) + 1.5
    assert _ts(end) >= t1
    calls = [
        (pid, float(t))
        for _, pid, t in (x.split() for x in (ray_runs["root"] / "chaosed.log").read_text().splitlines())
    ]
    assert [t for pid, t in calls if pid == paused and t0 <= t < t1] == []
    assert any(pid == paused and t >= t1 for pid, t in calls)  # it went on after the window


def test_an_abort_gate_stops_every_actor_within_a_second(ray_runs: dict[str, Path]) -> None:
    run = ray_runs["aborting"]
    aborts = _events(run, "abort")
    assert len(aborts) == 1, (run / "stage.out").read_text()
    abort_at = datetime.fromisoformat(aborts[0]["ts"]).timestamp()
    stamps = [float(line.split()[1]) for line in (ray_runs["root"] / "aborting.log").read_text().splitlines()]
    assert stamps and max(stamps) <= abort_at + 1.0, f"last call {max(stamps) - abort_at:.3f}s after the abort"
    summary = _summary(run)
    assert summary["calls"] == len(stamps)
    assert summary["state"] == "ABORTED" and _rc(run) == 1
