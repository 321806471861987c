"""What a view shows of a gate: its subject, its condition without the metric, the unit of its value.

Views never compute metrics, so everything the gates panel and the verdict print about
a gate beyond its state is worked out here, from the checked rule and the recorder's
series units.
"""

from __future__ import annotations

import re

from soakwatch.core.recorder import Recorder
from soakwatch.gates.parse import Metric
from soakwatch.gates.rules import Rule
from soakwatch.targets.http_stream import STREAM_PHASES

__all__ = ["gate_check", "gate_subject", "gate_unit", "gate_window_s"]

_SUBJECT = re.compile(r"\[([^\]]+)\]")
#: units of the metrics that are not recorder series
_BUILTIN_UNITS = {
    "latency": "ms",
    "error_ratio": "ratio",
    "processes": "exits",
    "error_kinds": "bursts",
    "goodput": "ratio",
    **dict.fromkeys(STREAM_PHASES, "ms"),
}


def gate_subject(metric: Metric) -> str:
    """The subject(s) named in brackets by the metric, e.g. ``node2`` for ``committed_height[node2]``."""
    found: list[str] = []
    for name in metric.names:
        for m in _SUBJECT.finditer(name):
            if m.group(1) not in found:
                found.append(m.group(1))
    return ",".join(found)


def gate_check(rule: Rule) -> str:
    """The condition and window without the metric: ``stall < 5s``, ``p95 < 3 over 30s``."""
    return rule.text[len(rule.metric.text) :].strip()


def gate_unit(rule: Rule, recorder: Recorder) -> str:
    """The unit of the gate's observed value and margin."""
    c, m = rule.condition, rule.metric
    if c.kind == "stall":
        return "s"
    if c.kind not in ("compare",):
        return _BUILTIN_UNITS.get(m.names[0], "")
    name = m.names[0]
    if name in _BUILTIN_UNITS:
        return _BUILTIN_UNITS[name]
    if m.op == "/" and c.stat in (None, "ratio"):
        return "ratio"
    series = recorder.series(name)
    return series.unit if series is not None else ""


def gate_window_s(rule: Rule) -> float | None:
    """Seconds of data the gate judges; None when it judges the whole run or a count of calls."""
    w = rule.window
    if rule.condition.kind == "stall" and rule.condition.threshold is not None:
        return rule.condition.threshold
    return w.size if w.kind == "time" else None
