"""From a :class:`~soakwatch.config.gates.GateSpec` to a checked rule: parse, check the metric, pick the kind.

Every problem becomes a :class:`RuleError` naming the gate, the field, the text and
the position, so ``soakwatch validate`` and ``run`` refuse a bad rule with exit 2
before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from soakwatch.config.gates import GateSpec
from soakwatch.gates.callchecks import CallCheck, check_call_rule
from soakwatch.gates.keyburst import KeyBurst, is_key_wildcard
from soakwatch.gates.kinds import (
    MAX_WINDOW_POINTS,
    Alive,
    Burst,
    CounterRatio,
    Judge,
    Latency,
    Predicate,
    SeriesStat,
    Stall,
)
from soakwatch.gates.metrics import unknown_metric
from soakwatch.gates.parse import (
    CALL_CHECKS,
    Condition,
    Metric,
    ParseError,
    Window,
    caret,
    parse_condition,
    parse_metric,
    parse_window,
    percentile_in,
)
from soakwatch.gates.stream import GOODPUT, STREAM_PHASES, Goodput, PhaseLatency

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile

__all__ = ["DEFAULT_MIN_CALLS", "DEFAULT_RATE_WINDOW", "Rule", "RuleError", "compile_rule"]

#: sliding window of rates and percentiles when the rule names none (whole-run-only thresholds hide bursts)
DEFAULT_RATE_WINDOW = Window("time", 60.0)
#: tumbling window of a burst rule when the rule names none
DEFAULT_BURST_WINDOW = Window("time", 10.0)
#: calls (or denominator increments) a ratio or latency window needs before it is judged
DEFAULT_MIN_CALLS = 20
#: samples a percentile of a series needs before it is a verdict (unless the gate says `min`)
PERCENTILE_MIN_SAMPLES = 20
#: the profile's default tick, for checks without a profile
DEFAULT_TICK = 0.5
#: buckets of the recorder's latency histogram (HDR layout, 1 µs .. 1 h, 3 digits)
_LATENCY_BUCKETS: int | None = None


class RuleError(ValueError):
    """A gate that cannot be judged: which field, its text and the 0-based position of the problem."""

    def __init__(self, gate: str, field: str, text: str, message: str, pos: int | None = None) -> None:
        self.gate, self.field, self.text, self.message, self.pos = gate, field, text, message, pos
        where = f" at position {pos + 1}" if pos is not None else ""
        shown = f"\n{caret(text, pos)}" if pos is not None else ""
        super().__init__(f"gate {gate!r}: {field} {text!r}: {message}{where}{shown}")


@dataclass(frozen=True)
class Rule:
    """A checked gate: its spec and what was parsed from it."""

    spec: GateSpec
    metric: Metric
    condition: Condition
    window: Window
    min_samples: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def text(self) -> str:
        """The rule in one line, as reports show it."""
        w = "" if self.condition.kind == "stall" or self.window.kind == "run" else f" over {self.window.text}"
        end = " at end" if self.spec.at_end else ""
        return f"{self.metric.text}{end} {self.condition.text}{w}"

    def judge(self) -> Judge:
        """A fresh judge for this rule (state lives in the judge)."""
        c, m, w = self.condition, self.metric, self.window
        name = m.names[0]
        if c.kind == "burst" and is_key_wildcard(name):
            return KeyBurst(m, c, w)
        if c.kind == "burst":
            return Burst(m, c, w)
        if c.kind == "alive":
            return Alive(m, c, w)
        if c.kind == "stall":
            return Stall(m, c, w)
        if c.kind in CALL_CHECKS:
            return CallCheck(m, c, w)
        if c.kind == "text":
            from soakwatch.gates.windowfn import TextIs

            return TextIs(m, c, w)
        if c.kind != "compare":
            return Predicate(m, c, w)
        if m.funcs and m.op == "/":
            from soakwatch.gates.windowfn import WindowRatio

            return WindowRatio(m, c, w)
        if m.funcs:
            return SeriesStat(m, c, w, func=m.func(0))
        if name == "latency":
            return Latency(m, c, w, _latency_buckets())
        if name in STREAM_PHASES and not m.op:
            return PhaseLatency(m, c, w)
        if name == GOODPUT:
            return Goodput(m, c, w)
        if name == "error_ratio":
            return CounterRatio(m, c, w, ("errors", "timeouts"), "calls", zero_based=True)
        if name.startswith("error_ratio[") and not m.op:
            return CounterRatio(m, c, w, (f"errors{name[len('error_ratio') :]}",), "calls", zero_based=True)
        if m.op == "/" and c.stat in (None, "ratio"):
            return CounterRatio(m, c, w, (m.names[0],), m.names[1], zero_based=False)
        return SeriesStat(m, c, w)


def _latency_buckets() -> int:
    global _LATENCY_BUCKETS
    if _LATENCY_BUCKETS is None:
        from soakwatch.core.histogram import LatencyHistogram

        _LATENCY_BUCKETS = len(LatencyHistogram().counts)
    return _LATENCY_BUCKETS


def _fail(spec: GateSpec, field: str, text: str, message: str, pos: int | None = None) -> RuleError:
    return RuleError(spec.name, field, text, message, pos)


def _check_kind(spec: GateSpec, metric: Metric, cond: Condition) -> None:
    name = metric.names[0]
    ctext = spec.condition
    special = {"latency", "error_ratio", "error_kinds", "processes", GOODPUT, *STREAM_PHASES}
    if metric.op and special & set(metric.names):
        raise _fail(spec, "metric", spec.metric, f"{sorted(special & set(metric.names))[0]} cannot be combined")
    keys = is_key_wildcard(name)
    if keys and (metric.op or metric.funcs or cond.kind != "burst"):
        raise _fail(spec, "condition", ctext, "every key of a dict field (field.*[source]) takes a burst condition", 0)
    if cond.kind == "burst" and name != "error_kinds" and not keys:
        raise _fail(spec, "condition", ctext, "burst is judged on error_kinds or on field.*[source]", 0)
    if name == "error_kinds" and cond.kind != "burst":
        raise _fail(spec, "condition", ctext, "error_kinds takes a burst condition, e.g. 'burst < 3'", 0)
    why = check_call_rule(metric, cond)
    if why:
        raise _fail(spec, "condition", ctext, why, 0)
    if cond.kind == "alive" and name != "processes":
        raise _fail(spec, "condition", ctext, "alive is judged on the metric processes", 0)
    if name == "processes" and cond.kind != "alive":
        raise _fail(spec, "condition", ctext, "processes takes the condition 'alive'", 0)
    if cond.kind != "compare" and name in ("latency", "error_ratio", GOODPUT, *STREAM_PHASES):
        raise _fail(spec, "condition", ctext, f"{name} takes a comparison, e.g. '< 0.05'", 0)
    if cond.kind == "text" and (metric.op or metric.funcs or name in special):
        raise _fail(spec, "condition", ctext, 'a string is compared with one series, e.g. status[health] == "ok"', 0)
    if metric.funcs:
        _check_functions(spec, metric, cond)
    if cond.kind != "compare":
        return
    if name == "latency" and not (cond.percentile is not None or cond.stat == "max"):
        raise _fail(spec, "condition", ctext, "latency needs a percentile or max, e.g. 'p95 < 500'", 0)
    if name in STREAM_PHASES and not (cond.percentile is not None or cond.stat == "max"):
        raise _fail(spec, "condition", ctext, f"{name} needs a percentile or max, e.g. 'p95 < 500ms'", 0)
    if name == GOODPUT and cond.stat not in (None, "ratio"):
        raise _fail(spec, "condition", ctext, "goodput is a share of the calls: write '> 95%'", 0)
    is_ratio = name == "error_ratio" or metric.op == "/"
    if name == "error_ratio" and cond.stat not in (None, "ratio"):
        raise _fail(spec, "condition", ctext, "error_ratio is a ratio: write '< 0.05' or 'ratio < 5%'", 0)
    if cond.stat == "ratio" and not is_ratio:
        raise _fail(spec, "condition", ctext, "'ratio' needs error_ratio or a metric 'a / b'", 0)


def _check_functions(spec: GateSpec, metric: Metric, cond: Condition) -> None:
    if metric.op == "-":
        raise _fail(spec, "metric", spec.metric, "window functions go around one series or both sides of a ratio", 0)
    if metric.op == "/" and not all(metric.funcs):
        raise _fail(spec, "metric", spec.metric, "a ratio of window functions needs one on each side: sum(a) / sum(b)")
    if cond.kind != "compare" or cond.stat is not None:
        where = "a comparison without a statistic, e.g. '< 5%'"
        raise _fail(spec, "condition", spec.condition, f"the metric has a window function: write {where}", 0)


def _default_window(metric: Metric, cond: Condition) -> Window:
    name = metric.names[0]
    if cond.kind == "burst":
        return DEFAULT_BURST_WINDOW
    if cond.kind != "compare":
        return Window("run")
    if name in ("error_ratio", "latency", GOODPUT) or metric.op == "/" or cond.percentile is not None:
        return DEFAULT_RATE_WINDOW
    if name.startswith("error_ratio["):
        return DEFAULT_RATE_WINDOW
    if metric.funcs and (metric.func(0) == "rate" or percentile_in(metric.func(0)) is not None):
        return DEFAULT_RATE_WINDOW
    return Window("run")


def _default_min_samples(metric: Metric, cond: Condition) -> int:
    if metric.funcs and metric.op == "/":
        return 1  # the denominator's samples: one report already carries its own counts
    if metric.names[0] in ("error_ratio", "latency", GOODPUT) or (cond.kind == "compare" and metric.op == "/"):
        return DEFAULT_MIN_CALLS
    if metric.names[0].startswith("error_ratio["):
        return DEFAULT_MIN_CALLS
    pct = cond.percentile if cond.kind == "compare" else None
    if pct is None and metric.funcs:
        pct = percentile_in(metric.func(0))
    if pct is not None:
        # a percentile of a handful of samples is one of those samples, not a verdict
        return PERCENTILE_MIN_SAMPLES
    if cond.kind == "monotonic" or cond.kind in CALL_CHECKS:
        return 2
    return 1


def compile_rule(spec: GateSpec, profile: Profile | None) -> Rule:
    """Parse and check one gate; with a profile, unknown metrics are refused too."""
    try:
        metric = parse_metric(spec.metric)
    except ParseError as exc:
        raise _fail(spec, "metric", spec.metric, exc.message, exc.pos) from None
    if profile is not None:
        offset = 0
        for part in metric.names:
            at = spec.metric.find(part, offset)
            offset = max(at, 0) + len(part)
            why = unknown_metric(part, profile)
            if why:
                raise _fail(spec, "metric", spec.metric, why, max(at, 0))
    try:
        cond = parse_condition(spec.condition)
    except ParseError as exc:
        raise _fail(spec, "condition", spec.condition, exc.message, exc.pos) from None
    _check_kind(spec, metric, cond)
    if spec.window is None:
        window = _default_window(metric, cond)
    else:
        try:
            window = parse_window(spec.window)
        except ParseError as exc:
            raise _fail(spec, "window", spec.window, exc.message, exc.pos) from None
    if cond.kind == "burst" and window.kind != "time":
        raise _fail(spec, "window", spec.window or "", "a burst window is a duration, e.g. 10s", 0)
    tick = profile.tick if profile is not None else DEFAULT_TICK
    if window.kind == "time" and cond.kind != "burst" and window.size / tick > MAX_WINDOW_POINTS:
        raise _fail(
            spec,
            "window",
            spec.window or "",
            f"a sliding window holds at most {MAX_WINDOW_POINTS} ticks ({MAX_WINDOW_POINTS * tick:g}s at "
            f"tick {tick:g}s); use 'run' for the whole stage",
            0,
        )
    min_samples = spec.min_samples if spec.min_samples is not None else _default_min_samples(metric, cond)
    return Rule(spec, metric, cond, window, min_samples)
