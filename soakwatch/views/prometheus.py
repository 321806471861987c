"""``--metrics-port``: the live series in the Prometheus exposition format.

An HTTP endpoint (prometheus_client's, in its own daemon thread) serves ``/metrics``
from a custom collector. The collector does no work per call and none per scrape
beyond formatting: on every stage tick the stage hands its newest
:class:`~soakwatch.core.snapshot.Snapshot` to :meth:`MetricsExporter.update` (a stage
subscriber), which also copies the recorder's current values of every named series;
a scrape reads that pair, swapped in atomically.

Metric families (every sample labelled ``stage`` and ``run``, the run directory's name)::

    soakwatch_stage_info{target, profile}            1
    soakwatch_state{soakwatch_state=RUNNING|...}     state set, 1 for the current state
    soakwatch_elapsed_seconds, soakwatch_progress_ratio
    soakwatch_calls_total, soakwatch_errors_total, soakwatch_timeouts_total   counters
    soakwatch_errors_by_kind_total{kind}             counter per error kind
    soakwatch_error_ratio                            (errors + timeouts) / calls, whole run
    soakwatch_calls_per_second, soakwatch_in_flight
    soakwatch_latency_seconds                        summary: {quantile=0.5|0.95|0.99} over the
                                                     live window (10 s), _count and _sum whole run
    soakwatch_latency_max_seconds
    soakwatch_scheduled_latency_seconds              summary, open model only
    soakwatch_gate_status{gate, metric, severity}    0 pass, 1 warn, 2 fail, -1 no verdict yet
    soakwatch_gate_observed{gate, metric}            the value the gate judged, when numeric
    soakwatch_<kind>{subject}                        every collector series ``kind[subject]``
                                                     (rss_bytes, rss_slope, size_bytes, delta_lines, ...)

Names follow Prometheus' rules (``promtool check metrics``): counters end in ``_total``, base
units only (a series in MB, KB or ms is served in bytes or seconds: ``rss_mb`` is
``soakwatch_rss_bytes``), quantiles only in summaries.

Bound to 127.0.0.1 unless ``--metrics-addr`` says otherwise: the endpoint has no
authentication, so exposing it is the user's decision. Port 0 picks a free port. At most
16 connections are served at once and a silent one is closed after 5 s
(:mod:`soakwatch.views._metrics_server`). After the stage ends the final values are served
for ``--metrics-linger`` seconds (default :data:`METRICS_LINGER`) so a last scrape sees them.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.registry import Collector

from soakwatch.config.constants import METRICS_LINGER, STATES
from soakwatch.config.errors import UsageError
from soakwatch.core.recorder import CORE_SERIES, Recorder
from soakwatch.core.snapshot import Snapshot
from soakwatch.views._metrics_server import MetricsServer


class ObservedStage(Protocol):
    """What the exporter follows: a stage's recorder and its snapshot subscribers."""

    recorder: Recorder
    subscribers: list[Callable[[Snapshot], None]]


__all__ = ["DEFAULT_ADDR", "GATE_STATUS", "METRICS_LINGER", "MetricsExporter", "SnapshotCollector", "start_exporter"]

DEFAULT_ADDR = "127.0.0.1"
#: a series' unit suffix → (the base unit's suffix, factor to it); MB and KB are binary (processes, files)
BASE_UNITS = {"mb": ("bytes", 1024.0 * 1024.0), "kb": ("bytes", 1024.0), "ms": ("seconds", 1e-3), "s": ("seconds", 1.0)}
PREFIX = "soakwatch_"
#: gate status → number, so alert rules can say ``soakwatch_gate_status == 2``
GATE_STATUS = {"pass": 0.0, "exempt": 0.0, "warn": 1.0, "fail": 2.0}
GATE_NO_VERDICT = -1.0
QUANTILES = (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"))
#: core series exported under their own names above; the generic pass skips them
_SERIES = re.compile(r"^([^\[\]]+)(?:\[(.*)\])?$")
_BAD = re.compile(r"[^a-zA-Z0-9_]")

Values = dict[str, float]


def _metric_name(kind: str) -> tuple[str, float]:
    """The metric name of a series kind, in base units, and the factor its values are multiplied by."""
    name = _BAD.sub("_", kind).strip("_") or "series"
    head, _, unit = name.rpartition("_")
    factor = 1.0
    if head and unit.lower() in BASE_UNITS:
        base, factor = BASE_UNITS[unit.lower()]
        name = f"{head}_{base}"
    if name.endswith("_total"):  # only counters end so; these are gauges
        name = name.removesuffix("_total") + "_sum_now"
    return PREFIX + ("_" + name if name[0].isdigit() else name), factor


class SnapshotCollector(Collector):
    """Turns the newest (snapshot, series values) pair into metric families on each scrape."""

    def __init__(self) -> None:
        self._state: tuple[Snapshot, Values] | None = None

    def set(self, snap: Snapshot, values: Values) -> None:
        self._state = (snap, values)  # one reference swap: a scrape sees the old pair or the new one

    def collect(self) -> Iterator[Metric]:
        state = self._state
        if state is None:
            return
        snap, values = state
        base = ["stage", "run"]
        lv = [snap.stage, Path(snap.run_dir).name]
        info = InfoMetricFamily(PREFIX + "stage", "The stage being run", labels=base)
        info.add_metric(lv, {"target": snap.target, "profile": snap.profile})
        yield info
        st = StateSetMetricFamily(PREFIX + "state", "The stage's state", labels=base)
        st.add_metric(lv, {s: s == snap.state for s in STATES})
        yield st
        yield from self._gauges(base, lv, snap)
        yield from self._counters(base, lv, snap)
        yield from self._latency(base, lv, snap)
        yield from self._gates(base, lv, snap)
        yield from self._series(base, lv, values)

    def _gauges(self, base: list[str], lv: list[str], snap: Snapshot) -> Iterator[Metric]:
        calls = snap.calls
        ratio = (snap.errors + snap.timeouts) / calls if calls else 0.0
        gauges = [
            ("elapsed_seconds", "Seconds since the stage started", snap.elapsed),
            ("error_ratio", "(errors + timeouts) / calls over the whole stage", ratio),
            ("calls_per_second", "Calls finished per second over the last tick", snap.rate),
            ("in_flight", "Calls under way", float(snap.in_flight)),
        ]
        if snap.progress is not None:
            gauges.append(("progress_ratio", "Share of the planned calls or duration done", snap.progress))
        for name, doc, value in gauges:
            g = GaugeMetricFamily(PREFIX + name, doc, labels=base)
            g.add_metric(lv, value)
            yield g

    def _counters(self, base: list[str], lv: list[str], snap: Snapshot) -> Iterator[Metric]:
        for name, doc, value in (
            ("calls", "Calls finished", snap.calls),
            ("errors", "Calls that raised", snap.errors),
            ("timeouts", "Calls that timed out", snap.timeouts),
        ):
            c = CounterMetricFamily(PREFIX + name, doc, labels=base)
            c.add_metric(lv, float(value))
            yield c
        kinds = CounterMetricFamily(PREFIX + "errors_by_kind", "Failed calls by error kind", labels=[*base, "kind"])
        for k in snap.error_kinds:
            kinds.add_metric([*lv, k.kind], float(k.count))
        yield kinds

    def _latency(self, base: list[str], lv: list[str], snap: Snapshot) -> Iterator[Metric]:
        mean = snap.latency_run.get("mean")
        for name, doc, lat, total in (
            ("latency_seconds", "Call latency: quantiles over the live window", snap.latency, mean),
            ("scheduled_latency_seconds", "Latency from the scheduled start (open model)", snap.latency_sched, None),
        ):
            if not lat:
                continue
            m = Metric(PREFIX + name, doc, "summary")
            for key, q in QUANTILES:
                if key in lat:
                    m.add_sample(PREFIX + name, dict(zip([*base, "quantile"], [*lv, q], strict=True)), lat[key] / 1000)
            labels = dict(zip(base, lv, strict=True))
            m.add_sample(PREFIX + name + "_count", labels, float(snap.calls))
            if total is not None:
                m.add_sample(PREFIX + name + "_sum", labels, total / 1000 * snap.calls)
            yield m
        if "max" in snap.latency:
            g = GaugeMetricFamily(PREFIX + "latency_max_seconds", "Slowest call so far", labels=base)
            g.add_metric(lv, snap.latency["max"] / 1000)
            yield g

    def _gates(self, base: list[str], lv: list[str], snap: Snapshot) -> Iterator[Metric]:
        if not snap.gates:
            return
        status = GaugeMetricFamily(
            PREFIX + "gate_status",
            "Gate status: 0 pass, 1 warn, 2 fail, -1 no verdict yet",
            labels=[*base, "gate", "metric", "severity"],
        )
        observed = GaugeMetricFamily(
            PREFIX + "gate_observed", "The value the gate judged last", labels=[*base, "gate", "metric"]
        )
        for g in snap.gates:
            status.add_metric([*lv, g.name, g.metric, g.severity], GATE_STATUS.get(g.status, GATE_NO_VERDICT))
            if isinstance(g.observed, int | float) and math.isfinite(g.observed):
                observed.add_metric([*lv, g.name, g.metric], float(g.observed))
        yield status
        yield observed

    def _series(self, base: list[str], lv: list[str], values: Values) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        taken = {
            "stage_info",
            "state",
            "elapsed_seconds",
            "error_ratio",
            "calls_per_second",
            "in_flight",
            "progress_ratio",
            "calls",
            "errors",
            "timeouts",
            "errors_by_kind",
            "latency_seconds",
            "scheduled_latency_seconds",
            "latency_max_seconds",
            "gate_status",
            "gate_observed",
        }
        for series, value in sorted(values.items()):
            m = _SERIES.match(series)
            if m is None or series in CORE_SERIES or not math.isfinite(value):
                continue
            name, factor = _metric_name(m.group(1))
            if name.removeprefix(PREFIX) in taken:
                name = PREFIX + "series_" + name.removeprefix(PREFIX)
            fam = families.get(name)
            if fam is None:
                fam = families[name] = GaugeMetricFamily(
                    name, f"soakwatch series {m.group(1)}[subject]", labels=[*base, "subject"]
                )
            fam.add_metric([*lv, m.group(2) or ""], value * factor)
        yield from families.values()


class MetricsExporter:
    """The endpoint and its collector; attach it to one stage after another (a sweep) or to one."""

    def __init__(self, addr: str, port: int) -> None:
        self.collector = SnapshotCollector()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)
        try:
            self._server = MetricsServer(addr, port, self.registry)
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"cannot serve metrics on {addr}:{port}: {reason}", where="--metrics-port") from None
        self._thread = self._server.start()
        self.addr = addr
        self.port = int(self._server.server_address[1])
        self._closed = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return f"http://{host}:{self.port}/metrics"

    def attach(self, stage: ObservedStage) -> None:
        """Follow this stage: on each of its snapshots, keep it and the recorder's values."""
        recorder = stage.recorder

        def update(snap: Snapshot) -> None:
            values: Values = {}
            for name in recorder.series_names():
                v = recorder.value(name)
                if v is not None:
                    values[name] = v
            self.collector.set(snap, values)

        stage.subscribers.append(update)

    def linger(self, seconds: float) -> None:
        """Go on serving the final values for ``seconds`` (a last scrape sees them); SIGINT or
        SIGTERM ends the wait at once."""
        if seconds <= 0 or self._closed.is_set():
            return
        print(f"soakwatch: final metrics on {self.url} for {seconds:g}s more (Ctrl-C ends it)", flush=True)
        done = threading.Event()
        with _signals_set(done):
            done.wait(seconds)

    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(Exception):
            self._server.shutdown()
            self._server.server_close()


@contextlib.contextmanager
def _signals_set(done: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``done`` meanwhile (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    import signal

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in saved:
        signal.signal(sig, lambda *_: done.set())
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def start_exporter(addr: str | None, port: int | None) -> MetricsExporter | None:
    """The exporter asked for on the command line, already listening; None when not asked."""
    if port is None:
        return None
    if not 0 <= port <= 65535:
        raise UsageError("port must be 0..65535", where="--metrics-port", value=port)
    exporter = MetricsExporter(addr or DEFAULT_ADDR, port)
    print(f"soakwatch: metrics on {exporter.url}", flush=True)
    return exporter
