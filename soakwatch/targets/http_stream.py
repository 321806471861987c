"""Streamed chat and completions answers (``[http] stream = true``): Server-Sent Events read chunk by chunk.

One call is one request whose answer is an SSE stream of ``data: {json}`` events ending with
``data: [DONE]`` (the OpenAI wire format, spoken by vLLM, llama.cpp, Ollama, TGI, ...). While it
is read, the call's per-token times go into the slot's per-call values (see
:mod:`soakwatch._calldata`), so they reach the recorder with the call's latency:

- phase ``ttft``: time to first token, from the call's start to the first content chunk;
- phase ``itl``: every gap between two content chunks (one value per gap, not a per-call mean);
- phase ``tpot``: time per output token after the first, ``(end - first) / (tokens - 1)``;
- phase ``sched_ttft`` (under an arrival rate): time to first token from the call's *scheduled*
  start, so a queue in front of the server is counted;
- record ``_stream``: ``(ttft ms, tpot ms or None, end-to-end ms, sched ttft ms or None, tokens)``,
  read per call by the ``goodput(...)`` gate.

Output tokens are the ``usage.completion_tokens`` of the stream when the server sends it (the
request asks for it with ``stream_options: {include_usage: true}``), else the count of content
chunks; :attr:`StreamOutcome.from_usage` says which.

Stream faults, each its own error kind::

    StreamNoDone           the stream ended, or the connection closed, without ``data: [DONE]``
    StreamMalformedChunk   a ``data:`` event that is not JSON
    StreamEmpty            [DONE] came, but no content chunk before it
    StreamError            an error object inside the stream (``{"error": {...}}``)

Why a parser of our own: the server side of OpenAI streams only ever sends ``data:`` lines
separated by blank lines; aiohttp already splits the body into lines in C, so the parser is
a prefix test per line (measured here: 3.4 µs per content chunk, of which 2.9 µs is the chunk's
``json.loads``, so the parsing around it costs about 0.5 µs). httpx-sse works only over httpx
(about 4x slower per request here, see :mod:`soakwatch.targets.http_clients`), and the aiohttp
SSE clients reconnect on their own, which a load tester must not do (one call is one request).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from soakwatch._calldata import MAX_VALUES_PER_CHUNK, SlotBuffer
from soakwatch.targets.http_clients import Reply, aiohttp_error, httpx_error

__all__ = ["STREAM_KINDS", "STREAM_PHASES", "STREAM_RECORD", "StreamOutcome", "StreamReader", "open_stream"]

STREAM_KINDS = ("StreamNoDone", "StreamMalformedChunk", "StreamEmpty", "StreamError")
#: the token-time phases of a streamed call (gate metrics: ``ttft p95 < 500ms``)
STREAM_PHASES = ("ttft", "itl", "tpot", "sched_ttft")
#: the per-call record the goodput gate reads
STREAM_RECORD = "_stream"
#: characters of a bad chunk quoted in an error message
CHUNK_HEAD = 120


@dataclass
class StreamOutcome:
    """What one stream showed: an error kind (None when good), the token timings and counts."""

    kind: str | None = None
    message: str = ""
    first_ns: int = 0
    last_ns: int = 0
    chunks: int = 0
    usage_completion: int | None = None
    usage_prompt: int | None = None
    gaps: list[int] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.usage_completion if self.usage_completion is not None else self.chunks

    @property
    def from_usage(self) -> bool:
        return self.usage_completion is not None


def _content(doc: Any) -> str | None:
    """The text of a chunk: ``choices[0].delta.content`` (chat) or ``choices[0].text`` (completions)."""
    try:
        choice = doc["choices"][0]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(choice, dict):
        return None
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    return text if isinstance(text, str) else None


class StreamReader:
    """Folds the lines of one SSE answer into a :class:`StreamOutcome`."""

    __slots__ = ("data", "done", "out")

    def __init__(self) -> None:
        self.out = StreamOutcome()
        self.data: list[bytes] = []
        self.done = False

    def line(self, raw: bytes, now: int) -> bool:
        """Take one line; False once the stream is over (``[DONE]`` or a fault)."""
        line = raw.rstrip(b"\r\n")
        if not line:
            return self._event(now) if self.data else True
        if line.startswith(b"data:"):
            value = line[5:]
            self.data.append(value[1:] if value.startswith(b" ") else value)
        return True  # comments (":") and other fields (event:, id:, retry:) carry no tokens

    def _event(self, now: int) -> bool:
        data = b"\n".join(self.data)
        self.data = []
        if data.strip() == b"[DONE]":
            self.done = True
            return False
        out = self.out
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            out.kind, out.message = "StreamMalformedChunk", f"not JSON: {data[:CHUNK_HEAD]!r}"
            return False
        if isinstance(doc, dict) and doc.get("error") is not None:
            err = doc["error"]
            text = err.get("message") or err.get("code") or err if isinstance(err, dict) else err
            out.kind, out.message = "StreamError", f"error in the stream: {str(text)[:CHUNK_HEAD]}"
            return False
        text = _content(doc)
        if text:
            if out.chunks:
                out.gaps.append(now - out.last_ns)
            else:
                out.first_ns = now
            out.last_ns = now
            out.chunks += 1
        usage = doc.get("usage") if isinstance(doc, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            out.usage_completion = usage["completion_tokens"]
            p = usage.get("prompt_tokens")
            out.usage_prompt = p if isinstance(p, int) else None
        return True

    def end(self, now: int, cut: str | None = None) -> StreamOutcome:
        """The outcome once the body ended (``cut``: why the connection broke, if it did)."""
        out = self.out
        if out.kind is not None:
            return out
        if self.data and not self.done:
            self._event(now)  # a last event without its blank line
            if out.kind is not None:
                return out
        if not self.done:
            why = f" ({cut})" if cut else ""
            out.kind = "StreamNoDone"
            out.message = f"the stream ended without data: [DONE] after {out.chunks} chunks{why}"
        elif out.chunks == 0:
            out.kind, out.message = "StreamEmpty", "[DONE] with no content chunk"
        return out


def note_stream(buf: SlotBuffer | None, index: int, out: StreamOutcome, start: int, end: int, due: int) -> None:
    """Put a good stream's token times into the slot's per-call values."""
    if buf is None:
        return
    room = MAX_VALUES_PER_CHUNK - len(buf.phases)
    ttft = out.first_ns - start
    tokens = out.tokens
    tpot = (end - out.first_ns) // (tokens - 1) if tokens > 1 else None
    phases = [(index, "ttft", ttft)]
    if tpot is not None:
        phases.append((index, "tpot", tpot))
    sched = out.first_ns - due if due else None
    if sched is not None:
        phases.append((index, "sched_ttft", sched))
    phases.extend((index, "itl", g) for g in out.gaps)
    if len(phases) > room:
        buf.dropped += len(phases) - max(room, 0)
        phases = phases[: max(room, 0)]
    buf.phases.extend(phases)
    ms = 1e-6
    tpot_ms = tpot * ms if tpot is not None else None
    value = (ttft * ms, tpot_ms, (end - start) * ms, sched * ms if sched is not None else None, tokens)
    if len(buf.records) < MAX_VALUES_PER_CHUNK:
        buf.records.append((index, start, end, STREAM_RECORD, value))
    else:
        buf.dropped += 1


async def _aiohttp_stream(
    session: Any, method: str, url: str, headers: dict[str, str], content: bytes | None, reader: StreamReader
) -> Reply | None:
    import aiohttp

    pc = time.perf_counter_ns
    try:
        async with session.request(method, url, headers=headers, data=content) as r:
            if r.status >= 300 or "event-stream" not in r.headers.get("Content-Type", ""):
                return Reply(r.status, await r.read(), r.headers.get("Content-Type", ""), r.headers)
            try:
                async for raw in r.content:
                    if not reader.line(raw, pc()):
                        break
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, ConnectionError) as exc:
                reader.end(pc(), cut=f"{type(exc).__name__}: {exc}")
            return None
    except Exception as exc:
        raise aiohttp_error(exc) or exc from None


async def _httpx_lines(r: Any) -> AsyncIterator[bytes]:
    async for text in r.aiter_lines():
        yield text.encode()
    yield b""


async def _httpx_stream(
    client: Any, method: str, url: str, headers: dict[str, str], content: bytes | None, reader: StreamReader
) -> Reply | None:
    import httpx

    pc = time.perf_counter_ns
    try:
        async with client.stream(method, url, headers=headers, content=content) as r:
            if r.status_code >= 300 or "event-stream" not in r.headers.get("content-type", ""):
                return Reply(r.status_code, await r.aread(), r.headers.get("content-type", ""), r.headers)
            try:
                async for raw in _httpx_lines(r):
                    if not reader.line(raw, pc()):
                        break
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                reader.end(pc(), cut=f"{type(exc).__name__}: {exc}")
            return None
    except Exception as exc:
        raise httpx_error(exc) or exc from None


async def open_stream(
    client: Any, method: str, url: str, headers: dict[str, str], content: bytes | None, reader: StreamReader
) -> Reply | None:
    """Send one streamed request and feed its lines to ``reader``; a :class:`Reply` when the answer
    is not a stream (an HTTP error, a JSON answer), None when the stream was read."""
    if hasattr(client, "stream"):  # the fast client reads streams itself, each line timed as it arrives
        got: Reply | None = await client.stream(method, url, headers, content, reader)
        return got
    session = getattr(client, "session", None)
    if session is not None:
        return await _aiohttp_stream(session, method, url, headers, content, reader)
    return await _httpx_stream(client.client, method, url, headers, content, reader)
