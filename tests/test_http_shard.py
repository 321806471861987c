"""An HTTP stage sharded over load processes (``[http] load_processes``): every figure merged into the
one recorder equals what the server counted itself; a killed load process is named, replaced and its
lost calls bounded and said; abort ends every load process within a second."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.config.profile import load_profile
from soakwatch.core.events import EventLog, read_events
from soakwatch.core.recorder import Recorder
from soakwatch.stage import Stage
from soakwatch.targets.http_shard import ShardedHttpRunner, shares
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import parse_target
from tests.load_helpers import slow_server, wait_for
from tests.stream_helpers import stream_server
from tests.test_http_mix import MIX, PATHS
from tests.test_http_target_runner import CASES

WAIT = 30.0


def _runner(url: str, plan: Plan, processes: int = 2) -> tuple[ShardedHttpRunner, Recorder, EventLog]:
    log = EventLog(None)
    rec = Recorder(None, log, open_model=plan.rate is not None)
    runner = ShardedHttpRunner(plan, rec, parse_target(url), None, None, config=HttpConfig(load_processes=processes))
    runner.prepare()
    return runner, rec, log


def test_slots_are_shared_out_evenly() -> None:
    assert shares(16, 2) == [8, 8]
    assert shares(5, 2) == [3, 2]
    assert shares(3, 8) == [1, 1, 1]  # never a process without a slot


def test_counts_per_kind_equal_the_servers(tmp_path: Path) -> None:
    # of every 40 requests: one answered 500, one stalled past the client's timeout, 38 good (the
    # timeout leaves a busy machine's slow answers half a second; they take a few milliseconds)
    statuses = ",".join(["200"] * 19 + ["500"] + ["200"] * 19 + ["0"])
    with slow_server(tmp_path, 0.001, statuses, stall=1.5) as srv:
        runner, rec, _ = _runner(srv.url, Plan(calls=1000, duration=None, concurrency=16, timeout=0.5))
        assert len(runner.pids()) == 2
        runner.run()
        rec.tick()
        stats = srv.stats()
    by = stats["by_status"]
    assert stats["received"] == rec.calls == 1000
    assert rec.ok == by["200"] == 950
    assert rec.kinds["HTTP 500"].count == by["500"] == 25
    assert rec.timeouts == by["0"] == 25
    assert rec.hist.hdr.get_total_count() == 1000  # every latency in the one histogram
    assert runner.lost == 0 and runner.verdict() is None


def test_the_concurrency_in_flight_is_the_setting(tmp_path: Path) -> None:
    with slow_server(tmp_path, 0.2) as srv:
        runner, rec, _ = _runner(srv.url, Plan(calls=32, duration=None, concurrency=8, timeout=10))
        runner.run()
        rec.tick()
        stats = srv.stats()
    assert rec.calls == rec.ok == stats["answered"] == 32
    assert stats["max_in_flight"] == 8


def test_open_model_sends_the_planned_arrivals_once(tmp_path: Path) -> None:
    with slow_server(tmp_path, 0.002) as srv:
        runner, rec, _ = _runner(srv.url, Plan(calls=200, duration=None, concurrency=8, rate=200.0, timeout=10))
        runner.run()
        rec.tick()
        stats = srv.stats()
    assert rec.calls + rec.missed == 200
    assert rec.calls == stats["received"] == stats["answered"]
    assert rec.sched_hist is not None and rec.sched_hist.hdr.get_total_count() == rec.calls
    ids = [rid for _, rid, _ in srv.answers()]
    assert len(set(ids)) == len(ids) == rec.calls  # each arrival sent by one process, once


def test_abort_ends_every_load_process_within_a_second(tmp_path: Path) -> None:
    with slow_server(tmp_path, 0.5) as srv:
        runner, rec, _ = _runner(srv.url, Plan(calls=None, duration=60, concurrency=4, timeout=10))
        procs = [psutil.Process(pid) for pid in runner.pids().values()]
        th = threading.Thread(target=runner.run, daemon=True)
        th.start()
        wait_for(lambda: srv.stats()["in_flight"] == 4, WAIT, "4 calls in flight at the server")
        t0 = time.monotonic()
        runner.cancel_in_flight()
        gone = psutil.wait_procs(procs, timeout=WAIT)[0]
        took = time.monotonic() - t0
        th.join(WAIT)
        rec.tick()
        stats = srv.stats()
    assert not th.is_alive() and len(gone) == 2
    assert took < 1.0, f"load processes ended {took:.2f}s after the abort"
    assert runner.cancelled == 4
    assert rec.calls + runner.cancelled == stats["received"]


def test_a_killed_load_process_is_named_replaced_and_its_loss_bounded(tmp_path: Path) -> None:
    chaos = [
        {"name": "kill", "action": "kill_worker", "target": "load-0", "at": "1s"},
        {"name": "burst", "action": "errors", "ratio": 1.0, "at": "0.5s", "duration": "0.3s"},
    ]
    with slow_server(tmp_path, 0.01) as srv:
        prof = {
            "target": srv.url,
            "duration": 2.5,
            "concurrency": 8,
            "tick": 0.2,
            "timeout": 10,
            "http": {"load_processes": 2},
            "chaos": chaos,
        }
        stage = Stage(load_profile(None, prof), out_dir=tmp_path / "runs")
        run_dir = stage.prepare()
        code = stage.run()
        stats = srv.stats()
    events = read_events(run_dir / "events.jsonl")
    kinds = [e["kind"] for e in events]
    crash = next(e for e in events if e["kind"] == "worker_crash")
    assert "load-0" in crash["msg"] and "SIGKILL" in crash["msg"]
    assert "worker_restart" in kinds
    ends = {e["action"]: e for e in events if e["kind"] == "chaos_end"}
    assert "replaced" in ends["kill"]["detail"]
    runner = stage.runner
    assert isinstance(runner, ShardedHttpRunner)
    rec = stage.recorder
    injected = rec.kinds["ChaosInjected"].count
    assert injected > 0
    sent = rec.calls - injected  # injected failures are never sent
    assert rec.ok == sent  # the server failed nothing
    # what died with the process: sent maybe, answered maybe, never recorded; at most its chunks
    assert sent <= stats["received"] <= sent + runner.lost
    end = next(e for e in events if e["kind"] == "stage_end")
    if runner.lost:
        assert any("not recorded" in c for c in end["caveats"]), end
    assert code == 0


def test_pause_resume_and_stop_reach_every_load_process(tmp_path: Path) -> None:
    with slow_server(tmp_path, 0.05) as srv:
        runner, rec, _ = _runner(srv.url, Plan(calls=None, duration=60, concurrency=4, timeout=10))
        th = threading.Thread(target=runner.run, daemon=True)
        th.start()
        wait_for(lambda: srv.stats()["answered"] >= 20, WAIT, "20 calls answered")
        runner.pause()
        wait_for(lambda: runner.in_flight == 0 and srv.stats()["in_flight"] == 0, 2.0, "the calls in flight ended")
        paused_at = srv.stats()["received"]
        runner.resume()
        wait_for(lambda: srv.stats()["received"] >= paused_at + 20, WAIT, "20 more calls after the resume")
        runner.stop()
        th.join(WAIT)
        rec.tick()
        stats = srv.stats()
    assert not th.is_alive()
    assert rec.calls == rec.ok == stats["received"] == stats["answered"]
    assert runner.cancelled == 0


def test_a_streamed_mix_merges_per_endpoint_counts_phases_and_tokens(tmp_path: Path) -> None:
    cfg = HttpConfig.model_validate({**MIX["http"], "load_processes": 2})
    calls = 1000
    with stream_server(tmp_path, "--ttft-ms", "0", "--itl-ms", "0") as srv:
        log = EventLog(None)
        rec = Recorder(None, log, open_model=False)
        plan = Plan(calls=calls, duration=None, concurrency=8, timeout=10, seed=3)
        runner = ShardedHttpRunner(plan, rec, parse_target(srv.url), None, CASES, config=cfg)
        runner.prepare()
        runner.run()
        rec.tick()
        served = srv.counters()
    assert rec.calls == rec.ok == calls, rec.kinds
    phases = rec.callvalues.phase_summary()
    for name in ("chat", "embeddings", "models"):
        n = served["paths"][PATHS[name]]
        assert rec.value(f"requests[{name}]") == n == phases[f"endpoint:{name}"]["count"]
    assert phases["ttft"]["count"] == served["outcomes"]["ok"] == served["paths"][PATHS["chat"]]
    assert rec.value("tokens_completion") == served["tokens"] == 2 * served["outcomes"]["ok"]


def test_the_flag_sets_the_profile_field_and_a_shape_is_refused() -> None:
    from soakwatch._cli_parser import build_parser
    from soakwatch.cli import _load

    argv = ["run", "--target", "http://127.0.0.1:9/x", "--calls", "5", "--load-processes", "3"]
    args = build_parser().parse_args(argv)
    assert _load(args).http.load_processes == 3
    shape = [{"rate": 10, "for": "2s"}]
    with pytest.raises(UsageError, match="one load process"):
        load_profile(None, {"target": "http://127.0.0.1:9/x", "http": {"load_processes": 2}, "shape": shape})


def test_a_barrier_holds_every_load_process(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    with slow_server(tmp_path, 0.002) as srv:

        def barrier(at: int) -> None:  # every call before it answered, none after it sent
            stats = srv.stats()
            seen.append((at, stats["received"] if stats["in_flight"] == 0 else -1))

        plan = Plan(calls=300, duration=None, concurrency=8, timeout=10, barrier_every=100)
        rec = Recorder(None, EventLog(None), open_model=False)
        runner = ShardedHttpRunner(
            plan, rec, parse_target(srv.url), None, None, barrier, config=HttpConfig(load_processes=2)
        )
        runner.prepare()
        runner.run()
        rec.tick()
    assert seen == [(100, 100), (200, 200), (300, 300)]
    assert rec.calls == 300


def test_a_concurrency_shape_is_refused_too() -> None:
    shape = [{"concurrency": 4, "for": "2s"}]
    with pytest.raises(UsageError, match="one load process"):
        load_profile(None, {"target": "http://127.0.0.1:9/x", "http": {"load_processes": 2}, "shape": shape})


def test_load_processes_under_ray_are_refused() -> None:
    prof = {"target": "http://127.0.0.1:9/x", "calls": 5, "executor": "ray", "http": {"load_processes": 2}}
    with pytest.raises(UsageError, match="actor of its own"):
        load_profile(None, prof)


@pytest.mark.parametrize(
    ("concurrency", "cores", "shape", "want"),
    [
        (16, 2, False, 1),  # two cores: one for the stage's own process, one load process
        (64, 2, False, 1),
        (16, 8, False, 1),  # 16 slots keep one load process busy
        (64, 8, False, 4),
        (1000, 8, False, 7),  # at most the usable cores but one
        (64, 8, True, 1),  # a shape runs in one load process
        (3, 8, False, 1),
    ],
)
def test_auto_load_processes_follow_the_concurrency_and_the_cores(
    monkeypatch: pytest.MonkeyPatch, concurrency: int, cores: int, shape: bool, want: int
) -> None:
    """``load_processes = "auto"`` (the default) as the stage builds its runner: the runner it gets and
    the count its http_client event will name."""
    from soakwatch.targets import build
    from soakwatch.targets.http import HttpRunner

    monkeypatch.setattr(build, "usable_cores", lambda: cores)
    prof: dict[str, object] = {"target": "http://127.0.0.1:9/x", "concurrency": concurrency, "duration": "2s"}
    if shape:
        prof = {"target": "http://127.0.0.1:9/x", "shape": [{"concurrency": concurrency, "for": "2s"}]}
    profile = load_profile(None, prof)
    assert profile.http.load_processes == "auto"
    plan = Plan(calls=None, duration=2.0, concurrency=concurrency, timeout=5)
    rec = Recorder(None, EventLog(None), open_model=False)
    runner = build.build_runner(profile, parse_target("http://127.0.0.1:9/x"), plan, rec, None, None, None)
    assert isinstance(runner, ShardedHttpRunner if want > 1 else HttpRunner)
    assert isinstance(runner, HttpRunner) and runner._processes() == want


def test_auto_from_the_command_line() -> None:
    from soakwatch._cli_parser import build_parser
    from soakwatch.cli import _load

    argv = ["run", "--target", "http://127.0.0.1:9/x", "--calls", "5", "--load-processes", "auto"]
    assert _load(build_parser().parse_args(argv)).http.load_processes == "auto"
    with pytest.raises(UsageError, match="auto"):
        load_profile(None, {"target": "http://127.0.0.1:9/x", "http": {"load_processes": 0}})
