"""Charts of one run: which series exist in its timeline, grouped into charts on one time axis.

Every column of timeline.csv (and timeline_extra.csv) is drawn somewhere, so series that
collectors and plugins add later appear without touching this module: a column
``kind[subject]`` joins the chart of its kind (one line per subject), a plain column gets a
chart of its own. A few groups are drawn with more care: calls/s with errors/s stacked by kind
(from the ``errors`` events), latency raw and from the scheduled start, RSS with its fitted
slope, and each gate's value against its threshold over bands of its status.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from soakwatch.core.event_types import (
    Abort,
    ChaosEnd,
    ChaosStart,
    CollectorError,
    ErrorCounts,
    Event,
    NodeExit,
    NodeGaveUp,
    NodeNotReady,
    NodeRestart,
    Operator,
    Truncate,
)
from soakwatch.views.html._source import RunSource
from soakwatch.views.html._style import KIND_TITLES, MARKER_KINDS, color, unit_of

__all__ = ["Chart", "Line", "Marker", "build_charts", "markers_of", "split_column"]

#: error kinds stacked one by one; the rest are summed as "(other)"
MAX_STACKED_KINDS = 8
#: columns drawn by a dedicated chart or not at all (cumulative counters are drawn as rates)
SKIPPED = frozenset({"t", "calls", "ok", "errors", "timeouts", "rate"})
SKIPPED_KINDS = frozenset({"gate_margin"})
_LATENCY = re.compile(r"^(sched_)?(p\d+(\.\d+)?|max|mean)_ms$")
_LOAD = re.compile(r"in_flight|missed|planned_concurrency")
_OP = re.compile(r"\s(<=|>=|==|!=|<|>)\s*(-?[\d.]+)\s*(%?)")

Column = Sequence[float]


@dataclass
class Line:
    """One series of a chart: ``key`` names its values in the page's data."""

    key: str
    label: str
    color: str
    dash: bool = False
    fill: str | None = None
    step: bool = False


@dataclass
class Chart:
    id: str
    title: str
    unit: str
    lines: list[Line]
    #: [start, end, status] drawn behind the chart (gate status)
    bands: list[list[Any]] = field(default_factory=list)
    note: str = ""
    #: a chart with its own x values (a sweep's axis) instead of the page's time axis; log-log when ``log``
    x: list[float] | None = None
    x_label: str = ""
    log: bool = False


@dataclass(frozen=True)
class Marker:
    """A chaos window (``end`` set) or a moment (operator key, truncation, node exit) on every chart."""

    kind: str
    start: float
    end: float | None
    label: str


def split_column(name: str) -> tuple[str, str | None]:
    """``rss_mb[target]`` → ("rss_mb", "target"); ``rate`` → ("rate", None)."""
    if name.endswith("]") and "[" in name:
        i = name.index("[")
        return name[:i], name[i + 1 : -1]
    return name, None


def _finite(v: float) -> bool:
    return not math.isnan(v) and not math.isinf(v)


class _Builder:
    def __init__(self, src: RunSource) -> None:
        self.src = src
        self.cols: dict[str, Column] = dict(src.timeline.columns)
        self.times: Column = self.cols.get("t", [])
        self.charts: list[Chart] = []
        self.used: set[str] = set(SKIPPED)

    def add(self, chart: Chart) -> None:
        if chart.lines:
            self.charts.append(chart)

    def derived(self, key: str, values: list[float]) -> str:
        self.cols[key] = values
        return key

    # ---------------------------------------------------------------- calls and errors
    def per_second(self, counts: list[float]) -> list[float]:
        out = []
        for i, n in enumerate(counts):
            dt = self.times[i] - self.times[i - 1] if i else self.times[0]
            out.append(n / dt if dt > 0 else math.nan)
        return out

    def error_counts(self) -> dict[str, list[float]]:
        n = len(self.times)
        by_kind: dict[str, list[float]] = {}
        for ev in self.src.run.of_type(ErrorCounts):
            i = min(bisect.bisect_left(self.times, ev.t), n - 1)
            for kind, c in ev.counts.items():
                by_kind.setdefault(str(kind), [0.0] * n)[i] += float(c)
        if not by_kind:
            errs = [a + b for a, b in zip(self.cols.get("errors", []), self.cols.get("timeouts", []), strict=False)]
            if any(errs):
                by_kind["errors"] = [max(0.0, v - (errs[i - 1] if i else 0.0)) for i, v in enumerate(errs)]
        ranked = sorted(by_kind, key=lambda k: -sum(by_kind[k]))
        if len(ranked) > MAX_STACKED_KINDS:
            other = [sum(vs) for vs in zip(*(by_kind[k] for k in ranked[MAX_STACKED_KINDS - 1 :]), strict=True)]
            by_kind = {k: by_kind[k] for k in ranked[: MAX_STACKED_KINDS - 1]} | {"(other)": other}
        return {k: by_kind[k] for k in sorted(by_kind, key=lambda k: -sum(by_kind[k]))}

    def throughput(self) -> None:
        lines: list[Line] = []
        if "rate" in self.cols:
            lines.append(Line("rate", "calls/s", color(0)))
        elif "calls" in self.cols:
            calls = self.cols["calls"]
            new = [max(0.0, v - (calls[i - 1] if i else 0.0)) for i, v in enumerate(calls)]
            lines.append(Line(self.derived("calls_per_s", self.per_second(new)), "calls/s", color(0)))
        if any(_finite(v) for v in self.cols.get("planned_rate", [])):  # an open model: the schedule beside it
            lines.append(Line("planned_rate", "planned calls/s", color(1), dash=True, step=True))
            self.used.add("planned_rate")
        kinds = self.error_counts()
        stacked = [0.0] * len(self.times)
        layers: list[Line] = []
        for j, (kind, counts) in enumerate(kinds.items()):
            rate = self.per_second(counts)
            stacked = [a + (b if _finite(b) else 0.0) for a, b in zip(stacked, rate, strict=True)]
            c = color(j + 3)
            key = self.derived(f"errors_per_s[{kind}]", list(stacked))
            layers.append(Line(key, f"errors/s {kind} (stacked)", c, fill=c + "99", step=True))
        self.add(Chart("throughput", "Calls/s, errors/s stacked by kind", "/s", lines + layers[::-1]))

    # ---------------------------------------------------------------- latency, load
    def latency(self) -> None:
        names = [c for c in self.cols if _LATENCY.match(c)]
        raw = [c for c in names if not c.startswith("sched_")]
        lines = [Line(c, c.removesuffix("_ms"), color(i)) for i, c in enumerate(raw)]
        for c in (c for c in names if c.startswith("sched_")):
            base = c.removeprefix("sched_")
            i = raw.index(base) if base in raw else len(lines)
            lines.append(Line(c, f"{base.removesuffix('_ms')} from scheduled start", color(i), dash=True))
        self.used.update(names)
        self.add(Chart("latency", "Latency (ms): raw solid, from the scheduled start dashed", "ms", lines))

    def load(self) -> None:
        names = [c for c in self.cols if split_column(c)[1] is None and _LOAD.search(c) and c not in self.used]
        self.used.update(names)
        names = [c for c in names if any(_finite(v) and v != 0 for v in self.cols[c])]
        lines = [Line(c, c, color(i), step=True) for i, c in enumerate(names)]
        self.add(Chart("load", "In flight (planned by a concurrency shape) and missed arrivals", "", lines))

    # ---------------------------------------------------------------- per-kind charts
    def rss_fit(self, name: str) -> Line | None:
        sec = self.src.summary.sections.get("processes") or {}
        proc = next((p for p in sec.get("list") or [] if p.get("name") == name), None)
        slope = proc.get("slope_mb_h") if proc else None
        col = self.cols.get(f"rss_mb[{name}]")
        if not isinstance(slope, int | float) or col is None:
            return None
        warm = float(sec.get("warmup_s") or 0.0)
        s = slope / 3600.0
        pts = [(t, y) for t, y in zip(self.times, col, strict=False) if t >= warm and _finite(y)]
        if len(pts) < 2:
            return None
        icpt = statistics.median(y - s * t for t, y in pts)
        fit = [icpt + s * t if t >= warm else math.nan for t in self.times]
        key = self.derived(f"rss_fit[{name}]", fit)
        return Line(key, f"{name} fitted {slope:+.1f} MB/h", "", dash=True)

    def kind_chart(self, kind: str, columns: list[str]) -> None:
        lines: list[Line] = []
        for i, c in enumerate(columns):
            subject = split_column(c)[1] or c
            lines.append(Line(c, subject, color(i), step=kind in ("delta_lines", "alive", "restarts")))
            if kind == "rss_mb" and (fit := self.rss_fit(subject)) is not None:
                fit.color = color(i)
                lines.append(fit)
        self.add(Chart(f"kind-{kind}", KIND_TITLES.get(kind, kind), unit_of(kind), lines))

    def gate_chart(self, gate: str, row: dict[str, Any]) -> None:
        value = self.cols.get(f"gate_value[{gate}]")
        if value is None:
            return
        cond = str(row.get("condition", ""))
        lines = [Line(f"gate_value[{gate}]", "value", color(0))]
        thr = self.threshold(gate, cond, value)
        if thr is not None:
            lines.append(Line(self.derived(f"gate_threshold[{gate}]", thr), "threshold", color(3), dash=True))
        title = f"Gate {gate}: {cond} ({row.get('severity', 'fail')}, ended {row.get('status', '?')})"
        self.add(Chart(f"gate-{len(self.charts)}", title, "", lines, bands=self.gate_bands(row)))

    def threshold(self, gate: str, cond: str, value: Column) -> list[float] | None:
        """The threshold at each row: value ± margin for an inequality, the condition's number for ==/!=."""
        m = _OP.search(cond)
        margin = self.cols.get(f"gate_margin[{gate}]")
        if m is None:
            return None
        op = m.group(1)
        if op in ("==", "!=") or margin is None:
            try:
                n = float(m.group(2)) / (100.0 if m.group(3) else 1.0)
            except ValueError:
                return None
            return [n] * len(value)
        sign = 1.0 if op in ("<", "<=") else -1.0
        return [v + sign * mg for v, mg in zip(value, margin, strict=False)]

    def gate_bands(self, row: dict[str, Any]) -> list[list[Any]]:
        end = self.times[-1] if len(self.times) else 0.0
        trans = [t for t in row.get("transitions") or [] if isinstance(t, dict)]
        status = str(trans[0].get("from") if trans else row.get("status", "pass"))
        start, spans = 0.0, []
        for tr in trans:
            t = float(tr.get("t", 0.0))
            spans.append((start, t, status))
            start, status = t, str(tr.get("to"))
        spans.append((start, max(end, start), status))
        return [[a, b, st] for a, b, st in spans if b > a]

    def build(self) -> list[Chart]:
        calls = self.cols.get("calls", [])
        if any(_finite(v) and v > 0 for v in calls):  # a topology without load has no calls to chart
            self.throughput()
            self.latency()
        else:
            self.used.update(c for c in self.cols if _LATENCY.match(c))
        self.load()
        kinds: dict[str, list[str]] = {}
        for c in self.cols:
            kind, subject = split_column(c)
            if c in self.used or kind in SKIPPED_KINDS or c.startswith(("errors_per_s[", "rss_fit[", "calls_per_s")):
                continue
            kinds.setdefault(kind if subject is not None else c, []).append(c)
        gate_rows = {str(r.get("gate")): r for r in (self.src.summary.sections.get("gates") or {}).get("rows") or []}
        first = ["rss_mb", "size_kb", "lines", "delta_lines"]
        for kind in first:
            if kind in kinds:
                self.kind_chart(kind, kinds[kind])
        for c in kinds.get("gate_value", []):
            gate = split_column(c)[1] or ""
            self.gate_chart(gate, gate_rows.get(gate, {}))
        for kind in kinds:
            if kind not in first and kind != "gate_value":
                self.kind_chart(kind, kinds[kind])
        return self.charts


def _has_data(col: Column) -> bool:
    return any(_finite(v) for v in col)


def build_charts(src: RunSource) -> tuple[list[Chart], dict[str, Column]]:
    """The charts of a run and every column they draw (timeline columns and derived ones); a series
    with no value yet (a slope before its warm-up ends) is left out, and so is a chart left empty
    (except a gate's: its status bands say why it has no value)."""
    b = _Builder(src)
    charts = []
    for chart in b.build():
        with_data = [line for line in chart.lines if _has_data(b.cols[line.key])]
        if with_data or chart.bands:  # a gate never judged still shows its (insufficient data) band
            chart.lines = with_data or chart.lines
            charts.append(chart)
    keys = {line.key for ch in charts for line in ch.lines}
    return charts, {k: v for k, v in b.cols.items() if k in keys}


def _marker_kind(ev: Event) -> str | None:
    if isinstance(ev, Operator | Truncate | Abort):
        return ev.kind
    if isinstance(ev, NodeExit | NodeRestart | NodeGaveUp | NodeNotReady):
        return "node"
    if isinstance(ev, CollectorError):
        return "collector"
    return None


def markers_of(events: Sequence[Event], end: float) -> list[Marker]:
    """Chaos windows and moments worth a mark on every chart, from the events."""
    out: list[Marker] = []
    open_chaos: dict[str, tuple[float, str]] = {}
    for ev in events:
        if isinstance(ev, ChaosStart):
            open_chaos[str(ev.action)] = (ev.t, ev.message)
        elif isinstance(ev, ChaosEnd) and (began := open_chaos.pop(str(ev.action), None)) is not None:
            out.append(Marker("chaos", began[0], ev.t, began[1]))
        elif (mk := _marker_kind(ev)) is not None and mk in MARKER_KINDS:
            out.append(Marker(mk, ev.t, None, ev.message))
    out += [Marker("chaos", t0, max(end, t0), f"{msg} (not ended)") for t0, msg in open_chaos.values()]
    return sorted(out, key=lambda m: m.start)
