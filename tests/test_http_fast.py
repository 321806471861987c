"""The fast HTTP/1.1 client against a server at the wire level (tests/wire_server.py, its own process and
counters): every fault it must classify, counted exactly as the server counts what it sent; aiohttp
held to the same counts, so ``auto`` switching clients changes no figure."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.http import HttpConfig
from soakwatch.targets.runner import Plan
from tests.server_process import port_file_server
from tests.test_http_target_runner import run

WIRE = Path(__file__).resolve().parent / "wire_server.py"
#: the server's outcome → the kind a call gets (None: a good call)
KIND_OF: dict[str, str | None] = {
    "ok": None,
    "chunked": None,
    "nocontent": None,
    "close_ok": None,
    "eof_body": None,
    "cut_body": "ProtocolError",
    "cut_chunked": "ProtocolError",
    "cut_head": "ConnectionReset",
    "close_before": "ConnectionReset",
    "rst": "ConnectionReset",
    "slow_head": "Timeout",
    "garbage": "ProtocolError",
    "e500": "HTTP 500 boom",
    "gzip_ok": None,
}
#: the client's timeout, well under the slow answer's delay and far over a good answer's time
TIMEOUT = 1.5
SLOW_S = 3.0


@contextmanager
def wire_server(tmp: Path, pattern: list[str]) -> Iterator[str]:
    port_file = tmp / f"wire-{time.monotonic_ns()}"
    argv = [sys.executable, str(WIRE), "--port-file", str(port_file), "--pattern", ",".join(pattern)]
    with port_file_server([*argv, "--slow-s", str(SLOW_S)], port_file, "the wire server") as (port, _):
        yield f"http://127.0.0.1:{port}"


def counters(base: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(urllib.request.urlopen(f"{base}/counters", timeout=5).read())
    return doc


def kinds_of(rec: Any) -> dict[str, int]:
    return {k: v.count for k, v in rec.kinds.items()}


def expected(outcomes: dict[str, int]) -> tuple[int, dict[str, int]]:
    """(good calls, calls per error kind) that the server's answers make."""
    good = 0
    kinds: dict[str, int] = {}
    for outcome, n in outcomes.items():
        kind = KIND_OF[outcome]
        if kind is None:
            good += n
        else:
            kinds[kind] = kinds.get(kind, 0) + n
    return good, kinds


@pytest.mark.parametrize("client", ["fast", "aiohttp"])
def test_every_wire_fault_is_classified_as_the_server_sent_it(tmp_path: Path, client: str) -> None:
    pattern = list(KIND_OF)
    with wire_server(tmp_path, pattern) as base:
        cfg = HttpConfig.model_validate({"client": client})
        rec = run(f"{base}/x", Plan(calls=2 * len(pattern), duration=None, concurrency=4, timeout=TIMEOUT), cfg, None)
        served = counters(base)
    assert served["requests"] == rec.calls == 2 * len(pattern)
    good, kinds = expected(served["outcomes"])
    assert rec.ok == good == 2 * 6
    assert kinds_of(rec) == kinds and len(kinds) == 4
    assert rec.timeouts == served["outcomes"]["slow_head"] == 2


def test_fast_is_what_auto_runs_on_http(tmp_path: Path) -> None:
    with wire_server(tmp_path, ["ok", "cut_body", "close_before"]) as base:
        rec = run(f"{base}/x", Plan(calls=30, duration=None, concurrency=3, timeout=TIMEOUT), HttpConfig(), None)
        served = counters(base)
    assert rec.ok == served["outcomes"]["ok"] == 10
    assert kinds_of(rec) == {"ProtocolError": 10, "ConnectionReset": 10}
    assert HttpConfig().engine_for(base) == "fast"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_one_kept_alive_connection_per_slot(tmp_path: Path, method: str) -> None:
    """Bodies framed by Content-Length and chunks, HEAD and 204 without one: every answer read to its
    end and no further, so each slot's one connection carries all its calls."""
    with wire_server(tmp_path, ["plain", "chunked", "nocontent"]) as base:
        cfg = HttpConfig.model_validate({"client": "fast", "method": method, "expect_status": [200, 204]})
        rec = run(f"{base}/x", Plan(calls=300, duration=None, concurrency=4, timeout=TIMEOUT), cfg, None)
        served = counters(base)
    assert rec.ok == rec.calls == served["requests"] == 300 and not rec.kinds
    assert served["methods"] == {method: 300}
    assert served["connections"] == 4


@pytest.mark.parametrize("client", ["fast", "aiohttp", "httpx"])
def test_a_head_answer_has_no_body_and_is_not_an_empty_body(tmp_path: Path, client: str) -> None:
    """HEAD of a JSON resource: the answer carries the JSON content type and, by definition, no body.
    It was counted as EmptyBody by every client (a FAIL that was not true)."""
    with wire_server(tmp_path, ["ok"]) as base:
        cfg = HttpConfig.model_validate({"client": client, "method": "HEAD"})
        rec = run(f"{base}/x", Plan(calls=20, duration=None, concurrency=2, timeout=TIMEOUT), cfg, None)
        served = counters(base)
    assert served["methods"] == {"HEAD": 20} and served["outcomes"]["ok"] == 20
    assert rec.ok == rec.calls == 20 and not rec.kinds


def test_body_expectations_on_head_are_refused() -> None:
    """A HEAD answer has no body to check: JSON fields or a schema with HEAD are a profile error."""
    with pytest.raises(ValueError, match="HEAD"):
        HttpConfig.model_validate({"method": "HEAD", "expect_json_field": "data.id"})
    with pytest.raises(ValueError, match="HEAD"):
        HttpConfig.model_validate({"requests": [{"name": "h", "method": "HEAD", "expect_json_field": "id"}]})


def test_a_closed_connection_is_replaced(tmp_path: Path) -> None:
    """``Connection: close`` and a body that ends with the connection: good calls, then a new connection."""
    with wire_server(tmp_path, ["close_ok", "eof_body"]) as base:
        rec = run(f"{base}/x", Plan(calls=40, duration=None, concurrency=1, timeout=TIMEOUT), HttpConfig(), None)
        served = counters(base)
    assert rec.ok == rec.calls == 40 and not rec.kinds
    assert served["connections"] == 40


def test_templated_urls_are_quoted_as_aiohttp_quotes_them(tmp_path: Path) -> None:
    cases = [{"q": "one two"}, {"q": "é/ü"}, {"q": "a+b&c=[1]"}, {"q": "50%"}]
    sent: dict[str, dict[str, int]] = {}
    for client in ("fast", "aiohttp"):
        with wire_server(tmp_path, ["plain"]) as base:
            cfg = HttpConfig.model_validate({"client": client})
            plan = Plan(calls=8, duration=None, concurrency=2, timeout=TIMEOUT)
            rec = run(base + "/items/{q}?q={q}", plan, cfg, cases)
            sent[client] = counters(base)["targets"]
        assert rec.ok == 8, rec.kinds
    assert sent["fast"] == sent["aiohttp"] and sum(sent["fast"].values()) == 8 and len(sent["fast"]) == 4


def test_the_timer_follows_the_request_in_flight(tmp_path: Path) -> None:
    """One timer per connection, armed at the first request's deadline: when it fires during a later
    request (here the fourth, each answered 0.4 s late) it moves to that request's deadline, so no
    answered call is timed out early."""
    with wire_server(tmp_path, ["late_ok"]) as base:
        cfg = HttpConfig.model_validate({"client": "fast"})
        rec = run(f"{base}/x", Plan(calls=5, duration=None, concurrency=1, timeout=TIMEOUT), cfg, None)
        served = counters(base)
    assert rec.ok == rec.calls == served["requests"] == 5 and not rec.kinds
    assert served["connections"] == 1
