"""Text made safe where it enters soakwatch: from a target, a file, a socket or argv.

Python strings can hold lone surrogates (``"\\ud800"``: undecodable bytes read with
``surrogateescape``, an ``\\ud800`` escape in JSON, a hostile exception message);
every UTF-8 writer (events.jsonl, summary.md, the terminal) raises on them. Bytes
that are not UTF-8 do the same to every reader. So text is cleaned once, at the
boundary, and everything behind it can write and read it:

- a lone surrogate becomes its escape, ``\\ud800`` (six visible characters);
- bytes that are not UTF-8 are decoded with ``\\xNN`` escapes (``backslashreplace``);
- ``str()`` of an exception never raises: a broken ``__str__`` is named instead.

Also here: the bounds on what a JSON line from a file or a socket may be
(:func:`loads_bounded`), since Python's own parser dies of deep nesting
(``RecursionError``) and of huge integers (``ValueError``) in ways that
``json.JSONDecodeError`` does not catch.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "JsonRefused",
    "exc_text",
    "loads_bounded",
    "safe_bytes",
    "safe_obj",
    "safe_str",
]

#: the deepest nesting a JSON line may have (soakwatch's own lines are at most ~6 deep)
MAX_JSON_DEPTH = 64


def safe_str(text: str) -> str:
    """``text`` with lone surrogates replaced by their ``\\uXXXX`` escapes; safe for any UTF-8 writer."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_bytes(data: bytes) -> str:
    """Bytes as text: UTF-8 where they are, ``\\xNN`` escapes where they are not."""
    return data.decode("utf-8", "backslashreplace")


def safe_obj(obj: Any, _depth: int = 0) -> Any:
    """A JSON-like value with every string (keys too) passed through :func:`safe_str`."""
    if isinstance(obj, str):
        return safe_str(obj)
    if _depth > MAX_JSON_DEPTH:
        return safe_str(repr(obj)[:200])
    if isinstance(obj, dict):
        return {safe_str(str(k)): safe_obj(v, _depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [safe_obj(v, _depth + 1) for v in obj]
    return obj


def exc_text(exc: BaseException) -> str:
    """``str(exc)``, safe: a ``__str__`` that raises (or returns a non-string) never escapes."""
    try:
        text = str(exc)
    except Exception as inner:  # the target's exception is what is measured, not our bug
        try:
            name = type(inner).__name__
        except Exception:
            name = "an exception"
        return f"<unprintable {_type_name(exc)}: __str__ raised {name}>"
    return safe_str(text)


def _type_name(exc: BaseException) -> str:
    try:
        return safe_str(str(type(exc).__name__))
    except Exception:
        return "exception"


class JsonRefused(ValueError):
    """A JSON text soakwatch refuses to parse (too deep, a number too long) or that is not JSON."""


def _clean_bounded(obj: Any, max_depth: int, depth: int = 0) -> Any:
    """:func:`safe_obj` of a parsed document, refusing it when its containers nest deeper than
    ``max_depth`` (the walk that cleans the strings counts the levels too: no second pass)."""
    if isinstance(obj, str):
        return safe_str(obj)
    if isinstance(obj, dict | list):
        if depth >= max_depth:
            raise JsonRefused(f"nested deeper than {max_depth} levels")
        if isinstance(obj, dict):
            return {safe_str(k): _clean_bounded(v, max_depth, depth + 1) for k, v in obj.items()}
        return [_clean_bounded(v, max_depth, depth + 1) for v in obj]
    return obj


def loads_bounded(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that never raises anything but :class:`JsonRefused` and cleans its strings.

    Refused: invalid UTF-8 is escaped first (never refused); nesting deeper than ``max_depth``;
    integers longer than Python converts (``ValueError``); anything else ``json`` rejects.
    """
    text = safe_bytes(data) if isinstance(data, bytes | bytearray) else data
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"not JSON: {exc.msg} (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:  # nesting past the parser's own limit: deeper than any bound soakwatch takes
        raise JsonRefused(f"nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # a 5000-digit integer
        raise JsonRefused(f"not accepted: {safe_str(str(exc))[:120]}") from None
    return _clean_bounded(obj, max_depth)
