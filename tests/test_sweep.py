"""Matrix sweeps: a 3×3 sweep of the demo engine's linear target (issue 7 must-show), fits, planning, bad input."""

from __future__ import annotations

import json
import math
import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import pytest

from soakwatch.analysis.sweep_model import CellResult, fit_exponents, shape_of
from soakwatch.config.errors import UsageError
from soakwatch.config.matrix import cells, env_name, split_params
from soakwatch.config.profile import Profile, load_profile
from soakwatch.sweep import _environment, _merge_cases, plan_cells
from tests.conftest import LINEAR_SWEEP_GROUP

SWEEP_TOML = """
name = "linear"
target = "soakwatch.demo:work"
calls = 20
isolation = "inline"
tick = 0.1

[matrix]
concurrency = [1, 2, 4]
size = [1, 2, 4]
"""


@pytest.mark.e2e
@pytest.mark.xdist_group(LINEAR_SWEEP_GROUP)
def test_3x3_sweep_of_a_linear_target_reports_exponent_near_1(
    linear_sweep: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    r, sweep_dir = linear_sweep  # the sweep ran with SWEEP_TOML and exited 0 (tests/conftest.py)
    report = json.loads((sweep_dir / "sweep.json").read_text())
    assert report["complete"] and len(report["cells"]) == 9
    assert {(c["params"]["concurrency"], c["params"]["size"]) for c in report["cells"]} == {
        (c, s) for c in (1, 2, 4) for s in (1, 2, 4)
    }
    for cell in report["cells"]:
        assert cell["calls"] == 20 and cell["state"] == "PASSED"
        assert (Path(cell["run_dir"]) / "summary.json").is_file()  # an ordinary run dir: report/compare work
        config = json.loads((Path(cell["run_dir"]) / "run_config.json").read_text())
        assert config["matrix_params"] == cell["params"]  # each cell says what it measured
        # inline: the target runs in the monitor, whose level creeps with cell order; the rise in the cell does not
        assert cell["rss_subject"] == "monitor, rise in the cell (inline target)"
    fits = {(f["measure"], f["axis"]): f for f in report["fits"]}
    by_size = fits[("p50_ms", "size")]
    assert 0.8 <= by_size["exponent"] <= 1.2, by_size
    assert by_size["shape"] == "linear"
    # the sleep does not depend on concurrency: per-call latency stays flat as it grows
    assert abs(fits[("p50_ms", "concurrency")]["exponent"]) < 0.5
    md = (sweep_dir / "sweep.md").read_text()
    assert "is **linear** in `size`" in md and "![scaling chart](sweep.svg)" in md
    assert md.count("| PASSED |") == 9
    svg = ET.parse(sweep_dir / "sweep.svg").getroot()
    assert svg.tag.endswith("svg")
    assert "latency p50 (ms) ∝ size^" in r.stdout


def _cell(i: int, params: Mapping[str, object], p50: float, tp: float) -> CellResult:
    return CellResult(i, dict(params), f"/x/{i}", 0, "PASSED", 10, 0.0, 1.0, tp, p50, p50, p50, p50, 50.0, "target")  # type: ignore[arg-type]


def test_fit_recovers_known_exponents_with_a_categorical_axis() -> None:
    axes: dict[str, list[object]] = {"a": [1, 2, 4, 8], "b": [1, 3], "mode": ["x", "y"]}
    cs = []
    for i, combo in enumerate(cells(axes)):  # type: ignore[arg-type]
        a, b, mode = float(combo["a"]), float(combo["b"]), combo["mode"]
        scale = 3.0 if mode == "y" else 1.0
        cs.append(_cell(i, combo, p50=2.0 * a**2 * b**0.5 * scale, tp=100 * a**0.9))
    got = fit_exponents(axes, cs, "p50_ms")  # type: ignore[arg-type]
    assert got is not None
    exps, r2, n = got
    assert n == 16 and r2 is not None and r2 > 0.999
    assert math.isclose(exps["a"], 2.0, abs_tol=1e-9) and math.isclose(exps["b"], 0.5, abs_tol=1e-9)
    assert "mode" not in exps
    tp = fit_exponents(axes, cs, "throughput")  # type: ignore[arg-type]
    assert tp is not None and math.isclose(tp[0]["a"], 0.9, abs_tol=1e-9)
    assert [shape_of(b) for b in (-1, 0.05, 0.5, 1.0, 2.0)] == [
        "decreasing",
        "flat",
        "sub-linear",
        "linear",
        "super-linear",
    ]
    assert fit_exponents({"mode": ["x", "y"]}, cs, "p50_ms") is None  # type: ignore[dict-item]


def test_plan_splits_profile_fields_from_target_parameters(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        SWEEP_TOML.replace("size = [1, 2, 4]", 'size = [1, 2]\n"watch.snapshot_every" = [10]\nduration = [1.5]')
    )
    profile = load_profile(str(path))
    plan = plan_cells(profile)
    assert len(plan) == 6
    first = plan[0]
    assert first.params == {"concurrency": 1, "size": 1, "watch.snapshot_every": 10, "duration": 1.5}
    assert first.target_params == {"size": 1}
    assert first.profile.concurrency == 1 and first.profile.watch.snapshot_every == 10
    assert first.profile.duration == 1.5 and first.profile.calls is None  # like --duration: replaces calls
    assert first.profile.matrix == {} and first.profile.name.startswith("linear-concurrency1-size1")
    assert split_params({"rate": 5, "agents": 3}, Profile.model_fields) == ({"rate": 5}, {"agents": 3})
    assert env_name("latency_ms") == "SOAKWATCH_PARAM_LATENCY_MS"
    assert _merge_cases(None, {"size": 2}, "x") == [{"size": 2}]
    assert _merge_cases([{"prompt": "a", "size": 9}], {"size": 2}, "x") == [{"prompt": "a", "size": 2}]
    with pytest.raises(UsageError, match="not a JSON object"):
        _merge_cases(["text"], {"size": 2}, "cases.jsonl")
    before = os.environ.get("SOAKWATCH_PARAM_SIZE")
    with _environment({"size": 4}):
        assert os.environ["SOAKWATCH_PARAM_SIZE"] == "4"
    assert os.environ.get("SOAKWATCH_PARAM_SIZE") == before


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ("size = []", "needs at least one value"),
        ("name = ['a', 'b']", "cannot be swept"),
        ("size = [1, 1]", "repeated values"),
        ("concurrency = [0, 1]", "concurrency"),
    ],
)
def test_bad_matrix_is_exit_2_before_anything_runs(tmp_path: Path, matrix: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(SWEEP_TOML.split("[matrix]")[0] + "[matrix]\n" + matrix + "\n")
    with pytest.raises(UsageError, match=message):
        plan_cells(load_profile(str(tmp_path / "bad.toml")))
    assert not (tmp_path / ".soakwatch").exists()


def test_run_refuses_a_matrix_profile_and_sweep_needs_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from soakwatch.cli import main

    (tmp_path / "sweep.toml").write_text(SWEEP_TOML)
    assert main(["run", "--profile", str(tmp_path / "sweep.toml"), "--no-tui"]) == 2
    assert "soakwatch sweep" in capsys.readouterr().err
    (tmp_path / "plain.toml").write_text(SWEEP_TOML.split("[matrix]")[0])
    assert main(["sweep", "--profile", str(tmp_path / "plain.toml")]) == 2
    assert "no [matrix] section" in capsys.readouterr().err


def test_cell_memory_is_the_targets_not_the_monitors_level() -> None:
    from soakwatch.analysis.sweep_model import cell_memory

    def procs(**rows: tuple[float, float]) -> dict[str, dict[str, object]]:
        return {n: {"rss_first_mb": first, "rss_max_mb": top} for n, (first, top) in rows.items()}

    # the monitor crept from 65.6 to 78.2 MB over the cells; the workers' sum is the figure
    assert cell_memory(procs(monitor=(70.0, 78.2), target=(30.0, 41.5))) == (41.5, "target")
    # nodes and watched processes, summed, when there are no workers
    assert cell_memory(procs(monitor=(70.0, 78.2), node1=(20.0, 25.0), node2=(21.0, 26.0))) == (
        51.0,
        "nodes and watched processes",
    )
    # inline: the monitor's rise within the cell, not its level
    rise = [cell_memory(procs(monitor=(first, first + 3.0)))[0] for first in (65.6, 70.0, 78.2)]
    assert rise == pytest.approx([3.0, 3.0, 3.0])
