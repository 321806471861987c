"""Profiles: TOML files loaded into a validated pydantic model, with CLI overrides.

A profile is looked up by name among the built-ins (``profiles/*.toml``) or read from
a path. Every validation problem becomes a :class:`~soakwatch.config.errors.UsageError` naming
the file, the field and the value.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.builtin import BUILTIN_DIR, builtin_profiles
from soakwatch.config.chaos import ChaosSpec
from soakwatch.config.cmd import CmdConfig
from soakwatch.config.collectors import (
    ProbeConfig,
    ProcessConfig,
    RecordConfig,
    ReportFolderConfig,
    ScrapeConfig,
    WatchConfig,
)
from soakwatch.config.compose import read_extended
from soakwatch.config.constants import DEFAULT_REFRESH_HZ
from soakwatch.config.envref import check_env_refs
from soakwatch.config.errors import UsageError
from soakwatch.config.explain import explain_errors
from soakwatch.config.gates import GateSpec
from soakwatch.config.http import HttpConfig
from soakwatch.config.limits import MAX_CALLS, MAX_DURATION, MAX_RATE, MAX_TIMEOUT, MIN_RATE, MIN_SECONDS
from soakwatch.config.matrix import MatrixValue, check_matrix
from soakwatch.config.nodes import NodeSpec, check_topology
from soakwatch.config.overrides import apply_overrides
from soakwatch.config.safetext import safe_str
from soakwatch.config.shape import ShapeSegment, check_one_kind, concurrency_peak, concurrency_shape, shape_total
from soakwatch.config.units import seconds_fields

__all__ = [
    "BUILTIN_DIR",
    "Profile",
    "apply_overrides",
    "builtin_profiles",
    "load_profile",
    "resolve_profile_path",
]


class Profile(ProfileModel):
    """A stage: what to call, how hard, for how long, what to watch and how to judge it (the top level of a profile)."""

    name: str = Field(default="adhoc", description="stage name; default: the profile file's name", examples=["smoke"])
    description: str = Field(
        default="", description="one line shown by `soakwatch profiles`", examples=["nightly smoke of the engine"]
    )
    extends: str | None = Field(
        default=None,
        description="a base profile (built-in name or path relative to this file): its tables deep-merged "
        "under this one's, lists replaced",
        examples=["soak_smoke"],
    )
    target: str | None = Field(
        default=None,
        description="module.path:function (sync or async), http://host:port/path ([http]) or cmd:COMMAND ([cmd]); "
        "unset with [[nodes]]: no calls, the nodes are watched",
        examples=["engine.engine_v2:run_model"],
    )
    root: str | None = Field(
        default=None,
        description="sandbox root: relative paths start here, file actions stay inside, put on sys.path; "
        "default: the current directory",
        examples=["."],
    )
    cases: str | None = Field(
        default=None,
        description="JSONL file of cases (one JSON value per line), cycled, one per call",
        examples=["cases.jsonl"],
    )
    calls: int | None = Field(
        default=None, gt=0, le=MAX_CALLS, description="number of calls (give calls or duration)", examples=[672]
    )
    duration: float | None = Field(
        default=None,
        ge=MIN_SECONDS,
        le=MAX_DURATION,
        allow_inf_nan=False,
        description="how long the stage runs, seconds or '30m' (give calls or duration)",
        examples=["30m"],
    )
    concurrency: int = Field(default=1, ge=1, le=4096, description="calls in flight at once (closed model)")
    rate: float | None = Field(
        default=None,
        ge=MIN_RATE,
        le=MAX_RATE,
        allow_inf_nan=False,
        description="fixed arrival rate, calls/s (open model; concurrency bounds it)",
        examples=[40],
    )
    shape: list[ShapeSegment] = Field(
        default_factory=list,
        description="an arrival rate (open model; [[shape]] rate = 20 for = '2m') or a concurrency (closed model; "
        "[[shape]] concurrency = 8 for = '2m') that follows segments: ramps 'FROM->TO', 0 for an idle gap; "
        "the stage lasts the shape unless duration or calls ends it sooner",
        examples=[[{"rate": "0->20", "for": "30s"}, {"rate": 0, "for": "10s"}]],
    )
    timeout: float = Field(
        default=30.0, ge=MIN_SECONDS, le=MAX_TIMEOUT, allow_inf_nan=False, description="per-call timeout, seconds"
    )
    stop_grace: float = Field(
        default=10.0,
        ge=0,
        le=MAX_TIMEOUT,
        allow_inf_nan=False,
        description="after a graceful stop (SIGINT/SIGTERM, q, ctl stop, an aborting gate) the calls in flight "
        "get this many seconds to finish before they are cancelled (counted, not errors); a second SIGINT "
        "cancels them at once",
    )
    isolation: Literal["process", "inline"] = Field(
        default="process",
        description="process: a Python target runs in worker processes (a crash is recorded, the worker restarted); "
        "inline: in the stage's process",
    )
    executor: Literal["local", "ray"] = Field(
        default="local",
        description="local: the slots run on this machine; ray: each slot is an actor on a Ray cluster "
        "(pip install 'soakwatch[ray]'; Python-callable and HTTP targets, closed model or a fixed rate)",
    )
    ray_address: str | None = Field(
        default=None,
        description="Ray cluster of executor ray: host:port of the head or ray://host:10001; "
        "default RAY_ADDRESS, else the cluster started on this machine with `ray start`",
        examples=["10.0.0.5:6379"],
    )
    ray_cpus_per_slot: float | None = Field(
        default=None,
        gt=0,
        le=64,
        allow_inf_nan=False,
        description="CPUs each slot's actor asks of Ray; default the cluster's CPUs over the concurrency, at most 1",
        examples=[0.25],
    )
    ray_node_labels: dict[str, str] = Field(
        default_factory=dict,
        description="executor ray: place the slots' actors only on nodes with all these labels (Ray's label "
        "selector; nodes get them with `ray start --labels zone=a`); default: any node, spread. No live node "
        "with them: exit 2",
        examples=[{"zone": "a"}],
    )
    tick: float = Field(
        default=0.5,
        ge=0.01,
        le=10,
        allow_inf_nan=False,
        description="seconds between ticks (gates, collectors, snapshots)",
    )
    status_every: float = Field(
        default=5.0, ge=0.01, le=MAX_DURATION, allow_inf_nan=False, description="seconds between headless status lines"
    )
    refresh_hz: float = Field(
        default=DEFAULT_REFRESH_HZ, gt=0, le=20, allow_inf_nan=False, description="TUI refreshes per second"
    )
    strict: bool = Field(default=False, description="every warn gate counts as fail")
    allow_broad_root: bool = Field(
        default=False,
        description="let a stage with file actions (reset, truncate, backup, chaos file writes) use / or "
        "your home directory as its root (--allow-broad-root)",
    )
    share_run_dir: bool = Field(
        default=False, description="run directory readable by other users (0755); default private to you (0700)"
    )
    control_transport: Literal["unix", "tcp"] | None = Field(
        default=None,
        description="the control socket (TUI, attach, ctl): unix (a 0600 socket in the run dir) or tcp "
        "(127.0.0.1, random port, a token in the owner-only control.tcp); default: "
        "$SOAKWATCH_CONTROL_TRANSPORT, else unix (tcp on Windows)",
    )
    insufficient_data: Literal["warn", "fail"] = Field(
        default="warn", description="a fail gate never judged on enough data: warn (said on the verdict line) or fail"
    )
    watch: WatchConfig = Field(default_factory=WatchConfig, description="watched files ([watch])")
    processes: ProcessConfig = Field(default_factory=ProcessConfig, description="process sampling ([processes])")
    scrape: list[ScrapeConfig] = Field(default_factory=list, description="HTTP endpoints sampled ([[scrape]])")
    reports: list[ReportFolderConfig] = Field(
        default_factory=list, description="folders of JSON reports read as they appear ([[reports]])"
    )
    probe: list[ProbeConfig] = Field(
        default_factory=list,
        description="commands run on a schedule whose JSON/Prometheus output becomes series ([[probe]])",
    )
    gates: list[GateSpec] = Field(default_factory=list, description="rules that judge the stage ([[gates]])")
    chaos: list[ChaosSpec] = Field(default_factory=list, description="faults injected on purpose ([[chaos]])")
    nodes: list[NodeSpec] = Field(default_factory=list, description="processes started and supervised ([[nodes]])")
    http: HttpConfig = Field(default_factory=HttpConfig, description="request and expectations of an http:// target")
    cmd: CmdConfig = Field(default_factory=CmdConfig, description="how a cmd: target runs its command")
    seed: int | None = Field(
        default=None,
        ge=0,
        description="seeds the case order (case_order = 'shuffle') and the randomness soakwatch controls "
        "(injected faults, chaos picks); also SOAKWATCH_SEED for the target; default: a random seed, "
        "recorded in run_config.json",
        examples=[42],
    )
    case_order: Literal["file", "shuffle"] = Field(
        default="file", description="cases in file order, or shuffled once with the seed"
    )
    record: RecordConfig = Field(
        default_factory=RecordConfig, description="sampled calls' cases and answers kept in answers.jsonl ([record])"
    )
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="free key = value tags of the run (--label model=real), shown by compare",
        examples=[{"model": "real"}],
    )
    matrix: dict[str, list[MatrixValue]] = Field(
        default_factory=dict,
        description="sweep axes: one stage per combination (soakwatch sweep, docs/sweeps.md)",
        examples=[{"concurrency": [1, 2, 4], "latency_ms": [0, 20]}],
    )

    @field_validator("matrix")
    @classmethod
    def _matrix(cls, v: dict[str, list[MatrixValue]]) -> dict[str, list[MatrixValue]]:
        check_matrix(v)
        return v

    _secs = seconds_fields("duration", "timeout", "stop_grace", "tick", "status_every")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a stage needs a non-empty name")
        return safe_str(v)

    @field_validator(
        "calls",
        "concurrency",
        "duration",
        "rate",
        "timeout",
        "stop_grace",
        "tick",
        "status_every",
        "refresh_hz",
        mode="before",
    )
    @classmethod
    def _not_bool(cls, v: object) -> object:
        if isinstance(v, bool):  # TOML `calls = true` is not a number (pydantic would take it as 1)
            raise ValueError("must be a number, not true/false")
        return v

    @field_validator("target", "root", "cases")
    @classmethod
    def _non_empty(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be empty (leave it out instead)")
        return v if v is None else safe_str(v)

    @model_validator(mode="after")
    def _limits(self) -> Profile:
        self._check_shape()
        if self.calls is None and self.duration is None:
            raise ValueError("a stage needs 'calls' or 'duration'")
        if self.calls is not None and self.duration is not None:
            raise ValueError("give 'calls' or 'duration', not both (the stage ends at one of them)")
        names = [c.name for c in self.chaos]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"chaos action names must be unique: {', '.join(dup)} used more than once")
        problems = check_topology(self.nodes, self.chaos, self.target, self.calls)
        sources = [s.name for s in self.scrape] + [r.name for r in self.reports] + [p.name for p in self.probe]
        dupes = sorted({n for n in sources if sources.count(n) > 1})
        if dupes:
            problems.append(f"scrape, reports and probe names must differ (give [[probe]] a name): {dupes}")
        if self.executor == "ray" and self.shape:
            problems.append("executor 'ray' runs the closed model or a fixed 'rate': no [[shape]]")
        if self.executor == "ray" and self.http.explicit_processes > 1:
            problems.append("executor 'ray' runs each slot in an actor of its own: leave [http] load_processes at 1")
        if self.ray_node_labels and self.executor != "ray":
            problems.append("ray_node_labels places the actors of executor = 'ray': set executor = 'ray' or drop it")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_shape(self) -> None:
        if not self.shape:
            return
        check_one_kind(self.shape)
        if self.http.explicit_processes > 1:
            raise ValueError("a [[shape]] runs in one load process: set [http] load_processes = 1")
        if concurrency_shape(self.shape):
            self._check_concurrency_shape()
            return
        if self.rate is not None:
            raise ValueError("give 'rate' (fixed) or [[shape]] (a rate that follows segments), not both")
        if max(max(seg.rates) for seg in self.shape) < MIN_RATE:
            raise ValueError("[[shape]] plans no call: give at least one segment a rate above 0")
        python = not (self.target or "").startswith(("http://", "https://", "cmd:"))
        if python and self.isolation == "process":
            raise ValueError("[[shape]] drives inline Python, http:// and cmd: targets: set isolation = 'inline'")
        if self.calls is None and self.duration is None:
            object.__setattr__(self, "duration", shape_total(self.shape))

    def _check_concurrency_shape(self) -> None:
        explicit = "concurrency" in self.model_fields_set
        peak = concurrency_peak(self.shape, self.rate, self.executor, self.concurrency if explicit else None)
        object.__setattr__(self, "concurrency", peak)
        if self.calls is None and self.duration is None:
            object.__setattr__(self, "duration", shape_total(self.shape))

    @property
    def open_model(self) -> bool:
        """True when calls arrive on a schedule (a fixed rate or a shape) rather than as fast as concurrency allows."""
        return self.rate is not None or (bool(self.shape) and not concurrency_shape(self.shape))


def resolve_profile_path(name_or_path: str) -> Path:
    """A built-in name (``smoke``) or a path to a TOML file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or "/" in name_or_path:
        if not p.is_file():
            raise UsageError("no such profile file", where="--profile", value=name_or_path)
        return p
    found = builtin_profiles().get(name_or_path)
    if found is None:
        known = ", ".join(builtin_profiles()) or "none"
        raise UsageError(f"unknown profile {name_or_path!r} (built-in: {known})", where="--profile")
    return found


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"not UTF-8 text (byte {exc.start}): a profile is a TOML file", where=str(path)) from None
    except RecursionError:
        raise UsageError("not valid TOML: nested too deeply", where=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", where=str(path)) from None


def _explain(exc: ValidationError, where: str, set_keys: Sequence[str] = ()) -> UsageError:
    lines = explain_errors(Profile, exc)
    for i, line in enumerate(lines):
        loc = line.split(":", 1)[0]
        key = next((k for k in set_keys if loc == k or loc.startswith(k + ".")), None)
        if key is not None:
            lines[i] = f"{line} [from --set {key}]"
    first, *rest = lines
    more = "".join(f"\n  {line}" for line in rest)
    return UsageError(first + more, where=where)


def validate_profile(data: Mapping[str, Any], where: str, set_keys: Sequence[str] = ()) -> Profile:
    """Build a :class:`Profile` from plain data, turning pydantic errors into usage errors that teach."""
    try:
        profile = Profile.model_validate(dict(data))
    except ValidationError as exc:
        raise _explain(exc, where, set_keys) from None
    headers = [("http.headers", profile.http.headers)]
    headers += [(f"scrape.{s.name}.headers", s.headers) for s in profile.scrape]
    check_env_refs(headers, where)  # a ${NAME} whose variable is not set: exit 2 now
    return profile


def load_profile(
    name_or_path: str | None,
    overrides: Mapping[str, Any] | None = None,
    sets: Sequence[str] = (),
    extra_gates: Sequence[Mapping[str, Any]] = (),
    extra_chaos: Sequence[Mapping[str, Any]] = (),
) -> Profile:
    """Load, override and validate a profile. Without a name, an ad-hoc profile is built."""
    if name_or_path is None:
        data: dict[str, Any] = {"name": "adhoc"}
        where = "command line"
    else:
        path = resolve_profile_path(name_or_path)
        data = read_extended(path, _read_toml)
        data.setdefault("name", path.stem)
        where = str(path)
    data = apply_overrides(data, overrides or {}, sets)
    if extra_gates:
        data["gates"] = [*data.get("gates", []), *extra_gates]
    if extra_chaos:  # a --chaos-plan file: its entries join the profile's
        data["chaos"] = [*data.get("chaos", []), *extra_chaos]
    set_keys = [item.partition("=")[0].strip() for item in sets]
    return validate_profile(data, where, set_keys)
