"""The ``[[chaos]]`` profile section: faults injected on purpose, at a time or on demand.

Kept apart from :mod:`soakwatch.chaos.plugin` (which acts) so the profile model can import
it without pulling in the stage. Paths are relative to the sandbox root; whether they
stay inside it is checked when the stage prepares and again when an action runs.

Actions::

    kill_worker    SIGKILL one target worker; the process runner records a WorkerCrash and restarts it
                   (executor ray: ray.kill of the slot's actor, on any node; a new actor takes the slot)
    pause_worker   SIGSTOP one target worker for `duration` seconds, then SIGCONT
                   (executor ray: the actor holds between calls for `duration` seconds)
    write_file     write `content` as JSON to `path` for `duration` seconds, then restore what was there
    corrupt_file   cut the file at `path` in half (a torn JSON write)
    kill_node      SIGKILL node `node`; start it again after `duration` seconds (0: at once; the
                   restart policy does not count it)
    restart_node   graceful restart of node `node`: SIGTERM (SIGKILL after its stop_grace), then start it
    pause_node     SIGSTOP node `node` for `duration` seconds, then SIGCONT
    latency        add `latency_ms` to a `ratio` of the driver's calls for `duration` seconds
    errors         fail a `ratio` of the driver's calls (kind ChaosInjected) for `duration` seconds
    burn_cpu       `cores` helper processes spin for `duration` seconds
    hold_memory    a helper process holds `mb` MB (touched) for `duration` seconds

A plan may also live in its own file (``--chaos-plan FILE``): TOML with ``[[chaos]]``
entries, or JSON (a list of entries, or ``{"chaos": [...]}``); see :func:`load_chaos_plan`.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.errors import UsageError
from soakwatch.config.explain import explain_errors
from soakwatch.config.units import seconds_fields

__all__ = ["ChaosAction", "ChaosSpec", "load_chaos_plan"]

ChaosAction = Literal[
    "kill_worker",
    "pause_worker",
    "write_file",
    "corrupt_file",
    "kill_node",
    "restart_node",
    "pause_node",
    "latency",
    "errors",
    "burn_cpu",
    "hold_memory",
]
WORKER_ACTIONS = frozenset({"kill_worker", "pause_worker"})
FILE_ACTIONS = frozenset({"write_file", "corrupt_file"})
NODE_ACTIONS = frozenset({"kill_node", "restart_node", "pause_node"})
#: actions on the driver's own requests (soakwatch.core.inject)
INJECT_ACTIONS = frozenset({"latency", "errors"})
#: actions run by a helper child process
HELPER_ACTIONS = frozenset({"burn_cpu", "hold_memory"})
#: actions whose window has no meaning without a length
NEEDS_DURATION = frozenset({"write_file", "pause_worker", "pause_node", *INJECT_ACTIONS, *HELPER_ACTIONS})
#: the largest memory a hold_memory action may take, MB (a typo must not swap the box to death)
MAX_HOLD_MB = 65536


class ChaosSpec(ProfileModel):
    """One chaos action of a profile (``[[chaos]]``): fired ``at`` seconds, or on demand (key c, ``soakwatch chaos``).

    Each action uses only its own fields (see ``action``); a field another action uses is refused.
    """

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="what the operator picks (key c, soakwatch chaos RUN_DIR NAME)",
        examples=["kill-node1"],
    )
    action: ChaosAction = Field(
        description="kill_worker, pause_worker (duration), write_file (path, content, duration), corrupt_file (path), "
        "kill_node (node; back after duration), restart_node (node), pause_node (node, duration), "
        "latency (latency_ms, ratio, duration), errors (ratio, duration), burn_cpu (cores, duration), "
        "hold_memory (mb, duration)",
        examples=["kill_node"],
    )
    at: float | None = Field(
        default=None, ge=0, description="seconds after the start; omitted: on demand only", examples=["5m"]
    )
    duration: float = Field(
        default=0.0,
        ge=0,
        description="length of the window, seconds; kill_node: how long the node stays down before it is "
        "started again (0: at once)",
        examples=["10s"],
    )
    path: str | None = Field(
        default=None,
        description="file under the sandbox root (write_file, corrupt_file)",
        examples=["state/chaos.json"],
    )
    content: Any = Field(default=None, description="JSON value written by write_file", examples=[{"errors": 0.8}])
    target: str | None = Field(
        default=None, description="worker name, e.g. worker-0 (default: one at random)", examples=["worker-0"]
    )
    node: str | None = Field(
        default=None, description="node id (kill_node, restart_node, pause_node)", examples=["node1"]
    )
    latency_ms: float | None = Field(
        default=None, gt=0, description="added to each affected call (latency)", examples=[200]
    )
    ratio: float = Field(default=1.0, gt=0, le=1, description="share of calls affected (latency, errors)")
    cores: int = Field(default=1, ge=1, le=256, description="spinning helper processes (burn_cpu)")
    mb: int | None = Field(default=None, ge=1, le=MAX_HOLD_MB, description="memory held (hold_memory)", examples=[512])

    _secs = seconds_fields("at", "duration")

    @model_validator(mode="after")
    def _fields_fit_action(self) -> ChaosSpec:
        if self.action in FILE_ACTIONS and not self.path:
            raise ValueError(f"{self.action} needs 'path' (a file under the sandbox root)")
        if self.action not in FILE_ACTIONS and self.path is not None:
            raise ValueError(f"'path' is not used by {self.action}")
        if self.action == "write_file" and self.content is None:
            raise ValueError("write_file needs 'content' (written as JSON)")
        if self.action != "write_file" and self.content is not None:
            raise ValueError(f"'content' is not used by {self.action}")
        if self.action in NEEDS_DURATION and self.duration <= 0:
            raise ValueError(f"{self.action} needs a 'duration' greater than 0")
        if self.action not in WORKER_ACTIONS and self.target is not None:
            raise ValueError(f"'target' is not used by {self.action}")
        if self.action in NODE_ACTIONS and not self.node:
            raise ValueError(f"{self.action} needs 'node' (a node id from [[nodes]])")
        if self.action not in NODE_ACTIONS and self.node is not None:
            raise ValueError(f"'node' is not used by {self.action}")
        if self.action == "latency" and self.latency_ms is None:
            raise ValueError("latency needs 'latency_ms'")
        if self.action != "latency" and self.latency_ms is not None:
            raise ValueError(f"'latency_ms' is not used by {self.action}")
        if self.action not in INJECT_ACTIONS and self.ratio != 1.0:
            raise ValueError(f"'ratio' is not used by {self.action}")
        if self.action != "burn_cpu" and self.cores != 1:
            raise ValueError(f"'cores' is not used by {self.action}")
        if self.action == "hold_memory" and self.mb is None:
            raise ValueError("hold_memory needs 'mb'")
        if self.action != "hold_memory" and self.mb is not None:
            raise ValueError(f"'mb' is not used by {self.action}")
        return self


def _read_plan(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", where="--chaos-plan", value=str(path)) from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"not valid JSON: {exc}", where=str(path)) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"not valid TOML: {exc}", where=str(path)) from None


def load_chaos_plan(path: Path) -> list[dict[str, Any]]:
    """The entries of a chaos plan file, each checked as a :class:`ChaosSpec`.

    TOML: ``[[chaos]]`` tables. JSON (``.json``): a list of entries or ``{"chaos": [...]}``.
    A bad entry is a UsageError naming the file, the entry and the field.
    """
    data = _read_plan(path)
    entries = data.get("chaos") if isinstance(data, dict) else data
    if isinstance(data, dict) and set(data) - {"chaos"}:
        extra = ", ".join(sorted(set(data) - {"chaos"}))
        raise UsageError(f"a chaos plan holds only 'chaos' entries (found: {extra})", where=str(path))
    if not isinstance(entries, list) or not entries:
        raise UsageError("expected a non-empty list of chaos entries ([[chaos]] in TOML)", where=str(path))
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise UsageError("an entry must be a table/object", where=str(path), field=f"chaos[{i}]", value=entry)
        try:
            ChaosSpec.model_validate(entry)
        except ValidationError as exc:
            first = explain_errors(ChaosSpec, exc, "[[chaos]]")[0]  # "loc: what is wrong; what to write"
            loc, _, msg = first.partition(": ")
            field = f"chaos[{i}]" + (f".{loc}" if loc != "(profile)" else "")
            raise UsageError(msg, where=str(path), field=field) from None
        out.append(dict(entry))
    return out
