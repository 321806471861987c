"""report.html in a real headless Chromium: every chart drew and nothing went to the console —
for a demo stage, for a stage killed with SIGKILL and rebuilt by `soakwatch report`, and for
`soakwatch compare --html` of three demo stages. Screenshots are kept as test artifacts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from soakwatch.demo import prepare_sandbox
from tests.conftest import LINEAR_SWEEP_GROUP
from tests.e2e.conftest import THREE_NODE_SHORT_GROUP
from tests.helpers import only_run_dir, run_cli
from tests.html_browser import Rendered, chromium, render
from tests.test_html_report import page_data

pytestmark = pytest.mark.e2e

DEMO_CALLS = 200
#: timeline rows the killed stage must have written before it is killed
ROWS_BEFORE_KILL = 8
WAIT_S = 90.0


def _demo(base: Path, name: str) -> Path:
    root = prepare_sandbox(base / f"engine-{name}")
    out = base / f"runs-{name}"
    args = ["demo", "--root", str(root), "--calls", str(DEMO_CALLS), "--set", "rate=200", "--out-dir", str(out)]
    r = run_cli(args, cwd=base)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    return only_run_dir(out)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    chromium()  # skip before spending a minute on stages when there is no browser
    base = tmp_path_factory.mktemp("html-demo")
    return [_demo(base, str(i)) for i in range(3)]


def _assert_every_chart_drew(page: Rendered, expected: int) -> None:
    assert page.console == [], page.console
    assert expected > 0 and page.charts == expected
    assert page.drawn == expected and page.canvases == expected
    assert page.dom.count('data-drawn="1"') == expected
    assert page.screenshot.stat().st_size > 20_000  # a page of charts, not a blank one


def test_a_demo_stage_writes_a_report_whose_every_chart_draws(demo_runs: list[Path]) -> None:
    run_dir = demo_runs[0]
    html_path = run_dir / "report.html"
    data = page_data(html_path.read_text())
    page = render(html_path, "report-demo")
    _assert_every_chart_drew(page, len(data["charts"]))
    ids = [c["id"] for c in data["charts"]]
    assert {"throughput", "latency", "kind-rss_mb", "kind-size_kb", "kind-lines", "kind-delta_lines"} <= set(ids)
    summary = json.loads((run_dir / "summary.json").read_text())
    gates = summary["sections"]["gates"]["rows"]
    assert sum(i.startswith("gate-") for i in ids) == len(gates)
    assert f'id="verdict">{summary["verdict"]}</div>' in page.dom
    for kind in summary["errors_by_kind"]:
        assert kind["kind"] in page.dom


def _wait_for(what: str, pred: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _rows(run_dir: Path) -> int:
    try:
        return max(0, len((run_dir / "timeline.csv").read_text().splitlines()) - 1)
    except OSError:
        return 0


def test_a_run_killed_with_sigkill_gets_its_report_from_soakwatch_report(tmp_path: Path) -> None:
    chromium()
    root = prepare_sandbox(tmp_path / "engine")
    out = tmp_path / "runs"
    # inline isolation: the killed stage leaves no worker processes behind
    cmd = [sys.executable, "-m", "soakwatch", "demo", "--no-tui", "--root", str(root), "--calls", "100000"]
    cmd += ["--set", "rate=50", "--set", "isolation=inline", "--out-dir", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "SOAKWATCH_ROOT"}
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_for("the run directory", lambda: out.is_dir() and any(out.iterdir()))
        run_dir = only_run_dir(out)
        _wait_for(f"{ROWS_BEFORE_KILL} timeline rows", lambda: _rows(run_dir) >= ROWS_BEFORE_KILL)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not (run_dir / "report.html").exists()
    r = run_cli(["report", str(run_dir)], cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"wrote {run_dir / 'report.html'}" in r.stdout
    html_path = run_dir / "report.html"
    data = page_data(html_path.read_text())
    page = render(html_path, "report-sigkill")
    _assert_every_chart_drew(page, len(data["charts"]))
    assert 'class="verdict state-incomplete"' in page.dom and "stopped before it finished" in page.dom
    assert len(data["x"]) == _rows(run_dir)  # every row on disk, none lost to the kill


def test_compare_html_of_three_demo_stages_overlays_them_beside_the_table(
    demo_runs: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "compare.html"
    r = run_cli(["compare", *map(str, demo_runs), "--html", str(out)], cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    assert (r.returncode == 0) == ("**No regression**" in r.stdout)
    data = page_data(out.read_text())
    page = render(out, "compare-three-demos")
    _assert_every_chart_drew(page, len(data["charts"]))
    three = ["demo #1", "demo #2", "demo #3"]
    labels = {chart["title"]: [line["label"] for line in chart["lines"]] for chart in data["charts"]}
    # a series only some runs have (an error kind the demo raised by chance) is overlaid for those runs;
    # the ones every run has (calls/s, latency) carry all three
    assert all(ls and set(ls) <= set(three) for ls in labels.values()), labels
    assert sum(ls == three for ls in labels.values()) >= 2, labels
    assert "throughput (calls/s)" in page.dom and page.dom.count("<li><b>demo #") == 3


@pytest.mark.xdist_group(LINEAR_SWEEP_GROUP)
def test_a_sweep_writes_its_scaling_charts_as_html_too(request: pytest.FixtureRequest) -> None:
    from soakwatch.views.html.sweep import SWEEP_MEASURES

    chromium()
    # the 3×3 sweep of tests/test_sweep.py, run once for both tests (tests/conftest.py); it exited 0
    _, sweep_dir = request.getfixturevalue("linear_sweep")
    report = json.loads((sweep_dir / "sweep.json").read_text())
    html_path = sweep_dir / "sweep.html"
    data = page_data(html_path.read_text())
    # one log-log chart per fitted (measure, axis), each line one setting of the other axis
    fitted = [
        (f["measure"], f["axis"])
        for f in report["fits"]
        if f["measure"] in ("throughput", "p50_ms", "p95_ms", "rss_mb")
    ]
    assert len(data["charts"]) == len(fitted) > 0
    for chart, (measure, axis) in zip(data["charts"], fitted, strict=True):
        assert chart["title"].startswith(SWEEP_MEASURES[measure]) and f" in {axis} " in chart["title"]
        assert chart["log"] and chart["x"] == [1, 2, 4] and chart["x_label"] == axis
        assert len(chart["lines"]) == 4  # three settings of the other axis and the fit
    page = render(html_path, "sweep-3x3", height=2000)
    _assert_every_chart_drew(page, len(fitted))
    assert "exponent b" in page.dom and page.dom.count("<td>PASSED</td>") == 9


@pytest.mark.xdist_group(THREE_NODE_SHORT_GROUP)
def test_a_node_topology_report_charts_node_state_and_report_fields_with_chaos_marked(
    request: pytest.FixtureRequest,
) -> None:
    from tests.e2e.test_three_node import NODES

    chromium()
    # the 30-second three-node run with SHORT_PLAN that test_three_node checks too (tests/e2e/conftest.py)
    run_dir: Path = request.getfixturevalue("three_node_short_run")
    html_path = run_dir / "report.html"
    data = page_data(html_path.read_text())
    charts = {c["id"]: c for c in data["charts"]}
    for kind in ("alive", "restarts", "committed_height", "rss_mb"):
        keys = {line["key"] for line in charts[f"kind-{kind}"]["lines"]}
        assert {f"{kind}[{n}]" for n in NODES} <= keys, kind
    chaos = [(m["start"], m["end"]) for m in data["markers"] if m["kind"] == "chaos"]
    assert len(chaos) == 2 and all(end is not None and end > start for start, end in chaos)
    page = render(html_path, "report-three-nodes")
    _assert_every_chart_drew(page, len(data["charts"]))
    assert "<h2>Nodes</h2>" in page.dom and all(f"<td>{n}</td>" in page.dom for n in NODES)
