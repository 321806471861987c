"""Streamed answers ([http] stream = true) against a streaming mock server that keeps its own counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from soakwatch.config.http import HttpConfig
from soakwatch.targets.http_stream import STREAM_RECORD, StreamReader
from soakwatch.targets.runner import Plan
from tests.stream_helpers import stream_server
from tests.test_http_target_runner import run

#: the server's outcome → the kind soakwatch gives it
KIND_OF = {
    "nodone": "StreamNoDone",
    "cut": "StreamNoDone",
    "malformed": "StreamMalformedChunk",
    "empty": "StreamEmpty",
    "error": "StreamError",
}


def stream_cfg(client: str = "aiohttp", **kw: object) -> HttpConfig:
    return HttpConfig.model_validate({"preset": "openai-chat", "stream": True, "client": client, **kw})


@pytest.mark.timing
@pytest.mark.parametrize("client", ["fast", "aiohttp", "httpx"])
def test_ttft_and_itl_follow_the_servers_pace(tmp_path: Path, client: str) -> None:
    with stream_server(tmp_path, "--ttft-ms", "20", "--itl-ms", "20", "--chunks", "4") as srv:
        rec = run(srv.url, Plan(calls=200, duration=None, concurrency=2, timeout=10), stream_cfg(client))
        served = srv.counters()
    assert rec.calls == 200 and rec.ok == 200 and served["outcomes"] == {"ok": 200}
    phases = rec.callvalues.phase_summary()
    assert phases["ttft"]["count"] == 200 and phases["itl"]["count"] == served["gaps"] == 200 * 3
    assert phases["tpot"]["count"] == 200
    assert abs(phases["itl"]["p50"] - served["itl_p50"]) <= 1.0
    assert abs(phases["itl"]["p95"] - served["itl_p95"]) <= 5.0
    # TTFT: the first token is timed when it arrives (the same monotonic clock in both processes), and
    # soakwatch's TTFT is the server's plus the request's way there, never less
    prefix = rec.callvalues.request_id_prefix
    late, extra = [], []
    for r in rec.callvalues.new_records(STREAM_RECORD):
        arrived, first = served["first_at"][f"{prefix}-{r.call}"]
        got = r.start_ns + r.value[0] * 1e6
        late.append((got - first) / 1e6)
        extra.append(r.value[0] - (first - arrived) / 1e6)
    assert len(late) == 200 and min(extra) > 0
    late.sort()
    assert abs(late[100]) <= 1.0 and abs(late[190]) <= 5.0, (late[100], late[190])
    # tokens from the usage chunk the request asked for
    assert rec.value("tokens_completion") == served["tokens"] == 200 * 4
    assert rec.value("tokens_prompt") == 200 * 5
    assert rec.value("tokens_from_usage") == 200 and rec.value("tokens_from_chunks") == 0


@pytest.mark.parametrize("client", ["fast", "aiohttp", "httpx"])
def test_every_stream_fault_is_counted_as_the_server_counts_it(tmp_path: Path, client: str) -> None:
    faults = [f"--{f}-rate=0.08" for f in KIND_OF]
    with stream_server(tmp_path, "--ttft-ms", "1", "--itl-ms", "1", "--chunks", "4", *faults) as srv:
        rec = run(srv.url, Plan(calls=300, duration=None, concurrency=6, timeout=10), stream_cfg(client))
        served = srv.counters()
    outcomes = served["outcomes"]
    want: dict[str, int] = {}
    for outcome, n in outcomes.items():
        if outcome != "ok":
            want[KIND_OF[outcome]] = want.get(KIND_OF[outcome], 0) + n
    assert sum(outcomes.values()) == rec.calls == 300
    assert {k: v.count for k, v in rec.kinds.items()} == want and len(want) == 4
    assert rec.ok == outcomes["ok"]
    assert rec.value("tokens_completion") == served["tokens"] == 4 * outcomes["ok"]


def test_tokens_are_counted_from_chunks_without_usage(tmp_path: Path) -> None:
    with stream_server(tmp_path, "--ttft-ms", "1", "--itl-ms", "1", "--chunks", "5") as srv:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        cfg = HttpConfig.model_validate({"stream": True, "body": body, "max_tokens": 3})
        assert cfg.resolved_body["max_tokens"] == 3 and cfg.resolved_body["stream"] is True
        rec = run(srv.url, Plan(calls=20, duration=None, concurrency=2, timeout=10), cfg)
        served = srv.counters()
    # the server answered with usage (asked for): 3 tokens a request, max_tokens honoured
    assert rec.ok == 20 and served["tokens"] == rec.value("tokens_completion") == 60


def test_the_reader_counts_chunks_when_no_usage_comes() -> None:
    r = StreamReader()
    for i, line in enumerate([b'data: {"choices":[{"delta":{"content":"a"}}]}', b"", b": keep-alive", b""]):
        assert r.line(line + b"\n", i)
    for i, line in enumerate([b'data: {"choices":[{"text":"b"}]}', b"", b"data: [DONE]"]):
        r.line(line + b"\r\n", 10 + i)
    assert not r.line(b"\n", 20)
    out = r.end(21)
    assert out.kind is None and out.tokens == 2 and not out.from_usage and out.gaps == [10]


def test_a_json_answer_to_a_stream_request_is_not_a_stream(tmp_path: Path) -> None:
    with stream_server(tmp_path) as srv:
        cfg = HttpConfig.model_validate({"body": {"messages": []}, "expect_status": [200]})
        rec = run(srv.url, Plan(calls=5, duration=None, concurrency=1, timeout=10), cfg)
        assert rec.ok == 5  # non-streaming keeps working
    with pytest.raises(ValueError, match="stream = true needs a JSON body"):
        HttpConfig.model_validate({"stream": True})


def test_open_model_times_the_first_token_from_the_scheduled_start(tmp_path: Path) -> None:
    with stream_server(tmp_path, "--ttft-ms", "5", "--itl-ms", "5", "--chunks", "3") as srv:
        plan = Plan(calls=40, duration=None, concurrency=4, timeout=10, rate=50.0)
        rec = run(srv.url, plan, stream_cfg())
        served = srv.counters()
    assert rec.calls == rec.ok == 40 == served["outcomes"]["ok"] and rec.missed == 0
    phases = rec.callvalues.phase_summary()
    assert phases["sched_ttft"]["count"] == phases["ttft"]["count"] == 40
    for r in rec.callvalues.new_records(STREAM_RECORD):
        ttft, _, _, sched, _ = r.value
        assert sched is not None and sched >= ttft  # the wait for its turn is counted, never less
