"""An HTTP/1.1 server at the wire level for the client tests, run as its own process, with its own counters.

``python tests/wire_server.py --port-file F --pattern ok,cut_body,... [--slow-s 3] [--late-s 0.4]``

Request ``n`` on any connection gets the answer ``pattern[n % len(pattern)]`` (``n`` counts
every request the server read, over all connections), so a test knows how many of each it will
get; ``GET /counters`` answers what the server did as JSON (requests per method, answers per
outcome, request targets, connections accepted) and is not counted (nor is its connection). The answers, written
byte by byte as a faulty server would::

    ok            200, Content-Length, keep-alive
    plain         200, text/plain, Content-Length, keep-alive
    chunked       200, text/plain, a chunked body in three chunks, keep-alive
    nocontent     204 without a body
    close_ok      200 with Content-Length and ``Connection: close``, then the connection is closed
    eof_body      200 without Content-Length or chunking: the body ends when the connection closes
    cut_body      Content-Length 100, 10 bytes of it, then the connection is closed
    cut_chunked   a chunked body whose last (zero) chunk never comes: closed mid-body
    cut_head      half a status line and headers, then closed
    close_before  closed (FIN) without a byte of answer
    rst           reset (TCP RST, SO_LINGER 0) without a byte of answer
    slow_head     the answer comes ``--slow-s`` seconds late (past the client's timeout), then closed
    late_ok       as ok, ``--late-s`` seconds late (within the client's timeout)
    garbage       a line that is not HTTP, then closed
    e500          500 with a JSON error envelope, keep-alive
    gzip_ok       200, a gzip-compressed JSON body (``Content-Encoding: gzip``, sent unasked), keep-alive

A HEAD request gets the headers of its outcome and no body (``ok``, ``plain``, ``chunked``, ``close_ok``).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import socket
import struct
from collections import Counter
from pathlib import Path

OUTCOMES = (
    "ok",
    "plain",
    "chunked",
    "nocontent",
    "close_ok",
    "eof_body",
    "cut_body",
    "cut_chunked",
    "cut_head",
    "close_before",
    "rst",
    "slow_head",
    "late_ok",
    "garbage",
    "e500",
    "gzip_ok",
)
BODY = b'{"ok": true, "n": 1}'


class Wire:
    def __init__(self, pattern: list[str], slow_s: float, late_s: float) -> None:
        self.pattern = pattern
        self.slow_s = slow_s
        self.late_s = late_s
        self.n = 0
        self.methods: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.connections = 0
        self.targets: Counter[str] = Counter()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read one request and answer it; False when the connection is to be closed."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path = lines[0].split(" ")[:2]
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        if length:
            await reader.readexactly(length)
        if path == "/counters":
            self.connections -= 1
            doc = json.dumps(
                {
                    "methods": self.methods,
                    "outcomes": self.outcomes,
                    "requests": self.n,
                    "connections": self.connections,
                    "targets": self.targets,
                }
            ).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(doc), doc))
            await writer.drain()
            return True
        outcome = self.pattern[self.n % len(self.pattern)]
        self.n += 1
        self.methods[method] += 1
        self.targets[path] += 1
        self.outcomes[outcome] += 1
        return await self._answer(outcome, method == "HEAD", writer)

    async def _answer(self, outcome: str, head: bool, w: asyncio.StreamWriter) -> bool:
        body = b"" if head else BODY
        if outcome == "late_ok":
            await asyncio.sleep(self.late_s)
            outcome = "ok"
        if outcome == "ok":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n" + body)
        elif outcome == "plain":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n" + body[:5])
        elif outcome == "chunked":
            chunks = b"" if head else b"5\r\n" + BODY[:5] + b"\r\n5\r\n" + BODY[5:10] + b"\r\na\r\n" + BODY[10:]
            tail = b"" if head else b"\r\n0\r\n\r\n"
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            w.write(chunks + tail)
        elif outcome == "nocontent":
            w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        elif outcome == "close_ok":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n" + body)
        elif outcome == "eof_body":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + BODY)
        elif outcome == "cut_body":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + BODY[:10])
        elif outcome == "cut_chunked":
            w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n" + BODY[:5] + b"\r\n")
        elif outcome == "cut_head":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        elif outcome == "rst":
            sock = w.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            w.transport.abort()
            return False
        elif outcome == "slow_head":
            await asyncio.sleep(self.slow_s)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n" + body)
        elif outcome == "garbage":
            w.write(b"HELLO THERE\r\n\r\n")
        elif outcome == "gzip_ok":
            packed = gzip.compress(BODY)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n")
            w.write(b"Content-Length: %d\r\n\r\n%s" % (len(packed), b"" if head else packed))
        elif outcome == "e500":
            doc = b'{"error": {"code": "boom", "message": "it broke"}}'
            w.write(b"HTTP/1.1 500 Oops\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(doc))
            w.write(doc)
        await w.drain()
        return outcome in ("ok", "plain", "chunked", "nocontent", "e500", "gzip_ok")


async def main(args: argparse.Namespace) -> None:
    pattern = args.pattern.split(",")
    unknown = set(pattern) - set(OUTCOMES)
    if unknown:
        raise SystemExit(f"unknown outcomes: {sorted(unknown)}")
    wire = Wire(pattern, args.slow_s, args.late_s)
    server = await asyncio.start_server(wire.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    Path(args.port_file).write_text(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--pattern", default="ok")
    ap.add_argument("--slow-s", type=float, default=3.0)
    ap.add_argument("--late-s", type=float, default=0.4)
    asyncio.run(main(ap.parse_args()))
