"""report.html from a run directory: self-contained, every series drawn, tables true to the summary,
a day of one-second rows small enough to open with its one-second spike still there."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from soakwatch.core.reports import build_summary
from soakwatch.sections import REPORT_SECTIONS
from soakwatch.views.html import render_run_report
from soakwatch.views.html._downsample import downsample
from tests.html_rundir import GATE_THRESHOLD_MS, write_run

#: the only URL in the page: uPlot's banner comment and licence text (not a resource)
UPLOT_HOME = "https://github.com/leeoniya/uPlot"
_URL = re.compile(r"https?://[^\s\"'<>)]+")
_DATA = re.compile(r'<script type="application/json" id="sw-data">(.*?)</script>', re.S)
_RESOURCE_ATTRS = {"src", "href", "srcset", "action", "poster", "data", "formaction", "background", "manifest"}


def page_data(html: str) -> dict[str, Any]:
    m = _DATA.search(html)
    assert m is not None, "no embedded data"
    data: dict[str, Any] = json.loads(m.group(1))
    return data


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in _RESOURCE_ATTRS and value is not None:
                self.found.append(f"{tag} {name}={value}")


def test_the_page_loads_nothing_from_the_network(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 600, 300)
    html = render_run_report(run.run_dir, REPORT_SECTIONS)
    parser = _Resources()
    parser.feed(html)
    assert parser.found == []  # no src=, href=, ... at all: scripts and styles are inline
    assert "link" not in parser.tags and "iframe" not in parser.tags and "img" not in parser.tags
    assert set(_URL.findall(html)) == {UPLOT_HOME}
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    for api in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon", "importScripts"):
        assert api not in html, api
    # and the page forbids itself any load, so a later change that adds one fails in the browser test
    assert "default-src 'none'" in html


def test_a_day_of_one_second_rows_stays_under_2mb_with_its_one_second_spike(tmp_path: Path) -> None:
    day = 24 * 3600
    run = write_run(tmp_path / "run", day, spike_at=61_234, spike_ms=5000.0)
    html = render_run_report(run.run_dir, REPORT_SECTIONS)
    assert len(html.encode()) < 2_000_000
    data = page_data(html)
    p99 = data["series"]["p99_ms"]
    assert len(p99) <= 1500 < day
    peak = max(v for v in p99 if v is not None)
    assert peak == run.spike_p99_ms
    # drawn where it happened, give or take one bucket (a day in 750 buckets: 115 s)
    at = data["x"][p99.index(peak)]
    assert abs(at - run.spike_t) <= day / 750
    # the dip of calls/s in that second survives too (the minimum of its bucket), and the gate sees the spike
    assert min(v for v in data["series"]["rate"] if v is not None) == 0.0
    assert max(v for v in data["series"]["gate_value[latency]"] if v is not None) == run.spike_p99_ms


def test_every_timeline_column_is_charted_including_ones_soakwatch_does_not_know(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 300, 150)
    data = page_data(render_run_report(run.run_dir, REPORT_SECTIONS))
    drawn = {line["key"] for chart in data["charts"] for line in chart["lines"]}
    header = (run.run_dir / "timeline.csv").read_text().splitlines()[0].split(",")
    counters_as_rates = {"t", "ts", "calls", "ok", "errors", "timeouts"}
    for col in header:
        if col in counters_as_rates or col.startswith("gate_margin["):
            continue
        assert col in drawn, col
    ids = [c["id"] for c in data["charts"]]
    assert "kind-custom_metric" in ids and ids[:2] == ["throughput", "latency"]
    assert all(key in data["series"] for key in drawn)


def test_errors_are_stacked_by_kind_and_add_up_to_the_recorded_errors(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 1000, 500)
    data = page_data(render_run_report(run.run_dir, REPORT_SECTIONS))
    (chart,) = [c for c in data["charts"] if c["id"] == "throughput"]
    stacked = [line["key"] for line in chart["lines"] if line["key"].startswith("errors_per_s[")]
    assert sorted(k[len("errors_per_s[") : -1] for k in stacked) == sorted(run.error_kinds)
    # the top of the stack (drawn first) is every error; rows are one second apart, so errors/s = errors
    top = data["series"][stacked[0]]
    assert sum(v for v in top if v) == sum(run.error_kinds.values())


def test_a_gate_is_drawn_against_its_threshold_over_its_status(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 300, 150)
    data = page_data(render_run_report(run.run_dir, REPORT_SECTIONS))
    (chart,) = [c for c in data["charts"] if c["id"].startswith("gate-")]
    keys = {line["label"]: line["key"] for line in chart["lines"]}
    thr = {v for v in data["series"][keys["threshold"]] if v is not None}
    assert thr == {GATE_THRESHOLD_MS}


def test_chaos_operator_and_truncation_are_marked_on_every_chart(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 300, 150)
    data = page_data(render_run_report(run.run_dir, REPORT_SECTIONS))
    marks = {(m["kind"], m["start"], m["end"]) for m in data["markers"]}
    assert marks == {("chaos", 100.0, 105.0), ("operator", 110.0, None), ("truncate", 120.0, None)}


def test_tables_say_the_verdict_line_and_errors_with_first_and_last_message_escaped(tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "run", 300, 150, caveats=("1 gate not judged",), error_message="<script>alert(1)</script>"
    )
    html = render_run_report(run.run_dir, REPORT_SECTIONS)
    summary = build_summary(run.run_dir, REPORT_SECTIONS)
    assert summary.verdict == "PASSED; 1 gate not judged"
    assert f'id="verdict">{summary.verdict}</div>' in html and "<li>1 gate not judged</li>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; 100" in html  # first
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 300" in html  # last


def test_a_run_without_its_end_says_so(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 120, 60, complete=False)
    html = render_run_report(run.run_dir, REPORT_SECTIONS)
    assert 'class="verdict state-incomplete"' in html and "stopped before it finished" in html
    assert page_data(html)["charts"]


def test_failed_gate_evidence_from_failures_md_is_in_the_page(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", 120, 60)
    (run.run_dir / "failures.md").write_text("# Failures\n\n## gate `latency`: fail at 61.0s\n")
    html = render_run_report(run.run_dir, REPORT_SECTIONS)
    assert "Failed gates: evidence (failures.md)" in html and "## gate `latency`: fail at 61.0s" in html


def test_downsampling_keeps_each_buckets_minimum_and_maximum() -> None:
    n = 10_000
    times = [float(i) for i in range(n)]
    col = [1.0] * n
    col[4321], col[7000] = 99.0, -5.0
    gaps = [math.nan if i % 2 else float(i) for i in range(n)]
    x, series = downsample(times, {"v": col, "gaps": gaps}, max_points=100)
    assert len(x) == 100 and x == sorted(x)
    assert max(v for v in series["v"] if v is not None) == 99.0
    assert min(v for v in series["v"] if v is not None) == -5.0
    assert None not in series["gaps"]  # NaN cells are skipped, not spread over their bucket
    assert series["gaps"][-1] == float(n - 2)
    short_x, short = downsample(times[:5], {"v": [1.0, math.nan, 3.0, 4.0, 5.0]})
    assert short_x == [0.0, 1.0, 2.0, 3.0, 4.0] and short["v"] == [1.0, None, 3.0, 4.0, 5.0]


def test_a_page_that_cannot_be_written_at_the_end_of_a_stage_is_said_not_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from soakwatch.views.html import try_write_run_report

    run = write_run(tmp_path / "run", 30, 10)
    (run.run_dir / "report.html").mkdir()  # something in the way: the page cannot replace it
    assert try_write_run_report(run.run_dir, REPORT_SECTIONS) == []
    err = capsys.readouterr().err
    assert f"{run.run_dir / 'report.html'} not written: IsADirectoryError" in err


def test_a_run_with_hundreds_of_series_gets_fewer_points_each_and_stays_under_2mb() -> None:
    from soakwatch.views.html._charts import Chart, Line
    from soakwatch.views.html._page import MIN_POINTS, render_page

    rows, n = 20_000, 300
    times = [i * 0.5 for i in range(rows)]
    columns = {f"s[{k}]": [1000.0 / 3 + k + (i % 97) * 1.234567 for i in range(rows)] for k in range(n)}
    columns["s[0]"][12_345] = 99_999.0  # one tick's spike in one series
    charts = [Chart("kind-s", "s", "", [Line(k, k, "#000") for k in columns])]
    html = render_page(title="t", head="", tables="", times=times, columns=columns, charts=charts, markers=[])
    assert len(html.encode()) < 2_000_000
    data = page_data(html)
    assert MIN_POINTS <= len(data["x"]) < 1500
    assert max(data["series"]["s[0]"]) == 99_999.0
