from __future__ import annotations

import pytest

from soakwatch.config.units import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("1.5h", 5400),
        ("250ms", 0.25),
        ("2d", 172800),
        ("1h30m", 5400),
        ("45", 45),
        (12, 12),
    ],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "10 parsecs", "-5", "1h 30x"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(3.25) == "3.2s"
    assert format_duration(125) == "2m05s"
    assert format_duration(3725) == "1h02m05s"
