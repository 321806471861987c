"""The bytes of one HTTP/1.1 request and the headers of its answer, for the fast client
(:mod:`soakwatch.targets.http_fast`)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping

__all__ = ["Headers", "decoded", "request_bytes"]

USER_AGENT = b"soakwatch"
#: headers the client writes itself unless the profile gives them (Content-Length: always its own)
_SET_BY_CLIENT = frozenset({"host", "user-agent", "content-length"})


class Headers(Mapping[str, str]):
    """An answer's headers, looked up case-insensitively (the first of repeated names wins); decoded
    on first use, as most answers are never asked for a header."""

    __slots__ = ("_d", "_raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw
        self._d: dict[str, str] | None = None

    def _dict(self) -> dict[str, str]:
        if self._d is None:
            d: dict[str, str] = {}
            for k, v in self._raw:
                d.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
            self._d = d
        return self._d

    def __getitem__(self, key: str) -> str:
        return self._dict()[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())


def request_bytes(
    method: str, target: bytes, host_line: bytes, headers: dict[str, str], content: bytes | None
) -> bytes:
    """The request's bytes: request line, Host (from the URL unless the profile sets it), User-Agent
    (likewise), the profile's headers, Content-Length from the body, the body."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    defaults = {"host": host_line, "user-agent": b"User-Agent: " + USER_AGENT + b"\r\n"}
    for k, v in headers.items():
        if "\n" in v or "\r" in v or "\n" in k or "\r" in k:
            raise ValueError(f"a newline in the header {k!r}: not sent")
        lk = k.lower()
        if lk in _SET_BY_CLIENT:
            if lk == "content-length":
                continue  # always the body's own length
            defaults.pop(lk, None)
        lines.append(f"{k}: {v}\r\n".encode())
    lines.extend(defaults.values())
    if content is not None:
        lines.append(b"Content-Length: %d\r\n\r\n" % len(content))
        lines.append(content)
    elif method in ("POST", "PUT", "PATCH"):
        lines.append(b"Content-Length: 0\r\n\r\n")
    else:
        lines.append(b"\r\n")
    return b"".join(lines)


def decoded(body: bytes, encoding: bytes) -> bytes:
    """``body`` without its gzip or deflate Content-Encoding (a server may compress unasked, and aiohttp
    would decompress it); other codings are left as they came. Raises ``zlib.error``."""
    if encoding in (b"gzip", b"x-gzip"):
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == b"deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:  # a raw deflate stream, as some servers send it
            return zlib.decompress(body, -zlib.MAX_WBITS)
    return body
