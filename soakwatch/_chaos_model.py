"""The ``[[chaos]]`` profile section: faults injected on purpose, at a time or on demand.

Kept apart from :mod:`soakwatch.chaos` (which acts) so the profile model can import
it without pulling in the stage. Paths are relative to the sandbox root; whether they
stay inside it is checked when the stage prepares and again when an action runs.

Actions::

    kill_worker    SIGKILL one target worker; the process runner records a WorkerCrash and restarts it
    pause_worker   SIGSTOP one target worker for `duration` seconds, then SIGCONT
    write_file     write `content` as JSON to `path` for `duration` seconds, then restore what was there
    corrupt_file   cut the file at `path` in half (a torn JSON write)
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from soakwatch._units import parse_duration

__all__ = ["ChaosAction", "ChaosSpec"]

ChaosAction = Literal["kill_worker", "pause_worker", "write_file", "corrupt_file"]
WORKER_ACTIONS = frozenset({"kill_worker", "pause_worker"})
FILE_ACTIONS = frozenset({"write_file", "corrupt_file"})


class ChaosSpec(BaseModel):
    """One chaos action of a profile (``[[chaos]]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="what the operator picks")
    action: ChaosAction
    at: float | None = Field(default=None, ge=0, description="seconds after the start; omitted: on demand only")
    duration: float = Field(default=0.0, ge=0, description="length of the window, seconds ('10s' accepted)")
    path: str | None = Field(default=None, description="file under the sandbox root (write_file, corrupt_file)")
    content: Any = Field(default=None, description="JSON value written by write_file")
    target: str | None = Field(default=None, description="worker name, e.g. worker-0 (default: one at random)")

    @field_validator("at", "duration", mode="before")
    @classmethod
    def _seconds(cls, v: object) -> object:
        if isinstance(v, str):
            return parse_duration(v)
        return v

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
        if self.action in ("write_file", "pause_worker") and self.duration <= 0:
            raise ValueError(f"{self.action} needs a 'duration' greater than 0")
        if self.action not in WORKER_ACTIONS and self.target is not None:
            raise ValueError(f"'target' is not used by {self.action}")
        return self
