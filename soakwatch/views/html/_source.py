"""The one place the HTML report reads a run directory.

Everything the page shows comes through :func:`read_run`: the summary rebuilt from disk
(:func:`soakwatch.core.reports.build_summary`, so a run killed with SIGKILL reads the same as
a finished one), the timeline columns and events (:func:`soakwatch.core.recording.load_recording`),
failures.md and run_config.json as they are on disk. When the run directory gets its one typed
reader, only this module changes; a caller that builds the summary itself (with the report
sections it knows of) passes ``summarize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch.core.recording import Recording, load_recording
from soakwatch.core.reports import build_summary
from soakwatch.core.summary import Summary

__all__ = ["RunSource", "Summarize", "read_run"]

#: how a run directory's summary is rebuilt from disk
Summarize = Callable[[Path], Summary]


@dataclass(frozen=True)
class RunSource:
    """What one run directory holds, as the page needs it."""

    run_dir: Path
    summary: Summary
    recording: Recording
    failures_md: str | None

    @property
    def config(self) -> dict[str, Any]:
        return self.recording.config

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.recording.events


def read_run(run_dir: Path, summarize: Summarize = build_summary) -> RunSource:
    """Read a run directory (raises UsageError when it is not one)."""
    summary = summarize(run_dir)
    try:
        failures: str | None = (run_dir / "failures.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        failures = None
    return RunSource(run_dir, summary, load_recording(run_dir), failures)
