"""The control socket's wire format, shared by the server (in the stage) and its clients.

One JSON object per line (UTF-8, ``\\n``-terminated) in both directions::

    client → stage   {"cmd": "pause"}
                     {"cmd": "chaos", "args": {"action": "kill_worker"}, "id": 7}
    stage → client   {"ok": true, "answer": "pause: ok", "id": 7}        a reply (id echoed when given)
                     {"ok": false, "error": "unknown command 'x'"}       a refusal; nothing changed
                     Snapshot.model_dump_json()                          pushed after "subscribe"

A snapshot line always carries ``"seq"``; a reply never does. The server itself
answers ``hello`` (protocol version, pid, run dir), ``subscribe`` and ``unsubscribe``;
every other command goes to ``Stage.command(name, args, source=...)``. A client names
itself in its hello (``{"cmd": "hello", "args": {"client": "tui"}}``: ``tui``, ``attached
tui``, ``ctl``); its commands are recorded under that name (``socket`` when it gave none),
and a named client's arrival and departure are events of the stage.

Where the socket is: ``<run_dir>/control.sock``, or — when that path is too long for
AF_UNIX — the path written in ``<run_dir>/control.addr``. With the ``tcp`` transport (the
default on Windows, which has no Unix sockets in asyncio; ``control_transport = "tcp"`` or
``SOAKWATCH_CONTROL_TRANSPORT=tcp`` elsewhere) the stage listens on 127.0.0.1 at a random
port and writes ``<run_dir>/control.tcp`` (``{"host", "port", "token"}``), readable by its
owner only; a client's first line must then be ``{"cmd": "auth", "args": {"token": ...}}``,
and anything else is answered with a refusal and hung up on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.core import platform as plat
from soakwatch.core.snapshot import EventView, Snapshot

__all__ = [
    "ADDR_NAME",
    "MAX_CARRIED_EVENTS",
    "MAX_REQUEST_BYTES",
    "MAX_UNIX_PATH",
    "PROTOCOL",
    "SOCKET_NAME",
    "TCP_NAME",
    "TRANSPORTS",
    "TRANSPORT_ENV",
    "Endpoint",
    "ProtocolError",
    "Request",
    "auth_line",
    "choose_transport",
    "coalesce",
    "encode",
    "endpoint",
    "error_reply",
    "is_snapshot",
    "ok_reply",
    "parse_request",
    "request_id",
    "socket_address",
]

PROTOCOL = 1
SOCKET_NAME = "control.sock"
ADDR_NAME = "control.addr"
#: the tcp transport's address and token, owner-only
TCP_NAME = "control.tcp"
TRANSPORTS = ("unix", "tcp")
#: the transport when the profile does not name one (then the platform's: unix, tcp on Windows)
TRANSPORT_ENV = "SOAKWATCH_CONTROL_TRANSPORT"
#: sun_path holds 108 bytes on Linux, including the terminating NUL
MAX_UNIX_PATH = 107
#: a command is a few hundred bytes; anything this long is refused (and skipped up to its newline)
MAX_REQUEST_BYTES = 64 * 1024
#: when snapshots a reader could not keep up with are merged, at most this many events ride along
MAX_CARRIED_EVENTS = 500


class ProtocolError(ValueError):
    """A malformed message: answered with an error, nothing changed."""


@dataclass(frozen=True)
class Request:
    """One parsed client message."""

    cmd: str
    args: dict[str, Any] = field(default_factory=dict)
    id: int | str | None = None


def socket_address(run_dir: Path) -> Path:
    """Where the run's control socket listens: ``control.addr`` if present, else ``control.sock``."""
    addr = run_dir / ADDR_NAME
    try:
        raw = addr.read_bytes()[:4096].strip()
    except OSError:
        raw = b""
    if not raw or b"\0" in raw or len(raw) > MAX_UNIX_PATH:  # a mangled control.addr: look for the usual one
        return run_dir / SOCKET_NAME
    return Path(os.fsdecode(raw))


@dataclass(frozen=True)
class Endpoint:
    """Where a client connects: a Unix socket ``path``, or ``host:port`` with its ``token``."""

    path: Path | None = None
    host: str = ""
    port: int = 0
    token: str = ""

    @property
    def transport(self) -> str:
        return "unix" if self.path is not None else "tcp"

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else f"tcp://{self.host}:{self.port}"


def choose_transport(setting: str | None) -> str:
    """The profile's ``control_transport``, else ``$SOAKWATCH_CONTROL_TRANSPORT``, else the platform's default."""
    if setting:
        return setting
    env = os.environ.get(TRANSPORT_ENV, "").strip().lower()
    return env if env in TRANSPORTS else plat.DEFAULT_CONTROL_TRANSPORT


def endpoint(run_dir: Path) -> Endpoint | None:
    """The run's control endpoint as its files say now; None when neither exists yet."""
    try:
        obj = json.loads((run_dir / TCP_NAME).read_bytes()[:4096])
        if isinstance(obj, dict) and obj.get("host") in ("127.0.0.1", "::1", "localhost"):
            return Endpoint(host=str(obj["host"]), port=int(obj["port"]), token=str(obj["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path = socket_address(run_dir)
    return Endpoint(path=path) if path.exists() else None


def auth_line(token: str) -> bytes:
    """A tcp client's first line."""
    return encode({"cmd": "auth", "args": {"token": token}})


def parse_request(line: bytes) -> Request:
    """A client line as a :class:`Request`; :class:`ProtocolError` says what is wrong with it."""
    if len(line) > MAX_REQUEST_BYTES:
        raise ProtocolError(f"message longer than {MAX_REQUEST_BYTES} bytes")
    try:
        obj = loads_bounded(line)  # never dies of depth or huge integers; strings made safe
    except JsonRefused as exc:
        raise ProtocolError(str(exc)) from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"expected a JSON object, got {type(obj).__name__}")
    req_id = obj.get("id")
    if req_id is not None and (isinstance(req_id, bool) or not isinstance(req_id, int | str)):
        raise ProtocolError(f"'id' must be a number or a string, got {req_id!r}")
    cmd = obj.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        raise ProtocolError(f"'cmd' must be a non-empty string, got {cmd!r}")
    args = obj.get("args", {})
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ProtocolError(f"'args' must be a JSON object, got {type(args).__name__}")
    unknown = sorted(set(obj) - {"cmd", "args", "id"})
    if unknown:
        raise ProtocolError(f"unknown field(s) {', '.join(unknown)} (expected cmd, args, id)")
    return Request(cmd, args, req_id)


def request_id(line: bytes) -> int | str | None:
    """The ``id`` of a possibly malformed request, so even a refusal can be matched to it."""
    try:
        obj = loads_bounded(line)
    except JsonRefused:
        return None
    rid = obj.get("id") if isinstance(obj, dict) else None
    return rid if isinstance(rid, int | str) and not isinstance(rid, bool) else None


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode() + b"\n"


def ok_reply(answer: str, req_id: int | str | None = None, **extra: Any) -> bytes:
    obj: dict[str, Any] = {"ok": True, "answer": answer, **extra}
    if req_id is not None:
        obj["id"] = req_id
    return encode(obj)


def error_reply(error: str, req_id: int | str | None = None) -> bytes:
    obj: dict[str, Any] = {"ok": False, "error": error}
    if req_id is not None:
        obj["id"] = req_id
    return encode(obj)


def is_snapshot(obj: dict[str, Any]) -> bool:
    return "seq" in obj


def coalesce(older: Snapshot, newer: Snapshot) -> Snapshot:
    """``newer``, carrying the events of ``older`` that a slow reader would otherwise lose.

    Every other field of a snapshot is a state (or a cumulative list, like marks), so
    the newest one says all; only ``events`` are "new since the previous snapshot".
    """
    if not older.events:
        return newer
    seen = {e.seq for e in newer.events}
    merged: list[EventView] = [e for e in older.events if e.seq not in seen]
    merged.extend(newer.events)
    return newer.model_copy(update={"events": merged[-MAX_CARRIED_EVENTS:]})
