"""HTTP clients of the HTTP target, one factory (:func:`make_clients`): the fast client (HTTP/1.1 over
plain http://, plain and streamed answers, :mod:`soakwatch.targets.http_fast`), aiohttp (HTTP/1.1,
also over TLS, compressed answers, cookies) and httpx (HTTP/1.1 and HTTP/2).

Each sends one request and reads the whole answer into a :class:`Reply`, or raises
:class:`TransportError` with the transport kind of :mod:`soakwatch.targets.http_check`
(``Timeout``, ``ConnectionRefused``, ``ConnectionReset``, ``ConnectError``,
``ProtocolError``; see :mod:`soakwatch.targets.http_reply`). None retries: one call is one
request, so the target's own counters and soakwatch's agree.

Why three clients, measured on the per-request path at concurrency 16 in one process against a
local nginx (``bench/bench_http.py``, a shared 2-core box, so figures of one run only): the fast
client 10-41k requests/s, aiohttp as configured here 2.4-8.0k, aiohttp with decompression,
cookies and default headers off 2.6-8.8k, httpx with one single-connection client per slot
0.5-1.6k (a single shared httpx pool managed only ~70-110 req/s in a bare loop, so it is not
used for HTTP/1.1). aiohttp stays for what the fast client does not do (https://, compressed
answers, cookies); httpx for HTTP/2, which aiohttp does not speak. ``[http] client``
picks one explicitly; ``auto`` takes the fast client wherever it can
(:meth:`soakwatch.config.http.HttpConfig.engine_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from soakwatch.targets.http_reply import Reply, SlotClient, TransportError, disconnected, os_transport_error

__all__ = ["Reply", "SlotClient", "TransportError", "make_clients"]


# ---------------------------------------------------------------- httpx
def httpx_error(exc: BaseException) -> TransportError | None:
    """What an httpx exception means as a call's error kind; None when it is not a transport error."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return TransportError("Timeout", f"{type(exc).__name__}: no answer in time", True)
    if isinstance(exc, httpx.ConnectError):
        return os_transport_error(exc, "ConnectError")
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in str(exc) or "disconnected" in str(exc):
            return disconnected(str(exc))
        return TransportError("ProtocolError", str(exc))
    if isinstance(exc, httpx.TransportError):
        return os_transport_error(exc, "ProtocolError")
    return None


class _HttpxClient:
    own_timeout = False

    def __init__(self, client: Any, shared: bool) -> None:
        self.client = client
        self.shared = shared

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply:

        try:
            r = await self.client.request(method, url, headers=headers, content=content)
        except Exception as exc:
            raise httpx_error(exc) or exc from None
        return Reply(r.status_code, r.content, r.headers.get("content-type", ""), r.headers)

    async def aclose(self) -> None:
        await self.client.aclose()


def _httpx_clients(concurrency: int, timeout: float, http2: bool, verify: bool, url: str) -> list[SlotClient]:
    import httpx

    tmo = httpx.Timeout(timeout)
    if http2:
        # one pool multiplexes every slot; over cleartext http:// HTTP/2 needs prior knowledge
        http1 = url.startswith("https://")
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        shared = httpx.AsyncClient(http1=http1, http2=True, timeout=tmo, limits=limits, verify=verify)
        c = _HttpxClient(shared, True)
        return [c] * concurrency
    # one single-connection client per slot: httpx's shared pool costs O(connections × requests)
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    return [_HttpxClient(httpx.AsyncClient(timeout=tmo, limits=one, verify=verify), False) for _ in range(concurrency)]


# ---------------------------------------------------------------- aiohttp
def aiohttp_error(exc: BaseException) -> TransportError | None:
    """What an aiohttp exception means as a call's error kind; None when it is not a transport error."""
    import aiohttp

    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return TransportError("Timeout", "no answer in time", True)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return disconnected(str(exc) or "server disconnected")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return os_transport_error(exc.os_error, "ConnectError")
    if isinstance(exc, aiohttp.ClientOSError):
        return os_transport_error(exc, "ConnectError")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return os_transport_error(exc, "ProtocolError")
    if isinstance(exc, aiohttp.ClientResponseError):
        return TransportError("ProtocolError", f"{type(exc).__name__}: {exc.message}")
    return None


class _AiohttpClient:
    own_timeout = False

    def __init__(self, session: Any) -> None:
        self.session = session

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply:
        try:
            async with self.session.request(method, url, headers=headers, data=content) as r:
                body = await r.read()
                return Reply(r.status, body, r.headers.get("Content-Type", ""), r.headers)
        except Exception as exc:
            raise aiohttp_error(exc) or exc from None

    async def aclose(self) -> None:
        await self.session.close()


def _aiohttp_clients(concurrency: int, timeout: float, verify: bool) -> list[SlotClient]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, ssl=verify)
    session = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout), auto_decompress=True
    )
    # aiohttp resends an idempotent request once when a kept-alive connection was closed;
    # a load tester must not: the server would count two requests for one call
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    c = _AiohttpClient(session)
    return [c] * concurrency


async def close_all(clients: list[SlotClient]) -> None:
    """Close each distinct client once."""
    seen: set[int] = set()
    for c in clients:
        if id(c) not in seen:
            seen.add(id(c))
            # closing after a failed run must not hide the run's own outcome
            with contextlib.suppress(Exception):
                await c.aclose()
            await asyncio.sleep(0)


def make_clients(
    engine: str, concurrency: int, timeout: float, *, http2: bool, verify: bool, url: str
) -> list[SlotClient]:
    """One client per concurrency slot (the same shared object where the engine pools itself)."""
    if engine == "fast":
        from soakwatch.targets.http_fast import FastClient  # imports httptools only when it runs

        return [FastClient(timeout) for _ in range(concurrency)]
    if engine == "aiohttp":
        return _aiohttp_clients(concurrency, timeout, verify)
    return _httpx_clients(concurrency, timeout, http2, verify, url)
