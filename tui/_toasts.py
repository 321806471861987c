"""What the operator reads after a key: one human sentence per command, not the wire's words."""

from __future__ import annotations

from typing import Any

__all__ = ["toast"]


def toast(name: str, args: dict[str, Any] | None, answer: str) -> str:
    """The notification for a command the stage accepted (``answer`` is the stage's reply)."""
    args = args or {}
    if name == "auto_abort":
        if args.get("on"):
            return "auto-abort on: a failing abort gate (⏹) will stop the stage"
        return "auto-abort off: gates are still judged but will not stop the stage"
    if name == "pause":
        return "stage paused: no new calls until you press p again"
    if name == "resume":
        return "stage resumed"
    if name == "chaos":
        return f"chaos {args.get('action', '')} injected: marked ▲ on the charts"
    if name == "truncate":
        files = args.get("files") or []
        return f"truncated {len(files)} file{'s' if len(files) != 1 else ''}: " + ", ".join(map(str, files))
    if name == "abort":
        return "abort requested: the stage is stopping (exit code 3)"
    if name == "note" and args.get("action") == "screenshot":
        return f"screenshot saved: {args.get('path', '')}"
    return answer
