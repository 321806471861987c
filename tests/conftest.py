"""Shared fixtures: a sandbox root holding the test targets, and a CLI runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

TARGETS = Path(__file__).parent / "targets"
REPO = Path(__file__).parent.parent


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
