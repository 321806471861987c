"""The chaos actions on nodes, on the driver's requests and on the machine (helpers).

Each function begins its effect for :class:`~soakwatch.chaos.plugin.ChaosPlugin` (or refuses
with ValueError, nothing done) and returns a description plus the rest of the window,
which the plugin runs in the window's thread, exactly like the worker and file actions
in :mod:`soakwatch.chaos.plugin`.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn, Protocol

from soakwatch.config.chaos import ChaosSpec
from soakwatch.core import platform as plat
from soakwatch.core.plugins import StageContext, WorkerControl
from soakwatch.nodes.plugin import NodesPlugin
from soakwatch.nodes.process import NodeProcess


class ChaosHost(Protocol):
    """What an action needs of the chaos plugin (:class:`soakwatch.chaos.plugin.ChaosHost`)."""

    ctx: StageContext
    nodes: NodesPlugin | None
    _stopping: threading.Event
    _rng: random.Random

    def nodes_stopping(self) -> bool: ...

    def _refuse(self, spec: ChaosSpec, source: str, reason: str) -> NoReturn: ...


__all__ = [
    "ChaosHost", "helper", "inject", "kill_node", "kill_worker", "pause_node", "pause_worker", "restart_node",
]  # fmt: skip

#: how long a kill_worker window waits for the runner to start the replacement worker
RESTART_WAIT = 60.0
#: a helper process outlives its window by at most this much if nobody stops it (the monitor died)
HELPER_SLACK = 5.0
#: seconds a helper gets to exit after SIGTERM before SIGKILL
HELPER_GRACE = 2.0
#: steps of a window's wait, so the end of the stage (nodes stopping) is seen quickly
WAIT_STEP = 0.1
_BURN = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"
_HOLD = "import sys, time\nheld = b'\\x01' * (int(sys.argv[1]) << 20)\ntime.sleep(float(sys.argv[2]))\n"


def _sleep(plugin: ChaosHost, seconds: float) -> bool:
    """Wait ``seconds``; False when the stage started ending meanwhile (stop waiting at once)."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if plugin._stopping.wait(min(WAIT_STEP, left)) or plugin.nodes_stopping():
            return False
    return not plugin.nodes_stopping()


def _node_of(plugin: ChaosHost, spec: ChaosSpec, source: str) -> NodeProcess:
    assert spec.node is not None
    if plugin.nodes is None:
        plugin._refuse(spec, source, "this stage has no [[nodes]]")
    try:
        return plugin.nodes.node(spec.node)
    except ValueError as exc:
        plugin._refuse(spec, source, str(exc))


def _back_up(plugin: ChaosHost, spec: ChaosSpec, node: NodeProcess, old_pid: int) -> str:
    """The rest of a kill/restart window: the node is gone, start it again and wait until it is ready."""
    if not node.wait_exit(node.spec.stop_grace + 5.0):
        return f"node {node.id} (pid {old_pid}) did not exit"
    wait = spec.duration if spec.action == "kill_node" else 0.0
    if not _sleep(plugin, wait):
        return f"node {node.id} (pid {old_pid}) left down: the stage ended"
    try:
        new_pid = node.relaunch(f"chaos {spec.name} ({spec.action})")
    except (RuntimeError, OSError) as exc:
        return f"node {node.id} not restarted: {exc}"
    ok, how = node.wait_ready(plugin._stopping)
    return f"node {node.id} restarted (pid {old_pid} → {new_pid}), " + (how if ok else f"NOT ready: {how}")


def kill_node(self: ChaosHost, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
    node = _node_of(self, spec, source)
    pid = node.signal(plat.SIGKILL, expect=f"chaos {spec.name}")
    if pid is None:
        self._refuse(spec, source, f"node {node.id} is not running")
    return (
        f"SIGKILL node {node.id} (pid {pid}), restart after {spec.duration:g}s",
        lambda: _back_up(self, spec, node, pid),
    )


def restart_node(self: ChaosHost, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
    node = _node_of(self, spec, source)
    proc = node.proc
    pid = node.signal(plat.SIGTERM, expect=f"chaos {spec.name}")
    if pid is None or proc is None:
        self._refuse(spec, source, f"node {node.id} is not running")
    node.signal(plat.SIGCONT)  # a paused node must be able to act on SIGTERM

    def window() -> str:
        try:
            proc.wait(node.spec.stop_grace)
        except subprocess.TimeoutExpired:
            node.signal(plat.SIGKILL, expect=f"chaos {spec.name} (no exit {node.spec.stop_grace:g}s after SIGTERM)")
        return _back_up(self, spec, node, pid)

    return f"SIGTERM node {node.id} (pid {pid}), then start it again", window


def pause_node(self: ChaosHost, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
    node = _node_of(self, spec, source)
    pid = node.signal(plat.SIGSTOP)
    if pid is None:
        self._refuse(spec, source, f"node {node.id} is not running")

    def window() -> str:
        _sleep(self, spec.duration)
        if node.pid() != pid:
            return f"node {node.id} (pid {pid}) was gone before SIGCONT"
        node.signal(plat.SIGCONT)
        return f"SIGCONT node {node.id} (pid {pid})"

    return f"SIGSTOP node {node.id} (pid {pid}) for {spec.duration:g}s", window


def inject(self: ChaosHost, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
    injector = self.ctx.inject
    if injector is None:
        self._refuse(spec, source, "this runner takes no injected faults")
    if self.ctx.profile.target is None:
        self._refuse(spec, source, "this stage makes no calls (nodes only)")
    if spec.action == "latency":
        assert spec.latency_ms is not None
        injector.open(spec.name, latency_s=spec.latency_ms / 1000, latency_ratio=spec.ratio)
        what = f"+{spec.latency_ms:g} ms on {spec.ratio:.0%} of calls"
    else:
        injector.open(spec.name, error_ratio=spec.ratio)
        what = f"{spec.ratio:.0%} of calls fail (ChaosInjected)"

    def window() -> str:
        _sleep(self, spec.duration)
        injector.close(spec.name)
        return f"{spec.action} window closed"

    return f"{what} for {spec.duration:g}s", window


def helper(self: ChaosHost, spec: ChaosSpec, source: str) -> tuple[str, Callable[[], str]]:
    life = str(spec.duration + HELPER_SLACK)
    if spec.action == "burn_cpu":
        argvs = [[sys.executable, "-c", _BURN, life] for _ in range(spec.cores)]
        what = f"{spec.cores} helper process(es) burn CPU"
    else:
        argvs = [[sys.executable, "-c", _HOLD, str(spec.mb), life]]
        what = f"a helper process holds {spec.mb} MB"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for argv in argvs:
            procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
    except OSError as exc:
        _end_helpers(procs)
        self._refuse(spec, source, f"cannot start a helper: {exc}")

    def window() -> str:
        _sleep(self, spec.duration)
        codes = _end_helpers(procs)
        early = [c for c in codes if c not in (0, -plat.SIGTERM, -plat.SIGKILL)]
        return f"helpers stopped (pids {', '.join(str(p.pid) for p in procs)})" + (
            f"; exit codes {early}" if early else ""
        )

    return f"{what} for {spec.duration:g}s (pids {', '.join(str(p.pid) for p in procs)})", window


def _end_helpers(procs: list[subprocess.Popen[bytes]]) -> list[int | None]:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    codes: list[int | None] = []
    for proc in procs:
        try:
            codes.append(proc.wait(HELPER_GRACE))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


# ---------------------------------------------------------------- workers the runner reaches itself
# (Ray actors, on this machine or another): killed and paused through the runner's WorkerControl,
# not by a signal to a pid, with the same windows as the pid actions of the plugin.


def _pick(plugin: ChaosHost, spec: ChaosSpec, source: str, workers: WorkerControl) -> tuple[str, str]:
    ids = workers.worker_ids()
    if spec.target is not None:
        if spec.target not in ids:
            plugin._refuse(spec, source, f"no worker {spec.target!r} (running: {', '.join(ids) or 'none'})")
        return spec.target, ids[spec.target]
    if not ids:
        plugin._refuse(spec, source, "no target workers (not started or already stopped)")
    name = plugin._rng.choice(sorted(ids))
    return name, ids[name]


def kill_worker(
    plugin: ChaosHost, spec: ChaosSpec, source: str, workers: WorkerControl
) -> tuple[str, Callable[[], str]]:
    """Kill one worker; the window ends when the runner has replaced it (another id under its name)."""
    name, who = _pick(plugin, spec, source, workers)
    try:
        detail = workers.kill_worker(name)
    except ValueError as exc:
        plugin._refuse(spec, source, str(exc))

    def window() -> str:
        end = time.monotonic() + RESTART_WAIT
        while time.monotonic() < end and not plugin._stopping.is_set():
            new = workers.worker_ids().get(name)
            if new is not None and new != who:
                return f"{name} replaced ({who} → {new})"
            plugin._stopping.wait(WAIT_STEP)
        return f"{name} ({who}) not replaced" + (" (stage ended)" if plugin._stopping.is_set() else "")

    return detail, window


def pause_worker(
    plugin: ChaosHost, spec: ChaosSpec, source: str, workers: WorkerControl
) -> tuple[str, Callable[[], str]]:
    """Hold one worker between calls for the window (at once when the stage ends), then let it go on."""
    name, who = _pick(plugin, spec, source, workers)
    try:
        detail = workers.pause_worker(name)
    except ValueError as exc:
        plugin._refuse(spec, source, str(exc))

    def window() -> str:
        plugin._stopping.wait(spec.duration)
        return workers.resume_worker(name, who)

    return f"{detail} for {spec.duration:g}s", window
