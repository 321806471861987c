"""The gate rule language: metrics, conditions, windows and the one-line command-line form.

Grammar (positions in errors are 1-based columns of the text that was parsed)::

    rule      := [NAME ":"] metric condition modifier*           (--gate / --abort-on)
    metric    := TERM | TERM "-" TERM | TERM "/" TERM
    TERM      := SERIES | FUNC "(" SERIES ")"                    e.g. sum(failed_checks[node1])
    SERIES    := identifier ["[" subject "]"]                    e.g. rss_slope[target]
    FUNC      := last | min | max | mean | sum | delta | rate | count | pNN
    condition := "monotonic" | "unchanged" | "always" | "never" | "alive"
               | "strictly_increasing" | "never_decreasing" | "unique"   (per call, on record[NAME])
               | "stall" OP DURATION                             e.g. stall < 60s
               | "burst" ["(" INT ")"] OP INT                    e.g. burst(5) < 3
               | [STAT] OP NUMBER [UNIT]                         e.g. p95 < 500, < 5%, max == 0
               | ("==" | "!=") STRING | OP ("true" | "false")    e.g. != "stalled", == true
    STAT      := last | min | max | mean | sum | delta | rate | count | ratio | pNN[.N]
    OP        := < | <= | > | >= | == | !=
    modifier  := "over" WINDOW | "for" INT | "after" DURATION | "min" INT
               | "warn" | "fail" | "exempt" DURATION | "at end"
    WINDOW    := "run" | DURATION | INT "calls"

A ``%`` after a number divides it by 100; latency thresholds take ``ms`` or ``s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from soakwatch.config.units import parse_duration
from soakwatch.gates._scanner import NUMBER, OPS, PCT, ParseError, Scanner

__all__ = [
    "CALL_CHECKS",
    "OPS",
    "STATS",
    "Condition",
    "Metric",
    "ParseError",
    "Window",
    "caret",
    "parse_condition",
    "parse_metric",
    "parse_rule_line",
    "parse_window",
]

STATS = ("last", "min", "max", "mean", "sum", "delta", "rate", "count", "ratio")
#: window functions around a series in a metric: ``sum(failed[n1]) / sum(total[n1])``, ``rate(calls)``
FUNCTIONS = ("last", "min", "max", "mean", "sum", "delta", "rate", "count")
#: per-call checks of recorded values (gates/callchecks.py): judged on every value, not on ticks
CALL_CHECKS = ("strictly_increasing", "never_decreasing", "unique")
BARE_KINDS = ("monotonic", "unchanged", "always", "never", "alive", *CALL_CHECKS)
#: what ``goodput(...)`` can put a limit on (gates/stream.py)
GOODPUT_OBJECTIVES = ("ttft", "tpot", "e2el", "sched_ttft")
MODIFIERS = ("over", "for", "after", "min", "warn", "fail", "exempt", "at")

ConditionKind = Literal[
    "compare",
    "text",
    "monotonic",
    "unchanged",
    "always",
    "never",
    "alive",
    "stall",
    "burst",
    "strictly_increasing",
    "never_decreasing",
    "unique",
]


def percentile_in(stat: str) -> float | None:
    """``95`` for ``p95``, None for any other statistic."""
    m = PCT.match(stat)
    return float(m.group(1)) if m else None


def caret(text: str, pos: int) -> str:
    """The text with a caret under position ``pos``, for error messages."""
    return f"    {text}\n    {' ' * max(0, min(pos, len(text)))}^"


@dataclass(frozen=True)
class Metric:
    """What a gate reads: one series, or the difference or ratio of two, each maybe in a window function."""

    op: Literal["", "-", "/"]
    names: tuple[str, ...]
    #: the window function around each name ("" for none): ``sum(a) / sum(b)`` is ("sum", "sum")
    funcs: tuple[str, ...] = ()
    #: the objectives of ``goodput(ttft < 500ms, tpot < 50ms)``: (name, op, limit in ms)
    slo: tuple[tuple[str, str, float], ...] = ()

    def func(self, i: int) -> str:
        return self.funcs[i] if i < len(self.funcs) else ""

    @property
    def text(self) -> str:
        if self.slo:
            return f"{self.names[0]}({', '.join(f'{n} {op} {limit:g}ms' for n, op, limit in self.slo)})"
        parts = [f"{self.func(i)}({n})" if self.func(i) else n for i, n in enumerate(self.names)]
        return f" {self.op} ".join(parts) if self.op else parts[0]


@dataclass(frozen=True)
class Condition:
    """A parsed condition; ``threshold`` is in the metric's unit (seconds for stall, ms for latency)."""

    kind: ConditionKind
    stat: str | None = None
    op: str | None = None
    threshold: float | None = None
    burst_min: int = 1
    text: str = ""
    #: the string of a text condition (``== "ok"``, ``!= "stalled"``)
    value: str | None = None

    @property
    def percentile(self) -> float | None:
        if self.stat and (m := PCT.match(self.stat)):
            return float(m.group(1))
        return None


@dataclass(frozen=True)
class Window:
    """``run`` (the whole stage), the last ``size`` seconds, or the last ``size`` calls."""

    kind: Literal["run", "time", "calls"]
    size: float = 0.0

    @property
    def text(self) -> str:
        if self.kind == "run":
            return "run"
        if self.kind == "calls":
            return f"{int(self.size)} calls"
        return f"{self.size:g}s"


def _term(sc: Scanner) -> tuple[str, str]:
    """``series`` or ``FUNC(series)``: (function or "", series)."""
    sc.skip()
    word_at = sc.i
    word = sc.peek_word()
    if word is not None and sc.text.startswith("(", word_at + len(word)):
        if word not in FUNCTIONS and not PCT.match(word):
            raise sc.error(f"unknown window function {word!r} (use {', '.join(FUNCTIONS)} or pNN)", at=word_at)
        sc.i = word_at + len(word) + 1
        name = sc.series()
        if not sc.literal(")"):
            raise sc.error("expected ')' after the series")
        return word, name
    return "", sc.series()


def _goodput(sc: Scanner) -> Metric:
    """``goodput(ttft < 500ms, tpot < 50ms)``: objectives every call's stream must meet."""
    sc.word()
    sc.literal("(")
    slo: list[tuple[str, str, float]] = []
    while True:
        sc.skip()
        at = sc.i
        name = sc.word()
        if name not in GOODPUT_OBJECTIVES:
            raise sc.error(f"unknown objective {name!r} (use {', '.join(GOODPUT_OBJECTIVES)})", at=at)
        op = sc.op()
        if op not in ("<", "<="):
            raise sc.error("an objective is an upper limit: < or <=", at=at)
        num_at = sc.i
        value, unit = sc.number()
        if unit not in ("ms", "s"):
            raise sc.error("an objective is a time: give ms or s, e.g. 500ms", at=num_at)
        slo.append((name, op, value * (1000.0 if unit == "s" else 1.0)))
        if sc.literal(")"):
            return Metric("", ("goodput",), (), tuple(slo))
        if not sc.literal(","):
            raise sc.error("expected ',' or ')' after an objective")


def _metric(sc: Scanner) -> Metric:
    sc.skip()
    if sc.peek_word() == "goodput" and sc.text.startswith("(", sc.i + len("goodput")):
        return _goodput(sc)
    f1, first = _term(sc)
    save = sc.i
    sc.skip()
    ops: tuple[Literal["-"], Literal["/"]] = ("-", "/")
    for op in ops:
        if sc.text.startswith(op, sc.i) and not NUMBER.match(sc.text, sc.i):
            sc.i += 1
            f2, second = _term(sc)
            return Metric(op, (first, second), (f1, f2) if f1 or f2 else ())
    sc.i = save
    return Metric("", (first,), (f1,) if f1 else ())


def parse_metric(text: str) -> Metric:
    """A metric field: ``name``, ``name[subject]``, ``a - b`` or ``a / b``."""
    sc = Scanner(text)
    m = _metric(sc)
    if not sc.done():
        raise sc.error(f"unexpected {sc.text[sc.i :]!r} after the metric")
    return m


def _threshold(value: float, unit: str, stat: str | None, sc: Scanner, at: int) -> float:
    if unit == "%":
        return value / 100.0
    if unit in ("ms", "s", "m", "h", "d"):
        # only latency percentiles (in ms) take a time unit here
        if (stat and PCT.match(stat)) or stat == "max":
            return parse_duration(f"{value}{unit}") * 1000.0
        raise sc.error(f"a time unit ({unit}) only goes with a latency percentile or stall", at=at)
    return value


def _condition(sc: Scanner) -> Condition:
    start = sc.i
    sc.skip()
    word_at = sc.i
    word = sc.peek_word()
    if word in BARE_KINDS:
        sc.word()
        return Condition(kind=word, text=word)  # type: ignore[arg-type]
    if word == "stall":
        sc.word()
        op = sc.op()
        if op not in ("<", "<="):
            raise sc.error("stall takes < or <= (the longest time without progress allowed)", at=word_at)
        limit = sc.duration()
        return Condition(kind="stall", op=op, threshold=limit, text=f"stall {op} {limit:g}s")
    if word == "burst":
        sc.word()
        n = 1
        if sc.literal("("):
            n_at = sc.i
            n = sc.integer("the errors per window of a burst")
            if n < 1:
                raise sc.error("the errors per window of a burst must be at least 1", at=n_at)
            if not sc.literal(")"):
                raise sc.error("expected ')'")
        op = sc.op()
        if op not in ("<", "<="):
            raise sc.error("burst takes < or <= (consecutive windows allowed)", at=word_at)
        k = sc.integer("the number of consecutive windows")
        shown = f"burst({n})" if n != 1 else "burst"
        return Condition(kind="burst", op=op, threshold=float(k), burst_min=max(1, n), text=f"{shown} {op} {k}")
    stat: str | None = None
    if word is not None:
        if word not in STATS and not PCT.match(word):
            raise sc.error(
                f"unknown statistic or condition {word!r} (use last, min, max, mean, sum, delta, rate, count, ratio, "
                "pNN, monotonic, unchanged, always, never, alive, stall, burst)",
                at=word_at,
            )
        if (m := PCT.match(word)) and not 0 < float(m.group(1)) <= 100:
            raise sc.error(f"percentile out of range in {word!r}", at=word_at)
        stat = word
        sc.word()
    op = sc.op()
    sc.skip()
    if stat is None and sc.i < len(sc.text) and sc.text[sc.i] in "\"'":
        return _text_condition(sc, op, start)
    if stat is None and (word := sc.peek_word()) in ("true", "false"):
        sc.word()  # a boolean field is 1 / 0
        return Condition(kind="compare", op=op, threshold=1.0 if word == "true" else 0.0, text=f"{op} {word}")
    num_at = sc.i
    value, unit = sc.number()
    threshold = _threshold(value, unit, stat, sc, num_at)
    shown = sc.text[start : sc.i].strip()
    return Condition(kind="compare", stat=stat, op=op, threshold=threshold, text=" ".join(shown.split()))


def _text_condition(sc: Scanner, op: str, start: int) -> Condition:
    """``== "ok"`` / ``!= 'stalled'``: a string or enum field against one value."""
    quote_at = sc.i
    quote = sc.text[sc.i]
    end = sc.text.find(quote, sc.i + 1)
    if end < 0:
        raise sc.error("unclosed string", at=quote_at)
    if op not in ("==", "!="):
        raise sc.error("a string is compared with == or !=", at=quote_at)
    value = sc.text[sc.i + 1 : end]
    sc.i = end + 1
    return Condition(kind="text", op=op, value=value, text=" ".join(sc.text[start : sc.i].split()))


def parse_condition(text: str, base: int = 0) -> Condition:
    """A condition field such as ``p95 < 500``, ``< 0.05``, ``max == 0``, ``monotonic``, ``stall < 60s``."""
    sc = Scanner(text, base)
    if sc.done():
        raise sc.error("empty condition")
    cond = _condition(sc)
    if not sc.done():
        raise sc.error(f"unexpected {sc.text[sc.i :]!r} after the condition")
    return cond


def parse_window(text: str, base: int = 0) -> Window:
    """``run``, a duration (``60s``, ``5m``) or a call count (``1000 calls``)."""
    sc = Scanner(text, base)
    sc.skip()
    w = _window(sc)
    if not sc.done():
        raise sc.error(f"unexpected {sc.text[sc.i :]!r} after the window")
    return w


def _window(sc: Scanner) -> Window:
    sc.skip()
    if sc.peek_word() == "run":
        sc.word()
        return Window("run")
    start = sc.i
    m = NUMBER.match(sc.text, sc.i)
    if m:
        after = sc.text[m.end() :].lstrip()
        if after.startswith("calls") or after.startswith("call "):
            n = sc.integer("a call window")
            sc.word()
            if n <= 0:
                raise sc.error("a call window needs at least one call", at=start)
            return Window("calls", float(n))
    try:
        secs = sc.duration()
    except ParseError:
        raise sc.error("expected a window: run, a duration such as 60s, or a call count such as 1000 calls") from None
    if secs <= 0:
        raise sc.error("a window must be longer than 0 s", at=start)
    return Window("time", secs)


_NAME = re.compile(r"\s*([^:\[\]<>=!]+?)\s*:(?=\s)")


def parse_rule_line(text: str) -> dict[str, Any]:
    """The one-line form of ``--gate`` / ``--abort-on`` into the fields of a :class:`~soakwatch.config.gates.GateSpec`.

    ``errors: error_ratio < 5% over 60s for 2 after 10s min 100 exempt 30s warn``
    """
    out: dict[str, Any] = {}
    sc = Scanner(text)
    m = _NAME.match(text)
    if m:
        out["name"] = m.group(1)
        sc.i = m.end()
    if sc.done():
        raise sc.error("expected a metric and a condition, e.g. 'error_ratio < 0.05 over 60s'")
    metric = _metric(sc)
    sc.skip()
    if sc.peek_word() == "at" and sc.text[sc.i + 2 :].lstrip().startswith("end"):
        sc.word()
        sc.word()  # "errors at end == 10": judged once, at the end of the stage
        out["at_end"] = True
        sc.skip()
    cond_start = sc.i
    cond = _condition(sc)
    out["metric"] = metric.text
    out["condition"] = sc.text[cond_start : sc.i].strip()
    out["_condition_at"] = cond_start
    while not sc.done():
        at = sc.i
        word = sc.word()
        if word == "over":
            sc.skip()
            w_at = sc.i
            out["window"] = _window(sc).text
            out["_window_at"] = w_at
        elif word == "for":
            out["for"] = max(1, sc.integer("'for'"))
        elif word == "after":
            out["delay"] = sc.duration()
        elif word == "min":
            out["min_samples"] = sc.integer("'min'")
            if sc.peek_word() == "samples":
                sc.word()
        elif word in ("warn", "fail"):
            out["severity"] = word
        elif word == "exempt":
            out["exempt_during_chaos"] = sc.duration()
        elif word == "at" and sc.peek_word() == "end":
            sc.word()
            out["at_end"] = True
        else:
            found = sc.text[at:].split()[0] if sc.text[at:].split() else "the end"
            raise sc.error(
                f"unexpected {found!r} (after the condition: over WINDOW, for N, after DELAY, min N, "
                "exempt DURATION, at end, warn, fail)",
                at=at,
            )
    out.setdefault("name", f"{metric.text}{' at end' if out.get('at_end') else ''} {cond.text}")
    return out
