"""`soakwatch attach` without a run dir: the only, or the most recent, stage running on this box."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.detach_harness import cli, detached_fixture, registry_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp


def test_attach_without_a_run_dir_picks_the_most_recent_running_stage(
    detached: Callable[..., tuple[Path, int]], registry: Path
) -> None:
    first, _ = detached()
    second, _ = detached()
    done = cli(["attach"])  # no terminal here: it says which stage it chose, then that it needs one
    assert done.returncode == 2
    assert f"attaching to stage adhoc in {second} (the most recent of 2 running" in done.stderr
    assert "attach needs a terminal" in done.stderr and str(second) in done.stderr
    # the first run dir is a prefix of the second's (".../adhoc-<stamp>" and ".../adhoc-<stamp>-2"),
    # so look for it as a whole path, ended by a quote, a space or the end of a line
    named = {m.rstrip("'") for m in re.findall(r"/\S+", done.stderr)}
    assert str(first) not in named, named
    for run_dir in (first, second):
        assert cli(["ctl", str(run_dir), "abort"]).returncode == 0


def test_attach_without_a_run_dir_and_nothing_running_is_a_clear_usage_error(registry: Path) -> None:
    done = cli(["attach"])
    assert done.returncode == 2
    assert "no stage is running on this box; give RUN_DIR" in done.stderr
    assert "Traceback" not in done.stderr
