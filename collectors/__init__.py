"""Collectors: samplers of everything around the calls (processes, files, scrapes, reports)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.core.plugins import Plugin

__all__ = ["build_collectors"]


def build_collectors(profile: Profile) -> list[Plugin]:
    """The collectors a profile asks for, in the order they tick.

    Processes are always sampled (at least the monitor itself: the observer's overhead
    is always visible), and GPUs unless ``[processes] gpu = "off"`` (:mod:`soakwatch.collectors.gpu`);
    files only when ``[watch]`` names something; one collector per
    ``[[scrape]]``, ``[[reports]]`` and ``[[probe]]`` entry, and one report folder per ``[[nodes]]``
    entry with ``report_fields`` (named after the node).
    """
    from soakwatch.collectors.files import FilesCollector
    from soakwatch.collectors.logpatterns import LogPatterns, wants_log_patterns
    from soakwatch.collectors.probe import ProbeCollector
    from soakwatch.collectors.processes import ProcessCollector
    from soakwatch.collectors.reportdirs import ReportFolderCollector
    from soakwatch.collectors.scrape import ScrapeCollector

    out: list[Plugin] = []
    w = profile.watch
    if w.files or w.unchanged or w.reset_before or w.backup_before:
        out.append(FilesCollector(w))
    out.append(ProcessCollector(profile.processes))
    if profile.processes.gpu != "off":
        from soakwatch.collectors.gpu import GpuCollector

        out.append(GpuCollector(profile.processes))
    out.extend(ScrapeCollector(s) for s in profile.scrape)
    out.extend(ReportFolderCollector(r) for r in profile.reports)
    cwd = Path(profile.root) if profile.root else None
    out.extend(ProbeCollector(p, cwd) for p in profile.probe)
    if wants_log_patterns(profile):
        out.append(LogPatterns(profile))
    if profile.nodes:
        from soakwatch.nodes.plugin import node_report_sources

        out.extend(ReportFolderCollector(cfg, folder=where) for cfg, where in node_report_sources(profile))
    return out
