"""The one place the HTML report reads a run directory, through the one reader.

Everything the page shows comes through :func:`read_source`: the run directory as
:func:`soakwatch.core.rundir_reader.read_run` reads it (typed events, the timeline with the
series that first appeared mid-run, run_config.json), the summary rebuilt from it with the
report sections the caller passes (:func:`soakwatch.core.reports.build_summary`, so a run
killed with SIGKILL reads the same as a finished one), and failures.md as it is on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch.core.event_types import Event
from soakwatch.core.reports import ReportSection, build_summary
from soakwatch.core.rundir_reader import RunRecord, Timeline, read_run
from soakwatch.core.summary import Summary

__all__ = ["RunSource", "read_source"]


@dataclass(frozen=True)
class RunSource:
    """What one run directory holds, as the page needs it."""

    run_dir: Path
    summary: Summary
    run: RunRecord
    failures_md: str | None

    @property
    def config(self) -> dict[str, Any]:
        return self.run.config

    @property
    def events(self) -> list[Event]:
        return self.run.events

    @property
    def timeline(self) -> Timeline:
        return self.run.timeline


def read_source(run_dir: Path, sections: Sequence[ReportSection]) -> RunSource:
    """Read a run directory (raises UsageError when it is not one)."""
    run = read_run(run_dir)
    try:
        failures: str | None = (run_dir / "failures.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        failures = None
    return RunSource(run_dir, build_summary(run, sections), run, failures)
