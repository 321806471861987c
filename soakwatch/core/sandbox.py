"""The sandbox root: every file action (reset, truncate, backup, chaos corruption) stays inside it.

A path is resolved the way the kernel would follow it (symlinks, ``..``) before it is
compared with the resolved root, so ``state/../../etc/passwd`` and a symlink
``state/evil -> /etc`` are both refused. Refusals are :class:`~soakwatch.config.errors.SandboxError`
(a UsageError: exit 2, nothing run) naming the profile field and the path.

Globs are checked twice: their fixed prefix before the stage (:func:`check_glob`), and
every file they match at the moment it is acted on (:func:`glob_inside`), since a
symlink may appear while the stage runs.
"""

from __future__ import annotations

import glob as _glob
from pathlib import Path

from soakwatch.config.errors import SandboxError
from soakwatch.config.profile import Profile
from soakwatch.core import platform as plat

__all__ = [
    "check_broad_root",
    "check_glob",
    "file_actions",
    "glob_inside",
    "has_magic",
    "inside",
    "is_inside",
    "static_prefix",
]


def _resolve(root: Path, path: str | Path) -> tuple[Path, Path]:
    r"""(root, path) resolved and comparable: on Windows both without a ``\\?\`` prefix, and
    ``is_relative_to`` compares Windows paths case-insensitively, drive letters included."""
    base = plat.resolve(Path(root))
    p = Path(path).expanduser()
    return base, plat.resolve(p if p.is_absolute() else base / p)


def is_inside(root: Path, path: str | Path) -> bool:
    """True when ``path`` (relative to ``root`` unless absolute) resolves inside ``root``."""
    base, resolved = _resolve(root, path)
    return plat.is_within(base, resolved)


def inside(root: Path, path: str | Path, field: str) -> Path:
    """The resolved path, or :class:`SandboxError` when it leaves the sandbox root.

    ``field`` names the profile field or command argument the path came from, for the message.
    """
    base, resolved = _resolve(root, path)
    if not plat.is_within(base, resolved):
        raise SandboxError(
            f"{str(path)!r} resolves to {resolved}, outside the sandbox root {base}",
            field=field,
            value=str(path),
        )
    return resolved


def has_magic(pattern: str) -> bool:
    return _glob.has_magic(pattern)


def static_prefix(pattern: str) -> str:
    """The leading path components of a glob that hold no wildcard (``"."`` when none)."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if _glob.has_magic(part):
            break
        parts.append(part)
    return str(Path(*parts)) if parts else "."


def check_glob(root: Path, pattern: str, field: str) -> Path:
    """Refuse a glob whose fixed prefix leaves the root (``../x/*.json``); returns that prefix resolved."""
    if ".." in Path(pattern).parts[len(Path(static_prefix(pattern)).parts) :]:
        raise SandboxError(f"{pattern!r}: '..' after a wildcard cannot be checked", field=field, value=pattern)
    return inside(root, static_prefix(pattern), field)


def glob_inside(root: Path, pattern: str, field: str) -> list[Path]:
    """Paths matching ``pattern`` under ``root`` (as matched, not resolved), sorted.

    Any match that resolves outside the root (a symlink) is refused.
    """
    check_glob(root, pattern, field)
    base = Path(root).resolve()
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    out: list[Path] = []
    for match in sorted(_glob.glob(full, recursive=True)):
        inside(base, match, field)
        out.append(Path(match))
    return out


def file_actions(profile: Profile) -> list[str]:
    """The profile fields that change files under the root (reset, truncate, backup, chaos file writes)."""
    w = profile.watch
    found = [name for name, on in (("watch.reset_before", w.reset_before), ("watch.backup_before", w.backup_before),
                                   ("watch.truncate_over_kb", w.truncate_over_kb is not None)) if on]  # fmt: skip
    found += [f"chaos {c.name} ({c.action})" for c in profile.chaos if c.action in ("write_file", "corrupt_file")]
    return found


def check_broad_root(profile: Profile, root: Path) -> None:
    """Refuse ``/`` or the user's home as the root of a stage that changes files, unless allowed.

    A root that wide makes the sandbox meaningless: one wrong glob deletes or truncates real files.
    """
    actions = file_actions(profile)
    if not actions or profile.allow_broad_root:
        return
    base = plat.resolve(Path(root))
    if base.parent == base or base == plat.resolve(Path.home()):  # / or a drive (C:\), or the home dir
        raise SandboxError(
            f"{base} is too broad a root for a stage that changes files ({', '.join(actions)}); "
            "give a narrower --root, or --allow-broad-root if you mean it",
            where="--root",
            value=str(base),
        )
