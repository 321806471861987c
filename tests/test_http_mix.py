"""A weighted request mix ([[http.requests]]) against the mock server, which counts requests per path itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soakwatch.config.http import HttpConfig
from soakwatch.core.snapshot_builder import endpoint_views
from soakwatch.targets.http_mix import Mix, words
from soakwatch.targets.runner import Plan
from tests.stream_helpers import stream_server
from tests.test_http_target_runner import make_runner, run

CALLS = 2000
MIX = {
    "http": {
        "max_tokens": 2,
        "requests": [
            {
                "name": "chat",
                "weight": 70,
                "stream": True,
                "body": {"model": "m", "messages": [{"role": "user", "content": "{input}"}]},
            },
            {"name": "embeddings", "path": "/v1/embeddings", "weight": 20, "body": {"model": "m", "input": "{prompt}"}},
            {"name": "models", "path": "/v1/models", "weight": 10, "expect_json_field": "data"},
        ],
        "input_words": [3, 9],
    }
}
PATHS = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings", "models": "/v1/models"}


def test_a_mix_of_three_endpoints_follows_the_weights_and_the_servers_counts(tmp_path: Path) -> None:
    cfg = HttpConfig.model_validate(MIX["http"])
    with stream_server(tmp_path, "--ttft-ms", "0", "--itl-ms", "0") as srv:
        rec = run(srv.url, Plan(calls=CALLS, duration=None, concurrency=8, timeout=10, seed=3), cfg)
        served = srv.counters()
    assert rec.calls == rec.ok == CALLS, rec.kinds
    phases = rec.callvalues.phase_summary()
    for name, weight in (("chat", 0.7), ("embeddings", 0.2), ("models", 0.1)):
        n = served["paths"][PATHS[name]]
        assert rec.value(f"requests[{name}]") == n == phases[f"endpoint:{name}"]["count"]
        assert abs(n / CALLS - weight) <= 0.03, (name, n)
        assert rec.value(f"request_errors[{name}]") == 0
    assert sum(served["paths"].values()) == CALLS
    # only the chat calls streamed, with max_tokens from [http]
    assert phases["ttft"]["count"] == served["outcomes"]["ok"] == served["paths"][PATHS["chat"]]
    assert rec.value("tokens_completion") == served["tokens"] == 2 * served["outcomes"]["ok"]


def test_the_mix_and_the_drawn_lengths_are_seeded() -> None:
    cfg = HttpConfig.model_validate({**MIX["http"], "max_tokens_range": [4, 16]})
    a, b, c = Mix(cfg, 5), Mix(cfg, 5), Mix(cfg, 6)
    seq = [a.pick(i) for i in range(300)]
    assert seq == [b.pick(i) for i in range(300)] and seq != [c.pick(i) for i in range(300)]
    lengths = [a.input_length(i) for i in range(300)]
    assert lengths == [b.input_length(i) for i in range(300)] and {3, 9} <= set(lengths) <= set(range(3, 10))
    assert all(4 <= (a.max_tokens(i) or 0) <= 16 for i in range(100))
    assert words(5, "one two") == "one two one two one" and len(words(40, None).split()) == 40


def test_requests_are_built_per_endpoint(tmp_path: Path) -> None:
    cfg = HttpConfig.model_validate({**MIX["http"], "max_tokens_range": [4, 4]})
    runner, _ = make_runner(
        "http://127.0.0.1:9/v1/chat/completions", Plan(calls=1, duration=None), cfg, [{"prompt": "p q"}]
    )
    chat, emb, models = runner.endpoints
    url, method, _, content, _ = runner._request(0, chat)
    doc = json.loads(content or b"")
    assert (method, doc["stream"], doc["max_tokens"], doc["stream_options"]) == (
        "POST",
        True,
        4,
        {"include_usage": True},
    )
    assert 3 <= len(doc["messages"][0]["content"].split()) <= 9
    url, method, _, content, _ = runner._request(1, emb)
    assert url == "http://127.0.0.1:9/v1/embeddings" and json.loads(content or b"") == {"model": "m", "input": "p q"}
    url, method, _, content, _ = runner._request(2, models)
    assert (url, method, content) == ("http://127.0.0.1:9/v1/models", "GET", None)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"requests": [{"name": "a"}, {"name": "a"}]}, "names must differ"),
        ({"requests": [{"name": "a b"}]}, "letters, digits"),
        ({"requests": [{"name": "a", "path": "v1"}]}, "starting with '/'"),
        ({"input_words": [9, 3]}, "a range is"),
    ],
)
def test_bad_mixes_are_refused(bad: dict[str, object], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        HttpConfig.model_validate(bad)


def test_chaos_injected_errors_count_against_the_endpoint_of_their_call(tmp_path: Path) -> None:
    cfg = HttpConfig.model_validate(MIX["http"])
    calls = 600
    with stream_server(tmp_path, "--ttft-ms", "0", "--itl-ms", "0") as srv:
        runner, rec = make_runner(srv.url, Plan(calls=calls, duration=None, concurrency=4, timeout=10, seed=5), cfg)
        runner.inject.open("flaky", error_ratio=0.3)  # a chaos errors window over the whole stage
        runner.run()
        rec.tick()
        served = srv.counters()
    injected = rec.kinds["ChaosInjected"].count
    assert rec.calls == calls and rec.errors == injected and 100 < injected < 260, rec.kinds
    per_calls = {name: int(rec.value(f"requests[{name}]") or 0) for name in PATHS}
    per_errors = {name: int(rec.value(f"request_errors[{name}]") or 0) for name in PATHS}
    for name, path in PATHS.items():  # the server saw exactly the calls chaos did not fail
        assert per_calls[name] - per_errors[name] == served["paths"][path], (name, per_calls, per_errors)
    assert sum(per_calls.values()) == calls and sum(per_errors.values()) == injected
    assert all(per_errors[name] > 0 for name in PATHS)  # each endpoint took its share of the injected errors
    views = {e.name: e for e in endpoint_views(rec, rec.callvalues.phase_summary())}  # what the TUI panel shows
    assert [(views[n].calls, views[n].errors) for n in PATHS] == [(per_calls[n], per_errors[n]) for n in PATHS]
    assert all(views[n].p50_ms is not None and views[n].p95_ms is not None for n in PATHS)
