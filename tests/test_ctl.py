"""`soakwatch ctl RUN_DIR COMMAND`: one command for scripts; 0 with the answer, 2 on refusal or no stage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.views.attach import ctl_request
from tests.detach_harness import cli, detached_fixture, kinds, registry_fixture, until  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("control_transport")  # every test over the Unix socket and over tcp


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["pause"], ("pause", {})),
        (["resume"], ("resume", {})),
        (["abort"], ("abort", {})),
        (["truncate"], ("truncate", {})),
        (["truncate", "state/a.json", "b.log"], ("truncate", {"files": ["state/a.json", "b.log"]})),
        (["chaos", "error_burst"], ("chaos", {"action": "error_burst"})),
        (["auto-abort", "off"], ("auto_abort", {"on": False})),
        (["auto-abort", "ON"], ("auto_abort", {"on": True})),
    ],
)
def test_ctl_words_become_stage_commands(words: list[str], expected: tuple[str, dict[str, object]]) -> None:
    assert ctl_request(words[0], words[1:]) == expected


@pytest.mark.parametrize(
    "words", [["dance"], ["chaos"], ["chaos", "a", "b"], ["auto-abort"], ["auto-abort", "maybe"], ["pause", "now"]]
)
def test_malformed_ctl_commands_are_usage_errors(words: list[str]) -> None:
    with pytest.raises(UsageError):
        ctl_request(words[0], words[1:])


def test_each_command_on_a_detached_demo(detached: Callable[..., tuple[Path, int]], tmp_path: Path) -> None:
    run_dir, _ = detached(args=["demo", "--detach", "--calls", "5000", "--out-dir", str(tmp_path / "runs")])

    def ctl(*words: str) -> tuple[int, str, str]:
        done = cli(["ctl", str(run_dir), *words])
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    assert ctl("pause") == (0, "pause: ok", "")
    code, _, err = ctl("pause")
    assert code == 2 and "not running (PAUSED)" in err
    assert ctl("resume") == (0, "resume: ok", "")
    assert ctl("auto-abort", "off") == (0, "auto_abort: ok", "")
    code, out, _ = ctl("chaos", "error_burst")
    assert code == 0 and "error_burst" in out
    code, _, err = ctl("chaos", "no_such_action")
    assert code == 2 and "unknown chaos action 'no_such_action'" in err
    until(lambda: kinds(run_dir, "chaos_end"), "the chaos action to end")
    code, out, _ = ctl("truncate")
    assert code == 0 and out.startswith("truncated")
    code, out, err = ctl("truncate", "../outside.json")  # outside the sandbox: the stage says no
    assert "refused" in out + err
    assert ctl("abort") == (0, "abort: ok", "")
    until(lambda: kinds(run_dir, "stage_end"), "the stage to end")
    actions = [e["action"] for e in kinds(run_dir, "operator")]
    assert actions[:5] == ["pause", "resume", "auto_abort", "chaos", "truncate"] and actions[-1] == "abort"
    end = kinds(run_dir, "stage_end")[0]
    assert end["exit_code"] == 3


def test_ctl_refuses_when_no_stage_runs(tmp_path: Path, registry: Path) -> None:
    done = cli(["ctl", str(tmp_path), "pause"])
    assert done.returncode == 2 and "no stage is running" in done.stderr
    done = cli(["ctl", str(tmp_path / "nope"), "pause"])
    assert done.returncode == 2 and "no such run directory" in done.stderr
    done = cli(["ctl", str(tmp_path), "dance"])
    assert done.returncode == 2 and "unknown command" in done.stderr
