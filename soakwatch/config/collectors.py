"""Profile sections owned by the collectors: watched files, processes, scrapes, report folders.

These models are part of the profile (see ``soakwatch.config.profile.Profile``); they hold
no behaviour. Sizes are in KB (1024 bytes), intervals in seconds (``"30s"``, ``"5m"``
accepted), paths relative to the sandbox root.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from soakwatch.config.limits import check_http_url
from soakwatch.config.units import parse_duration

__all__ = [
    "PatternLevel",
    "ProbeConfig",
    "ProcessConfig",
    "ProcessWatch",
    "RecordConfig",
    "ReportFolderConfig",
    "ScrapeConfig",
    "WatchConfig",
]


def _seconds(v: object) -> object:
    if isinstance(v, str):
        return parse_duration(v)
    return v


PatternLevel = Literal["error", "warn", "info"]


def check_patterns(v: dict[str, str]) -> dict[str, str]:
    """Every pattern compiles as a regular expression (plain text matches itself)."""
    for pat in v:
        try:
            re.compile(pat)
        except re.error as exc:
            raise ValueError(f"pattern {pat!r} is not a regular expression: {exc}") from None
        if not pat.strip():
            raise ValueError("a pattern cannot be empty")
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
    patterns: dict[str, PatternLevel] = Field(
        default_factory=dict,
        description="regular expression -> error | warn | info: matching lines of the target's output and the "
        "watched files become log_match events and the counters matches[PATTERN]",
    )

    _patterns = field_validator("patterns")(check_patterns)

    _secs = field_validator("snapshot_interval", mode="before")(_seconds)


class ProcessWatch(_Model):
    """A process named in the profile, found by pid file, command-line pattern or as a child tree."""

    name: str
    pid_file: str | None = None
    pattern: str | None = None
    children: bool = True

    @model_validator(mode="after")
    def _found_somehow(self) -> ProcessWatch:
        if not (self.pid_file or self.pattern):
            raise ValueError(f"process {self.name!r} needs 'pid_file' or 'pattern' to be found")
        return self


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

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if v.startswith("cmd:"):
            raise ValueError(
                "[[scrape]] reads an http(s) URL; a command's output is sampled with "
                f'[[probe]] command = "{v[4:].strip()}" (see README, "Probes")'
            )
        check_http_url(v)  # a scheme, a host and a valid port: exit 2 now, not a collector error later
        return v


class RecordConfig(_Model):
    """Answer sampling (``[record]``): the case and returned value of some calls, kept for later review."""

    every: int | None = Field(default=None, gt=0, description="keep call 0, N, 2N, ... (off by default)")
    sample: float | None = Field(
        default=None, gt=0, le=1, description="keep each call with this probability (seeded; off by default)"
    )
    max_bytes: int = Field(default=4096, ge=64, description="an answer's JSON longer than this is cut")
    max_file_mb: float = Field(default=100.0, gt=0, description="answers.jsonl stops growing at this size")

    @property
    def enabled(self) -> bool:
        return self.every is not None or self.sample is not None


#: seconds a probe run may take when the profile names no timeout (an interpreter starting on a
#: loaded machine takes far longer than a typical ``every``)
DEFAULT_PROBE_TIMEOUT = 10.0


class ProbeConfig(_Model):
    """A command run on a schedule whose output (JSON or Prometheus text) becomes series (``[[probe]]``)."""

    command: str = Field(min_length=1, description="run with /bin/sh -c in the sandbox root (or the cwd)")
    name: str = Field(default="", description="default: the command's basename, e.g. probe.sh")
    every: float = Field(default=1.0, gt=0, description="seconds between runs ('1s', '500ms')")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="a run taking longer is killed and counted as a failure; default: 10s or every, the longer",
    )
    format: Literal["auto", "json", "prometheus"] = Field(
        default="auto", description="auto: JSON (the whole output or its last line), else Prometheus text"
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="series name -> dotted JSON path or Prometheus selector; "
        "empty: every top-level number or boolean of the JSON (every unlabelled Prometheus sample)",
    )

    _secs = field_validator("every", "timeout", mode="before")(_seconds)

    @model_validator(mode="after")
    def _default_name(self) -> ProbeConfig:
        if not self.name:
            try:
                first = shlex.split(self.command)[0]
            except (ValueError, IndexError):
                first = self.command.split()[0] if self.command.split() else "probe"
            object.__setattr__(self, "name", PurePosixPath(first).name or "probe")
        return self

    @property
    def run_timeout(self) -> float:
        return self.timeout if self.timeout is not None else max(self.every, DEFAULT_PROBE_TIMEOUT)


class ReportFolderConfig(_Model):
    """A folder where the system under test writes JSON reports (e.g. ``epoch-*.json``)."""

    name: str
    path: str
    pattern: str = "*.json"
    fields: dict[str, str] = Field(default_factory=dict, description="series name -> dotted JSON path")
