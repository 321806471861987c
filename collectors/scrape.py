"""HTTP scrape: GET a URL on an interval and turn Prometheus text or JSON into series.

Prometheus text exposition is parsed by ``prometheus_client.parser`` (not by hand). A
field maps a series name to a sample name, optionally with a label selector
(``requests_total{code="500"}``; the values of every matching sample are summed), or,
for JSON, to a dotted path (``node.consensus.committed_height``). Without fields, every
unlabelled Prometheus sample is kept (at most :data:`AUTO_SERIES_MAX`).

Series: ``<field>[<name>]``, ``scrape_ok[<name>]`` (1/0) and ``scrape_ms[<name>]``.
Timeouts, connection failures, non-200 answers, bad bodies and missing fields are
``collector_error`` events (one when it starts failing, reminders, one on recovery),
never fatal.
"""

from __future__ import annotations

import json
import re
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from soakwatch.collectors._paths import MISSING, extract, to_number
from soakwatch.collectors._sampler import Sampler
from soakwatch.collectors._sources import SourceLog
from soakwatch.config.collectors import ScrapeConfig
from soakwatch.config.errors import UsageError
from soakwatch.core.plugins import StageContext
from soakwatch.core.redact import expand_secret_headers

__all__ = ["AUTO_SERIES_MAX", "ScrapeCollector", "parse_prometheus", "parse_selector"]

AUTO_SERIES_MAX = 50
#: longest body read from an endpoint
BODY_MAX = 16 << 20
#: characters of a bad body quoted in its error
BODY_SHOWN = 60

_SELECTOR = re.compile(r"^\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{(.*)\})?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')

Selector = tuple[str, dict[str, str]]


def parse_selector(text: str) -> Selector:
    """``name`` or ``name{label="v",...}`` → (name, labels); ValueError when malformed."""
    m = _SELECTOR.match(text)
    if not m:
        raise ValueError(f"not a metric selector: {text!r}")
    labels: dict[str, str] = {}
    body = m.group(2) or ""
    pos = 0
    while pos < len(body.strip()):
        lm = _LABEL.match(body, pos)
        if not lm:
            raise ValueError(f"bad label matcher in {text!r}")
        labels[lm.group(1)] = lm.group(2)
        pos = lm.end()
    return m.group(1), labels


def parse_prometheus(text: str, fields: dict[str, Selector]) -> tuple[dict[str, float], list[str]]:
    """Values per field from a text exposition, and the fields with no matching sample."""
    sums: dict[str, float] = {}
    auto: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not fields:
                if not s.labels and len(auto) < AUTO_SERIES_MAX:
                    auto[s.name] = float(s.value)
                continue
            for field, (name, labels) in fields.items():
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    sums[field] = sums.get(field, 0.0) + float(s.value)
    if not fields:
        return auto, []
    return sums, [f for f in fields if f not in sums]


def _start(body: bytes) -> str:
    """The first characters of a body, for an error message."""
    text = body[:BODY_SHOWN].decode("utf-8", "replace").replace("\n", " ")
    return f"starts {text!r}" if body else "empty"


class ScrapeCollector(Sampler):
    """One ``[[scrape]]`` entry."""

    def __init__(self, cfg: ScrapeConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.name = f"scrape:{cfg.name}"
        self.interval = cfg.interval
        self._transport = transport
        self.selectors: dict[str, Selector] = {}

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        url = httpx.URL(self.cfg.url)
        if url.scheme not in ("http", "https") or not url.host:
            raise UsageError("not an http(s) URL", field=f"scrape.{self.cfg.name}.url", value=self.cfg.url)
        if self.cfg.format == "prometheus":
            for field, sel in self.cfg.fields.items():
                try:
                    self.selectors[field] = parse_selector(sel)
                except ValueError as exc:
                    raise UsageError(str(exc), field=f"scrape.{self.cfg.name}.fields.{field}", value=sel) from None

    def start(self) -> None:
        headers = {**self.cfg.headers, **expand_secret_headers(self.cfg.headers)}  # ${NAME}: a noted secret
        self.client = httpx.Client(
            timeout=self.cfg.timeout, transport=self._transport, follow_redirects=True, headers=headers
        )
        self.log = SourceLog(self.ctx.run_dir, self.cfg.name)
        for field in self.cfg.fields:
            self.ctx.recorder.declare(f"{field}[{self.cfg.name}]")
        self.ctx.recorder.declare(f"scrape_ok[{self.cfg.name}]")
        super().start()

    def sample(self) -> None:
        name = self.cfg.name
        rec = self.ctx.recorder
        t0 = time.perf_counter()
        try:
            resp = self.client.get(self.cfg.url)
        except httpx.TimeoutException:
            return self._fail(f"timeout after {self.cfg.timeout:g}s")
        except httpx.HTTPError as exc:
            return self._fail(f"request failed: {type(exc).__name__}: {exc}")
        rec.set(f"scrape_ms[{name}]", (time.perf_counter() - t0) * 1000, "ms")
        if resp.status_code != 200:
            return self._fail(f"HTTP {resp.status_code}", status=resp.status_code)
        body = resp.content[:BODY_MAX]
        try:
            values, missing = self._parse(body)
        except Exception as exc:  # any parser complaint is a bad body, not a crash
            return self._fail(f"bad body ({self.cfg.format}): {type(exc).__name__}: {exc}")
        self.failures.ok("endpoint")
        rec.set(f"scrape_ok[{name}]", 1.0)
        for field, value in values.items():
            rec.set(f"{field}[{name}]", value)
        self.log.write(self.ctx.events.elapsed(), values)
        for field, why in missing.items():
            self.failures.failed(f"field {field}", why)
        for field in values:
            self.failures.ok(f"field {field}")

    def _parse(self, body: bytes) -> tuple[dict[str, float], dict[str, str]]:
        """Values per field, and why each other field has none."""
        if self.cfg.format == "prometheus":
            values, absent = parse_prometheus(body.decode("utf-8"), self.selectors)
            if not values and not list(text_string_to_metric_families(body.decode("utf-8"))):
                # the parser accepts almost any text as "no samples": a body with none is not Prometheus text
                raise ValueError(f"no Prometheus samples in the body ({_start(body)})")
            return values, {f: f"{self.cfg.fields[f]!r} not in the prometheus body" for f in absent}
        data = json.loads(body)
        values = {}
        missing: dict[str, str] = {}
        for field, path in self.cfg.fields.items():
            raw = extract(data, path)
            v = None if raw is MISSING else to_number(raw)
            if raw is MISSING:
                missing[field] = f"{path!r} not in the json body"
            elif v is None and isinstance(raw, str):
                self.ctx.recorder.set_text(f"{field}[{self.cfg.name}]", raw)  # a status: for text gates
                self.failures.ok(f"field {field}")
            elif v is None:
                missing[field] = f"{path!r} is {raw!r} in the json body, not a number or a string"
            else:
                values[field] = v
        return values, missing

    def _fail(self, reason: str, **fields: object) -> None:
        self.ctx.recorder.set(f"scrape_ok[{self.cfg.name}]", 0.0)
        self.failures.failed("endpoint", reason, url=self.cfg.url, **fields)

    def stop(self) -> None:
        super().stop()
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
            self.log.close()
