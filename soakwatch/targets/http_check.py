"""What an HTTP answer means: every response and transport failure gets one error kind.

The kinds, as shown under "errors by kind" in the summary::

    transport (no answer)            answer outside expect_status      answer in expect_status
    ├── Timeout (a timeout)          ├── HTTP 500                      ├── EmptyBody
    ├── ConnectionRefused            └── HTTP 429 rate_limited         ├── MalformedJSON
    ├── ConnectionReset                  (status + the code of a       └── ExpectationFailed
    ├── ConnectError                      JSON error envelope,              (a JSON field missing,
    └── ProtocolError                     e.g. error.code)                   the schema not met)

This module holds the answer side (pure functions over status, body and content
type); the client adapters in :mod:`soakwatch.targets.http_clients` map their exceptions
to the transport kinds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch._calldata import record
from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.targets.http_clients import Reply

__all__ = ["Checks", "Outcome", "build_checks", "check_reply", "dig"]

#: characters of an unexpected body quoted in an error message
BODY_HEAD = 160


@dataclass(frozen=True)
class Outcome:
    """The verdict on one answer: ``kind`` is None when the call is good."""

    kind: str | None
    message: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0


OK = Outcome(None)


@dataclass(frozen=True)
class Checks:
    """The expectations of a stage, resolved once before the run."""

    ok_status: frozenset[int] = frozenset()
    wants_json: bool = False
    json_fields: tuple[str, ...] = ()
    validator: Any = None
    error_code_fields: tuple[str, ...] = ("error.code", "error.type", "code")
    count_usage: bool = False

    def status_ok(self, status: int) -> bool:
        return status in self.ok_status if self.ok_status else 200 <= status < 300


_MISSING = object()


def dig(doc: Any, path: str) -> Any:
    """The value at a dotted path (``choices.0.message``), or a private sentinel when absent."""
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _head(body: bytes) -> str:
    text = body[:BODY_HEAD].decode("utf-8", "replace").replace("\n", " ")
    return text + ("…" if len(body) > BODY_HEAD else "")


def _is_json_type(content_type: str) -> bool:
    ct = content_type.split(";", 1)[0].strip().lower()
    return ct == "application/json" or ct.endswith("+json")


def _envelope(body: bytes, fields: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(code, message) of a JSON error envelope, when the body is one."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    code = None
    for path in fields:
        v = dig(doc, path)
        if isinstance(v, str | int) and not isinstance(v, bool) and str(v):
            code = str(v)
            break
    msg = dig(doc, "error.message")
    if msg is _MISSING:
        msg = dig(doc, "message")
    return code, msg if isinstance(msg, str) else None


def check_reply(
    status: int, body: bytes, content_type: str, checks: Checks, rid: str = "", *, head: bool = False
) -> Outcome:
    """Classify one answer against the stage's expectations. The answer to a HEAD request (``head``)
    has no body by definition: only its status is judged (body expectations with HEAD are refused
    when the profile is read)."""
    tag = f" [{rid}]" if rid else ""
    if not checks.status_ok(status):
        code, msg = _envelope(body, checks.error_code_fields)
        kind = f"HTTP {status} {code}" if code else f"HTTP {status}"
        return Outcome(kind, f"{msg or _head(body) or '(no body)'}{tag}")
    if head:
        return OK
    json_type = _is_json_type(content_type)
    if not (checks.wants_json or json_type):
        return OK
    if not body.strip():
        if checks.wants_json or status != 204:
            return Outcome("EmptyBody", f"HTTP {status} with no body{tag}")
        return OK
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return Outcome("MalformedJSON", f"{exc}: {_head(body)}{tag}")
    for path in checks.json_fields:
        if dig(doc, path) is _MISSING:
            return Outcome("ExpectationFailed", f"missing JSON field {path}{tag}")
    if checks.validator is not None:
        err = next(iter(checks.validator.iter_errors(doc)), None)
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            return Outcome("ExpectationFailed", f"schema: {err.message} at {where}{tag}")
    if checks.count_usage:
        p = dig(doc, "usage.prompt_tokens")
        c = dig(doc, "usage.completion_tokens")
        return Outcome(None, "", p if isinstance(p, int) else 0, c if isinstance(c, int) else 0)
    return OK


def _load_schema(raw: dict[str, Any] | str, bases: list[Path]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    p = Path(raw)
    for base in bases:
        cand = p if p.is_absolute() else base / p
        if cand.is_file():
            try:
                doc = json.loads(cand.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"cannot read the schema: {exc}", where="http.expect_schema", value=raw) from None
            if not isinstance(doc, dict):
                raise UsageError("a JSON schema must be an object", where="http.expect_schema", value=raw)
            return doc
    raise UsageError("no such schema file", where="http.expect_schema", value=raw)


def build_checks(cfg: HttpConfig, bases: list[Path]) -> Checks:
    """Resolve the expectations of ``cfg``; a bad schema is a usage error before the run."""
    validator = None
    if cfg.expect_schema is not None:
        import jsonschema

        schema = _load_schema(cfg.expect_schema, bases)
        cls = jsonschema.validators.validator_for(schema)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise UsageError(f"not a valid JSON schema: {exc.message}", where="http.expect_schema") from None
        validator = cls(schema)
    return Checks(
        ok_status=frozenset(cfg.expect_status),
        wants_json=cfg.wants_json,
        json_fields=tuple(cfg.json_fields),
        validator=validator,
        error_code_fields=tuple(cfg.error_code_fields),
        count_usage=cfg.counts_usage,
    )


def extract_values(extract: Mapping[str, str], reply: Reply) -> None:
    """Record each ``[http] extract`` value of one good answer (None when the answer lacks it)."""
    doc: Any = _MISSING
    for name, where in extract.items():
        if where.startswith("header:"):
            record(name, reply.headers.get(where[7:].strip()))
            continue
        if doc is _MISSING:
            try:
                doc = json.loads(reply.body)
            except (ValueError, UnicodeDecodeError):
                doc = None
        value = dig(doc, where[2:])
        record(name, None if value is _MISSING else value)


def answer_of(reply: Reply) -> Any:
    """What answers.jsonl keeps of an answer: its JSON, or its text."""
    try:
        return json.loads(reply.body)
    except (ValueError, UnicodeDecodeError):
        return reply.body.decode("utf-8", "replace")
