"""`soakwatch compare --html`: the comparison table beside the runs' charts overlaid, from run
directories written by the test (the browser test runs real stages)."""

from __future__ import annotations

from pathlib import Path

import pytest

from soakwatch.cli import main
from tests.html_rundir import write_run
from tests.test_html_report import page_data


def test_compare_html_overlays_each_series_of_every_run_on_a_relative_axis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = write_run(tmp_path / "a", 120, 60, spike_ms=900.0)
    long = write_run(tmp_path / "b", 300, 200, spike_ms=700.0)
    out = tmp_path / "cmp.html"
    code = main(["compare", str(short.run_dir), str(long.run_dir), "--html", str(out)])
    captured = capsys.readouterr()
    assert code in (0, 1) and f"wrote {out}" in captured.err
    assert ("**No regression**" in captured.out) == (code == 0)
    html = out.read_text()
    data = page_data(html)
    # one x axis: every time of both runs (seconds since each start), the longer run's end last
    assert data["x"][0] == 1.0 and data["x"][-1] == 300.0 and len(data["x"]) == 300
    charts = {c["title"]: c for c in data["charts"]}
    p99 = charts["p99 latency (ms)"]
    assert [line["label"] for line in p99["lines"]] == ["synthetic #1", "synthetic #2"]
    a, b = (data["series"][line["key"]] for line in p99["lines"])
    assert max(v for v in a if v is not None) == 900.0 and max(v for v in b if v is not None) == 700.0
    assert a[data["x"].index(61.0)] == 900.0 and a[-1] is None  # the short run has no point at 300 s
    assert "Errors/s (all kinds)" in charts and "<td>throughput (calls/s)</td>" in html  # a row of the table


def test_compare_html_to_a_path_that_cannot_be_written_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "a", 30, 10)
    bad = tmp_path / "no-such-dir" / "cmp.html"
    assert main(["compare", str(run.run_dir), "--html", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "--html" in err and str(bad) in err and "Traceback" not in err
