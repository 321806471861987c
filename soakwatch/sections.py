"""The plugins' parts of the report and of the replay, listed once by the composition side.

The core knows what a report section is (:class:`~soakwatch.core.reports.ReportSection`)
and what a plugin's replay is (:meth:`~soakwatch.core.plugins.Plugin.replay`), not which
plugins exist: the stage and the CLI pass these lists down (to ``build_summary``,
``write_reports``, ``compare`` and the replay), so nothing registers itself on import.
"""

from __future__ import annotations

from soakwatch.chaos.plugin import ChaosPlugin
from soakwatch.collectors import gpu as gpu_report
from soakwatch.collectors import health_report
from soakwatch.collectors import report as collectors_report
from soakwatch.collectors.files import FilesCollector
from soakwatch.collectors.processes import ProcessCollector
from soakwatch.core.plugins import Plugin
from soakwatch.core.reports import ReportSection
from soakwatch.gates import report as gates_report
from soakwatch.gates.evaluator import GateEvaluator
from soakwatch.nodes import report as nodes_report
from soakwatch.nodes.plugin import NodesPlugin
from soakwatch.views import endpoints_report, tokens_report

__all__ = ["REPLAY_PLUGINS", "REPORT_SECTIONS"]

#: report sections in the order they appear in summary.md
REPORT_SECTIONS: tuple[ReportSection, ...] = (
    gates_report.SECTION,
    collectors_report.SECTION,
    health_report.SECTION,
    gpu_report.SECTION,
    nodes_report.SECTION,
    tokens_report.SECTION,
    endpoints_report.SECTION,
)

#: plugins whose slice of a snapshot the replay rebuilds from the run directory
REPLAY_PLUGINS: tuple[type[Plugin], ...] = (NodesPlugin, FilesCollector, ProcessCollector, ChaosPlugin, GateEvaluator)
