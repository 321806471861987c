"""The HTTP target's pure parts: answer classification, placeholders, the [http] profile model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.targets.http_check import Checks, build_checks, check_reply
from soakwatch.targets.template import call_fields, fill_json, fill_text, missing_fields, placeholders

JSON = "application/json"
CHAT = json.dumps(
    {"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 3, "completion_tokens": 5}}
).encode()


def chat_checks(**kw: object) -> Checks:
    return build_checks(HttpConfig(preset="openai-chat", **kw), [Path.cwd()])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "body", "ctype", "kind"),
    [
        (200, CHAT, JSON, None),
        (500, b'{"error": {"code": "internal_error", "message": "boom"}}', JSON, "HTTP 500 internal_error"),
        (429, b'{"error": {"type": "rate_limited"}}', JSON, "HTTP 429 rate_limited"),
        (400, b'{"code": 17}', JSON, "HTTP 400 17"),
        (503, b"<html>down</html>", "text/html", "HTTP 503"),
        (502, b"", "", "HTTP 502"),
        (200, b"", JSON, "EmptyBody"),
        (200, b'{"choices": [', JSON, "MalformedJSON"),
        (200, b"not json at all", "text/plain", "MalformedJSON"),
        (200, b'{"choices": []}', JSON, "ExpectationFailed"),
    ],
)
def test_chat_answers_are_classified(status: int, body: bytes, ctype: str, kind: str | None) -> None:
    out = check_reply(status, body, ctype, chat_checks(), "rid-7")
    assert out.kind == kind
    if kind is not None:
        assert "rid-7" in out.message


def test_envelope_message_is_kept() -> None:
    out = check_reply(500, b'{"error": {"code": "x", "message": "the disk is full"}}', JSON, chat_checks())
    assert out.message.startswith("the disk is full")


def test_usage_tokens_are_read() -> None:
    out = check_reply(200, CHAT, JSON, chat_checks())
    assert (out.kind, out.prompt_tokens, out.completion_tokens) == (None, 3, 5)


def test_plain_answers_need_no_json() -> None:
    checks = build_checks(HttpConfig(), [])
    assert check_reply(204, b"", "", checks).kind is None
    assert check_reply(200, b"<html/>", "text/html", checks).kind is None
    # a JSON content type still promises JSON
    assert check_reply(200, b"{oops", "application/json; charset=utf-8", checks).kind == "MalformedJSON"
    assert check_reply(301, b"", "", checks).kind == "HTTP 301"


def test_expect_status_replaces_2xx() -> None:
    checks = build_checks(HttpConfig(expect_status=[200, 404]), [])
    assert check_reply(404, b"", "", checks).kind is None
    assert check_reply(201, b"", "", checks).kind == "HTTP 201"


def test_json_field_and_schema(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    checks = build_checks(
        HttpConfig.model_validate({"expect_json_field": "data.items.0", "expect_schema": "s.json"}), [tmp_path]
    )
    good = b'{"id": 1, "data": {"items": [1]}}'
    assert check_reply(200, good, JSON, checks).kind is None
    missing = check_reply(200, b'{"id": 1, "data": {"items": []}}', JSON, checks)
    assert (missing.kind, missing.message) == ("ExpectationFailed", "missing JSON field data.items.0")
    wrong = check_reply(200, b'{"id": "one", "data": {"items": [1]}}', JSON, checks)
    assert wrong.kind == "ExpectationFailed" and "schema" in wrong.message and "id" in wrong.message


def test_bad_schema_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="expect_schema"):
        build_checks(HttpConfig(expect_schema={"type": 12}), [])
    with pytest.raises(UsageError, match="no such schema file"):
        build_checks(HttpConfig(expect_schema="nope.json"), [tmp_path])


def test_preset_defaults_and_overrides() -> None:
    cfg = HttpConfig(preset="openai-chat", model="m1")
    assert cfg.resolved_method == "POST"
    assert cfg.resolved_body == {"model": "m1", "messages": [{"role": "user", "content": "{prompt}"}]}
    assert cfg.counts_usage and cfg.wants_json and cfg.engine == "aiohttp"
    assert HttpConfig(preset="openai-chat", body={"x": 1}).resolved_body == {"x": 1}
    assert HttpConfig().resolved_method == "GET" and not HttpConfig().wants_json
    assert HttpConfig(http2=True).engine == "httpx"


@pytest.mark.parametrize(
    ("section", "url", "engine"),
    [
        ({}, "http://127.0.0.1:8080/", "fast"),
        ({"preset": "openai-chat"}, "http://h/v1/chat/completions", "fast"),
        ({}, "https://127.0.0.1:8443/", "aiohttp"),
        ({"preset": "openai-chat", "stream": True}, "http://h/v1/chat/completions", "fast"),
        ({"preset": "openai-chat", "stream": True}, "https://h/v1/chat/completions", "aiohttp"),
        ({"requests": [{"name": "s", "stream": True}, {"name": "m"}]}, "http://h/", "fast"),
        ({"requests": [{"name": "m", "path": "https://other/"}]}, "http://h/", "aiohttp"),
        ({"headers": {"accept-encoding": "gzip"}}, "http://h/", "aiohttp"),
        ({}, "http://user:pw@h/", "aiohttp"),
        ({"http2": True}, "http://h/", "httpx"),
        ({"client": "aiohttp"}, "http://h/", "aiohttp"),
        ({"client": "httpx"}, "http://h/", "httpx"),
        ({"client": "fast"}, "http://h/", "fast"),
    ],
)
def test_auto_takes_the_fast_client_where_it_can(section: dict[str, object], url: str, engine: str) -> None:
    assert HttpConfig.model_validate(section).engine_for(url) == engine


def test_the_fast_client_refuses_what_it_cannot_do() -> None:
    from soakwatch.core.events import EventLog
    from soakwatch.core.recorder import Recorder
    from soakwatch.targets.http import HttpRunner
    from soakwatch.targets.runner import Plan
    from soakwatch.targets.spec import parse_target

    cfg = HttpConfig.model_validate({"client": "fast", "headers": {"Accept-Encoding": "gzip"}})
    runner = HttpRunner(Plan(1, None), Recorder(None, EventLog(None)), parse_target("http://h/"), None, [], config=cfg)
    with pytest.raises(UsageError, match="fast client cannot call http://h/: it does not decompress"):
        runner.prepare()


@pytest.mark.parametrize(
    "bad",
    [
        {"body": {"a": 1}, "body_template": "x"},
        {"http2": True, "client": "aiohttp"},
        {"http2": True, "client": "fast"},
        {"expect_status": [99]},
        {"method": "FETCH"},
        {"preset": "anthropic"},
        {"timeout": 0},
    ],
)
def test_bad_http_sections_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HttpConfig.model_validate(bad)


def test_profile_names_the_field() -> None:
    from soakwatch.config.profile import validate_profile

    with pytest.raises(UsageError, match=r"p\.toml: http\.client"):
        validate_profile({"name": "x", "calls": 1, "http": {"client": "curl"}}, "p.toml")


def test_placeholders_fill_text_and_json() -> None:
    fields = call_fields({"prompt": 'say "hi"', "n": 3, "tags": ["a"]}, 7, "r-7")
    assert fill_text('{"q": {prompt}} #{index} {request_id}', fields) == '{"q": say "hi"} #7 r-7'
    body = {"messages": [{"content": "{prompt}"}], "n": "{n}", "label": "n={n}", "tags": "{tags}", "k": "{tags.0}"}
    assert fill_json(body, fields) == {
        "messages": [{"content": 'say "hi"'}],
        "n": 3,
        "label": "n=3",
        "tags": ["a"],
        "k": "a",
    }
    assert json.loads(json.dumps(fill_json({"c": "{prompt}"}, fields)))["c"] == 'say "hi"'
    assert call_fields("plain", 0, "r")["prompt"] == "plain"


def test_missing_placeholders_are_found_before_the_run() -> None:
    names = placeholders({"a": "{prompt}", "b": ["{index}", "{case.id}"]})
    assert names == {"prompt", "index", "case.id"}
    assert missing_fields(names, [{"prompt": "x", "id": 1}]) == []
    assert missing_fields(names, [{"prompt": "x", "id": 1}, {"id": 2}]) == ["prompt"]
    assert missing_fields({"prompt"}, None) == ["prompt"]
    assert missing_fields({"index", "request_id"}, None) == []
