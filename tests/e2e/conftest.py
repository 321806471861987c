"""Shared end-to-end runs: a stage that several tests read is run once (per xdist worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

#: the xdist group of the tests that read the shared short three-node run: one worker runs it once
THREE_NODE_SHORT_GROUP = "three_node_short"


@pytest.fixture(scope="session")
def three_node_short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run dir of examples/three_node for 30 s with test_three_node's SHORT_PLAN (a kill, a pause).

    Tests that read it are marked ``xdist_group(THREE_NODE_SHORT_GROUP)`` so that, with ``--dist
    loadgroup``, they share one worker and the 30-second stage runs once, not once per test."""
    from tests.e2e.test_three_node import SHORT_PLAN, _run

    base = tmp_path_factory.mktemp("three-node-short")
    plan = base / "plan.toml"
    plan.write_text(SHORT_PLAN)
    return _run(base, "30s", plan)
