"""The NVML GPU collector against stand-in ``pynvml`` modules (this machine has no GPU).

With a GPU: every device's memory and utilisation and the target's memory on them reach
the timeline exactly as the fake NVML reported them (it logs each reading), the summary names
the devices and the TUI memory panel shows them. Without one: one "no GPU" line in the events
and the summary, no error and no caveat; with ``gpu = "on"`` the verdict line says it.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pytest
from rich.console import Console

from soakwatch.core.snapshot import GpuView, Snapshot
from soakwatch.tui.widgets.memory import render_memory
from tests.helpers import only_run_dir, run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def _run(tmp: Path, fake: str | None, gpu: str = "auto", env: dict[str, str] | None = None) -> tuple[int, Path, str]:
    out = tmp / "runs"
    profile = tmp / "gpu.toml"
    profile.write_text(
        'name = "gpu"\ntarget = "tests.targets.sw_targets:noop"\nisolation = "inline"\nduration = "2s"\n'
        f'[processes]\ninterval = "200ms"\ngpu = "{gpu}"\n'
    )
    paths = [str(FIXTURES / fake)] if fake else []
    repo = str(Path(__file__).parent.parent)
    full = {"PYTHONPATH": os.pathsep.join([*paths, repo]), **(env or {})}
    r = run_cli(["run", "--profile", str(profile), "--root", repo, "--no-tui", "--out-dir", str(out)], tmp, env=full)
    return r.returncode, only_run_dir(out), r.stdout + r.stderr


def _events(run_dir: Path, kind: str) -> list[dict[str, object]]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def test_devices_and_the_targets_memory_are_recorded_as_nvml_reported(tmp_path: Path) -> None:
    log = tmp_path / "nvml.log"
    code, run_dir, out = _run(tmp_path, "nvml_gpu", env={"FAKE_NVML_LOG": str(log)})
    assert code == 0, out
    readings = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    rows = []
    for name in ("timeline.csv", "timeline_extra.csv"):
        if (run_dir / name).exists():
            with (run_dir / name).open() as fh:
                rows += [r for r in csv.DictReader(fh) if r.get("gpu_mem_mb[gpu0]")]
    seen = [float(r["gpu_mem_mb[gpu0]"]) for r in rows]
    assert seen and set(seen) <= {float(mb) for dev, mb in readings if dev == 0}  # NVML's own figures
    assert max(seen) == max(mb for dev, mb in readings if dev == 0)  # the last reading is the last row's
    last = rows[-1]
    assert float(last["gpu_mem_total_mb[gpu0]"]) == 81920 and float(last["gpu_util_pct[gpu1]"]) == 41
    assert float(last["gpu_proc_mb[monitor]"]) == 500  # 300 + 200 MB; pid 1's 999 MB is not the target's
    (ev,) = _events(run_dir, "gpu")
    assert ev["devices"] == ["gpu0 Fake GPU 0", "gpu1 Fake GPU 1"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "PASSED"
    assert "- GPU sampling: gpu0 Fake GPU 0, gpu1 Fake GPU 1" in (run_dir / "summary.md").read_text()


@pytest.mark.parametrize("gpu", ["auto", "on"])
def test_no_gpu_is_one_clear_line_not_an_error(tmp_path: Path, gpu: str) -> None:
    code, run_dir, out = _run(tmp_path, "nvml_nogpu", gpu)
    assert code == 0, out
    (ev,) = _events(run_dir, "gpu")
    assert ev["msg"] == "no GPU: NVML could not start (NVMLError_DriverNotLoaded: Driver Not Loaded)"
    assert not _events(run_dir, "collector_error")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "no GPU" in (run_dir / "summary.md").read_text()
    assert summary["state"] == "PASSED"
    assert [c for c in summary["caveats"] if "GPU" in c] == ([ev["msg"]] if gpu == "on" else [])


@pytest.mark.parametrize("gpu", ["auto", "on"])
def test_without_the_package_auto_is_silent(tmp_path: Path, gpu: str) -> None:
    if any((Path(p) / "pynvml.py").exists() or (Path(p) / "pynvml").is_dir() for p in sys.path if p):
        pytest.skip("nvidia-ml-py is installed here")
    code, run_dir, out = _run(tmp_path, None, gpu)
    assert code == 0, out
    events = _events(run_dir, "gpu")
    assert len(events) == (1 if gpu == "on" else 0)
    if gpu == "on":
        assert "soakwatch[gpu]" in str(events[0]["msg"])
        assert "soakwatch[gpu]" in json.loads((run_dir / "summary.json").read_text())["verdict"]


BASE = {"seq": 1, "stage": "s", "profile": "p", "target": "t", "run_dir": "r", "state": "RUNNING", "elapsed": 1.0}


def test_the_memory_panel_shows_the_gpus() -> None:
    snap = Snapshot(
        **BASE,  # type: ignore[arg-type]
        gpus=[GpuView(name="gpu0", mem_mb=1234, total_mb=81920, util_pct=87), GpuView(name="worker-0", mem_mb=512)],
    )
    console = Console(width=80, record=True)
    console.print(render_memory(snap, height=8, width=80))
    text = console.export_text()
    assert "gpu0  1,234 / 81,920 MB  util 87%" in text and "worker-0 on GPU  512 MB" in text
    console = Console(width=80, record=True)
    empty = Snapshot(**BASE, gpu_note="no GPU: NVML found no device")  # type: ignore[arg-type]
    console.print(render_memory(empty, height=4, width=80))
    assert "no GPU: NVML found no device" in console.export_text()
