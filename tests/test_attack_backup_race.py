"""Attack: a file swapped for a symlink while ``backup_before`` zips its folder (issue 13, case 5).

The backup used to resolve each path, check that it lay inside the root, then open it by name:
a file replaced by a link to a private file outside the root between the check and the read was
archived into the run directory. Now each file is read through a descriptor opened from the
root without following links. The race is made deterministic: the file is swapped for a link
right after soakwatch resolved its path, before it reads it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from collectors import actions
from soakwatch.core.events import EventLog

SECRET = b"outside the root: never archived\n"


def test_a_file_swapped_for_a_link_before_the_zip_step_is_not_read_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside, run = tmp_path / "root", tmp_path / "outside", tmp_path / "run"
    (root / "data").mkdir(parents=True)
    outside.mkdir()
    run.mkdir()
    secret = outside / "secret.txt"
    secret.write_bytes(SECRET)
    (root / "data" / "a.txt").write_bytes(b"a\n")
    (root / "data" / "b.txt").write_bytes(b"bb\n")
    victim = root / "data" / "a.txt"
    swapped: list[Path] = []
    resolve = Path.resolve

    def racing_resolve(self: Path, strict: bool = False) -> Path:
        out = resolve(self, strict)
        if self == victim and not swapped:  # checked: now swap it before it is read
            victim.unlink()
            os.symlink(secret, victim)
            swapped.append(victim)
        return out

    monkeypatch.setattr(Path, "resolve", racing_resolve)
    events = EventLog(None)
    [archive] = actions.backup(root, ["data"], run, events)
    monkeypatch.undo()
    assert swapped == [victim], "the race was not simulated"
    with zipfile.ZipFile(archive) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    assert contents == {"data/b.txt": b"bb\n"}
    assert all(SECRET not in data for data in contents.values())
    [ev] = [e for e in events.recent if e.kind == "backup"]
    assert (ev.data["files"], ev.data["bytes"], ev.data["skipped"]) == (1, 3, 1)
