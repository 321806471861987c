"""HTTP scrape (collectors.scrape): Prometheus text and JSON into series; failures are events."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from soakwatch.collectors.scrape import ScrapeCollector, parse_prometheus, parse_selector
from soakwatch.config.collectors import ScrapeConfig
from soakwatch.config.errors import UsageError
from tests.collectors_ctx import CtxFactory, contexts, events_of, wait_for


@pytest.fixture
def ctx_factory(tmp_path: Path) -> Iterator[CtxFactory]:
    yield from contexts(tmp_path)


PROM = """# HELP committed_height Height.
# TYPE committed_height gauge
committed_height 1234
# TYPE requests counter
requests_total{code="200"} 90
requests_total{code="500"} 10
process_resident_memory_bytes 2.5e+07
"""


def test_selectors_and_prometheus_parsing() -> None:
    assert parse_selector('requests_total{code="500"}') == ("requests_total", {"code": "500"})
    with pytest.raises(ValueError):
        parse_selector("requests total")
    fields = {
        "height": parse_selector("committed_height"),
        "errors": parse_selector('requests_total{code="500"}'),
        "requests": parse_selector("requests_total"),
        "nope": parse_selector("missing_metric"),
    }
    values, missing = parse_prometheus(PROM, fields)
    assert values == {"height": 1234.0, "errors": 10.0, "requests": 100.0}
    assert missing == ["nope"]
    auto, _ = parse_prometheus(PROM, {})
    assert auto["process_resident_memory_bytes"] == 2.5e7 and "requests_total" not in auto


def _collector(ctx_factory: CtxFactory, handler: Any, **cfg: Any) -> tuple[ScrapeCollector, Any]:
    ctx = ctx_factory()
    c = ScrapeCollector(
        ScrapeConfig(name="node1", url="http://node1.test/metrics", interval=0.05, **cfg),
        transport=httpx.MockTransport(handler),
    )
    c.prepare(ctx)
    return c, ctx


def _has_error(ctx: Any, reason: str) -> Callable[[], bool]:
    return lambda: any(reason in e["msg"] for e in events_of(ctx, "collector_error"))


def _recovered(ctx: Any, n: int) -> Callable[[], bool]:
    return lambda: len(events_of(ctx, "collector_recovered")) >= n


def test_mock_transport_prometheus_and_failures(ctx_factory: CtxFactory) -> None:
    state = {"mode": "ok"}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["mode"] == "500":
            return httpx.Response(500, text="boom")
        if state["mode"] == "bad":
            return httpx.Response(200, text="committed_height one two three\n")
        if state["mode"] == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, text=PROM)

    c, ctx = _collector(ctx_factory, handler, fields={"committed_height": "committed_height"})
    c.start()
    try:
        wait_for(lambda: ctx.recorder.value("committed_height[node1]") == 1234.0, what="first scrape")
        for i, (mode, reason) in enumerate((("500", "HTTP 500"), ("bad", "bad body"), ("timeout", "timeout"))):
            state["mode"] = mode
            wait_for(_has_error(ctx, reason), what=reason)
            assert ctx.recorder.value("scrape_ok[node1]") == 0.0
            state["mode"] = "ok"
            wait_for(_recovered(ctx, i + 1), what="recovery")
            wait_for(lambda: ctx.recorder.value("scrape_ok[node1]") == 1.0)
    finally:
        c.stop()
    assert (ctx.run_dir / "sources" / "node1.csv").read_text().count("committed_height") >= 1


def test_json_dotted_paths(ctx_factory: CtxFactory) -> None:
    body = {"node": {"consensus": {"committed_height": 77}, "ok": True, "peers": [{"lag": 3}]}}
    c, ctx = _collector(
        ctx_factory,
        lambda r: httpx.Response(200, json=body),
        format="json",
        fields={"height": "node.consensus.committed_height", "ok": "node.ok", "lag": "node.peers.0.lag", "x": "no.pe"},
    )
    c.start()
    try:
        wait_for(lambda: ctx.recorder.value("lag[node1]") == 3.0)
        assert ctx.recorder.value("height[node1]") == 77.0 and ctx.recorder.value("ok[node1]") == 1.0
        wait_for(lambda: any("field x" in e["msg"] for e in events_of(ctx, "collector_error")))
    finally:
        c.stop()


def test_bad_url_and_selector_are_usage_errors(ctx_factory: CtxFactory) -> None:
    ctx = ctx_factory()
    with pytest.raises(ValidationError, match="url"):  # refused by the profile model, before any stage
        ScrapeConfig(name="n", url="ftp://x/")
    with pytest.raises(UsageError, match=r"fields\.h"):
        ScrapeCollector(ScrapeConfig(name="n", url="http://x/", fields={"h": "a b"})).prepare(ctx)


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, object]]]:
    state: dict[str, object] = {"status": 200, "body": PROM}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = str(state["body"]).encode()
            self.send_response(int(state["status"]))  # type: ignore[call-overload]
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=httpd.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/metrics", state
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_real_http_server_and_endpoint_down(ctx_factory: CtxFactory, server: tuple[str, dict[str, object]]) -> None:
    url, state = server
    ctx = ctx_factory()
    c = ScrapeCollector(ScrapeConfig(name="node2", url=url, interval=0.05, timeout=1, fields={"h": "committed_height"}))
    c.prepare(ctx)
    c.start()
    try:
        wait_for(lambda: ctx.recorder.value("h[node2]") == 1234.0)
        state["body"] = PROM.replace("1234", "1300")
        wait_for(lambda: ctx.recorder.value("h[node2]") == 1300.0)
        state["status"] = 503
        wait_for(lambda: any("HTTP 503" in e["msg"] for e in events_of(ctx, "collector_error")))
    finally:
        c.stop()
    # an endpoint nobody listens on: an event, never an exception
    ctx2 = ctx_factory("down")
    dead = ScrapeCollector(ScrapeConfig(name="dead", url="http://127.0.0.1:9/metrics", interval=0.05, timeout=0.5))
    dead.prepare(ctx2)
    dead.start()
    try:
        wait_for(lambda: events_of(ctx2, "collector_error"), what="connection error event")
    finally:
        dead.stop()
    assert json.loads(json.dumps(events_of(ctx2, "collector_error")[0]))["collector"] == "scrape:dead"
