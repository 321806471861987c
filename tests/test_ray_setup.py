"""The Ray executor's setup, without a cluster: the missing extra and the refused settings are exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from soakwatch.cli import main
from soakwatch.config.errors import UsageError
from soakwatch.config.profile import load_profile
from soakwatch.targets._ray_cluster import INSTALL_HINT, import_ray


def test_without_ray_the_executor_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(UsageError, match="pip install 'soakwatch\\[ray\\]'") as info:
        import_ray()
    assert info.value.exit_code == 2 and INSTALL_HINT in str(info.value)


def test_a_shape_on_ray_is_refused_by_the_profile_a_fixed_rate_is_not() -> None:
    with pytest.raises(UsageError, match="no \\[\\[shape\\]\\]"):
        load_profile(
            None, {"target": "m:f", "executor": "ray", "isolation": "inline", "shape": [{"rate": 5, "for": 10}]}
        )
    assert load_profile(None, {"target": "m:f", "calls": 10, "rate": 5, "executor": "ray"}).rate == 5


def test_the_cli_without_ray_exits_2_before_any_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    (tmp_path / "sw_ray_noop.py").write_text("def call():\n    pass\n")
    argv = ["run", "--target", "sw_ray_noop:call", "--root", str(tmp_path), "--calls", "5", "--executor", "ray"]
    code = main([*argv, "--no-tui", "--out-dir", str(tmp_path / "runs")])
    assert code == 2
    assert INSTALL_HINT in capsys.readouterr().err


def test_node_labels_without_the_ray_executor_are_refused_by_the_profile() -> None:
    with pytest.raises(UsageError, match="ray_node_labels places the actors of executor = 'ray'"):
        load_profile(None, {"target": "m:f", "calls": 10, "ray_node_labels": {"zone": "a"}})
    profile = load_profile(None, {"target": "m:f", "calls": 10, "executor": "ray", "ray_node_labels": {"zone": "a"}})
    assert profile.ray_node_labels == {"zone": "a"}


def test_a_command_target_is_refused_on_ray() -> None:
    from soakwatch.core.recorder import Recorder
    from soakwatch.targets.ray_runner import RayRunner
    from soakwatch.targets.runner import Plan
    from soakwatch.targets.spec import TargetSpec

    runner = RayRunner(Plan(calls=1, duration=None), Recorder(None, None), TargetSpec("cmd", "echo hi"), None, None)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="Python-callable \\(module:function\\) and HTTP targets"):
        runner.prepare()
