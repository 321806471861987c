"""soakwatch.core.sandbox: paths resolved (symlinks, '..') and refused outside the root."""

from __future__ import annotations

from pathlib import Path

import pytest

from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.core.sandbox import check_glob, glob_inside, inside, is_inside, static_prefix


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "state").mkdir(parents=True)
    (r / "state" / "a.json").write_text("{}")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.json").write_text("{}")
    return r


def test_inside_resolves_relative_paths(root: Path) -> None:
    assert inside(root, "state/a.json", "watch.files") == (root / "state" / "a.json").resolve()
    assert inside(root, "state/../state/a.json", "f") == (root / "state" / "a.json").resolve()
    assert inside(root, "state/not-yet.json", "f").name == "not-yet.json"
    assert is_inside(root, "state")


def test_dotdot_out_of_the_root_is_refused(root: Path) -> None:
    with pytest.raises(SandboxError) as err:
        inside(root, "state/../../outside/secret.json", "watch.reset_before")
    assert isinstance(err.value, UsageError)
    msg = str(err.value)
    assert "watch.reset_before" in msg and "state/../../outside/secret.json" in msg and "outside the sandbox" in msg


def test_symlink_out_of_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    (root / "state" / "link").symlink_to(tmp_path / "outside")
    (root / "evil.json").symlink_to(tmp_path / "outside" / "secret.json")
    with pytest.raises(SandboxError):
        inside(root, "state/link/secret.json", "f")
    with pytest.raises(SandboxError):
        inside(root, "evil.json", "f")
    assert not is_inside(root, "evil.json")


def test_absolute_paths(root: Path, tmp_path: Path) -> None:
    assert inside(root, root / "state" / "a.json", "f").is_file()
    with pytest.raises(SandboxError):
        inside(root, tmp_path / "outside" / "secret.json", "f")


def test_globs(root: Path, tmp_path: Path) -> None:
    assert static_prefix("state/**/*.json") == "state"
    assert static_prefix("*.json") == "."
    assert [p.name for p in glob_inside(root, "state/*.json", "f")] == ["a.json"]
    with pytest.raises(SandboxError):
        check_glob(root, "../outside/*.json", "f")
    with pytest.raises(SandboxError):
        check_glob(root, "state/*/../../../outside/*", "f")
    (root / "state" / "z.json").symlink_to(tmp_path / "outside" / "secret.json")
    with pytest.raises(SandboxError):
        glob_inside(root, "state/*.json", "watch.files[0]")
