"""Where a view gets its snapshots and sends its commands.

The TUI is written against :class:`SnapshotSource` only: the live stage over its
control socket (``run``'s TUI and ``attach``), a recorded run (replay) or a fake in
tests all look the same to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from soakwatch.core.snapshot import Snapshot

__all__ = ["CommandError", "SnapshotSource"]


class CommandError(Exception):
    """The stage refused a command (unknown, malformed, or not possible now)."""


class SnapshotSource(Protocol):
    """A stream of snapshots and a way back to the stage."""

    def snapshots(self) -> AsyncIterator[Snapshot]:
        """Snapshots as they come, newest last; ends when the stage is gone."""
        ...

    async def command(self, name: str, args: dict[str, Any] | None = None) -> str:
        """Send an operator command (pause, resume, abort, truncate, chaos, auto_abort);
        returns the stage's one-line answer or raises CommandError."""
        ...

    async def close(self) -> None:
        """Stop reading; never stops the stage."""
        ...
