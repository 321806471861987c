"""Where a stage's root and cases file are: the profile's paths resolved against the working directory."""

from __future__ import annotations

from pathlib import Path

from soakwatch.config.errors import UsageError

__all__ = ["resolve_cases", "resolve_root"]


def resolve_root(cwd: Path, raw: str | None) -> Path:
    """The root directory (``--root``, relative to ``cwd``); the working directory without one."""
    root = (cwd / raw).resolve() if raw else cwd
    if not root.is_dir():
        raise UsageError("no such directory", where="--root", value=raw)
    return root


def resolve_cases(cases: str | None, cwd: Path, root: Path) -> Path | None:
    """The cases file (``--cases``), looked up relative to ``cwd``, then to ``root``."""
    if not cases:
        return None
    p = Path(cases)
    for base in (cwd, root):
        cand = p if p.is_absolute() else base / p
        if cand.is_file():
            return cand
    raise UsageError("no such cases file", where="--cases", value=cases)
