"""The lean HTTP/1.1 client (``[http] client = "fast"``): one keep-alive connection per slot, answers
parsed by httptools (llhttp, the C parser uvicorn uses) under a plain asyncio Protocol.

Why our own client around a parser rather than aiohttp: measured on the per-request path in
``bench/bench_http.py`` (concurrency 16, one process, a local nginx ``return 200``), aiohttp spends
most of a request in its session, connector pool, tracing and cookie machinery, which a load
tester whose slot owns one connection does not need; this client writes the request in one
``write`` and lets llhttp frame the answer. It does what an ``http://`` load target needs and
nothing else; :func:`soakwatch.targets.http_clients.make_clients` picks aiohttp or httpx for
the rest (TLS, HTTP/2, compressed answers, cookies).

What it does, as aiohttp does for the same server (the tests hold both to one server's counters):

- keep-alive: one connection per slot, kept while the server keeps it (``Connection: close``
  and HTTP/1.0 answers close it after the answer); a fresh one after any failure or timeout,
  so a late answer can never be taken for the next request's;
- bodies framed by Content-Length, chunked transfer coding, or the end of the connection; no
  body for HEAD, 1xx, 204 and 304; a gzip or deflate body decompressed (sent unasked: the client
  asks for no compression);
- streamed answers (``[http] stream = true``, :meth:`FastClient.stream`): an event stream's lines
  go to the :class:`soakwatch.targets.http_stream.StreamReader` as their bytes arrive, each timed
  then; a connection closed mid-stream is the reader's ``cut`` (``StreamNoDone``), as with aiohttp;
- redirects are answers (``HTTP 302`` unless expected), cookies are not kept, nothing is
  retried: one call is one request;
- faults, as the error kinds of :mod:`soakwatch.targets.http_check`::

      refused connect                       ConnectionRefused
      other connect failure (DNS, ...)      ConnectError
      closed or reset before the whole      ConnectionReset
        status line and headers came
      closed mid-body (Content-Length       ProtocolError (ConnectionReset when reset)
        short, chunked without its end)
      an answer that is not HTTP/1.x        ProtocolError
      no answer in time                     Timeout

The client keeps its own timeout (``own_timeout``), as the runner's ``asyncio.timeout`` per call
cost about a tenth of a call here: one timer per connection, armed at the first request's
deadline; when it fires while a later request is in flight it is armed again at that request's
deadline, so a request times out exactly at its deadline with one timer per timeout period,
not one per request.
"""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from typing import Any, Protocol

import httptools
from yarl import URL  # aiohttp's URL type: request targets quoted as aiohttp sends them

from soakwatch.targets._http_wire import Headers, decoded, request_bytes
from soakwatch.targets.http_reply import Reply, TransportError, disconnected, os_transport_error

__all__ = ["FastClient", "LineSink"]

#: distinct URLs whose parsed form is kept per slot (templated URLs can differ on every call)
URL_CACHE = 1024
#: statuses whose answers never have a body (RFC 9110 6.4.1)
NO_BODY = frozenset({204, 304})


class LineSink(Protocol):
    """Where a streamed answer's lines go as they arrive (:class:`soakwatch.targets.http_stream.StreamReader`)."""

    def line(self, raw: bytes, now: int) -> bool: ...

    def end(self, now: int, cut: str | None = None) -> Any: ...


class _Wire(asyncio.Protocol):
    """One connection and the answer being read on it."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.deadline = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.waiter: asyncio.Future[Reply | None] | None = None
        #: a streamed request's line sink; ``streaming`` once its answer turned out an event stream
        self.sink: LineSink | None = None
        self.streaming = False
        self.tail = b""
        self.parser: httptools.HttpResponseParser | None = None
        self.head = False
        self.headers_done = False
        self.until_eof = False
        self.framed = False
        self.informational = False
        self.raw: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.content_type = ""
        self.encoding = b""
        self.keep = True

    # ------------------------------------------------------------ asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        w = self.waiter
        if w is None or w.done():
            return
        if self.streaming:
            clean = self.until_eof and exc is None  # a body that ends with its connection has ended
            cut = f"{type(exc).__name__}: {exc}" if exc else "the server closed the connection mid-stream"
            self._stream_end(None if clean else cut)
        elif self.headers_done and self.until_eof and exc is None:
            self._resolve()
        elif not self.headers_done:
            w.set_exception(os_transport_error(exc, "ConnectionReset") if exc else disconnected("Server disconnected"))
        else:
            got = sum(map(len, self.body))
            why = f"the server closed the connection mid-body (received {got} bytes of the body, not all)"
            w.set_exception(os_transport_error(exc, "ProtocolError") if exc else TransportError("ProtocolError", why))

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None or self.waiter is None or self.waiter.done():
            self.abort()  # bytes nobody asked for: the connection cannot be trusted any more
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if not self.waiter.done():
                self.waiter.set_exception(TransportError("ProtocolError", f"{type(exc).__name__}: {exc}"))
            self.abort()

    # ------------------------------------------------------------ llhttp callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw.append((name, value))
        n = len(name)
        if n == 12 and name.lower() == b"content-type":
            self.content_type = value.decode("latin-1")
        elif (n == 14 and name.lower() == b"content-length") or (
            n == 17 and name.lower() == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self.framed = True
        elif n == 16 and name.lower() == b"content-encoding":
            self.encoding = value.strip().lower()

    def on_headers_complete(self) -> None:
        self.headers_done = True
        parser = self.parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:  # 100 Continue and the like: the answer is still to come
            self.informational = True
            self.headers_done = self.framed = False
            self.raw = []
            self.content_type = ""
            self.encoding = b""
            return
        if self.head or status in NO_BODY:
            self._resolve()  # no body follows; the next request gets a fresh parser
            return
        self.until_eof = not self.framed
        self.streaming = self.sink is not None and status < 300 and "event-stream" in self.content_type

    def on_body(self, body: bytes) -> None:
        if self.streaming:
            self._lines(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.informational:
            self.informational = False
            return
        if self.streaming:
            self._stream_end(None)
            return
        self._resolve()

    # ------------------------------------------------------------ a streamed answer
    def _lines(self, data: bytes) -> None:
        """Hand each whole line of ``data`` to the sink, timed at its arrival; the sink says when it
        has seen enough ([DONE] or a fault): the answer is over, its connection not reusable."""
        sink = self.sink
        w = self.waiter
        if sink is None or w is None or w.done():
            return
        now = time.perf_counter_ns()
        lines = (self.tail + data).split(b"\n")
        self.tail = lines.pop()
        for line in lines:
            if not sink.line(line, now):
                self.keep = False
                self.streaming = False
                w.set_result(None)
                return

    def _stream_end(self, cut: str | None) -> None:
        """The stream's body ended (``cut``: the connection broke first)."""
        sink, w, parser = self.sink, self.waiter, self.parser
        self.streaming = False
        if sink is None or w is None or w.done():
            return
        now = time.perf_counter_ns()
        if cut is not None:
            sink.end(now, cut=cut)
        elif self.tail:
            sink.line(self.tail, now)  # a last line without its newline
        self.tail = b""
        self.keep = cut is None and parser is not None and parser.should_keep_alive() and not self.until_eof
        w.set_result(None)

    def _resolve(self) -> None:
        w = self.waiter
        parser = self.parser
        if w is None or w.done() or parser is None:
            return
        self.keep = parser.should_keep_alive() and not self.until_eof
        body = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        if self.encoding and body:
            try:
                body = decoded(body, self.encoding)
            except zlib.error as exc:  # as aiohttp: a body that does not decompress is a payload error
                w.set_exception(TransportError("ProtocolError", f"cannot decompress the answer: {exc}"))
                self.keep = False
                return
        w.set_result(Reply(parser.get_status_code(), body, self.content_type, Headers(self.raw)))

    # ------------------------------------------------------------ one exchange
    def start(self, head: bool, deadline: float, sink: LineSink | None = None) -> asyncio.Future[Reply | None]:
        self.deadline = deadline
        if self.timer is None:
            self.timer = self.loop.call_at(deadline, self._expire)
        self.parser = httptools.HttpResponseParser(self)
        self.head = head
        self.headers_done = self.until_eof = self.framed = self.informational = False
        self.raw = []
        self.body = []
        self.content_type = ""
        self.encoding = b""
        self.keep = True
        self.sink = sink
        self.streaming = False
        self.tail = b""
        fut: asyncio.Future[Reply | None] = self.loop.create_future()
        self.waiter = fut
        return fut

    def _expire(self) -> None:
        self.timer = None
        w = self.waiter
        if w is None or w.done():
            return  # idle: the next request arms the timer again
        if self.loop.time() < self.deadline:
            self.timer = self.loop.call_at(self.deadline, self._expire)
            return
        w.set_exception(TransportError("Timeout", "no answer in time", True))
        self.abort()

    def abort(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class FastClient:
    """One slot's client: one request at a time over one kept-alive connection, ``timeout``
    seconds for each (connect, send and the whole answer)."""

    #: the client times its requests out itself: the runner adds no ``asyncio.timeout``
    own_timeout = True

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.wire: _Wire | None = None
        self.addr: tuple[str, int] | None = None
        self.urls: dict[str, tuple[str, int, bytes, bytes]] = {}

    async def send(self, method: str, url: str, headers: dict[str, str], content: bytes | None) -> Reply:
        reply = await self._exchange(method, url, headers, content, None)
        assert reply is not None
        return reply

    async def stream(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, sink: LineSink
    ) -> Reply | None:
        """One streamed request: an event-stream answer's lines go to ``sink`` as they arrive (None);
        any other answer (an HTTP error, a JSON answer) comes back whole as a :class:`Reply`."""
        return await self._exchange(method, url, headers, content, sink)

    async def _exchange(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None, sink: LineSink | None
    ) -> Reply | None:
        host, port, target, host_line = self.urls.get(url) or self._parse(url)
        message = request_bytes(method, target, host_line, headers, content)
        wire = self.wire
        deadline = asyncio.get_running_loop().time() + self.timeout
        if wire is None or wire.closed or self.addr != (host, port):
            if wire is not None:
                wire.abort()
            try:
                async with asyncio.timeout_at(deadline):
                    wire = self.wire = await self._connect(host, port)
            except TimeoutError:
                raise TransportError("Timeout", "no connection in time", True) from None
            self.addr = (host, port)
        fut = wire.start(method == "HEAD", deadline, sink)
        assert wire.transport is not None
        wire.transport.write(message)
        try:
            reply = await fut
        except BaseException:  # a fault, a timeout or a cancel: this connection is done
            wire.abort()
            self.wire = None
            raise
        finally:
            wire.waiter = wire.parser = wire.sink = None
        if not wire.keep:
            wire.abort()
            self.wire = None
        return reply

    def _parse(self, url: str) -> tuple[str, int, bytes, bytes]:
        """Host, port, request target and Host line of ``url``, quoted by yarl as aiohttp quotes them
        (a case value with a space in a templated URL reaches the server as aiohttp would send it)."""
        u = URL(url)
        host = u.raw_host
        if u.scheme != "http" or not host or u.port is None:
            raise TransportError("ConnectError", f"the fast client speaks http:// only, not {url!r}")
        name = f"[{host}]" if ":" in host else host
        host_line = f"Host: {name}\r\n" if u.is_default_port() else f"Host: {name}:{u.port}\r\n"
        if len(self.urls) >= URL_CACHE:
            self.urls.clear()
        parsed = (host, u.port, (u.raw_path_qs or "/").encode("ascii"), host_line.encode("ascii"))
        self.urls[url] = parsed
        return parsed

    async def _connect(self, host: str, port: int) -> _Wire:
        """The first address of ``host`` that accepts, as aiohttp tries them; the last failure's kind."""
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise os_transport_error(exc, "ConnectError") from None
        last: OSError | None = None
        for family, _, proto, _, addr in infos:
            try:
                ip, port_ = str(addr[0]), int(addr[1])
                _, wire = await loop.create_connection(_Wire, ip, port_, family=family, proto=proto)
                return wire
            except OSError as exc:
                last = exc
        raise os_transport_error(last, "ConnectError") if last else TransportError("ConnectError", f"no address {host}")

    async def aclose(self) -> None:
        if self.wire is not None:
            self.wire.abort()
            self.wire = None
