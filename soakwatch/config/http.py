"""The ``[http]`` profile section: how an ``http://`` target is called and what a good answer is.

No behaviour and no HTTP client here (the profile model imports this module, and
``--help`` and Python-target runs must stay free of httpx and aiohttp); the runner
is :mod:`soakwatch.targets.http`.

Example::

    target = "http://127.0.0.1:8765/v1/chat/completions"
    [http]
    preset = "openai-chat"          # POST, a chat body from {prompt}, choices.0.message required, usage tokens counted
    headers = { Authorization = "Bearer test" }
    expect_status = [200]
    expect_json_field = ["choices.0.message.content"]
    timeout = "10s"                 # default: the stage's timeout
    extract = { load_seq = "$.load_seq", model = "header:X-Model" }   # per-call values: record[NAME]
    client = "auto"                 # fast for plain http://, aiohttp for https://, httpx for HTTP/2
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.constants import SLOTS_PER_LOAD_PROCESS
from soakwatch.config.http_mix import HttpRequest
from soakwatch.config.units import seconds_fields

__all__ = ["OPENAI_CHAT_BODY", "HttpConfig"]

#: the most load processes a stage may ask for
MAX_LOAD_PROCESSES = 64

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

#: the body of the ``openai-chat`` preset when the profile gives none
OPENAI_CHAT_BODY: dict[str, Any] = {"messages": [{"role": "user", "content": "{prompt}"}]}


class HttpConfig(ProfileModel):
    """Request, expectations and client of an ``http://`` target (``[http]``).

    An answer is good when its status is expected and, when JSON is expected, it parses, has every
    ``expect_json_field`` and matches ``expect_schema``; anything else is an error of a named kind
    (``HTTP 503``, ``bad_json``, ``missing_field``, the JSON error envelope's code, ...).
    """

    method: Method | None = Field(
        default=None, description="default: GET, or POST with a body or the chat preset", examples=["POST"]
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="request headers; placeholders allowed in values; ${NAME} is read from the environment "
        "and never written to the run directory",
        examples=[{"Authorization": "Bearer ${SLM_API_KEY}"}],
    )
    body: Any = Field(
        default=None,
        description="JSON body (a TOML table); placeholders such as {prompt} from the case",
        examples=[{"prompt": "{prompt}"}],
    )
    body_template: str | None = Field(
        default=None, description="raw body text with placeholders", examples=["q={prompt}"]
    )
    content_type: str = Field(default="application/json", description="Content-Type of a body")
    expect_status: list[int] = Field(
        default_factory=list, description="good status codes; empty: any 2xx", examples=[[200]]
    )
    expect_json: bool | None = Field(
        default=None, description="answers must be JSON; default: when a JSON check or the preset is set"
    )
    expect_json_field: list[str] = Field(
        default_factory=list,
        description="dotted paths that must be present in a JSON answer",
        examples=[["choices.0.message.content"]],
    )
    expect_schema: dict[str, Any] | str | None = Field(
        default=None, description="JSON Schema the answer must match, inline or a file", examples=["chat_schema.json"]
    )
    error_code_fields: list[str] = Field(
        default_factory=lambda: ["error.code", "error.type", "code"],
        description="where a JSON error envelope keeps its code, first found wins",
    )
    preset: Literal["openai-chat"] | None = Field(
        default=None,
        description="openai-chat: POST {model, messages: [{role: user, content: {prompt}}]}; the answer must be "
        "JSON with choices.0.message; usage.prompt_tokens and usage.completion_tokens counted "
        "(series tokens_prompt, tokens_completion); status as expect_status (any 2xx by default)",
        examples=["openai-chat"],
    )
    model: str = Field(default="soakwatch", description="'model' of the openai-chat body")
    count_usage: bool | None = Field(default=None, description="count usage tokens; default: with openai-chat")
    stream: bool = Field(
        default=False,
        description="ask for a streamed answer (Server-Sent Events): 'stream': true and 'stream_options': "
        "{'include_usage': true} go into the JSON body; time to first token, inter-token latency and time per "
        "output token are measured (phases ttft, itl, tpot, sched_ttft), faults are StreamNoDone, "
        "StreamMalformedChunk, StreamEmpty, StreamError",
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="'max_tokens' sent in the JSON body (output length per request)", examples=[128]
    )
    requests: list[HttpRequest] = Field(
        default_factory=list,
        description="a weighted mix of endpoints ([[http.requests]]: name, weight, path, method, body, stream, "
        "expect_json_field); each call takes one, in the shares of the weights (seeded); per-endpoint calls, errors "
        "and latency in every view",
    )
    input_words: int | tuple[int, int] | None = Field(
        default=None,
        description="fill {input} with a prompt of this many words, or a number drawn per call from [min, max] "
        "(seeded); the request's input length",
        examples=[128, [64, 512]],
    )
    max_tokens_range: tuple[int, int] | None = Field(
        default=None, description="'max_tokens' drawn per call from [min, max] (seeded), instead of max_tokens"
    )
    http2: bool = Field(default=False, description="speak HTTP/2 (httpx client)")
    client: Literal["auto", "fast", "aiohttp", "httpx"] = Field(
        default="auto",
        description="auto: fast (soakwatch's lean HTTP/1.1 client, plain and streamed answers) for http:// "
        "targets without an Accept-Encoding header or user:password in the URL, aiohttp for the rest of "
        "HTTP/1.1 (https://, compressed answers, cookies kept, redirects followed), httpx for HTTP/2",
    )
    timeout: float | None = Field(
        default=None, gt=0, description="per-request timeout, seconds; default: the stage's", examples=["10s"]
    )
    verify_tls: bool = Field(default=True, description="check the server's TLS certificate (https://)")
    load_processes: int | Literal["auto"] = Field(
        default="auto",
        description="processes that send the requests, the concurrency's slots shared out between them (at most one "
        "per slot); their results are merged exactly into the one recorder. 1: the stage's own process; auto: one "
        f"per {SLOTS_PER_LOAD_PROCESS} slots, at most the usable cores but one (1 on two cores, with a [[shape]] and "
        "on Ray)",
        examples=[2, "auto"],
    )
    extract: dict[str, str] = Field(
        default_factory=dict,
        description="per-call values taken from each good answer, as record[NAME] series that gates can check "
        "per call (strictly_increasing, never_decreasing, unique): NAME = '$.dotted.path' (JSON body) "
        "or 'header:Header-Name'",
        examples=[{"load_seq": "$.load_seq", "model": "header:X-Model"}],
    )

    @field_validator("extract")
    @classmethod
    def _extract(cls, v: dict[str, str]) -> dict[str, str]:
        for name, where in v.items():
            if not (where.startswith("$.") and len(where) > 2) and not (
                where.startswith("header:") and where[7:].strip()
            ):
                raise ValueError(
                    f"extract.{name} = {where!r}: expected '$.dotted.path' (a JSON field) or 'header:Header-Name'"
                )
        return v

    @field_validator("expect_json_field", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    _secs = seconds_fields("timeout")

    @field_validator("load_processes")
    @classmethod
    def _load_processes(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1 <= v <= MAX_LOAD_PROCESSES:
            raise ValueError(f"{v}: 1 to {MAX_LOAD_PROCESSES} load processes, or 'auto'")
        return v

    @field_validator("expect_status")
    @classmethod
    def _statuses(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if not 100 <= s <= 599]
        if bad:
            raise ValueError(f"not HTTP status codes: {bad}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> HttpConfig:
        if self.body is not None and self.body_template is not None:
            raise ValueError("give 'body' (JSON) or 'body_template' (text), not both")
        if (self.stream or self.max_tokens is not None) and self.body_template is not None:
            raise ValueError("stream and max_tokens go into a JSON body: use 'body' or the preset, not 'body_template'")
        names = [r.name for r in self.requests]
        if len(set(names)) != len(names):
            raise ValueError(f"[[http.requests]] names must differ: {names}")
        for pair in (self.input_words, self.max_tokens_range):
            if isinstance(pair, tuple) and not 0 < pair[0] <= pair[1]:
                raise ValueError(f"{list(pair)}: a range is [min, max] with 0 < min <= max")
        if self.stream and not isinstance(self.resolved_body, dict) and not self.requests:
            raise ValueError("stream = true needs a JSON body: an [http.body] table or preset = 'openai-chat'")
        if self.resolved_method == "HEAD" and self.wants_json:
            raise ValueError(
                "method = 'HEAD': a HEAD answer has no body, so expect_json / expect_json_field / expect_schema / "
                "preset cannot be checked; use GET, or drop the body expectations"
            )
        if self.http2 and self.client in ("aiohttp", "fast"):
            raise ValueError(f"{self.client} speaks HTTP/1.1 only: use client = 'httpx' (or 'auto') with http2 = true")
        return self

    # ------------------------------------------------------------ resolved views
    @property
    def resolved_body(self) -> Any:
        """The JSON body after the preset: the profile's own, or the chat body."""
        body = self.body
        if body is None and self.preset == "openai-chat":
            body = {"model": self.model, **OPENAI_CHAT_BODY}
        if isinstance(body, dict) and (self.stream or self.max_tokens is not None):
            extra: dict[str, Any] = {"max_tokens": self.max_tokens} if self.max_tokens is not None else {}
            if self.stream:
                extra |= {"stream": True, "stream_options": {"include_usage": True}}
            body = {**body, **extra}
        return body

    @property
    def resolved_method(self) -> str:
        if self.method:
            return self.method
        has_body = self.resolved_body is not None or self.body_template is not None
        return "POST" if has_body else "GET"

    @property
    def json_fields(self) -> list[str]:
        if self.expect_json_field or self.preset != "openai-chat":
            return self.expect_json_field
        return ["choices.0.message"]

    @property
    def wants_json(self) -> bool:
        if self.expect_json is not None:
            return self.expect_json
        return bool(self.json_fields or self.expect_schema is not None or self.preset)

    @property
    def counts_usage(self) -> bool:
        return self.count_usage if self.count_usage is not None else self.preset == "openai-chat"

    @property
    def engine(self) -> Literal["httpx", "aiohttp", "fast"]:
        """The client when the target's URL is not known: the profile's choice, or aiohttp for
        HTTP/1.1 and httpx for HTTP/2 (see :meth:`engine_for`)."""
        if self.client != "auto":
            return self.client
        return "httpx" if self.http2 else "aiohttp"

    def fast_blocker(self, url: str) -> str | None:
        """Why the fast client cannot call ``url`` as this section asks; None when it can."""
        if not url.startswith("http://") or any((r.path or "").startswith("https://") for r in self.requests):
            return "it speaks plain http:// only"
        if "@" in url.split("/", 3)[2]:
            return "it does not send a URL's user:password"
        if any(k.lower() == "accept-encoding" for k in self.headers):
            return "it does not decompress answers (Accept-Encoding)"
        return None

    def engine_for(self, url: str) -> Literal["httpx", "aiohttp", "fast"]:
        """The client that runs against ``url``: the profile's choice; with ``auto``, httpx for HTTP/2,
        the fast client where it can do what the section asks, else aiohttp."""
        if self.client != "auto" or self.http2:
            return self.engine
        return "fast" if self.fast_blocker(url) is None else "aiohttp"

    @property
    def explicit_processes(self) -> int:
        """The load processes the profile asked for by number (0 for ``auto``)."""
        return 0 if self.load_processes == "auto" else self.load_processes

    def load_processes_for(self, concurrency: int, cores: int, *, single: bool) -> int:
        """The load processes a stage runs: the number asked for (at most one per slot), or for ``auto``
        one per :data:`SLOTS_PER_LOAD_PROCESS` slots on the usable ``cores`` but one; 1 where the stage
        runs in one (``single``: a shape, Ray)."""
        if self.load_processes != "auto":
            return max(1, min(self.load_processes, concurrency))
        if single:
            return 1
        return max(1, min(cores - 1, concurrency // SLOTS_PER_LOAD_PROCESS, MAX_LOAD_PROCESSES))
