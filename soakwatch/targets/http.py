"""The HTTP target: ``http://host:port/path`` called with the ``[http]`` section of the profile.

One thread runs an asyncio loop with one task per concurrency slot; each slot has
its client (see :mod:`soakwatch.targets.http_clients`: the fast client's one kept-alive
connection per slot, a shared aiohttp pool sized to the concurrency, or httpx). Calls
follow the stage plan like the other runners (:func:`soakwatch.targets.loops.async_slot`):
``concurrency`` requests in flight, each result handed to the recorder within a tick of
its answer, closed model or a fixed arrival rate (latency from the scheduled start kept
beside latency from the actual start; the schedule starts once the clients are ready, so
their set-up is not counted as lateness). Every
request gets an ``X-Request-ID`` of ``<run tag>-<call index>``, quoted in error messages and
in failed per-call checks, so a failure can be found in the service's logs. Values named
in ``[http] extract`` are taken from every good answer and recorded like
``soakwatch.record`` in a Python target. Each answer is classified by
:func:`soakwatch.targets.http_check.check_reply`; with ``usage`` counting on, prompt and
completion tokens are published as the cumulative series ``tokens_prompt`` and
``tokens_completion``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from soakwatch._calldata import AnswerSampler, CallValues, current_slot, keep_answer
from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.core.recorder import ErrorRecord
from soakwatch.core.redact import expand_secret_headers, redact_text, scrub_bytes
from soakwatch.targets.http_check import answer_of, check_reply, extract_values
from soakwatch.targets.http_clients import Reply, SlotClient, TransportError, close_all, make_clients
from soakwatch.targets.http_mix import INPUT_FIELD, Endpoint, EndpointCounts, Mix, build_endpoints, words
from soakwatch.targets.http_stream import StreamReader, note_stream, open_stream
from soakwatch.targets.runner import Runner
from soakwatch.targets.template import call_fields, fill_json, fill_text, missing_fields
from soakwatch.targets.worker import error_kind, error_message

__all__ = ["HttpRunner"]

#: threads that wait on the allocator (it blocks while paused or at a barrier)
ALLOCATOR_THREADS = 8
TOKEN_SERIES = ("tokens_prompt", "tokens_completion")
#: the package each client needs
_MODULES: dict[str, tuple[str, ...]] = {"fast": ("httptools",), "aiohttp": ("aiohttp",), "httpx": ("httpx",)}
#: streamed calls whose output tokens came from the stream's usage, from its counted content chunks
SOURCE_SERIES = ("tokens_from_usage", "tokens_from_chunks")


class HttpRunner(Runner):
    """Drives an HTTP endpoint from asyncio tasks, one per concurrency slot."""

    def __init__(self, *args: Any, config: HttpConfig | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config or HttpConfig()

    def prepare(self) -> None:
        cfg = self.config
        self.url = self.spec.spec
        self.engine = engine = cfg.engine_for(self.url)
        if engine == "fast" and (why := cfg.fast_blocker(self.url)):
            raise UsageError(f"the fast client cannot call {self.url}: {why}", where="http.client", value=cfg.client)
        for module in _MODULES[engine] + (("h2",) if cfg.http2 else ()):
            if importlib.util.find_spec(module) is None:
                raise UsageError(f"the {module!r} package is not installed", where="http.client", value=cfg.client)
        self.timeout = cfg.timeout or self.plan.timeout
        bases = [Path.cwd(), *([self.root] if self.root else [])]
        # a header with ${NAME} is read from the environment once, its value a noted secret; no {field} in it
        self.env_headers = expand_secret_headers(cfg.headers)
        self._secrets = bool(self.env_headers)
        self.endpoints = build_endpoints(cfg, self.url, bases)
        self.mix = Mix(cfg, self.plan.seed)
        first = self.endpoints[0]
        self.method, self.body, self.checks = first.method, first.body, first.checks
        names = frozenset().union(*(e.names for e in self.endpoints))
        missing = missing_fields(names - ({INPUT_FIELD} if cfg.input_words is not None else set()), self.cases)
        if missing:
            why = "not in every case" if self.cases else "no --cases file to fill them from"
            raise UsageError(f"placeholders {', '.join(missing)}: {why}", where="http", value=self.url)
        self.tag = uuid.uuid4().hex[:8]
        self.recorder.callvalues.request_id_prefix = self.tag  # per-call checks name the request id
        self._tokens = [0, 0]
        #: streamed calls whose output tokens came from usage, from counted chunks
        self._token_source = [0, 0]
        self._streamed = any(e.cfg.stream for e in self.endpoints)
        self._counted = self._streamed or any(e.checks.count_usage for e in self.endpoints)
        for name in TOKEN_SERIES if self._counted else ():
            self.recorder.declare(name, "tokens")
        for name in SOURCE_SERIES if self._streamed else ():
            self.recorder.declare(name, "calls")
        self.per_endpoint = EndpointCounts([e.name for e in self.endpoints] if cfg.requests else [], self.recorder)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.recorder.events.emit(
            "http_client",
            f"HTTP target {self.method} {self.url} via {engine}{' (HTTP/2)' if cfg.http2 else ''}, "
            f"timeout {self.timeout:g}s" + (f", from {n} load processes" if (n := self._processes()) > 1 else ""),
            "info",
            client=engine,
            http2=cfg.http2,
            method=self.method,
            url=self.url,
            timeout=self.timeout,
            request_id_prefix=self.tag,
            load_processes=self._processes(),
        )

    def _processes(self) -> int:
        """Processes sending the requests: ``[http] load_processes`` (resolved when the runner was
        built), at most one per slot."""
        return max(1, min(self.config.explicit_processes or 1, self.plan.concurrency))

    def _slots(self) -> list[Callable[[], None]]:
        return [lambda: asyncio.run(self._main())]

    def kill(self) -> None:
        """Stop now: requests in flight are cancelled and not recorded."""
        super().kill()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            for task in self._tasks:
                loop.call_soon_threadsafe(task.cancel)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        cfg = self.config
        n = self.plan.concurrency
        clients = make_clients(self.engine, n, self.timeout, http2=cfg.http2, verify=cfg.verify_tls, url=self.url)
        pool = ThreadPoolExecutor(max_workers=min(n, ALLOCATOR_THREADS), thread_name_prefix="http-alloc")
        if self.arrivals is not None:
            self.arrivals.start()  # call 0 is due once the clients are ready
        if self.levels is not None:
            self.levels.start()  # the shape begins once the clients are ready
        try:
            self._tasks = [asyncio.create_task(self._slot(c, pool)) for c in clients]
            for res in await asyncio.gather(*self._tasks, return_exceptions=True):
                if isinstance(res, Exception):
                    self.recorder.events.emit("runner_error", f"{type(res).__name__}: {res}", "error")
        finally:
            await close_all(clients)
            pool.shutdown(wait=False, cancel_futures=True)

    # ---------------------------------------------------------------- one request
    def _request(self, i: int, e: Endpoint | None = None) -> tuple[str, str, dict[str, str], bytes | None, str]:
        """URL, headers and body of call ``i`` to endpoint ``e`` (the target's by default), placeholders filled."""
        e = e or self.endpoints[0]
        cfg = e.cfg
        rid = f"{self.tag}-{i}"
        cases = self.cases
        case = cases[i % len(cases)] if cases else None
        templated = bool(e.names)
        fields = call_fields(case, i, rid) if templated else {}
        if templated and (n := self.mix.input_length(i)) is not None:
            fields[INPUT_FIELD] = words(n, fields.get("prompt"))
        url = fill_text(e.url, fields) if templated else e.url
        env = self.env_headers
        headers = {k: fill_text(v, fields) if templated else v for k, v in cfg.headers.items() if k not in env}
        headers.update(env)
        headers["X-Request-ID"] = rid
        content: bytes | None = None
        if e.body is not None:
            doc = fill_json(e.body, fields) if templated else e.body
            if e.chat_like and (m := self.mix.max_tokens(i)) is not None:
                doc = {**doc, "max_tokens": m}
            content = json.dumps(doc).encode()
        elif cfg.body_template is not None:
            content = fill_text(cfg.body_template, fields).encode()
        if content is not None and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = cfg.content_type
        return url, e.method, headers, content, rid

    async def _call(self, client: SlotClient, i: int, answers: AnswerSampler | None = None) -> ErrorRecord | None:
        k = self.mix.pick(i)
        err = await self._one(client, i, self.endpoints[k], answers)
        if err is not None and self._secrets:
            err = dataclasses.replace(err, message=redact_text(err.message))
        if self.per_endpoint.names:
            self.per_endpoint.count(k, i, err is not None)
        return err

    def injected(self, index: int) -> None:
        """A chaos-injected error counts against the endpoint its call would have gone to."""
        if self.per_endpoint.names:
            self.per_endpoint.count(self.mix.pick(index), index, True)

    async def _one(self, client: SlotClient, i: int, e: Endpoint, answers: AnswerSampler | None) -> ErrorRecord | None:
        try:
            url, method, headers, content, rid = self._request(i, e)
        except (KeyError, IndexError, TypeError) as exc:
            return ErrorRecord("TemplateError", f"call {i}: cannot fill {exc}", i)
        if e.cfg.stream:
            return await self._stream_call(client, i, e, (url, method, headers, content, rid))
        try:
            if client.own_timeout:
                reply = await client.send(method, url, headers, content)
            else:
                async with asyncio.timeout(self.timeout):
                    reply = await client.send(method, url, headers, content)
        except TransportError as exc:
            if exc.timeout:
                return ErrorRecord("Timeout", f"no answer in {self.timeout:g}s [{rid}]", i, True, rid)
            return ErrorRecord(exc.kind, f"{exc.message} [{rid}]", i, request_id=rid)
        except TimeoutError:
            return ErrorRecord("Timeout", f"no answer in {self.timeout:g}s [{rid}]", i, True, rid)
        except Exception as exc:  # a client failure we do not know: recorded under its own type
            return ErrorRecord(error_kind(exc), f"{error_message(exc)} [{rid}]", i, request_id=rid)
        if self._secrets:  # an answer that echoes a secret header keeps it out of errors, values and answers
            reply = Reply(reply.status, scrub_bytes(reply.body), reply.content_type, _scrub_headers(reply.headers))
        out = check_reply(reply.status, reply.body, reply.content_type, e.checks, rid, head=method == "HEAD")
        if out.kind is not None:
            return ErrorRecord(out.kind, out.message, i, request_id=rid)
        if self.config.extract:
            extract_values(self.config.extract, reply)
        if answers is not None and answers.wants(i):
            keep_answer(answers, i, self.cases[i % len(self.cases)] if self.cases else None, answer_of(reply))
        if out.prompt_tokens or out.completion_tokens:
            self._tokens[0] += out.prompt_tokens
            self._tokens[1] += out.completion_tokens
        return None

    async def _stream_call(
        self, client: SlotClient, i: int, e: Endpoint, request: tuple[str, str, dict[str, str], bytes | None, str]
    ) -> ErrorRecord | None:
        """One streamed request (``[http] stream = true``): token times into the slot's per-call values."""
        url, method, headers, content, rid = request
        buf = current_slot()
        start = buf.start if buf is not None and buf.index == i else time.perf_counter_ns()
        due = self.arrivals.due(i) if self.arrivals is not None else 0
        reader = StreamReader()
        try:
            async with asyncio.timeout(self.timeout):
                reply = await open_stream(client, method, url, headers, content, reader)
        except TransportError as exc:
            return ErrorRecord(exc.kind, f"{exc.message} [{rid}]", i, exc.timeout, rid)
        except TimeoutError:
            return ErrorRecord("Timeout", f"no answer in {self.timeout:g}s [{rid}]", i, True, rid)
        except Exception as exc:  # a client failure we do not know: recorded under its own type
            return ErrorRecord(error_kind(exc), f"{error_message(exc)} [{rid}]", i, request_id=rid)
        end = time.perf_counter_ns()
        if reply is not None:
            out = check_reply(reply.status, reply.body, reply.content_type, e.checks, rid)
            what = reply.content_type or "answer"
            why = out.message if out.kind else f"HTTP {reply.status} {what}, not an event stream"
            return ErrorRecord(out.kind or "StreamNoDone", f"{why} [{rid}]", i, request_id=rid)
        got = reader.end(end)
        if got.kind is not None:
            return ErrorRecord(got.kind, f"{got.message} [{rid}]", i, request_id=rid)
        note_stream(buf, i, got, start, end, due)
        self._tokens[0] += got.usage_prompt or 0
        self._tokens[1] += got.tokens
        self._token_source[0 if got.from_usage else 1] += 1
        return None

    # ---------------------------------------------------------------- one slot
    async def _slot(self, client: SlotClient, pool: ThreadPoolExecutor) -> None:
        answers = AnswerSampler.from_env(f"http-{id(client)}")  # None unless [record] asks
        await self.async_chunks(lambda i: self._call(client, i, answers), executor=pool)

    def hand_over(
        self,
        lat: Sequence[int],
        errs: list[ErrorRecord],
        sched: Sequence[int] | None,
        values: CallValues | None = None,
        missed: int = 0,
    ) -> None:
        super().hand_over(lat, errs, sched, values, missed)
        if lat and self.per_endpoint.names:
            self.per_endpoint.publish()
        if lat and self._counted:
            self.recorder.set(TOKEN_SERIES[0], self._tokens[0], "tokens")
            self.recorder.set(TOKEN_SERIES[1], self._tokens[1], "tokens")
        if lat and self._streamed:
            self.recorder.set(SOURCE_SERIES[0], self._token_source[0], "calls")
            self.recorder.set(SOURCE_SERIES[1], self._token_source[1], "calls")


def _scrub_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: redact_text(v) for k, v in headers.items()}
