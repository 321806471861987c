"""Processes: RSS, CPU, threads and open files of the monitor, the target's workers and the
processes a profile names, with memory trends.

Subjects: ``monitor`` (soakwatch itself: the observer's overhead is a series like any
other), ``worker-N`` (the target's workers under process isolation; the pid changes
when a crashed worker is replaced), ``target`` (the sum of the workers), and each
``[[processes.watch]]`` entry (pid file or command-line pattern, plus its children
when ``children = true``), and each ``[[nodes]]`` node by its id (with its children;
the pid changes when a node is restarted).

For each subject: series ``rss_mb[..]``, ``cpu_pct[..]``, ``threads[..]``,
``open_files[..]``, ``rss_growth_start[..]`` (ratio to the process's first sample); after
warm-up (``warmup`` seconds or a fifth of the planned stage, whichever first, see
:mod:`collectors._warmup`) ``rss_growth[..]`` (ratio to the median of the first samples
after warm-up), ``rss_slope[..]`` (MB/hour, Theil–Sen, see :mod:`collectors.trend`; what gates judge:
the slope of a confident trend, 0 while its interval holds 0, else no value yet),
``rss_slope_conf[..]`` and, with ``memory_limit_mb``, ``rss_limit_eta_s[..]``; every
sample also goes to ``rss/<name>.csv`` in the run dir, from which the summary is rebuilt.
A new pid under the same name starts a new trend (a restarted worker's memory is not
the old one's).

Sampling starts fast and slows down to ``interval``: the interval is the smaller of
``interval`` and a :data:`SAMPLES_PER_DOUBLING`-th of the time elapsed (at least
:data:`FASTEST_S`), so a 3-second stage still gets enough points for a slope while a
24-hour soak samples on ``interval``.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from soakwatch.collectors._procfind import ProcessFinder, validate_watch
from soakwatch.collectors._sampler import Sampler
from soakwatch.collectors._tracemalloc import AllocationTracer
from soakwatch.collectors._warmup import Baseline, WarmUp
from soakwatch.collectors.trend import Trend, TrendWindow, fit_line, judged_slope, time_to_limit
from soakwatch.config.collectors import ProcessConfig
from soakwatch.core.event_types import NodeStart, StageStart, WorkerCrash, WorkerRestart
from soakwatch.core.plugins import ReplayFrame, StageContext
from soakwatch.core.snapshot import ProcView

__all__ = ["RSS_COLUMNS", "ProcessCollector", "replay_processes"]

MB = 1024 * 1024
RSS_COLUMNS = ["t", "pid", "rss_mb", "cpu_pct", "threads", "open_files"]
#: RSS points carried per process in each snapshot (sparklines)
TAIL_POINTS = 60
#: the sampling interval early in a stage is the elapsed time divided by this (until it reaches `interval`)
SAMPLES_PER_DOUBLING = 20
#: the shortest sampling interval (psutil on a few processes takes about a millisecond)
FASTEST_S = 0.1


@dataclass
class Sample:
    pid: int
    rss: float  # MB
    cpu: float
    threads: int
    open_files: int


@dataclass
class Subject:
    """One process (or process sum) and its running statistics."""

    name: str
    pid: int | None = None
    alive: bool = True
    last: Sample | None = None
    warm_rss: float | None = None
    base: Baseline = field(default_factory=Baseline)
    window: TrendWindow = field(default_factory=TrendWindow)
    trend: Trend | None = None
    eta_s: float | None = None
    tail: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_POINTS))
    tail_t: deque[float] = field(default_factory=lambda: deque(maxlen=TAIL_POINTS))
    csv: IO[str] | None = None


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "process"


class ProcessCollector(Sampler):
    """Samples processes with psutil on ``processes.interval``."""

    name = "processes"

    def __init__(self, cfg: ProcessConfig) -> None:
        self.cfg = cfg
        self.interval = cfg.interval
        self.subjects: dict[str, Subject] = {}
        self._procs: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()
        self.tracer: AllocationTracer | None = None

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        patterns = validate_watch(self.cfg.watch)
        self.finders = [ProcessFinder(w, ctx.root, patterns.get(w.name)) for w in self.cfg.watch]
        self._node_ids = frozenset(n.id for n in ctx.profile.nodes)
        self.warm = WarmUp(self.cfg.warmup, ctx.profile.duration, ctx.profile.calls)
        self.rss_dir = ctx.run_dir / "rss"
        self.rss_dir.mkdir(exist_ok=True)
        if self.cfg.tracemalloc:
            if ctx.profile.isolation == "inline":
                self.tracer = AllocationTracer(ctx.run_dir)
            else:
                ctx.events.emit(
                    "collector_error",
                    "processes.tracemalloc needs isolation = 'inline' (the target runs in workers): ignored",
                    "warn",
                    collector=self.name,
                    source="tracemalloc",
                )

    def start(self) -> None:
        rec = self.ctx.recorder
        names = ["monitor", *self.ctx.target_pids()]
        if self.ctx.target_pids():
            names.append("target")
        names += [w.name for w in self.cfg.watch]
        names += [n.id for n in self.ctx.profile.nodes]
        for name in names:
            for kind in ("rss_mb", "cpu_pct", "rss_growth", "rss_growth_start", "rss_slope", "rss_slope_conf"):
                rec.declare(f"{kind}[{name}]")
        if self.tracer is not None:
            self.tracer.start()
        super().start()

    # ---------------------------------------------------------------- sampling
    def next_interval(self) -> float:
        return min(self.interval, max(FASTEST_S, self.ctx.events.elapsed() / SAMPLES_PER_DOUBLING))

    def _warm(self, t: float) -> bool:
        """Is warm-up over? Says so once, with why (the event the summary reads the warm-up from)."""
        was = self.warm.ended_at is not None
        warm = self.warm.over(t, self.ctx.calls())
        if warm and not was:
            self.ctx.events.emit(
                "memory_warmup",
                f"memory warm-up over at {t:.1f}s ({self.warm.reason}): growth and slope from here",
                "info",
                warmup_s=round(t, 3),
                reason=self.warm.reason,
            )
        return warm

    def _proc(self, pid: int) -> psutil.Process:
        p = self._procs.get(pid)
        if p is None:
            p = self._procs[pid] = psutil.Process(pid)
            p.cpu_percent(None)  # the first call only sets the reference point
        return p

    def _measure(self, pid: int, children: bool = False) -> Sample:
        procs = [self._proc(pid)]
        if children:
            with contextlib.suppress(psutil.Error):
                procs += [self._proc(c.pid) for c in procs[0].children(recursive=True)]
        rss = cpu = 0.0
        threads = files = 0
        for i, p in enumerate(procs):
            try:
                with p.oneshot():
                    rss += p.memory_info().rss / MB
                    cpu += p.cpu_percent(None)
                    threads += p.num_threads()
                    with contextlib.suppress(psutil.AccessDenied):
                        files += len(p.open_files())
            except psutil.NoSuchProcess:
                self._procs.pop(p.pid, None)
                if i == 0:
                    raise
        return Sample(pid, rss, cpu, threads, files)

    def sample(self, workers_too: bool = True) -> None:
        t = self.ctx.events.elapsed()
        found: dict[str, Sample] = {}
        self._take("monitor", self.ctx.monitor_pid, False, found)
        workers = self.ctx.target_pids() if workers_too else {}
        for name, pid in workers.items():
            self._take(name, pid, False, found, report=False)
        nodes = self.ctx.node_pids()
        for name, pid in nodes.items():
            self._take(name, pid, True, found, report=False)
        live = [found[n] for n in workers if n in found]
        if live:
            found["target"] = Sample(
                0,
                sum(s.rss for s in live),
                sum(s.cpu for s in live),
                sum(s.threads for s in live),
                sum(s.open_files for s in live),
            )
        for finder in self.finders:
            name = finder.entry.name
            try:
                pid = finder.find()
            except LookupError as exc:
                self._gone(name)
                self.failures.failed(name, str(exc))
                continue
            self._take(name, pid, finder.entry.children, found)
        warm = self._warm(t)
        with self._lock:
            for name, s in found.items():
                self._record(name, s, t, warm)
            for name, subj in self.subjects.items():
                if workers_too and name not in found and subj.alive and name.startswith("worker-"):
                    subj.alive = False
                if name not in found and subj.alive and name in self._node_ids:
                    subj.alive = False
        if self.tracer is not None:
            self.tracer.maybe_write(t, self.warm.ended_at if self.warm.ended_at is not None else self.cfg.warmup)
        known = set(self._procs)
        alive_pids = {s.pid for s in found.values()}
        for pid in known - alive_pids - {self.ctx.monitor_pid}:
            if not psutil.pid_exists(pid):
                self._procs.pop(pid, None)

    def _take(self, name: str, pid: int, children: bool, found: dict[str, Sample], report: bool = True) -> None:
        try:
            found[name] = self._measure(pid, children)
        except psutil.NoSuchProcess:
            self._gone(name)
            if report:
                self.failures.failed(name, f"process {pid} is gone")
            return
        except psutil.Error as exc:
            self.failures.failed(name, f"{type(exc).__name__}: {exc}")
            return
        if report:
            self.failures.ok(name)

    def _gone(self, name: str) -> None:
        with self._lock:
            subj = self.subjects.get(name)
            if subj is not None:
                subj.alive = False

    def _record(self, name: str, s: Sample, t: float, warm: bool) -> None:
        subj = self.subjects.get(name)
        if subj is None:
            subj = self.subjects[name] = Subject(name)
            csv_path = self.rss_dir / f"{_safe_name(name)}.csv"
            subj.csv = csv_path.open("a", encoding="utf-8")
            subj.csv.write(",".join(RSS_COLUMNS) + "\n")
        if name != "target" and subj.pid is not None and s.pid != subj.pid:
            subj.window.clear()  # a replaced process starts its own trend
            subj.warm_rss = None
            subj.base.clear()
            subj.trend = None
        subj.pid = s.pid if name != "target" else None
        subj.alive = True
        subj.last = s
        subj.tail.append(s.rss)
        subj.tail_t.append(t)
        if subj.csv is not None:
            subj.csv.write(f"{t:.3f},{s.pid},{s.rss:.3f},{s.cpu:.1f},{s.threads},{s.open_files}\n")
            subj.csv.flush()
        rec = self.ctx.recorder
        rec.set(f"rss_mb[{name}]", s.rss, "MB")
        rec.set(f"cpu_pct[{name}]", s.cpu, "%")
        rec.set(f"threads[{name}]", s.threads)
        rec.set(f"open_files[{name}]", s.open_files)
        subj.base.add(s.rss, warm)
        first = subj.base.first
        rec.set(f"rss_growth_start[{name}]", s.rss / first if first else math.nan)
        if not warm:
            return
        subj.warm_rss = subj.base.value
        subj.window.add(t, s.rss)
        subj.trend = subj.window.fit()
        rec.set(f"rss_growth[{name}]", s.rss / subj.warm_rss if subj.warm_rss else math.nan)
        if subj.trend is not None:
            slope = judged_slope(subj.trend)
            if slope is not None:
                rec.set(f"rss_slope[{name}]", slope, "MB/h")
            rec.set(f"rss_slope_conf[{name}]", subj.trend.confidence)
            if self.cfg.memory_limit_mb is not None:
                subj.eta_s = time_to_limit(s.rss, subj.trend.slope, self.cfg.memory_limit_mb)
                rec.set(f"rss_limit_eta_s[{name}]", math.nan if subj.eta_s is None else subj.eta_s, "s")

    @classmethod
    def replay(cls, frame: ReplayFrame) -> dict[str, Any]:
        return replay_processes(frame)

    # ---------------------------------------------------------------- output
    def view(self) -> dict[str, Any]:
        with self._lock:
            out = []
            for subj in self.subjects.values():
                s = subj.last
                if s is None:
                    continue
                tr = subj.trend
                out.append(
                    ProcView(
                        name=subj.name,
                        pid=subj.pid,
                        alive=subj.alive,
                        rss_mb=s.rss,
                        cpu=s.cpu,
                        threads=s.threads,
                        open_files=s.open_files,
                        growth=s.rss / subj.warm_rss if subj.warm_rss else None,
                        growth_start=s.rss / subj.base.first if subj.base.first else None,
                        slope_mb_h=tr.slope if tr else None,
                        slope_confidence=tr.confidence if tr else None,
                        forecast_s=subj.eta_s,
                        rss_tail=list(subj.tail),
                        rss_fit=fit_line(list(subj.tail_t), list(subj.tail), tr.slope, tr.intercept) if tr else [],
                    )
                )
        return {**super().view(), "processes": out}

    def stop(self) -> None:
        super().stop()
        try:
            # the last word after the last call; not on the workers, which are shutting down by now
            self.sample(workers_too=False)
        except Exception as exc:
            self.failures.failed("sample", f"{type(exc).__name__}: {exc}")
        if self.tracer is not None:
            self.tracer.stop(self.ctx.events.elapsed())
        with self._lock:
            for subj in self.subjects.values():
                if subj.csv is not None:
                    subj.csv.close()
                    subj.csv = None


def rss_path(run_dir: Path, name: str) -> Path:
    return run_dir / "rss" / f"{_safe_name(name)}.csv"


def _replay_pids(frame: ReplayFrame) -> tuple[dict[str, int], set[str]]:
    """Pids by subject name and the workers down at ``frame`` (crashed and not restarted yet)."""
    pids: dict[str, int] = {}
    down: set[str] = set()
    for e in frame.events:
        if isinstance(e, StageStart):
            pids |= {str(k): v for k, v in e.workers.items() if isinstance(v, int)}
            if e.pid is not None:
                pids["monitor"] = e.pid
        elif isinstance(e, NodeStart) and e.node is not None and e.pid is not None:
            pids[e.node] = e.pid
        elif isinstance(e, WorkerCrash):
            down.add(f"worker-{e.slot}")
        elif isinstance(e, WorkerRestart):
            down.discard(f"worker-{e.slot}")
            if e.pid is not None:
                pids[f"worker-{e.slot}"] = e.pid
    return pids, down


def replay_processes(frame: ReplayFrame) -> dict[str, Any]:
    """``processes`` at ``frame`` of a recorded run, from the ``rss_mb[P]`` (and sibling) columns."""
    tl, i = frame.run.timeline, frame.index
    pids, down = _replay_pids(frame)
    out = []
    for name in tl.subjects("rss_mb"):
        col = f"rss_mb[{name}]"
        rss = tl.value(col, i)
        if rss is None:
            continue
        out.append(
            ProcView(
                name=name,
                pid=pids.get(name),
                alive=name not in down,
                rss_mb=rss,
                cpu=tl.value(f"cpu_pct[{name}]", i) or 0.0,
                threads=int(tl.value(f"threads[{name}]", i) or 0),
                open_files=int(tl.value(f"open_files[{name}]", i) or 0),
                growth=tl.value(f"rss_growth[{name}]", i),
                slope_mb_h=tl.value(f"rss_slope[{name}]", i),
                slope_confidence=tl.value(f"rss_slope_conf[{name}]", i),
                forecast_s=tl.value(f"rss_limit_eta_s[{name}]", i),
                rss_tail=(tail := tl.tail(col, i, TAIL_POINTS)),
                rss_fit=fit_line(tl.tail_times(col, i, TAIL_POINTS), tail, tl.value(f"rss_slope[{name}]", i)),
            )
        )
    return {"processes": out} if out else {}
