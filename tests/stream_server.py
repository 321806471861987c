"""A streaming OpenAI-compatible mock server for the tests, run as its own process, with its own counters.

``python tests/stream_server.py --port-file F [--ttft-ms 20] [--itl-ms 20] [--chunks 8]
[--nodone-rate p] [--cut-rate p] [--malformed-rate p] [--empty-rate p] [--error-rate p] [--seed N]``

- ``POST /v1/chat/completions`` with ``"stream": true``: the first content chunk ``ttft-ms`` after
  the request arrived, then one chunk every ``itl-ms`` (due times on an absolute clock, so the pace
  does not drift), the usage chunk when ``stream_options.include_usage`` is asked, then
  ``data: [DONE]``. Without ``stream`` a plain JSON answer.
- faults, drawn per request from the seeded random stream: ``nodone`` (the body ends cleanly
  without [DONE]), ``cut`` (the connection is closed mid-stream), ``malformed`` (a chunk that is
  not JSON), ``empty`` (a role chunk and [DONE], no content), ``error`` (an error object);
- ``POST /v1/embeddings``, ``GET /v1/models``, ``GET /health``: small JSON answers;
- ``GET /counters``: what the server did, as JSON: requests per path, streams per outcome,
  content chunks and tokens sent, and the gaps it actually left between chunks (ms, sorted
  percentiles), so a test compares soakwatch's figures with the server's own;
- ``POST /pace`` ``{"itl_ms": 40}``: change the pace while running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

FAULTS = ("nodone", "cut", "malformed", "empty", "error")


class Mock:
    def __init__(self, args: argparse.Namespace) -> None:
        self.ttft = args.ttft_ms / 1000.0
        self.itl = args.itl_ms / 1000.0
        self.chunks = args.chunks
        self.rates = {f: getattr(args, f"{f}_rate") for f in FAULTS}
        self.rng = random.Random(args.seed)
        self.paths: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.sent_chunks = 0
        self.tokens = 0
        self.gaps: list[float] = []
        self.firsts: list[float] = []
        #: request id -> (request arrived, first content chunk written), perf_counter_ns (CLOCK_MONOTONIC,
        #: the same clock as the client's on Linux)
        self.first_at: dict[str, tuple[int, int]] = {}

    def fault(self) -> str | None:
        r = self.rng.random()
        for name in FAULTS:
            if r < self.rates[name]:
                return name
            r -= self.rates[name]
        return None

    async def chat(self, request: web.Request) -> web.StreamResponse:
        t0_ns = time.perf_counter_ns()
        t0 = t0_ns / 1e9
        self.paths[request.path] += 1
        body = await request.json()
        if not body.get("stream"):
            self.outcomes["plain"] += 1
            return web.json_response({"choices": [{"message": {"content": "ok"}}], "usage": {"completion_tokens": 1}})
        fault = self.fault()
        n = int(body.get("max_tokens") or self.chunks)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n')
        if fault == "empty":
            await resp.write(b"data: [DONE]\n\n")
            return await self._end(resp, "empty")
        last = 0.0
        for k in range(n):
            due = t0 + self.ttft + k * self.itl
            await asyncio.sleep(max(0.0, due - time.perf_counter_ns() / 1e9))
            if k == 2 and fault in ("malformed", "error", "cut", "nodone"):
                return await self._fault(request, resp, fault)
            chunk = {"choices": [{"delta": {"content": f"tok{k} "}}]}
            now = time.perf_counter_ns() / 1e9  # before the write: the client cannot have the chunk earlier
            await resp.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            if k:
                self.gaps.append((now - last) * 1000)
            else:
                self.firsts.append((now - t0) * 1000)
                self.first_at[request.headers.get("X-Request-ID", "")] = (t0_ns, int(now * 1e9))
            last = now
            self.sent_chunks += 1
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": n, "total_tokens": n + 5}}
            await resp.write(b"data: " + json.dumps(usage).encode() + b"\n\n")
        self.tokens += n
        await resp.write(b"data: [DONE]\n\n")
        return await self._end(resp, "ok")

    async def _fault(self, request: web.Request, resp: web.StreamResponse, fault: str) -> web.StreamResponse:
        if fault == "malformed":
            await resp.write(b"data: {not json\n\n")
        elif fault == "error":
            await resp.write(b'data: {"error": {"message": "overloaded", "code": "overloaded"}}\n\n')
        elif fault == "cut":
            self.outcomes["cut"] += 1
            assert request.transport is not None
            request.transport.close()
            return resp
        return await self._end(resp, fault)

    async def _end(self, resp: web.StreamResponse, outcome: str) -> web.StreamResponse:
        self.outcomes[outcome] += 1
        await resp.write_eof()
        return resp

    async def small(self, request: web.Request) -> web.Response:
        self.paths[request.path] += 1
        return web.json_response({"ok": True, "data": [{"embedding": [0.1, 0.2]}]})

    async def counters(self, request: web.Request) -> web.Response:
        def pct(xs: list[float], p: float) -> float | None:
            s = sorted(xs)
            return s[min(len(s) - 1, int(p / 100 * len(s)))] if s else None

        doc: dict[str, Any] = {
            "paths": dict(self.paths),
            "outcomes": dict(self.outcomes),
            "chunks": self.sent_chunks,
            "tokens": self.tokens,
            "gaps": len(self.gaps),
            "itl_p50": pct(self.gaps, 50),
            "itl_p95": pct(self.gaps, 95),
            "ttft_p50": pct(self.firsts, 50),
            "ttft_p95": pct(self.firsts, 95),
            "first_at": self.first_at,
        }
        return web.json_response(doc)

    async def pace(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.itl = float(body["itl_ms"]) / 1000.0
        self.gaps.clear()
        return web.json_response({"itl_ms": body["itl_ms"]})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", type=Path, required=True)
    ap.add_argument("--ttft-ms", type=float, default=20.0)
    ap.add_argument("--itl-ms", type=float, default=20.0)
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    for f in FAULTS:
        ap.add_argument(f"--{f}-rate", type=float, default=0.0)
    args = ap.parse_args()
    mock = Mock(args)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", mock.chat)
    app.router.add_post("/v1/embeddings", mock.small)
    app.router.add_get("/v1/models", mock.small)
    app.router.add_get("/health", mock.small)
    app.router.add_get("/counters", mock.counters)
    app.router.add_post("/pace", mock.pace)

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        tmp = args.port_file.with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.rename(args.port_file)
        await asyncio.sleep(args.max_seconds)  # bounded: the server stops by itself
        await runner.cleanup()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
