"""Node topologies: the profile's ``[[nodes]]``, started and supervised by soakwatch for a stage.

Before the stage (``prepare``) every node's paths are resolved and checked (cwd, report
folder and ready file inside the sandbox root; the program exists), so a typo is exit 2
with nothing started. At ``start`` the nodes are launched in waves (``depends_on``: a
node starts once the nodes it depends on are ready; nodes without dependencies start
together) and the stage waits for every readiness check before its first call; a node
that does not get ready (within its ``ready.timeout``, and within the stage's duration)
stops the stage FAILED (exit 1), the message naming the expanded ready file. While the
stage runs each node is supervised by its restart policy
(:mod:`soakwatch.nodes.process`); at the end each gets SIGTERM, then SIGKILL after its
``stop_grace``.

In the run dir, per node: ``nodes/<id>/stdout.log``, ``stderr.log``, ``pid``, ``rss.csv``
(the process collector's samples; a hard link to ``rss/<id>.csv``) and ``report/`` (the
node's JSON reports: written there directly when ``report_dir`` is not set, copied there
from ``report_dir`` otherwise). Series: ``alive[<id>]`` (1/0), ``restarts[<id>]``; the
process collector adds ``rss_mb[<id>]``, ``rss_slope[<id>]``, ... (via
``StageContext.node_pids``) and a report-folder collector per node with
``report_fields`` adds ``<field>[<id>]``.

A stage with nodes may drive a target on top, or none: :class:`WatchRunner` then makes
no calls and only waits out the duration.
"""

from __future__ import annotations

import fnmatch
import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soakwatch.config.errors import SandboxError, UsageError
from soakwatch.config.nodes import NodeSpec, start_order, substitute
from soakwatch.core.event_types import NodeExit, NodeGaveUp, NodeStart
from soakwatch.core.plugins import Plugin, ReplayFrame, StageContext, Verdict
from soakwatch.core.recorder import Recorder
from soakwatch.core.sandbox import inside
from soakwatch.core.snapshot import NodeView
from soakwatch.nodes.process import NodePaths, NodeProcess
from soakwatch.targets.runner import Plan, Runner
from soakwatch.targets.spec import TargetSpec

if TYPE_CHECKING:
    from soakwatch.config.collectors import ReportFolderConfig
    from soakwatch.config.profile import Profile

__all__ = ["NodesPlugin", "WatchRunner", "node_report_sources", "report_folder"]

NODES_DIR = "nodes"
#: seconds between copies of new reports from a node's report_dir into the run dir
MIRROR_INTERVAL = 1.0
#: how often the watch-only runner looks at the clock and the stop flag
WATCH_POLL = 0.1
#: the spec a watch-only stage's runner carries (it never loads it)
NO_TARGET = TargetSpec("python", "soakwatch.nodes.plugin:no_target")


def _values(spec: NodeSpec, root: Path, run_dir: Path) -> dict[str, str]:
    node_dir = run_dir / NODES_DIR / spec.id
    return {
        "id": spec.id,
        "root": str(root),
        "run_dir": str(run_dir),
        "node_dir": str(node_dir),
        "python": sys.executable,
    }


def _number(value: float | None) -> float | None:
    """A series value a view can show: None before the first sample (a declared series holds NaN)."""
    return None if value is None or math.isnan(value) else value


def report_folder(spec: NodeSpec, root: Path, run_dir: Path, field: str = "report_dir") -> Path:
    """Where the node writes its JSON reports: ``report_dir`` under the root, else ``nodes/<id>/report``."""
    values = _values(spec, root, run_dir)
    if spec.report_dir is None:
        return Path(values["node_dir"]) / "report"
    return inside_root_or_run(root, run_dir, substitute(spec.report_dir, values), field)


def inside_root_or_run(root: Path, run_dir: Path, path: str, field: str) -> Path:
    """``path`` (relative to the root) resolved inside the sandbox root or the run dir (``{node_dir}/ready``)."""
    try:
        return inside(root, path, field)
    except SandboxError:
        if Path(path).is_absolute() and Path(path).resolve().is_relative_to(run_dir.resolve()):
            return Path(path).resolve()
        raise


def node_report_sources(profile: Profile) -> list[tuple[ReportFolderConfig, Callable[[StageContext], Path]]]:
    """A report-folder source per node with ``report_fields`` (named after the node id)."""
    from soakwatch.config.collectors import ReportFolderConfig

    out: list[tuple[ReportFolderConfig, Callable[[StageContext], Path]]] = []
    for spec in profile.nodes:
        if not spec.report_fields:
            continue
        cfg = ReportFolderConfig(
            name=spec.id, path=spec.report_dir or "", pattern=spec.report_pattern, fields=dict(spec.report_fields)
        )

        def folder(ctx: StageContext, spec: NodeSpec = spec) -> Path:
            return report_folder(spec, ctx.root, ctx.run_dir)

        out.append((cfg, folder))
    return out


def _resolve(i: int, spec: NodeSpec, root: Path, run_dir: Path) -> NodePaths:
    """The node's argv, cwd, env and folders; UsageError naming ``nodes[i].<field>`` when wrong."""
    where = f"nodes[{i}]"
    values = _values(spec, root, run_dir)
    node_dir = Path(values["node_dir"])
    rdir = report_folder(spec, root, run_dir, f"{where}.report_dir")
    values["report_dir"] = str(rdir)
    cwd = inside(root, substitute(spec.cwd, values), f"{where}.cwd")
    if not cwd.is_dir():
        raise UsageError("no such directory", where="profile", field=f"{where}.cwd", value=spec.cwd)
    argv = [substitute(a, values) for a in spec.command]
    env = {
        **os.environ,
        "SOAKWATCH_NODE_ID": spec.id,
        "SOAKWATCH_NODE_DIR": str(node_dir),
        "SOAKWATCH_NODE_REPORT_DIR": str(rdir),
        **{k: substitute(v, values) for k, v in spec.env.items()},
    }
    _check_program(argv[0], cwd, env, f"{where}.command")
    ready_file = None
    if spec.ready is not None and spec.ready.file is not None:
        ready_file = inside_root_or_run(root, run_dir, substitute(spec.ready.file, values), f"{where}.ready.file")
    return NodePaths(argv, cwd, env, node_dir, rdir, ready_file)


def _check_program(program: str, cwd: Path, env: dict[str, str], field: str) -> None:
    if "/" in program:
        path = Path(program) if Path(program).is_absolute() else cwd / program
        if not path.is_file():
            raise UsageError("node command not found", where="profile", field=field, value=program)
        if not os.access(path, os.X_OK):
            raise UsageError("node command is not executable", where="profile", field=field, value=program)
        return
    if shutil.which(program, path=env.get("PATH")) is None:
        raise UsageError("node command not found on PATH", where="profile", field=field, value=program)


class NodesPlugin(Plugin):
    """Starts, supervises and stops the stage's nodes; the chaos plugin acts on them through :meth:`node`."""

    name = "nodes"

    def __init__(self, specs: list[NodeSpec]) -> None:
        self.specs = list(specs)
        self.nodes: dict[str, NodeProcess] = {}
        self._stop = threading.Event()
        self._failed: list[str] = []
        self._mirror: threading.Thread | None = None
        self._copied: dict[str, dict[str, tuple[int, int]]] = {}
        #: per node: the reports read so far and the stage time the count last grew (for the report age)
        self._reports_seen: dict[str, tuple[float, float]] = {}
        self._last_t = 0.0

    # ---------------------------------------------------------------- plugin hooks
    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        rss_dir = ctx.run_dir / "rss"
        rss_dir.mkdir(exist_ok=True)
        for i, spec in enumerate(self.specs):
            paths = _resolve(i, spec, ctx.root, ctx.run_dir)
            (paths.node_dir / "report").mkdir(parents=True, exist_ok=True)
            paths.report_dir.mkdir(parents=True, exist_ok=True)
            self._link_rss(rss_dir / f"{spec.id}.csv", paths.node_dir / "rss.csv")
            self.nodes[spec.id] = NodeProcess(spec, paths, ctx.events)
        ctx.node_pids = self.pids
        for spec in self.specs:
            for field in ("alive", "restarts"):
                ctx.recorder.declare(f"{field}[{spec.id}]")

    @staticmethod
    def _link_rss(rss: Path, link: Path) -> None:
        # the process collector appends to rss/<id>.csv; the node's folder shows the same file
        rss.touch()
        if link.exists():
            return
        try:
            os.link(rss, link)
        except OSError:  # a file system without hard links
            link.symlink_to(os.path.relpath(rss, link.parent))

    def start(self) -> None:
        """Start the nodes wave by wave (``depends_on``): a wave starts once every node before it is ready."""
        limit = self.ctx.profile.duration
        for wave in start_order(self.specs):
            if not self._start_wave([self.nodes[spec.id] for spec in wave], limit):
                return
        self._mirror = threading.Thread(target=self._mirror_loop, name="nodes-mirror", daemon=True)
        self._mirror.start()

    def _start_wave(self, wave: list[NodeProcess], limit: float | None) -> bool:
        for node in wave:
            try:
                node.launch("stage start")
            except OSError as exc:
                self._fail(f"node {node.id} did not start: {exc}")
                return False
        results: dict[str, tuple[bool, str]] = {}

        def wait(node: NodeProcess) -> None:
            results[node.id] = node.wait_ready(self._stop, limit)

        threads = [threading.Thread(target=wait, args=(n,), daemon=True) for n in wave]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        bad = [f"node {nid} {how}" for nid, (ok, how) in results.items() if not ok]
        if bad:
            self._fail("; ".join(bad))
            return False
        return True

    def _fail(self, reason: str) -> None:
        self._failed.append(reason)
        self.ctx.events.emit("nodes_failed", reason, "error", reason=reason)
        if self.ctx.fail is not None:
            self.ctx.fail("nodes", reason)
        else:
            self.ctx.abort("nodes", reason)

    def tick(self, t: float) -> None:
        rec = self.ctx.recorder
        for node in self.nodes.values():
            rec.set(f"alive[{node.id}]", 1.0 if node.alive() else 0.0)
            rec.set(f"restarts[{node.id}]", float(node.restarts))
            read = _number(rec.value(f"reports_read[{node.id}]"))
            seen = self._reports_seen.get(node.id)
            if read and (seen is None or read > seen[0]):
                self._reports_seen[node.id] = (read, t)
        self._last_t = t

    def view(self) -> dict[str, Any]:
        return {
            "nodes": [self._node_view(spec) for spec in self.specs if spec.id in self.nodes],
            "extra": {
                "nodes": [
                    {"id": n.id, "pid": n.pid(), "state": n.state, "restarts": n.restarts} for n in self.nodes.values()
                ]
            },
        }

    @classmethod
    def replay(cls, frame: ReplayFrame) -> dict[str, Any]:
        """Each node's pid and state from its events, restarts from its ``restarts[<id>]`` column."""
        nodes: dict[str, dict[str, Any]] = {}
        for e in frame.events:
            if isinstance(e, NodeStart | NodeExit | NodeGaveUp) and e.node is not None:
                n = nodes.setdefault(e.node, {"id": e.node, "pid": None, "state": "starting", "restarts": 0})
                if isinstance(e, NodeStart):
                    n.update(pid=e.pid, state="running")
                elif isinstance(e, NodeExit):
                    n.update(pid=None, state="stopped" if e.expected else "down")
                else:
                    n["state"] = "gave_up"
        for nid, n in nodes.items():
            n["restarts"] = int(frame.run.timeline.value(f"restarts[{nid}]", frame.index) or 0)
        if not nodes:
            return {}
        return {"nodes": [NodeView(**n) for n in nodes.values()], "extra": {"nodes": list(nodes.values())}}

    def _node_view(self, spec: NodeSpec) -> NodeView:
        """The node's state, its latest report fields (recorder series ``<field>[<id>]``) and RSS."""
        node, rec = self.nodes[spec.id], self.ctx.recorder
        fields = {f: v for f in spec.report_fields if (v := _number(rec.value(f"{f}[{spec.id}]"))) is not None}
        seen = self._reports_seen.get(spec.id)
        running = node.state in ("running", "paused")
        return NodeView(
            id=spec.id,
            state=node.state,
            pid=node.pid() if running else None,
            restarts=node.restarts,
            report_age_s=max(0.0, self._last_t - seen[1]) if seen is not None else None,
            fields=fields,
            rss_mb=_number(rec.value(f"rss_mb[{spec.id}]")) if running else None,
        )

    def stop(self) -> None:
        """Every node gets SIGTERM at once, then SIGKILL after its grace; reports copied a last time."""
        self._stop.set()
        threads = [threading.Thread(target=n.close, daemon=True) for n in self.nodes.values()]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if self._mirror is not None:
            self._mirror.join(5.0)
        self._mirror_once()
        self.tick(self.ctx.events.elapsed())

    def verdict(self) -> Verdict:
        return Verdict(failed=bool(self._failed), reasons=tuple(self._failed))

    # ---------------------------------------------------------------- for chaos and collectors
    def pids(self) -> dict[str, int]:
        """Running nodes' pids by id (the process collector samples them as subjects)."""
        if self._stop.is_set():
            return {}
        return {nid: pid for nid, n in self.nodes.items() if (pid := n.pid()) is not None}

    def node(self, node_id: str) -> NodeProcess:
        node = self.nodes.get(node_id)
        if node is None:
            raise ValueError(f"no node {node_id!r} (nodes: {', '.join(self.nodes) or 'none'})")
        return node

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    # ---------------------------------------------------------------- report mirror
    def _mirror_loop(self) -> None:
        while not self._stop.wait(MIRROR_INTERVAL):
            self._mirror_once()

    def _mirror_once(self) -> None:
        for node in self.nodes.values():
            dest = node.paths.node_dir / "report"
            src = node.paths.report_dir
            if src == dest:
                continue
            seen = self._copied.setdefault(node.id, {})
            try:
                entries = list(os.scandir(src))
            except OSError:
                continue
            for entry in entries:
                if not fnmatch.fnmatch(entry.name, node.spec.report_pattern):
                    continue
                try:
                    st = entry.stat()
                    key = (st.st_size, st.st_mtime_ns)
                    if seen.get(entry.name) == key:
                        continue
                    tmp = dest / f".{entry.name}.tmp"
                    shutil.copyfile(entry.path, tmp)
                    os.replace(tmp, dest / entry.name)
                    seen[entry.name] = key
                except OSError:
                    continue  # gone meanwhile (the node rotates its reports): the next pass decides


class WatchRunner(Runner):
    """The runner of a stage with nodes and no target: no calls, it waits out the duration."""

    def __init__(self, plan: Plan, recorder: Recorder) -> None:
        super().__init__(plan, recorder, NO_TARGET, None, None)

    def prepare(self) -> None:
        """Nothing to load."""

    def _slots(self) -> list[Callable[[], None]]:
        return [self._watch]

    def _watch(self) -> None:
        end = time.monotonic() + (self.plan.duration or 0.0)
        while not self.allocator.stopped and time.monotonic() < end:
            time.sleep(min(WATCH_POLL, max(0.0, end - time.monotonic())))
