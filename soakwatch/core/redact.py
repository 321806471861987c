"""Secrets kept out of the run directory: the one redaction helper every writer uses.

A run directory is evidence that gets copied, attached to tickets and read by others, so
what it records of a profile and a command line is redacted where it is written
(``run_config.json``, the recorded argv, events, a sweep's profiles):

- values of HTTP headers named ``Authorization``, ``Proxy-Authorization``, ``Cookie``,
  ``Set-Cookie``, ``*-Key`` or ``*Token`` (any case);
- every value of a node's or a command target's ``env`` (an environment is where secrets live);
- ``--set KEY=VALUE`` whose key or value mentions token, key, secret, password or authorization;
- the password of a URL (``http://user:secret@host`` keeps the user);
- any mapping key that names a secret (``api_key``, ``password``, ``x-auth-token``, ...), unless
  its value is a number (a count per error kind such as ``HTTP 401 invalid_api_key``).

Redacted values become :data:`REDACTED`; the field stays, so a reader sees that one was set.

Values read from the environment for ``${NAME}`` references (:mod:`soakwatch.config.envref`) are
secrets whatever their header's name: :func:`note_secret` registers them, and :func:`redact_text`
(used by :func:`redact_obj` and so by every event) and :func:`scrub_bytes` (an HTTP answer that
echoes a header) replace every occurrence by :data:`REDACTED`. Values shorter than
:data:`SECRET_MIN_LEN` are not registered: replacing them everywhere would mangle ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from soakwatch.config.envref import env_names, expand_env

__all__ = [
    "REDACTED",
    "SECRET_MIN_LEN",
    "expand_secret_headers",
    "is_secret_name",
    "note_secret",
    "redact_argv",
    "redact_obj",
    "redact_profile",
    "redact_text",
    "redact_url",
    "scrub_bytes",
]

REDACTED = "***"
#: a value read from the environment shorter than this is not scrubbed from text (see above)
SECRET_MIN_LEN = 4

#: values read from the environment for ``${NAME}`` references; longest first, so one inside another is
#: replaced whole
_secrets: list[str] = []
_secret_bytes: list[tuple[bytes, bytes]] = []

#: names (header names, mapping keys) whose values are secrets
_SECRET_NAME = re.compile(
    r"token|secret|passw(or)?d|authori[sz]ation|cookie|api[-_]?key|credential|(^|[-_.])key($|[-_.])", re.I
)
#: a --set whose key or value mentions one of these is redacted whole (value only; the key stays)
_SECRET_SET = re.compile(r"token|key|secret|password|authorization", re.I)
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]*@", re.I)


def is_secret_name(name: str) -> bool:
    """True for a header or key name whose value must not be written (``X-Api-Key``, ``Authorization``)."""
    return bool(_SECRET_NAME.search(name))


def redact_url(text: str) -> str:
    """``text`` with the password of any ``scheme://user:password@host`` in it replaced."""
    if "@" not in text or "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:
        return _URL_WITH_PASSWORD.sub(lambda m: m.group(0).split(":", 2)[0] + "://***@", text)
    if parts.password is None:
        return _URL_WITH_PASSWORD.sub(lambda m: m.group(0).split("://")[0] + "://***@", text)
    netloc = f"{parts.username}:{REDACTED}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def note_secret(value: str) -> None:
    """From now on, ``value`` (read from the environment) is replaced wherever it is written."""
    if len(value) < SECRET_MIN_LEN or value in _secrets:
        return
    _secrets.append(value)
    _secrets.sort(key=len, reverse=True)
    _secret_bytes[:] = [(v.encode(), REDACTED.encode()) for v in _secrets]


def expand_secret_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers that hold ``${NAME}`` references, expanded; every value read is a noted secret."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if env_names(value):
            out[name], used = expand_env(value)
            for secret in used:
                note_secret(secret)
    return out


def redact_text(text: str) -> str:
    """``text`` with noted secrets and URL passwords replaced."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return redact_url(text)


def scrub_bytes(data: bytes) -> bytes:
    """``data`` with every noted secret replaced (an answer that echoes a header)."""
    for secret, mark in _secret_bytes:
        if secret in data:
            data = data.replace(secret, mark)
    return data


def redact_obj(obj: Any, _depth: int = 0) -> Any:
    """A JSON-like value with the values of secret-named keys, noted secrets and URL passwords redacted."""
    if isinstance(obj, str):
        return redact_text(obj)
    if _depth > 32:
        return obj
    if isinstance(obj, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and is_secret_name(k) and v not in (None, "") and not _is_number(v)
                else redact_obj(v, _depth + 1)
            )
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [redact_obj(v, _depth + 1) for v in obj]
    return obj


def _is_number(v: Any) -> bool:
    """A count is no secret: ``{"HTTP 401 invalid_api_key": 12}`` (errors by kind) keeps its number."""
    return isinstance(v, int | float)


def redact_profile(data: dict[str, Any]) -> dict[str, Any]:
    """A dumped profile (``model_dump(mode="json")``) as it may be written: headers, env values, URLs."""
    out = redact_obj(data)
    for section in (out.get("http"), out.get("cmd")):
        if isinstance(section, dict):
            _redact_env(section)
    for node in out.get("nodes") or []:
        if isinstance(node, dict):
            _redact_env(node)
    return out  # type: ignore[no-any-return]


def _redact_env(section: dict[str, Any]) -> None:
    env = section.get("env")
    if isinstance(env, dict):
        section["env"] = {k: REDACTED for k in env}


def redact_argv(argv: Sequence[str]) -> list[str]:
    """A command line as it may be recorded: ``--set`` secrets and URL passwords redacted."""
    out: list[str] = []
    after_set = False
    for arg in argv:
        if after_set or arg.startswith("--set="):
            prefix = "--set=" if arg.startswith("--set=") else ""
            out.append(prefix + _redact_set(arg[len(prefix) :]))
        else:
            out.append(redact_url(arg))
        after_set = arg == "--set"
    return out


def _redact_set(item: str) -> str:
    key, sep, value = item.partition("=")
    if sep and (_SECRET_SET.search(key) or _SECRET_SET.search(value)):
        return f"{key}={REDACTED}"
    return redact_url(item)
