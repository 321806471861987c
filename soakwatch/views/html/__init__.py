"""The single-file HTML report: report.html of a run, and the HTML of compare and sweep.

One self-contained page per report: uPlot (vendored in ``vendor/``, MIT) and the page's own
script and style are inlined, the data is embedded as JSON, nothing is fetched.
"""

from soakwatch.views.html.report import REPORT_NAME, render_run_report, try_write_run_report, write_run_report

__all__ = ["REPORT_NAME", "render_run_report", "try_write_run_report", "write_run_report"]
