from __future__ import annotations

from pathlib import Path

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import builtin_profiles, load_profile


def test_builtins_exist_and_validate() -> None:
    names = set(builtin_profiles())
    assert {"smoke", "endurance", "final", "demo"} <= names
    assert load_profile("smoke").calls == 56
    assert load_profile("endurance").calls == 672
    assert load_profile("final").calls == 5000
    for name in names:
        load_profile(name)


def test_cli_overrides_win_and_calls_replaces_duration() -> None:
    p = load_profile("smoke", {"calls": 7, "concurrency": 3, "timeout": 2.5, "target": "m:f"})
    assert (p.calls, p.concurrency, p.timeout, p.target) == (7, 3, 2.5, "m:f")
    d = load_profile("smoke", {"duration": 90.0})
    assert d.calls is None and d.duration == 90.0


def test_set_dotted_values_are_parsed_as_toml() -> None:
    p = load_profile(
        "smoke", sets=["watch.snapshot_every=50", "rate=12.5", "isolation=inline", 'watch.files=["a.log"]']
    )
    assert p.watch.snapshot_every == 50 and p.rate == 12.5 and p.isolation == "inline"
    assert p.watch.files == ["a.log"]


def test_durations_in_profiles(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text('target = "m:f"\nduration = "30m"\ntimeout = "500ms"\n')
    p = load_profile(str(f))
    assert p.duration == 1800 and p.timeout == 0.5 and p.name == "p"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("calls = -1\n", ["calls", "-1"]),
        ('calls = 5\nconcurrency = "x"\n', ["concurrency", "'x'"]),
        ("calls = 5\nwhatever = 1\n", ["whatever"]),
        ("calls = 5\n[watch]\nsnapshot_every = 0\n", ["watch.snapshot_every", "0"]),
        ('description = "no limit"\n', ["calls", "duration"]),
        ("calls = [\n", ["not valid TOML"]),
    ],
)
def test_bad_profiles_name_file_field_value(tmp_path: Path, text: str, words: list[str]) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(UsageError) as err:
        load_profile(str(f))
    msg = str(err.value)
    assert str(f) in msg
    for w in words:
        assert w in msg, (w, msg)


def test_unknown_profile_lists_builtins() -> None:
    with pytest.raises(UsageError, match=r"unknown profile 'nope'.*smoke"):
        load_profile("nope")


def test_set_needs_key_value() -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        load_profile("smoke", sets=["novalue"])
