"""Target specs and the Python-callable target.

Spec forms (DESIGN.md): ``module.path:function`` (a sync or async callable, with the
sandbox root on ``sys.path``), ``http://...``, ``cmd:...``. This module parses specs,
resolves Python callables and loads cases; the runners drive them.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from soakwatch.config.errors import UsageError
from soakwatch.config.limits import check_http_url

__all__ = ["TargetSpec", "load_cases", "parse_target", "resolve_callable"]

_PY_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class TargetSpec:
    """A parsed ``--target``."""

    kind: Literal["python", "http", "cmd"]
    spec: str

    @property
    def module(self) -> str:
        return self.spec.split(":", 1)[0]

    @property
    def function(self) -> str:
        return self.spec.split(":", 1)[1]


def parse_target(spec: str, where: str = "--target") -> TargetSpec:
    """Classify a target spec, rejecting malformed ones with a clear message."""
    s = spec.strip()
    if s.startswith(("http://", "https://")):
        try:
            check_http_url(s)
        except ValueError as exc:
            raise UsageError(str(exc), where=where) from None
        return TargetSpec("http", s)
    if s.startswith("cmd:"):
        if not s[4:].strip():
            raise UsageError("cmd: needs a command after the colon", where=where, value=spec)
        return TargetSpec("cmd", s)
    if _PY_SPEC.match(s):
        return TargetSpec("python", s)
    raise UsageError(
        f"not a target spec: {spec!r} (expected module.path:function, http://host:port/path or cmd:COMMAND)",
        where=where,
    )


def root_hint(module: str, root: Path | str | None) -> str:
    """What to do when ``module`` is not found: give the folder that holds it as the sandbox root."""
    top = module.split(".")[0]
    where = f"the sandbox root {root}" if root else "the current directory"
    return (
        f"; {top!r} is not in {where} nor installed: give the folder that holds {top}/ or {top}.py "
        'with --root DIR (or root = "DIR" in the profile)'
    )


def _import_module(name: str, root: Path | None) -> Any:
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise UsageError(f"module {name!r} not found{root_hint(name, root)}", where="--target") from None
        raise UsageError(f"module {name!r} does not import: {type(exc).__name__}: {exc}", where="--target") from None
    except Exception as exc:
        raise UsageError(f"module {name!r} does not import: {type(exc).__name__}: {exc}", where="--target") from None


def resolve_callable(spec: TargetSpec, root: Path | None) -> tuple[Callable[..., Any], bool]:
    """Import ``module:function`` and return it with whether it is a coroutine function."""
    if spec.kind != "python":
        raise UsageError(f"{spec.kind} targets are not Python callables", where="--target", value=spec.spec)
    obj: Any = _import_module(spec.module, root)
    for part in spec.function.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"module {spec.module!r} has no attribute {spec.function!r}", where="--target")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{spec.spec!r} is not callable (a {type(obj).__name__})", where="--target")
    return obj, inspect.iscoroutinefunction(obj)


def load_cases(path: Path) -> list[Any]:
    """Cases from a JSONL file: one JSON value per non-blank line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read cases: {exc.strerror}", where=str(path)) from None
    cases: list[Any] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"line {n}: not JSON: {exc.msg}", where=str(path), value=line[:80]) from None
    if not cases:
        raise UsageError("no cases in the file", where=str(path))
    return cases
