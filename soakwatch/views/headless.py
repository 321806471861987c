"""The headless view: status lines, notable events and a final summary table.

Used with ``--no-tui`` and whenever stdout is not a terminal. On a terminal it
prints with Rich; otherwise plain lines, one per status or event, for CI logs.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from soakwatch.config.safetext import safe_str
from soakwatch.config.units import format_duration
from soakwatch.core.format import fmt_ms, fmt_rate
from soakwatch.core.snapshot import Snapshot
from soakwatch.core.summary import Summary
from soakwatch.views.endpoints_report import endpoint_lines
from soakwatch.views.tokens_report import tokens_line

__all__ = ["HeadlessView", "fmt_ms", "print_summary", "render_summary", "status_line"]

#: event kinds a person wants to see as they happen (errors: only the first few per kind)
NOTABLE = {
    "stage_start",
    "stage_end",
    "worker_crash",
    "worker_restart",
    "hang",
    "operator",
    "signal",
    "abort",
    "abort_suppressed",
    "nodes_failed",
    "gate",
    "chaos_start",
    "chaos_end",
    "truncate",
    "reset",
    "backup",
    "size_warning",
    "integrity",
    "snapshot",
    "plugin_error",
    "runner_error",
    "collector_error",
    "corrupt_read",
    "insufficient_data",
    "view_error",
    "suspended",
    "write_error",
}
ERRORS_SHOWN_PER_KIND = 3
#: lines waiting for a slow reader before newer ones are dropped (10 min of status lines at the default 5 s)
QUEUE_LINES = 128
#: how long the end of a run waits for a slow reader to take the last lines and the summary
CLOSE_WAIT = 5.0


def status_line(s: Snapshot) -> str:
    """One line: progress, rate, errors, latency, memory."""
    if s.planned_calls:
        prog = f"{s.calls}/{s.planned_calls} ({100 * s.calls / s.planned_calls:.0f}%)"
    elif s.planned_duration:
        prog = f"{s.calls} calls, {format_duration(s.elapsed)}/{format_duration(s.planned_duration)}"
    else:
        prog = f"{s.calls} calls"
    lat = s.latency if not s.finished else (s.latency_run or s.latency)
    rate = s.rate_avg if s.finished else s.rate
    failed = s.errors + s.timeouts
    parts = [
        f"[{format_duration(s.elapsed):>8}] {s.state:<8} {prog}",
        fmt_rate(rate) + (" avg" if s.finished else ""),
        f"err {failed}" + (f" ({failed / s.calls:.2%})" if s.calls else ""),
        f"p50 {fmt_ms(lat.get('p50', 0))} p95 {fmt_ms(lat.get('p95', 0))}",
    ]
    if s.open_model and not s.finished:
        parts[1] += f" of {s.planned_rate or 0:,.0f}/s planned, {s.in_flight} in flight"
    elif (levels := s.series.get("planned_concurrency")) and not s.finished:  # a concurrency [[shape]]
        parts[1] += f", {s.in_flight} in flight of {levels[-1]:,.0f} planned"
    if s.open_model:
        parts.append(f"missed {s.missed_arrivals}")
    if s.latency_sched and not s.finished:  # the final table gives both over the whole run
        parts.append(f"sched p95 {fmt_ms(s.latency_sched.get('p95', 0))}")
    mem = [f"{p.name} {p.rss_mb:.0f}MB" for p in s.processes[:4]]
    if mem:
        parts.append("rss " + " ".join(mem))
    return " | ".join(parts)


class HeadlessView:
    """A snapshot subscriber that prints, and never makes the stage wait for its reader.

    The stage thread only formats lines and puts them in a bounded queue; a writer thread
    of its own does the (possibly blocking) writes. A reader that stops reading (``| sleep``,
    a stopped pager, a full pipe) costs the stage nothing: once :data:`QUEUE_LINES` lines
    wait, newer ones are dropped and counted (:attr:`dropped`, an ``output_dropped`` event
    through ``on_drop``), so the stage ends, answers signals and writes its reports.

    Without ``out`` the lines go to standard output's file descriptor with ``os.write``, never
    through ``sys.stdout``, so a writer stuck in a full pipe holds no lock the interpreter
    needs at exit.
    """

    def __init__(
        self,
        status_every: float = 5.0,
        out: TextIO | None = None,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.out = out
        self.status_every = status_every
        self.on_drop = on_drop
        self._last_status = float("-inf")  # the first snapshot always prints a status
        self._errors_shown: dict[str, int] = {}
        self._fd = -1
        if out is None:
            try:
                self._fd = sys.stdout.fileno()
            except (OSError, ValueError, AttributeError):  # a stdout with no descriptor (captured): write to it
                self.out = sys.stdout
        self._queue: queue.Queue[str | None] = queue.Queue(QUEUE_LINES)
        #: lines dropped because the reader did not keep up
        self.dropped = 0
        self._drops_told = 0
        self._closed = False
        self._writer = threading.Thread(target=self._write_loop, name="headless-writer", daemon=True)
        self._writer.start()

    def __call__(self, snap: Snapshot) -> None:
        for ev in snap.events:
            if ev.kind == "error":
                kind = ev.message.split(":", 1)[0]
                n = self._errors_shown.get(kind, 0)
                self._errors_shown[kind] = n + 1
                if n >= ERRORS_SHOWN_PER_KIND:
                    continue
                if n + 1 == ERRORS_SHOWN_PER_KIND:
                    self.print(f"  {ev.t:8.1f}s error  {ev.message} (further {kind} not shown)")
                    continue
            elif ev.kind not in NOTABLE:
                continue
            self.print(f"  {ev.t:8.1f}s {ev.level:<5}  {ev.message}")
        now = time.monotonic()
        if snap.finished or now - self._last_status >= self.status_every:
            self._last_status = now
            self.print(status_line(snap))
        if self.dropped != self._drops_told and (snap.finished or self._drops_told == 0):
            self._drops_told = self.dropped
            if self.on_drop is not None:
                self.on_drop(self.dropped)

    def print(self, text: str) -> None:
        """Queue ``text`` (a line, or several) for the writer; never blocks, drops when the queue is full."""
        if self._closed:
            return
        try:
            self._queue.put_nowait(safe_str(text) + "\n")
        except queue.Full:
            self.dropped += 1

    def close(self, timeout: float = CLOSE_WAIT) -> bool:
        """Let the writer finish what is queued for up to ``timeout`` s; True when all of it was written."""
        deadline = time.monotonic() + timeout
        if not self._closed:
            self._closed = True
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)
        self._writer.join(max(0.0, deadline - time.monotonic()))
        return not self._writer.is_alive()

    def _write_loop(self) -> None:
        while (text := self._queue.get()) is not None:
            try:
                if self.out is not None:
                    self.out.write(text)
                    self.out.flush()
                else:
                    _write_all(self._fd, text.encode("utf-8", "backslashreplace"))
            except (OSError, ValueError):  # the reader is gone (EPIPE) or the file closed: stop writing
                self._closed = True
                return


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def print_summary(summary: Summary, out: TextIO | None = None) -> None:
    """The final table: Rich on a terminal, plain text otherwise."""
    out = out or sys.stdout
    out.write(render_summary(summary, out.isatty()))
    out.flush()


def render_summary(summary: Summary, tty: bool = False) -> str:
    """The final table as text: Rich (for a terminal ``tty``) or plain lines for logs."""
    if tty:
        return _rich_summary(summary)
    lat = summary.latency
    lines = [
        f"stage {summary.stage}: {summary.verdict or summary.state}"
        + (f" (exit {summary.exit_code})" if summary.exit_code is not None else " (the runner did not finish)")
        + f", {summary.isolation} isolation",
        *([f"  reason: {summary.reason}"] if summary.reason and summary.state != "PASSED" else []),
        f"  calls {summary.calls}  ok {summary.ok}  errors {summary.errors}  timeouts {summary.timeouts}"
        f"  error ratio {summary.error_ratio:.2%}  {summary.rate_avg:,.1f} calls/s",
        f"  latency  p50 {fmt_ms(lat.p50)}  p95 {fmt_ms(lat.p95)}  p99 {fmt_ms(lat.p99)}  max {fmt_ms(lat.max)}",
    ]
    if summary.missed_arrivals:
        lines.append(f"  arrivals missed {summary.missed_arrivals} of {summary.calls + summary.missed_arrivals}")
    if not summary.complete:
        lines.append(f"  calls started {summary.started_calls}, recorded {summary.calls}")
    if summary.latency_scheduled:
        sl = summary.latency_scheduled
        lines.append(f"  from scheduled start  p50 {fmt_ms(sl.p50)}  p95 {fmt_ms(sl.p95)}  p99 {fmt_ms(sl.p99)}")
    for name, ph in summary.phases.items():
        lines.append(f"  phase {name}  p50 {fmt_ms(ph.p50)}  p95 {fmt_ms(ph.p95)}  p99 {fmt_ms(ph.p99)}  ({ph.count})")
    if tokens := summary.sections.get("tokens"):
        lines.append(f"  {tokens_line(tokens)}")
    lines += [f"  {line}" for line in endpoint_lines(summary.sections.get("endpoints") or [])]
    for e in summary.errors_by_kind:
        lines.append(f"  {e.kind:<30} {e.count:>8}  {e.first_message[:70]}")
    lines.append(f"  run dir: {summary.run_dir}")
    return safe_str("\n".join(lines) + "\n")


def _rich_summary(summary: Summary) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=shutil.get_terminal_size().columns)
    t = Table(title=f"stage {summary.stage}: {summary.verdict or summary.state}", show_header=True)
    for col in ("calls", "ok", "errors", "timeouts", "err %", "calls/s", "p50", "p95", "p99"):
        t.add_column(col, justify="right")
    lat = summary.latency
    t.add_row(
        str(summary.calls),
        str(summary.ok),
        str(summary.errors),
        str(summary.timeouts),
        f"{summary.error_ratio:.2%}",
        fmt_rate(summary.rate_avg),
        fmt_ms(lat.p50),
        fmt_ms(lat.p95),
        fmt_ms(lat.p99),
    )
    console.print(t)
    if summary.phases:
        pt = Table(title="phases (soakwatch.phase)")
        for col in ("phase", "count", "p50", "p95", "p99", "max"):
            pt.add_column(col, justify="left" if col == "phase" else "right")
        for name, ph in summary.phases.items():
            pt.add_row(name, str(ph.count), fmt_ms(ph.p50), fmt_ms(ph.p95), fmt_ms(ph.p99), fmt_ms(ph.max))
        console.print(pt)
    if summary.errors_by_kind:
        et = Table(title="errors by kind")
        et.add_column("kind")
        et.add_column("count", justify="right")
        et.add_column("first message")
        for e in summary.errors_by_kind:
            et.add_row(e.kind, str(e.count), e.first_message[:80])
        console.print(et)
    if tokens := summary.sections.get("tokens"):
        console.print(tokens_line(tokens))
    for line in endpoint_lines(summary.sections.get("endpoints") or []):
        console.print(line)
    console.print(f"run dir: {summary.run_dir}")
    return safe_str(buf.getvalue())
