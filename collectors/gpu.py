"""GPU memory and utilisation through NVML (``[processes] gpu``; the optional ``nvidia-ml-py`` package).

Per device ``gpuN``: ``gpu_mem_mb[gpuN]`` (used), ``gpu_mem_total_mb[gpuN]`` and
``gpu_util_pct[gpuN]``; per process of the target (the monitor under inline isolation, each
worker, each node) the memory it holds on all devices, ``gpu_proc_mb[NAME]``. The TUI memory
panel shows them under the RSS rows.

Without a GPU this is no error: one ``gpu`` event says "no GPU: why" (NVML found no driver or
no device) and the summary repeats it. ``gpu = "auto"`` (the default) stays silent when the
package is not installed (most machines have no GPU); ``gpu = "on"`` says that too, and puts it
on the verdict line, since the user asked for GPU memory and could not see it.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from types import ModuleType
from typing import Any

from soakwatch.collectors._sampler import Sampler
from soakwatch.config.collectors import ProcessConfig
from soakwatch.core.plugins import StageContext, Verdict
from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "GpuCollector"]

MB = 1024 * 1024
#: the module nvidia-ml-py installs
NVML_MODULE = "pynvml"
INSTALL_HINT = "pip install 'soakwatch[gpu]'"
NOT_INSTALLED = "nvidia-ml-py is not installed"


class GpuCollector(Sampler):
    """Samples every GPU NVML sees, and the target's processes on them."""

    name = "gpu"

    def __init__(self, cfg: ProcessConfig) -> None:
        self.cfg = cfg
        self.interval = cfg.interval
        self.nvml: ModuleType | None = None
        self.handles: list[Any] = []
        self.note = ""  # "no GPU: why", or "" while sampling
        self._lock = threading.Lock()
        self._devices: dict[str, tuple[float, float, float]] = {}
        self._procs: dict[str, float] = {}

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        try:
            self.nvml = importlib.import_module(NVML_MODULE)
        except ImportError:
            self.note = f"no GPU sampling: {NOT_INSTALLED} ({INSTALL_HINT})"
            return
        try:
            self.nvml.nvmlInit()
            count = int(self.nvml.nvmlDeviceGetCount())
        except Exception as exc:  # NVMLError_LibraryNotFound, _DriverNotLoaded, ...: a machine without a GPU
            self.note = f"no GPU: NVML could not start ({type(exc).__name__}: {exc})"
            self.nvml = None
            return
        if count == 0:
            self.note = "no GPU: NVML found no device"
            self._shutdown()
            return
        self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]

    def _shutdown(self) -> None:
        if self.nvml is not None:
            with contextlib.suppress(Exception):  # already down: nothing to release
                self.nvml.nvmlShutdown()
            self.nvml = None

    def start(self) -> None:
        if self.note and not self._silent:
            self.ctx.events.emit(
                "gpu",
                self.note,
                "warn" if self.cfg.gpu == "on" else "info",
                collector=self.name,
                source="nvml",
                reason=self.note,
            )
        if not self.handles:
            return
        names = [_text(self.nvml.nvmlDeviceGetName(h)) for h in self.handles]  # type: ignore[union-attr]
        devices = [f"gpu{i} {n}" for i, n in enumerate(names)]
        self.ctx.events.emit(
            "gpu", f"GPU sampling: {', '.join(devices)}", "info", collector=self.name, source="nvml", devices=devices
        )
        super().start()

    def _pid_names(self) -> dict[int, str]:
        names = {self.ctx.monitor_pid: "monitor"}
        names.update({pid: name for name, pid in self.ctx.target_pids().items()})
        names.update({pid: name for name, pid in self.ctx.node_pids().items()})
        return names

    def sample(self) -> None:
        nvml = self.nvml
        assert nvml is not None
        rec = self.ctx.recorder
        pids = self._pid_names()
        devices: dict[str, tuple[float, float, float]] = {}
        procs: dict[str, float] = {}
        for i, h in enumerate(self.handles):
            mem = nvml.nvmlDeviceGetMemoryInfo(h)
            util = float(nvml.nvmlDeviceGetUtilizationRates(h).gpu)
            dev = f"gpu{i}"
            devices[dev] = (mem.used / MB, mem.total / MB, util)
            rec.set(f"gpu_mem_mb[{dev}]", mem.used / MB, "MB")
            rec.set(f"gpu_mem_total_mb[{dev}]", mem.total / MB, "MB")
            rec.set(f"gpu_util_pct[{dev}]", util, "%")
            for p in nvml.nvmlDeviceGetComputeRunningProcesses(h):
                name = pids.get(int(p.pid))
                if name is not None and p.usedGpuMemory is not None:  # None: the driver does not say
                    procs[name] = procs.get(name, 0.0) + p.usedGpuMemory / MB
        for name, mb in procs.items():
            rec.set(f"gpu_proc_mb[{name}]", mb, "MB")
        with self._lock:
            self._devices, self._procs = devices, procs
        self.failures.ok("nvml")

    def view(self) -> dict[str, Any]:
        with self._lock:
            gpus = [{"name": d, "mem_mb": m, "total_mb": t, "util_pct": u} for d, (m, t, u) in self._devices.items()]
            gpus += [{"name": n, "mem_mb": m} for n, m in self._procs.items()]
        return {**super().view(), "gpus": gpus, "gpu_note": "" if self._silent else self.note}

    @property
    def _silent(self) -> bool:
        """``auto`` without the package: most machines have no GPU, so nothing is said."""
        return self.cfg.gpu == "auto" and NOT_INSTALLED in self.note

    def verdict(self) -> Verdict:
        if self.cfg.gpu == "on" and self.note:
            return Verdict(caveats=(self.note,))
        return super().verdict()

    def stop(self) -> None:
        super().stop()
        self._shutdown()


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def build_section(data: RunRecord) -> dict[str, Any]:
    """The ``gpu`` section: the devices sampled, or why none, from the ``gpu`` events."""
    found = [e for e in data.events if e.kind == "gpu"]
    return {"gpu": {"lines": [e.message for e in found]}} if found else {}


def render_section(s: Summary) -> list[str]:
    sec = s.sections.get("gpu")
    if not sec:
        return []
    return ["## GPU", "", *(f"- {line}" for line in sec["lines"]), ""]


SECTION = ReportSection("gpu", build_section, render_section)
