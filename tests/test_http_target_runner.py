"""HttpRunner in-process against the example service as a real process (every client)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from soakwatch.config.errors import UsageError
from soakwatch.config.http import HttpConfig
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import parse_target
from tests.http_target_service import free_port, running_service

CASES: list[Any] = [{"prompt": "one two three"}, {"prompt": "four five"}]
#: the service's outcome label → the kind the HTTP target gives it
KIND_OF = {
    "error": "HTTP 500 internal_error",
    "rate_limited": "HTTP 429 rate_limited",
    "malformed": "MalformedJSON",
    "empty": "EmptyBody",
    "timeout": "Timeout",
    "reset": "ConnectionReset",
}
ALL_FAULTS = (
    "--error-rate=0.04",
    "--rate-limited-rate=0.03",
    "--malformed-rate=0.03",
    "--empty-rate=0.02",
    "--timeout-rate=0.02",
    "--reset-rate=0.03",
    "--timeout-sleep=3",  # well past the client's 1.5 s, which a loaded box never reaches on an answered call
)


def make_runner(url: str, plan: Plan, cfg: HttpConfig, cases: list[Any] | None = CASES) -> tuple[HttpRunner, Recorder]:
    rec = Recorder(None, EventLog(None), open_model=plan.rate is not None)
    runner = HttpRunner(plan, rec, parse_target(url), None, cases, config=cfg)
    runner.prepare()
    return runner, rec


def run(url: str, plan: Plan, cfg: HttpConfig, cases: list[Any] | None = CASES) -> Recorder:
    runner, rec = make_runner(url, plan, cfg, cases)
    runner.run()
    rec.tick()
    return rec


@pytest.mark.parametrize("client", ["fast", "aiohttp", "httpx"])
def test_every_fault_kind_is_counted_as_the_service_counts_it(tmp_path: Path, client: str) -> None:
    with running_service(tmp_path, *ALL_FAULTS) as svc:
        cfg = HttpConfig(preset="openai-chat", client=client)  # type: ignore[arg-type]
        rec = run(svc.url, Plan(calls=400, duration=None, concurrency=8, timeout=1.5), cfg)
        served, tokens = svc.metrics()
    kinds = {k: v.count for k, v in rec.kinds.items()}
    assert sum(served.values()) == rec.calls == 400
    assert rec.ok == served["ok"]
    assert kinds == {KIND_OF[o]: n for o, n in served.items() if o != "ok" and n}
    assert rec.timeouts == served["timeout"] and len(kinds) == 6
    # tokens are counted from the answers the client got (the service also counts the ones it sent too late)
    assert rec.value("tokens_completion") == 8 * served["ok"]
    assert 0 < (rec.value("tokens_prompt") or 0) <= tokens["prompt"]


def test_connection_refused_is_classified(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/chat/completions"
    for client in ("fast", "aiohttp", "httpx"):
        cfg = HttpConfig.model_validate({"client": client})
        rec = run(url, Plan(calls=6, duration=None, concurrency=2, timeout=2), cfg)
        assert rec.calls == 6 and list(rec.kinds) == ["ConnectionRefused"], (client, rec.kinds)


def test_open_model_keeps_scheduled_latency(tmp_path: Path) -> None:
    with running_service(tmp_path) as svc:
        rec = run(
            svc.url,
            Plan(calls=40, duration=None, concurrency=4, rate=200.0, timeout=2),
            HttpConfig(preset="openai-chat"),
        )
    assert rec.calls == 40 and rec.ok == 40
    assert rec.sched_hist is not None and rec.sched_hist.total == 40


def test_duration_stage_and_stop(tmp_path: Path) -> None:
    with running_service(tmp_path, "--latency-ms=5") as svc:
        plan = Plan(calls=None, duration=30, concurrency=4)
        runner, rec = make_runner(svc.url, plan, HttpConfig(preset="openai-chat"))
        th = threading.Thread(target=runner.run)
        th.start()
        try:
            for _ in range(200):
                rec.tick()
                if rec.calls >= 20:
                    break
                threading.Event().wait(0.05)
        finally:
            runner.stop()
            th.join(10)
        assert not th.is_alive()
        rec.tick()
        served, _ = svc.metrics()
    assert rec.calls >= 20 and rec.calls == served["ok"] and not rec.kinds


def test_request_ids_and_templates() -> None:
    cfg = HttpConfig(
        method="PUT",
        headers={"X-Case": "{id}"},
        body_template='{"q": "{prompt}", "n": {index}}',
        content_type="application/x-test",
    )
    runner, _ = make_runner("http://127.0.0.1:1/items/{id}", Plan(1, None), cfg, [{"id": 5, "prompt": "p"}])
    url, method, headers, content, rid = runner._request(3)
    assert (url, method) == ("http://127.0.0.1:1/items/5", "PUT")
    assert headers["X-Case"] == "5" and headers["Content-Type"] == "application/x-test"
    assert headers["X-Request-ID"] == rid == f"{runner.tag}-3"
    assert content == b'{"q": "p", "n": 3}'
    assert runner._request(4)[4] != rid


def test_placeholders_without_cases_are_refused() -> None:
    with pytest.raises(UsageError, match="prompt"):
        make_runner("http://127.0.0.1:1/", Plan(1, None), HttpConfig(preset="openai-chat"), None)
