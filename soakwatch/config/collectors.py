"""Profile sections owned by the collectors: watched files, processes, scrapes, report folders.

These models are part of the profile (see ``soakwatch.config.profile.Profile``); they hold
no behaviour. Sizes are in KB (1024 bytes), intervals in seconds (``"30s"``, ``"5m"``
accepted), paths relative to the sandbox root.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from soakwatch.config.units import parse_duration

__all__ = [
    "ProcessConfig",
    "ProcessWatch",
    "ReportFolderConfig",
    "ScrapeConfig",
    "WatchConfig",
]


def _seconds(v: object) -> object:
    if isinstance(v, str):
        return parse_duration(v)
    return v


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WatchConfig(_Model):
    """Watched files under the sandbox root and what to do with them."""

    files: list[str] = Field(default_factory=list, description="globs under the root")
    snapshot_every: int | None = Field(default=None, gt=0, description="calls between snapshots")
    snapshot_interval: float | None = Field(default=None, gt=0, description="seconds between snapshots")
    warn_size_kb: float | None = Field(default=None, gt=0)
    truncate_over_kb: float | None = Field(default=None, gt=0)
    truncate_every: int | None = Field(default=None, gt=0, description="calls between truncation checks")
    reset_before: list[str] = Field(default_factory=list)
    backup_before: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    diff_max_kb: float = Field(default=64.0, ge=0, description="files up to this size get a unified diff per snapshot")
    diff_keep: int = Field(default=50, ge=0, description="at most this many diff files are kept in the run dir")

    _secs = field_validator("snapshot_interval", mode="before")(_seconds)


class ProcessWatch(_Model):
    """A process named in the profile, found by pid file, command-line pattern or as a child tree."""

    name: str
    pid_file: str | None = None
    pattern: str | None = None
    children: bool = True


class ProcessConfig(_Model):
    """Process sampling (psutil) and memory-trend settings."""

    interval: float = Field(default=1.0, gt=0)
    warmup: float = Field(default=10.0, ge=0, description="seconds before trends are judged")
    memory_limit_mb: float | None = Field(default=None, gt=0)
    watch: list[ProcessWatch] = Field(default_factory=list)
    tracemalloc: bool = False

    _secs = field_validator("interval", "warmup", mode="before")(_seconds)


class ScrapeConfig(_Model):
    """An HTTP endpoint sampled on an interval (Prometheus text or JSON)."""

    name: str
    url: str
    interval: float = Field(default=5.0, gt=0)
    format: Literal["prometheus", "json"] = "prometheus"
    fields: dict[str, str] = Field(default_factory=dict, description="series name -> metric name or dotted JSON path")
    timeout: float = Field(default=2.0, gt=0)

    _secs = field_validator("interval", "timeout", mode="before")(_seconds)


class ReportFolderConfig(_Model):
    """A folder where the system under test writes JSON reports (e.g. ``epoch-*.json``)."""

    name: str
    path: str
    pattern: str = "*.json"
    fields: dict[str, str] = Field(default_factory=dict, description="series name -> dotted JSON path")
