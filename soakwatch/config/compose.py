"""``extends``: a profile built on another one (a built-in name or a path relative to the profile).

The base's tables are merged key by key under the profile's own (``[watch]``, ``[http]``,
``[nodes.report_fields]`` inside a table, ...); a list (``[[gates]]``, ``[[nodes]]``,
``files``) is replaced as a whole, never concatenated, so a tier can drop a gate. The
base's ``name`` is not inherited. A chain that comes back to a profile already in it is
refused, naming the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from soakwatch.config.builtin import builtin_profiles
from soakwatch.config.errors import UsageError

__all__ = ["deep_merge", "read_extended"]

#: a chain of bases longer than this is a mistake, not a design
MAX_DEPTH = 16


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merged recursively, every other value (lists too) replaced."""
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(old, value)
        else:
            out[key] = value
    return out


def _base_path(ref: object, child: Path) -> Path:
    if not isinstance(ref, str) or not ref.strip():
        raise UsageError(
            "expected a built-in profile name or a path to a TOML file", where=str(child), field="extends", value=ref
        )
    if ref.endswith(".toml") or "/" in ref:
        p = Path(ref) if Path(ref).is_absolute() else child.parent / ref
        if not p.is_file():
            raise UsageError("no such profile file", where=str(child), field="extends", value=ref)
        return p.resolve()
    found = builtin_profiles().get(ref)
    if found is None:
        known = ", ".join(builtin_profiles()) or "none"
        raise UsageError(f"no built-in profile {ref!r} (built-in: {known})", where=str(child), field="extends")
    return found.resolve()


def read_extended(path: Path, read: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """The profile at ``path`` with its ``extends`` chain merged in (``read`` parses one TOML file)."""
    chain = [path.resolve()]
    layers = [read(path)]
    while (ref := layers[-1].get("extends")) is not None:
        base = _base_path(ref, chain[-1])
        if base in chain:
            names = " → ".join(p.name for p in [*chain, base])
            raise UsageError(f"extends makes a cycle: {names}", where=str(path), field="extends")
        if len(chain) >= MAX_DEPTH:
            raise UsageError(f"extends chain longer than {MAX_DEPTH} profiles", where=str(path), field="extends")
        chain.append(base)
        layers.append({k: v for k, v in read(base).items() if k != "name"})
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged
