"""Where the built-in profiles live (kept free of pydantic so `soakwatch profiles` starts fast)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUILTIN_DIR", "builtin_profiles"]

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "profiles"


def builtin_profiles() -> dict[str, Path]:
    """Built-in profile names and their files."""
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}
