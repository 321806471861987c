"""Shared fixtures: a sandbox root holding the test targets, and a CLI runner."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

TARGETS = Path(__file__).parent / "targets"
REPO = Path(__file__).parent.parent


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the groups into work units
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that share a module-scoped fixture (a stage run once for the module) are one xdist group,
    so that with ``--dist loadgroup`` one worker runs them and the stage runs once, not on each worker.
    A test that names its own ``xdist_group`` keeps it."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group") is not None:
            continue
        if any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(f"module-fixture:{item.nodeid.split('::')[0]}"))


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root with the test target modules and a cases file of 1000 cases {"i": n}."""
    root = tmp_path / "root"
    root.mkdir()
    for f in TARGETS.glob("*.py"):
        shutil.copy(f, root / f.name)
    with (root / "cases.jsonl").open("w") as fh:
        for i in range(1000):
            fh.write(json.dumps({"i": i}) + "\n")
    monkeypatch.setenv("SOAKWATCH_ROOT", str(root))
    return root


@pytest.fixture(autouse=True)
def _restore_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage.prepare() exports SOAKWATCH_ROOT/SOAKWATCH_RUN_DIR for its workers; keep them out of other tests."""
    monkeypatch.delenv("SOAKWATCH_ROOT", raising=False)
    monkeypatch.delenv("SOAKWATCH_RUN_DIR", raising=False)
    monkeypatch.delenv("SOAKWATCH_SEED", raising=False)
    for name in ("SOAKWATCH_ANSWER_EVERY", "SOAKWATCH_ANSWER_SAMPLE", "SOAKWATCH_ANSWER_MAX_BYTES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["unix", "tcp"])
def control_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a control test once over each transport: the stages it starts (in this process or as
    CLI children, which inherit the variable) listen on a Unix socket or on 127.0.0.1 with a token."""
    from soakwatch.control import wire

    monkeypatch.setenv(wire.TRANSPORT_ENV, request.param)
    return str(request.param)


#: the xdist group of the tests that read the shared 3×3 sweep: one worker runs it once for all of them
LINEAR_SWEEP_GROUP = "linear_sweep"


@pytest.fixture(scope="session")
def linear_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`soakwatch sweep` of tests/test_sweep.py's 3×3 SWEEP_TOML, run once: its output and its sweep dir.

    Tests that read it are marked ``xdist_group(LINEAR_SWEEP_GROUP)`` so that, with ``--dist loadgroup``,
    they share one worker and the sweep runs once, not once per test."""
    from tests.helpers import run_cli
    from tests.test_sweep import SWEEP_TOML

    base = tmp_path_factory.mktemp("linear-sweep")
    (base / "sweep.toml").write_text(SWEEP_TOML)
    out = base / "sweeps"
    r = run_cli(["sweep", "--profile", "sweep.toml", "--out-dir", str(out)], cwd=base)
    assert r.returncode == 0, r.stdout + r.stderr
    (sweep_dir,) = out.iterdir()
    return r, sweep_dir
