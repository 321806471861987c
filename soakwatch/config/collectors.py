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

from pydantic import Field, field_validator, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.limits import check_http_url
from soakwatch.config.units import seconds_fields

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


class WatchConfig(ProfileModel):
    """Watched files under the sandbox root (``[watch]``): sizes, line-count Δ, truncation, unchanged files."""

    files: list[str] = Field(
        default_factory=list,
        description="globs under the root whose size and line count are series (size_kb[...], lines[...])",
        examples=[["state/pra_log.json", "state/tul_log.json"]],
    )
    snapshot_every: int | None = Field(
        default=None, gt=0, description="calls between snapshots of the watched files (line-count Δ)", examples=[100]
    )
    snapshot_interval: float | None = Field(
        default=None, gt=0, description="seconds between snapshots, for stages without calls", examples=["30s"]
    )
    warn_size_kb: float | None = Field(
        default=None, gt=0, description="a watched file over this size (KB) raises a warning", examples=[100]
    )
    truncate_over_kb: float | None = Field(
        default=None,
        gt=0,
        description="a watched file over this size (KB) is truncated to zero (a truncate event)",
        examples=[200],
    )
    truncate_every: int | None = Field(
        default=None, gt=0, description="calls between truncation checks", examples=[200]
    )
    reset_before: list[str] = Field(
        default_factory=list,
        description="files deleted before the stage starts (add them to backup_before to keep a copy)",
        examples=[["state/pra_log.json"]],
    )
    backup_before: list[str] = Field(
        default_factory=list,
        description="files or folders zipped into the run dir's backup/ before the stage",
        examples=[["state"]],
    )
    unchanged: list[str] = Field(
        default_factory=list,
        description="globs that must not change during the stage (metric files_changed)",
        examples=[["dag/**"]],
    )
    diff_max_kb: float = Field(default=64.0, ge=0, description="files up to this size get a unified diff per snapshot")
    diff_keep: int = Field(default=50, ge=0, description="at most this many diff files are kept in the run dir")
    patterns: dict[str, PatternLevel] = Field(
        default_factory=dict,
        description="regular expression -> error | warn | info: matching lines of the target's output and the "
        "watched files become log_match events and the counters matches[PATTERN]",
        examples=[{"Traceback": "error", "retrying": "warn"}],
    )

    _patterns = field_validator("patterns")(check_patterns)

    _secs = seconds_fields("snapshot_interval")


class ProcessWatch(ProfileModel):
    """A process named in the profile (``[[processes.watch]]``), found by pid file or command-line pattern."""

    name: str = Field(description="subject name of its series (rss_mb[NAME], cpu[NAME])", examples=["server"])
    pid_file: str | None = Field(
        default=None, description="file holding the pid, under the root", examples=["run/server.pid"]
    )
    pattern: str | None = Field(
        default=None, description="regular expression matched against command lines", examples=["uvicorn .*app:app"]
    )
    children: bool = Field(default=True, description="sum the process's children into its figures")

    @model_validator(mode="after")
    def _found_somehow(self) -> ProcessWatch:
        if not (self.pid_file or self.pattern):
            raise ValueError(f"process {self.name!r} needs 'pid_file' or 'pattern' to be found")
        return self


class ProcessConfig(ProfileModel):
    """Process sampling with psutil (``[processes]``): the monitor, the target workers, nodes and named processes."""

    interval: float = Field(default=1.0, gt=0, description="seconds between samples")
    warmup: float = Field(
        default=10.0,
        ge=0,
        description="seconds before memory growth and trends are measured (at most: a fifth of the planned stage)",
        examples=["2m"],
    )
    memory_limit_mb: float | None = Field(
        default=None,
        gt=0,
        description="RSS limit (MB): the time to reach it at the current slope is rss_limit_eta_s[...]",
        examples=[2048],
    )
    watch: list[ProcessWatch] = Field(
        default_factory=list,
        description="other processes to sample (see [[processes.watch]])",
        examples=[[{"name": "server", "pattern": "server.py"}]],
    )
    tracemalloc: bool = Field(default=False, description="record the target's top allocations (inline isolation)")
    gpu: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="GPU memory and utilisation per device and per target process through NVML (the "
        "nvidia-ml-py package, soakwatch[gpu]): auto samples when the package and a GPU are there (a package "
        "without a GPU says 'no GPU' once); on also says so on the verdict line when it cannot sample",
    )

    _secs = seconds_fields("interval", "warmup")


class ScrapeConfig(ProfileModel):
    """An HTTP endpoint on 127.0.0.1 sampled on an interval (``[[scrape]]``), Prometheus text or JSON."""

    name: str = Field(description="subject of its series: <field>[NAME]", examples=["server"])
    url: str = Field(description="the URL scraped", examples=["http://127.0.0.1:8765/metrics"])
    interval: float = Field(default=5.0, gt=0, description="seconds between scrapes")
    format: Literal["prometheus", "json"] = Field(default="prometheus", description="how the answer is read")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="series name -> Prometheus sample (with an optional {label=...} selector) or dotted JSON path; "
        "empty: every unlabelled Prometheus sample",
        examples=[{"rss_mb": "process_resident_memory_mb"}],
    )
    timeout: float = Field(default=2.0, gt=0, description="seconds one scrape may take")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="request headers; ${NAME} is read from the environment and never written to the run directory",
        examples=[{"Authorization": "Bearer ${METRICS_TOKEN}"}],
    )

    _secs = seconds_fields("interval", "timeout")

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


class RecordConfig(ProfileModel):
    """Answer sampling (``[record]``): the case and returned value of some calls, kept for later review."""

    every: int | None = Field(
        default=None, gt=0, description="keep call 0, N, 2N, ... (off by default)", examples=[100]
    )
    sample: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="keep each call with this probability (seeded; off by default)",
        examples=[0.01],
    )
    max_bytes: int = Field(default=4096, ge=64, description="an answer's JSON longer than this is cut")
    max_file_mb: float = Field(default=100.0, gt=0, description="answers.jsonl stops growing at this size")

    @property
    def enabled(self) -> bool:
        return self.every is not None or self.sample is not None


#: seconds a probe run may take when the profile names no timeout (an interpreter starting on a
#: loaded machine takes far longer than a typical ``every``)
DEFAULT_PROBE_TIMEOUT = 10.0


class ProbeConfig(ProfileModel):
    """A command run on a schedule whose output (JSON or Prometheus text) becomes series (``[[probe]]``)."""

    command: str = Field(
        min_length=1,
        description="run with /bin/sh -c (cmd.exe /c on Windows) in the sandbox root (or the cwd)",
        examples=["python3 probe.py --json"],
    )
    name: str = Field(default="", description="default: the command's basename, e.g. probe.sh", examples=["queue"])
    every: float = Field(default=1.0, gt=0, description="seconds between runs ('1s', '500ms')")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="a run taking longer is killed and counted as a failure; default: 10s or every, the longer",
        examples=["5s"],
    )
    format: Literal["auto", "json", "prometheus"] = Field(
        default="auto", description="auto: JSON (the whole output or its last line), else Prometheus text"
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="series name -> dotted JSON path or Prometheus selector; "
        "empty: every top-level number or boolean of the JSON (every unlabelled Prometheus sample)",
        examples=[{"depth": "queue.depth"}],
    )

    _secs = seconds_fields("every", "timeout")

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


class ReportFolderConfig(ProfileModel):
    """A folder where the system under test writes JSON reports (``[[reports]]``, e.g. ``epoch-*.json``).

    Series appear only for the paths named in ``fields``: a report folder without ``fields`` is
    read and counted (reports_read[NAME]), but gives no value series.
    """

    name: str = Field(description="subject of its series: <field>[NAME]", examples=["engine"])
    path: str = Field(description="the folder, under the root", examples=["data/reports"])
    pattern: str = Field(default="*.json", description="glob of the report files in the folder")
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="series name -> dotted JSON path read from each new report",
        examples=[{"height": "node_snapshot.consensus.committed_height"}],
    )
