"""Attack: files outside the sandbox must never change (issue 13, case 5).

Each race is made deterministic: the path is swapped for a link right after the check
(wrapping the check), which is what the attack did by chance 42 times in 55 s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import collectors.actions as actions_mod
from soakwatch.collectors._diffs import DiffKeeper
from soakwatch.config.errors import SandboxError
from soakwatch.core.events import EventLog
from soakwatch.core.sandbox import inside
from soakwatch.core.sandbox_fd import read_file, replace_file, truncate_file, unlink_file
from tests.helpers import run_cli

SECRET = b"outside: must stay exactly like this\n" * 10


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "sbroot"
    (root / "state").mkdir(parents=True)
    (root / "state" / "log.txt").write_bytes(b"x" * 1000)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(SECRET)
    (outside / "private.txt").write_bytes(SECRET)
    (outside / "private.txt").chmod(0o600)
    return root, outside


def _swap_after_check(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    real = inside

    def checked_then_swapped(*args: Any, **kwargs: Any) -> Path:
        out = real(*args, **kwargs)
        swap()  # the attacker wins the race: the checked path is now a link out of the root
        return out

    monkeypatch.setattr(actions_mod, "inside", checked_then_swapped)


def test_a_truncate_raced_by_a_symlink_swap_never_truncates_outside(
    world: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, outside = world
    log = root / "state" / "log.txt"

    def swap() -> None:
        log.unlink()
        log.symlink_to(outside / "victim.txt")

    _swap_after_check(monkeypatch, swap)
    events = EventLog(None)
    with pytest.raises(SandboxError, match="link"):
        actions_mod.truncate(root, Path("state/log.txt"), events, "test")
    assert (outside / "victim.txt").read_bytes() == SECRET


def test_a_directory_swapped_for_a_link_is_refused_at_every_action(world: tuple[Path, Path]) -> None:
    root, outside = world
    (root / "state" / "log.txt").unlink()
    (root / "state").rmdir()
    (root / "state").symlink_to(outside)  # a directory on the way now leads out (chaos restore, reset, ...)
    for act in (
        lambda: truncate_file(root, "state/victim.txt", "f"),
        lambda: replace_file(root, "state/victim.txt", b"chaos", "f"),
        lambda: unlink_file(root, "state/victim.txt", "f"),
        lambda: read_file(root, "state/private.txt", "f"),
    ):
        with pytest.raises(SandboxError, match="link"):
            act()
    assert (outside / "victim.txt").read_bytes() == SECRET and (outside / "private.txt").read_bytes() == SECRET


def test_a_hard_link_to_an_outside_file_is_not_truncated(world: tuple[Path, Path], tmp_path: Path) -> None:
    root, outside = world
    link = root / "state" / "hard.txt"
    try:
        os.link(outside / "victim.txt", link)
    except OSError as exc:  # another file system
        pytest.skip(f"no hard links here: {exc}")
    with pytest.raises(SandboxError, match="hard links"):
        actions_mod.truncate(root, Path("state/hard.txt"), EventLog(None), "test")
    assert (outside / "victim.txt").read_bytes() == SECRET


def test_diffs_never_copy_a_watched_file_swapped_for_a_link(world: tuple[Path, Path], tmp_path: Path) -> None:
    root, outside = world
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    small = root / "state" / "small.json"
    small.write_text('{"a": 1}\n')
    diffs = DiffKeeper(run_dir, 64, 10, root=root.resolve())
    diffs.remember("small", small)
    small.unlink()
    small.symlink_to(outside / "private.txt")
    diffs.snapshot("small", small, "s1", "s2")
    copied = b"".join(p.read_bytes() for p in (run_dir / "diffs").glob("*")) if (run_dir / "diffs").exists() else b""
    assert b"outside: must stay" not in copied


def _profile(tmp_path: Path, root: Path, extra: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(
        f'name = "sb"\ntarget = "sw_hostile:ok"\ncalls = 3\nisolation = "inline"\nroot = "{root}"\n{extra}',
        encoding="utf-8",
    )
    return p


def test_a_refused_stage_has_not_reset_anything(world: tuple[Path, Path], sandbox: Path, tmp_path: Path) -> None:
    keep = sandbox / "state.json"
    keep.write_text("precious\n")
    # reset is fine; a chaos path outside the root is refused by a later check of the same stage
    extra = '[watch]\nreset_before = ["state.json"]\n[[chaos]]\nname = "w"\naction = "write_file"\n'
    extra += 'path = "../outside/victim.txt"\ncontent = 1\nat = "1s"\nduration = "1s"\n'
    args = ["run", "--profile", str(_profile(tmp_path, sandbox, extra)), "--no-tui"]
    res = run_cli([*args, "--out-dir", str(tmp_path / "runs")], sandbox)
    assert res.returncode == 2 and "outside the sandbox root" in res.stderr, res.stderr
    assert keep.read_text() == "precious\n"  # nothing changed before every check had passed


@pytest.mark.parametrize("which", ["slash", "home"])
def test_slash_or_home_as_root_of_a_stage_with_file_actions_is_refused(
    sandbox: Path, tmp_path: Path, which: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    root = Path("/") if which == "slash" else home
    extra = '[watch]\nreset_before = ["no-such-file.json"]\n'
    prof = _profile(tmp_path, root, extra)
    env = {"HOME": str(home)}
    for cmd in (["validate", str(prof)], ["run", "--profile", str(prof), "--no-tui", "--out-dir", str(tmp_path / "r")]):
        res = run_cli(cmd, sandbox, env=env)
        assert res.returncode == 2 and "too broad a root" in res.stderr, res.stderr
    ok = run_cli(["validate", str(prof), "--allow-broad-root"], sandbox, env=env)
    assert ok.returncode == 0 or "too broad" not in ok.stderr, ok.stderr
