"""One rule over many subjects (``[*]``) and per-kind error gates (issue: gate semantics people hit)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from tests.gates_harness import Harness
from tests.helpers import only_run_dir, run_cli

NODES = [
    {"name": n, "path": f"r/{n}", "fields": {"committed_height": "h", "failed": "f"}}
    for n in ("node1", "node2", "node3")
]


def test_a_wildcard_subject_expands_per_node_each_named_with_it() -> None:
    h = Harness([{"name": "height stall", "metric": "committed_height[*]", "condition": "stall < 2s"}], reports=NODES)
    assert [g.name for g in h.plugin.gates] == ["height stall [node1]", "height stall [node2]", "height stall [node3]"]
    assert [g.rule.metric.text for g in h.plugin.gates] == [f"committed_height[node{i}]" for i in (1, 2, 3)]
    for i in range(10):  # node2 stops at height 3, the others go on
        h.tick(**{"committed_height[node1]": i, "committed_height[node2]": min(i, 3), "committed_height[node3]": i})
    finals = h.stop()
    assert {n: f["status"] for n, f in finals.items()} == {
        "height stall [node1]": "pass",
        "height stall [node2]": "fail",
        "height stall [node3]": "pass",
    }


def test_a_wildcard_difference_takes_the_same_subject_on_both_sides() -> None:
    gate = {"name": "lag", "metric": "committed_height[*] - failed[*]", "condition": "max < 100"}
    h = Harness([gate], reports=NODES[:2])
    assert [g.rule.metric.text for g in h.plugin.gates] == [
        "committed_height[node1] - failed[node1]",
        "committed_height[node2] - failed[node2]",
    ]


def test_a_wildcard_no_subject_has_is_refused() -> None:
    with pytest.raises(UsageError, match="no subject in this profile has nope"):
        Harness([{"name": "x", "metric": "nope[*]", "condition": "< 1"}])


def test_per_kind_error_gates() -> None:
    gates = [
        {"name": "no timeouts", "metric": "errors[Timeout]", "condition": "== 0"},
        {"name": "5xx", "metric": "error_ratio[HTTP 5*]", "condition": "< 1%", "window": "run"},
        {"name": "4xx", "metric": "error_ratio[HTTP 4*]", "condition": "< 1%", "window": "run"},
    ]
    h = Harness(gates)
    for _ in range(4):
        h.calls(100, errors=3, kind="HTTP 503")  # 3 % of the calls are 5xx, no timeouts, no 4xx
        h.tick()
    h.calls(100, errors=1, kind="HTTP 500")
    h.tick()
    g = h.gate("5xx")
    assert g.obs is not None and g.obs.value == pytest.approx(13 / 500) and g.obs.detail == "13 of 500"
    finals = h.stop()
    assert finals["5xx"]["status"] == "fail"
    assert finals["no timeouts"]["status"] == "pass" and finals["no timeouts"]["observed"] == 0
    assert finals["4xx"]["status"] == "pass"


def test_cli_accepts_a_wildcard_gate_and_reports_each_subject(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")  # validate checks the target as run does
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "v"\ntarget = "m:f"\ncalls = 1\n'
        + "".join(f'[[reports]]\nname = "n{i}"\npath = "r{i}"\nfields = {{ h = "h" }}\n' for i in (1, 2))
        + '[[gates]]\nname = "stall"\nmetric = "h[*]"\ncondition = "stall < 10s"\n'
    )
    r = run_cli(["validate", str(prof)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_an_end_of_stage_condition_is_judged_once_at_the_end() -> None:
    from soakwatch.gates.parse import parse_rule_line

    rule = parse_rule_line("errors at end == 10")
    assert rule["at_end"] is True and rule["metric"] == "errors" and rule["condition"] == "== 10"
    for total, status in ((10, "pass"), (9, "fail")):
        h = Harness([{"name": "ten", "metric": "errors", "condition": "== 10", "at_end": True}])
        for _ in range(total):
            h.calls(10, errors=1)
            h.tick()
            assert h.status("ten") == "pending"  # 3, 5, 9 errors on the way are not failures
        assert h.plugin.view()["gates"][0].why == "judged at the end of the stage"
        assert h.final("ten") == status


def test_string_and_boolean_gates() -> None:
    gates = [
        {"name": "storage", "metric": "height[node1]", "condition": '!= "stalled"'},
        {"name": "ok flag", "metric": "ok[node1]", "condition": "== true"},
    ]
    h = Harness(gates)
    for status in ("syncing", "ok", "stalled", "ok"):
        h.rec.set_text("height[node1]", status)
        h.tick(**{"ok[node1]": 1})
    view = {g.name: g for g in h.plugin.view()["gates"]}
    assert view["storage"].observed == "'ok'"
    finals = h.stop()
    assert finals["storage"]["status"] == "fail" and finals["storage"]["detail"] == "value 'stalled' at 1.0s"
    assert finals["ok flag"]["status"] == "pass"


def test_a_string_set_for_one_report_between_two_ticks_is_judged() -> None:
    # two reports between two ticks: "stalled" then "ok"; the newest alone would read as a pass
    h = Harness([{"name": "storage", "metric": "height[node1]", "condition": '!= "stalled"'}])
    h.rec.set_text("height[node1]", "ok")
    h.tick()
    h.events.now += 0.2
    h.rec.set_text("height[node1]", "stalled")
    h.events.now += 0.1
    h.rec.set_text("height[node1]", "ok")
    h.tick(0.2)
    assert h.status("storage") == "fail"
    h.tick()
    assert h.status("storage") == "pass"  # recovered: later values hold
    final = h.stop()["storage"]
    assert final["status"] == "fail" and final["detail"] == "value 'stalled' at 0.7s"
    assert final["samples"] == 3


def test_a_false_flag_for_one_report_between_two_ticks_is_judged() -> None:
    h = Harness([{"name": "ok flag", "metric": "ok[node1]", "condition": "== true"}])
    h.tick(**{"ok[node1]": 1})
    for v in (1, 0, 1):  # three reports within one tick
        h.set("ok[node1]", v)
    h.tick()
    final = h.stop()["ok flag"]
    assert final["status"] == "fail" and final["observed"] == 0 and final["samples"] == 4


def test_a_string_before_the_delay_is_not_judged() -> None:
    h = Harness([{"name": "storage", "metric": "height[node1]", "condition": '!= "stalled"', "delay": "1s"}])
    h.rec.set_text("height[node1]", "stalled")
    h.tick()
    h.rec.set_text("height[node1]", "ok")
    for _ in range(3):
        h.tick()
    assert h.final("storage") == "pass"


def test_a_string_needs_equality() -> None:
    with pytest.raises(UsageError, match="a string is compared with == or !="):
        Harness([{"name": "s", "metric": "height[node1]", "condition": '< "ok"'}])


TENTH = """
_n = 0


def every_tenth(case=None):
    global _n
    _n += 1
    if _n % 10 == 0:
        raise ValueError(f"call {_n}")
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("expected", "code"), [(10, 0), (9, 1)])
def test_errors_at_end_sees_the_last_results(tmp_path: Path, expected: int, code: int) -> None:
    # 100 fast calls end before the first tick: the final evaluation must see all ten errors
    root = tmp_path / "root"
    root.mkdir()
    (root / "tenth.py").write_text(TENTH)
    args = ["run", "--target", "tenth:every_tenth", "--root", str(root), "--calls", "100", "--isolation", "inline"]
    args += ["--no-tui", "--out-dir", str(tmp_path / "runs"), "--gate", f"errors at end == {expected}"]
    r = run_cli(args, cwd=tmp_path)
    assert r.returncode == code, r.stdout + r.stderr


STATUSES = """
import json
import os
import json
from pathlib import Path

_n = 0


def epoch(case=None):
    global _n
    _n += 1
    folder = Path(os.environ["SOAKWATCH_ROOT"]) / "reports"
    folder.mkdir(exist_ok=True)
    status = "stalled" if _n == int(os.environ["STALL_AT"]) else "ok"
    tmp = folder / f".s-{_n}.tmp"
    tmp.write_text(json.dumps({"storage": {"status": status}}))
    os.replace(tmp, folder / f"s-{_n:05d}.json")
    return _n
"""


@pytest.mark.e2e
@pytest.mark.parametrize(("stall_at", "code"), [(100, 1), (0, 0)])
def test_a_status_that_flips_for_one_report_fails_the_stage(tmp_path: Path, stall_at: int, code: int) -> None:
    # the 100th of 200 fast reports says "stalled", the ones around it "ok": every report is judged
    root = tmp_path / "root"
    root.mkdir()
    (root / "statuses.py").write_text(STATUSES)
    prof = tmp_path / "p.toml"
    prof.write_text(
        'name = "s"\ntarget = "statuses:epoch"\ncalls = 200\nisolation = "inline"\nconcurrency = 1\n'
        '[[reports]]\nname = "storage"\npath = "reports"\npattern = "s-*.json"\n'
        'fields = { status = "storage.status" }\n'
        '[[gates]]\nname = "not stalled"\nmetric = "status[storage]"\ncondition = \'!= "stalled"\'\n'
    )
    out = tmp_path / "runs"
    args = ["run", "--profile", str(prof), "--root", str(root), "--no-tui", "--out-dir", str(out)]
    r = run_cli(args, cwd=tmp_path, timeout=60, env={"STALL_AT": str(stall_at)})
    assert r.returncode == code, r.stdout + r.stderr
    reports = sorted((root / "reports").glob("s-*.json"))
    statuses = [json.loads(p.read_text())["storage"]["status"] for p in reports]
    assert len(statuses) == 200 and statuses.count("stalled") == (1 if stall_at else 0)  # the target's record
    rows = json.loads((only_run_dir(out) / "summary.json").read_text())["sections"]["gates"]["rows"]
    assert rows[0]["samples"] == 200
    assert rows[0]["status"] == ("fail" if stall_at else "pass")
    if stall_at:
        assert rows[0]["detail"].startswith("value 'stalled' at ")


def test_a_wildcard_over_a_process_kind_expands_per_worker_too() -> None:
    gate = {"name": "rss", "metric": "rss_mb[*]", "condition": "max < 100"}
    h = Harness([gate], target="m:f", isolation="process", concurrency=3, reports=NODES[:1])
    assert [g.name for g in h.plugin.gates] == ["rss [worker-0]", "rss [worker-1]", "rss [worker-2]"]
    for i in range(4):  # worker-1 grows past 100 MB, the others stay flat
        h.tick(**{"rss_mb[worker-0]": 20, "rss_mb[worker-1]": 40 + 30 * i, "rss_mb[worker-2]": 20})
    finals = h.stop()
    assert {n: f["status"] for n, f in finals.items()} == {
        "rss [worker-0]": "pass",
        "rss [worker-1]": "fail",
        "rss [worker-2]": "pass",
    }
    with pytest.raises(UsageError, match="no subject in this profile has rss_mb"):
        Harness([gate], target="m:f", isolation="inline", concurrency=3)  # no workers in one process


LEAKY_WORKER = """
import os
import time
from pathlib import Path

_kept = []
_leaker = None


def call(case=None):
    global _leaker
    if _leaker is None:  # the first worker to claim the marker leaks; it writes down its pid
        try:
            fd = os.open(Path(os.environ["SOAKWATCH_ROOT"]) / "leaker.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            _leaker = False
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            _leaker = True
    if _leaker:
        _kept.append(b"x" * (256 * 1024))  # 0.25 MB per call, touched
    time.sleep(0.01)
    return len(_kept)
"""


@pytest.mark.e2e
def test_per_worker_rss_gates_name_the_leaking_worker(tmp_path: Path) -> None:
    import csv

    root = tmp_path / "root"
    root.mkdir()
    (root / "leaky.py").write_text(LEAKY_WORKER)
    out = tmp_path / "runs"
    args = ["run", "--target", "leaky:call", "--root", str(root), "--calls", "400", "--concurrency", "2"]
    args += ["--isolation", "process", "--no-tui", "--out-dir", str(out), "--set", "processes.interval=0.1s"]
    args += ["--gate", "grows: rss_growth_start[*] max < 1.5"]
    r = run_cli(args, cwd=tmp_path, timeout=90)
    assert r.returncode == 1, r.stdout + r.stderr
    run = only_run_dir(out)
    rows = {g["gate"]: g for g in json.loads((run / "summary.json").read_text())["sections"]["gates"]["rows"]}
    assert set(rows) == {"grows [worker-0]", "grows [worker-1]"}
    leaker = int((root / "leaker.txt").read_text())  # the target's own record of which process leaked
    for slot in (0, 1):  # the monitor's own samples of each worker: growth since its first sample
        with (run / "rss" / f"worker-{slot}.csv").open() as fh:
            samples = list(csv.DictReader(fh))
        rss = [float(row["rss_mb"]) for row in samples]
        leaked = int(samples[0]["pid"]) == leaker
        assert rows[f"grows [worker-{slot}]"]["status"] == ("fail" if leaked else "pass")
        assert rows[f"grows [worker-{slot}]"]["observed_end"] == pytest.approx(max(rss) / rss[0], rel=0.02)
