"""The rule scanner: a cursor over rule text that reads words, numbers, units and durations."""

from __future__ import annotations

import re

from soakwatch.config.units import parse_duration

__all__ = ["DURATION_TOKEN", "IDENT", "NUMBER", "OPS", "PCT", "UNIT", "ParseError", "Scanner"]

OPS = ("<=", ">=", "==", "!=", "<", ">")

#: a name; ``field.*`` (every key of a dict-of-counters field) too
IDENT = re.compile(r"[A-Za-z_](?:[A-Za-z0-9_]|\.(?!\*))*(?:\.\*)?")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
UNIT = re.compile(r"ms|s|m|h|d|%")
PCT = re.compile(r"p(\d+(?:\.\d+)?)$")
DURATION_TOKEN = re.compile(r"\d+(?:\.\d+)?(?:ms|s|m|h|d)?(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))*")


class ParseError(ValueError):
    """A rule text that does not parse: ``pos`` is the 0-based offset of the problem."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


class Scanner:
    """A cursor over rule text; every error carries the position (offset by ``base``)."""

    def __init__(self, text: str, base: int = 0) -> None:
        self.text = text
        self.i = 0
        self.base = base

    def error(self, message: str, at: int | None = None) -> ParseError:
        return ParseError(message, self.base + (self.i if at is None else at))

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def done(self) -> bool:
        self.skip()
        return self.i >= len(self.text)

    def peek_word(self) -> str | None:
        self.skip()
        m = IDENT.match(self.text, self.i)
        return m.group(0) if m else None

    def word(self) -> str | None:
        w = self.peek_word()
        if w is not None:
            self.i += len(w)
        return w

    def literal(self, s: str) -> bool:
        self.skip()
        if self.text.startswith(s, self.i):
            self.i += len(s)
            return True
        return False

    def op(self) -> str:
        self.skip()
        for o in OPS:
            if self.text.startswith(o, self.i):
                self.i += len(o)
                return o
        found = self.text[self.i : self.i + 2] or "the end"
        raise self.error(f"expected a comparison (<, <=, >, >=, ==, !=), found {found!r}")

    def number(self) -> tuple[float, str]:
        """A number and its unit suffix ('' when none)."""
        self.skip()
        m = NUMBER.match(self.text, self.i)
        if not m:
            found = self.text[self.i : self.i + 8] or "the end"
            raise self.error(f"expected a number, found {found!r}")
        self.i = m.end()
        u = UNIT.match(self.text, self.i)
        unit = ""
        if u and not IDENT.match(self.text, u.end()):
            unit = u.group(0)
            self.i = u.end()
        elif bad := IDENT.match(self.text, self.i):
            raise self.error(f"unknown unit {bad.group(0)!r}")
        return float(m.group(0)), unit

    def duration(self) -> float:
        self.skip()
        m = DURATION_TOKEN.match(self.text, self.i)
        if not m or not m.group(0):
            found = self.text[self.i : self.i + 8] or "the end"
            raise self.error(f"expected a duration such as 30s, 5m or 1h, found {found!r}")
        self.i = m.end()
        return parse_duration(m.group(0))

    def integer(self, what: str) -> int:
        start = self.i
        value, unit = self.number()
        if unit or value != int(value) or value < 0:
            raise self.error(f"{what} must be a whole number", at=start)
        return int(value)

    def series(self) -> str:
        self.skip()
        start = self.i
        m = IDENT.match(self.text, self.i)
        if not m:
            found = self.text[self.i : self.i + 8] or "the end"
            raise self.error(f"expected a metric name, found {found!r}")
        self.i = m.end()
        if self.i < len(self.text) and self.text[self.i] == "[":
            close = self.text.find("]", self.i)
            if close < 0:
                raise self.error("unclosed '[' in the metric name")
            if close == self.i + 1:
                raise self.error("empty subject in '[]'")
            self.i = close + 1
        return self.text[start : self.i]
