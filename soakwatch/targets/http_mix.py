"""The endpoints of an HTTP stage: the target alone, or a weighted mix (``[[http.requests]]``).

Each call takes one endpoint by its index: call ``i`` takes the endpoint whose share of
``[0, 1)`` holds ``frac(offset + i × φ)`` (φ the golden ratio, a low-discrepancy sequence; the
offset is drawn from the stage's seed), so over any stretch of calls the counts follow the
weights to within a call or two, and the same seed gives the same sequence. Per-call input
lengths (``[http] input_words``) and output lengths (``max_tokens_range``) are drawn from the
seed and the call index, so they do not depend on which slot ran the call.

Per endpoint, the runner publishes the cumulative series ``requests[NAME]`` and
``request_errors[NAME]`` and times every call as the phase ``endpoint:NAME``, so the summary,
the TUI, the HTML report and ``compare`` have one row per endpoint.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter_ns
from typing import Any
from urllib.parse import urlsplit

from soakwatch._calldata import MAX_VALUES_PER_CHUNK, current_slot
from soakwatch.config.envref import ENV_REF
from soakwatch.config.http import HttpConfig
from soakwatch.config.http_mix import HttpRequest
from soakwatch.core.recorder import Recorder
from soakwatch.targets.http_check import Checks, build_checks
from soakwatch.targets.template import placeholders

__all__ = ["ENDPOINT_PHASE", "INPUT_FIELD", "Endpoint", "EndpointCounts", "Mix", "build_endpoints", "words"]

GOLDEN = (math.sqrt(5) - 1) / 2
#: phase name prefix of an endpoint's latency
ENDPOINT_PHASE = "endpoint:"
#: the placeholder filled with a prompt of ``input_words`` words
INPUT_FIELD = "input"
_FILLER = ["soak", "test", "of", "a", "model", "server", "with", "a", "steady", "stream", "of", "requests"]


@dataclass(frozen=True)
class Endpoint:
    """One way to call: its name ("" for the target alone), URL, method, body and expectations."""

    name: str
    url: str
    method: str
    body: Any
    cfg: HttpConfig
    checks: Checks
    names: frozenset[str]

    @property
    def chat_like(self) -> bool:
        """A body that takes ``max_tokens`` (chat or completions)."""
        return isinstance(self.body, dict) and ("messages" in self.body or "prompt" in self.body)


def _url(target: str, path: str | None) -> str:
    if path is None:
        return target
    if path.startswith(("http://", "https://")):
        return path
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _endpoint(cfg: HttpConfig, target: str, req: HttpRequest, bases: list[Path]) -> Endpoint:
    body = req.body
    chat = isinstance(body, dict) and ("messages" in body or "prompt" in body)
    sub = cfg.model_copy(
        update={
            "requests": [],
            "preset": None,
            "body": body,
            "body_template": None,
            "method": req.method,
            "stream": req.stream,
            "max_tokens": cfg.max_tokens if (chat or req.stream) else None,
            "expect_json_field": req.expect_json_field,
            "count_usage": cfg.counts_usage,
        }
    )
    url = _url(target, req.path)
    rbody = sub.resolved_body
    return Endpoint(
        req.name, url, sub.resolved_method, rbody, sub, build_checks(sub, bases), frozenset(_names(url, sub, rbody))
    )


def _names(url: str, cfg: HttpConfig, body: Any) -> set[str]:
    headers = [ENV_REF.sub("", v) for v in cfg.headers.values()]  # ${NAME} is the environment's, not a case's
    return placeholders(url) | placeholders(headers) | placeholders(body)


def build_endpoints(cfg: HttpConfig, target: str, bases: list[Path]) -> list[Endpoint]:
    """The target alone (one unnamed endpoint), or one endpoint per ``[[http.requests]]``."""
    if not cfg.requests:
        body = cfg.resolved_body
        names = _names(target, cfg, body) | placeholders(cfg.body_template or "")
        return [Endpoint("", target, cfg.resolved_method, body, cfg, build_checks(cfg, bases), frozenset(names))]
    return [_endpoint(cfg, target, r, bases) for r in cfg.requests]


class Mix:
    """Which endpoint call ``i`` takes, and its drawn input and output lengths."""

    def __init__(self, cfg: HttpConfig, seed: int | None) -> None:
        weights = [r.weight for r in cfg.requests] or [1.0]
        total = sum(weights)
        acc = 0.0
        self.bounds: list[float] = []
        for w in weights[:-1]:
            acc += w / total
            self.bounds.append(acc)
        self.seed = seed
        self.offset = random.Random(f"{seed}:mix").random() if seed is not None else random.random()
        self.input_words = cfg.input_words
        self.max_tokens_range = cfg.max_tokens_range
        self._salt = seed if seed is not None else random.getrandbits(32)

    def pick(self, i: int) -> int:
        if not self.bounds:
            return 0
        return bisect.bisect_right(self.bounds, (self.offset + i * GOLDEN) % 1.0)

    def _draw(self, what: str, i: int, lo: int, hi: int) -> int:
        return random.Random(f"{self._salt}:{what}:{i}").randint(lo, hi)

    def input_length(self, i: int) -> int | None:
        n = self.input_words
        if n is None or isinstance(n, int):
            return n
        return self._draw("input", i, n[0], n[1])

    def max_tokens(self, i: int) -> int | None:
        r = self.max_tokens_range
        return None if r is None else self._draw("max_tokens", i, r[0], r[1])


def words(n: int, source: Any) -> str:
    """A prompt of exactly ``n`` words: the case's prompt repeated (or cut), else filler text."""
    base = str(source).split() if isinstance(source, str) and source.strip() else _FILLER
    reps = n // len(base) + 1
    return " ".join((base * reps)[:n])


class EndpointCounts:
    """Calls and errors per endpoint, handed over with the chunk of the slot that made them.

    Counts wait per slot buffer until that slot hands its chunk over (:meth:`publish` runs in
    the slot's hand-over), so ``requests[NAME]`` in a timeline row covers exactly the calls in
    ``calls``; each call is also timed as the phase ``endpoint:NAME``.
    """

    def __init__(self, names: list[str], recorder: Recorder) -> None:
        self.names = names
        self.recorder = recorder
        self.total = [[0] * len(names), [0] * len(names)]
        self._pending: dict[int, list[list[int]]] = {}
        for name in names:
            recorder.declare(f"requests[{name}]", "calls")
            recorder.declare(f"request_errors[{name}]", "calls")

    def count(self, k: int, index: int, failed: bool) -> None:
        buf = current_slot()
        key = id(buf)
        p = self._pending.get(key)
        if p is None:
            p = self._pending[key] = [[0] * len(self.names), [0] * len(self.names)]
        p[0][k] += 1
        p[1][k] += failed
        if buf is not None and buf.index == index and len(buf.phases) < MAX_VALUES_PER_CHUNK:
            buf.phases.append((index, ENDPOINT_PHASE + self.names[k], perf_counter_ns() - buf.start))

    def publish(self) -> None:
        """Add the current slot's counts to the totals and publish them."""
        p = self._pending.pop(id(current_slot()), None)
        if p is not None:
            for row, add in zip(self.total, p, strict=True):
                for k, n in enumerate(add):
                    row[k] += n
        for k, name in enumerate(self.names):
            self.recorder.set(f"requests[{name}]", self.total[0][k], "calls")
            self.recorder.set(f"request_errors[{name}]", self.total[1][k], "calls")
