"""A small OpenAI-compatible chat service with fault knobs, for soakwatch's HTTP examples and tests.

Standard library only (``http.server``). Bound to 127.0.0.1 only. Endpoints::

    POST /v1/chat/completions   a canned chat completion with ``usage`` token counts, or a fault; with
                                ``"stream": true`` Server-Sent Events, a token every --token-ms
    GET  /health/live           {"status": "ok"}
    GET  /metrics               Prometheus text: requests per outcome, tokens, process memory

Faults are chosen per chat request from a request counter, not at random, so a run is
reproducible and the service's own counters are the ground truth a client can be
checked against: request *n* (0-based) takes the fault whose share of ``[0, 1)``
contains ``frac(n × φ)`` (φ the golden ratio, a low-discrepancy sequence), so every
rate is met closely over any stretch of requests. Outcomes (``outcome`` label)::

    ok             200, a JSON completion
    error          500, a JSON error envelope {"error": {"code": "internal_error", ...}}
    rate_limited   429, a JSON error envelope {"error": {"code": "rate_limited", ...}}
    malformed      200, Content-Type application/json, a body cut short (not JSON)
    empty          200, Content-Type application/json, no body
    timeout        sleeps --timeout-sleep seconds (past the client's timeout), then answers 200
    reset          the connection is reset (TCP RST) without an answer

Run ``python -m soakwatch.profiles.examples.chat_server --help`` for the knobs; every knob can
also come from the environment (``--error-rate`` ↔ ``SVC_ERROR_RATE``).
"""

from __future__ import annotations

import argparse
import json
import math
import mmap
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: the fault knobs, in the order their shares are laid out on [0, 1)
FAULTS = ("error", "rate_limited", "malformed", "empty", "timeout", "reset")
OUTCOMES = ("ok", *FAULTS)
GOLDEN = (math.sqrt(5) - 1) / 2
#: prompt tokens are counted as whitespace-separated words; a completion is this many tokens
COMPLETION_TOKENS = 8
HOST = "127.0.0.1"


class Faults:
    """Picks the outcome of chat request *n* deterministically and counts every outcome."""

    def __init__(self, rates: dict[str, float]) -> None:
        total = sum(rates.values())
        if total > 1.0 or any(r < 0 for r in rates.values()):
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1 (got {total:g})")
        self.bounds: list[tuple[float, str]] = []
        acc = 0.0
        for name in FAULTS:
            acc += rates.get(name, 0.0)
            self.bounds.append((acc, name))
        self.lock = threading.Lock()
        self.n = 0
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.tokens = {"prompt": 0, "completion": 0}

    def next(self) -> str:
        with self.lock:
            n = self.n
            self.n += 1
            u = (n * GOLDEN) % 1.0
            outcome = next((name for bound, name in self.bounds if u < bound), "ok")
            self.counts[outcome] += 1
            return outcome

    def add_tokens(self, prompt: int, completion: int) -> None:
        with self.lock:
            self.tokens["prompt"] += prompt
            self.tokens["completion"] += completion

    def metrics(self) -> str:
        with self.lock:
            counts, tokens = dict(self.counts), dict(self.tokens)
        lines = [
            "# HELP example_requests_total Chat requests by outcome.",
            "# TYPE example_requests_total counter",
            *(f'example_requests_total{{outcome="{k}"}} {v}' for k, v in counts.items()),
            "# HELP example_tokens_total Tokens in answered completions.",
            "# TYPE example_tokens_total counter",
            *(f'example_tokens_total{{kind="{k}"}} {v}' for k, v in tokens.items()),
        ]
        rss = _rss_bytes()
        if rss is not None:
            lines += ["# TYPE process_resident_memory_bytes gauge", f"process_resident_memory_bytes {rss}"]
        return "\n".join(lines) + "\n"


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * mmap.PAGESIZE
    except (OSError, ValueError, IndexError):
        return None


def _envelope(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "type": "server_error"}}


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, every answer with a Content-Length."""

    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; with Nagle on, the second waits for a delayed ACK (~40 ms)
    disable_nagle_algorithm = True
    server: Service

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        rid = self.headers.get("X-Request-ID")
        if rid:
            self.send_header("X-Request-ID", rid)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode())

    def do_GET(self) -> None:
        if self.path == "/health/live":
            self._json(200, {"status": "ok"})
        elif self.path == "/metrics":
            self._send(200, self.server.faults.metrics().encode(), "text/plain; version=0.0.4")
        else:
            self._json(404, _envelope("not_found", f"no route {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/v1/chat/completions":
            self._json(404, _envelope("not_found", f"no route {self.path}"))
            return
        try:
            req = json.loads(raw or b"{}")
            prompt = " ".join(str(m.get("content", "")) for m in req.get("messages", []))
        except (ValueError, AttributeError, TypeError):
            self._json(400, _envelope("bad_request", "body is not a chat request"))
            return
        srv = self.server
        outcome = srv.faults.next()
        if srv.latency > 0:
            time.sleep(srv.latency)
        if outcome == "error":
            self._json(500, _envelope("internal_error", "injected server error"))
        elif outcome == "rate_limited":
            self._json(429, _envelope("rate_limited", "injected rate limit"))
        elif outcome == "malformed":
            self._send(200, b'{"id": "chatcmpl-x", "choices": [{"message": ')
        elif outcome == "empty":
            self._send(200, b"")
        elif outcome == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:
            if outcome == "timeout":
                time.sleep(srv.timeout_sleep)
            self._complete(req, prompt)

    def _complete(self, req: dict[str, Any], prompt: str) -> None:
        prompt_tokens = len(prompt.split())
        if req.get("stream"):
            self._stream(req, prompt_tokens)
            return
        self.server.faults.add_tokens(prompt_tokens, COMPLETION_TOKENS)
        self._json(
            200,
            {
                "id": f"chatcmpl-{self.server.faults.n}",
                "object": "chat.completion",
                "model": req.get("model", "example"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": " ".join(["ok"] * COMPLETION_TOKENS)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": COMPLETION_TOKENS,
                    "total_tokens": prompt_tokens + COMPLETION_TOKENS,
                },
            },
        )

    def _stream(self, req: dict[str, Any], prompt_tokens: int) -> None:
        """Server-Sent Events: one content chunk every --token-ms, usage when asked, then [DONE]."""
        n = int(req.get("max_tokens") or COMPLETION_TOKENS)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")  # no Content-Length: the end of the body is the end of the stream
        self.end_headers()
        self.close_connection = True
        for k in range(n):
            time.sleep(self.server.token_s)
            chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": f"ok{k} "}}]}
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        self.server.faults.add_tokens(prompt_tokens, n)
        if (req.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": prompt_tokens, "completion_tokens": n, "total_tokens": prompt_tokens + n}
            self.wfile.write(b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired first)


class Service(ThreadingHTTPServer):
    """The HTTP server with its fault plan."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(
        self, port: int, faults: Faults, latency: float, timeout_sleep: float, verbose: bool, token_s: float = 0.0
    ) -> None:
        self.faults = faults
        self.token_s = token_s
        self.latency = latency
        self.timeout_sleep = timeout_sleep
        self.verbose = verbose
        super().__init__((HOST, port), Handler)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Example chat service with fault knobs (127.0.0.1 only).")
    p.add_argument("--port", type=int, default=int(os.environ.get("SVC_PORT", "8765")), help="0 picks a free port")
    for name in FAULTS:
        flag = name.replace("_", "-")
        env = f"SVC_{name.upper()}_RATE"
        p.add_argument(f"--{flag}-rate", type=float, default=_env_float(env, 0.0), help=f"share of {name} (${env})")
    p.add_argument("--latency-ms", type=float, default=_env_float("SVC_LATENCY_MS", 0.0), help="added to each chat")
    p.add_argument(
        "--timeout-sleep", type=float, default=_env_float("SVC_TIMEOUT_SLEEP", 5.0), help="seconds a timeout sleeps"
    )
    p.add_argument(
        "--token-ms", type=float, default=_env_float("SVC_TOKEN_MS", 20.0), help="pause before each streamed token"
    )
    p.add_argument("--port-file", help="write the bound port to this file once listening")
    p.add_argument("-v", "--verbose", action="store_true", help="log every request to stderr")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        faults = Faults({name: getattr(args, f"{name}_rate") for name in FAULTS})
    except ValueError as exc:
        print(f"chat_server: {exc}", file=sys.stderr)
        return 2
    server = Service(args.port, faults, args.latency_ms / 1000.0, args.timeout_sleep, args.verbose, args.token_ms / 1e3)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"example chat service on http://{HOST}:{port} (metrics at /metrics)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
