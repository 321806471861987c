"""``extends``: tables merged, lists replaced, name not inherited, cycles refused; ``validate --show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.cli import main
from soakwatch.config.builtin import builtin_profiles
from soakwatch.config.profile import load_profile


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_builtin_base_is_deep_merged_and_its_lists_replaced(tmp_path: Path) -> None:
    child = write(
        tmp_path / "tier.toml",
        'extends = "smoke"\ncalls = 7\n[watch]\nsnapshot_every = 3\n'
        '[[gates]]\nname = "only"\nmetric = "error_ratio"\ncondition = "< 1%"\n',
    )
    base = load_profile("smoke")
    p = load_profile(str(child))
    assert p.name == "tier"
    assert p.calls == 7
    assert p.watch.snapshot_every == 3
    assert p.watch.files == base.watch.files and p.watch.files  # kept from the base table
    assert p.watch.unchanged == base.watch.unchanged
    assert [g.name for g in p.gates] == ["only"]  # the list is replaced, not appended to
    assert p.target == base.target


def test_a_chain_of_paths_resolves_relative_to_each_file(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    write(tmp_path / "base" / "root.toml", 'name = "root"\nduration = "1m"\nconcurrency = 3\n[http]\nmodel = "m"\n')
    write(tmp_path / "base" / "mid.toml", 'extends = "root.toml"\nconcurrency = 5\n[http]\npreset = "openai-chat"\n')
    top = write(tmp_path / "top.toml", 'extends = "base/mid.toml"\ntarget = "http://127.0.0.1:9/v1"\n')
    p = load_profile(str(top))
    assert (p.name, p.duration, p.concurrency) == ("top", 60.0, 5)
    assert (p.http.model, p.http.preset) == ("m", "openai-chat")


def test_a_cycle_is_refused_with_exit_2_naming_the_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a.toml", 'extends = "b.toml"\ncalls = 1\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    assert main(["validate", str(tmp_path / "a.toml")]) == 2
    err = capsys.readouterr().err
    assert "cycle: a.toml → b.toml → a.toml" in err
    assert "Traceback" not in err


def test_an_unknown_base_names_the_builtins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "a.toml", 'extends = "smok"\ncalls = 1\n')
    assert main(["validate", str(tmp_path / "a.toml")]) == 2
    err = capsys.readouterr().err
    assert "extends" in err and "smoke" in err


def test_validate_show_prints_the_resolved_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    child = write(tmp_path / "tier.toml", 'extends = "smoke"\n[watch]\nsnapshot_every = 3\n')
    # validate makes run's checks, so the target must import: the demo engine stands in for smoke's
    argv = ["validate", str(child), "--show", "--set", "concurrency=6", "--target", "soakwatch.demo:run_model"]
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    smoke = load_profile(str(builtin_profiles()["smoke"]))
    assert shown["concurrency"] == 6
    assert shown["watch"]["snapshot_every"] == 3
    assert shown["watch"]["files"] == smoke.watch.files
    assert shown["calls"] == smoke.calls
    assert shown["extends"] == "smoke"
