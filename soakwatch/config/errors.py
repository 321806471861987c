"""Errors a user can cause, and how they are reported.

Hierarchy::

    SoakwatchError
    └── UsageError        bad invocation, profile, target spec or path: exit 2, no traceback
        └── SandboxError  a file action aimed outside the sandbox root

Anything else escaping the CLI is a bug in soakwatch, not a user mistake.
"""

from __future__ import annotations

__all__ = ["SandboxError", "SoakwatchError", "UsageError"]


class SoakwatchError(Exception):
    """Base of every error soakwatch raises on purpose."""


class UsageError(SoakwatchError):
    """A user mistake: the message names the file or flag, the field and the value."""

    exit_code = 2

    def __init__(
        self, message: str, *, where: str | None = None, field: str | None = None, value: object = None
    ) -> None:
        self.where = where
        self.field = field
        self.value = value
        parts = []
        if where:
            parts.append(where)
        if field:
            parts.append(field)
        prefix = ": ".join(parts)
        if value is not None and repr(value) not in message and str(value) not in message:
            message = f"{message}: {value!r}"
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SandboxError(UsageError):
    """A file action (reset, truncate, backup, chaos) named a path outside the sandbox root."""
