"""HTTP/2 through httpx: a minimal cleartext HTTP/2 (prior knowledge) server built on the h2 package."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest

from soakwatch.config.http import HttpConfig
from soakwatch.core.events import EventLog
from soakwatch.core.recorder import Recorder
from soakwatch.targets.http import HttpRunner
from soakwatch.targets.runner import Plan
from soakwatch.targets.spec import parse_target

ANSWER = json.dumps(
    {"choices": [{"message": {"content": "hi"}}], "usage": {"prompt_tokens": 2, "completion_tokens": 3}}
)


class H2Server:
    """Answers every request on a stream with the chat ANSWER; every 5th with a 503 envelope."""

    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0
        self.ready = threading.Event()
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        while data := await reader.read(65536):
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.StreamEnded):
                    self.requests += 1
                    bad = self.requests % 5 == 0
                    body = (json.dumps({"error": {"code": "overloaded"}}) if bad else ANSWER).encode()
                    headers = [(":status", "503" if bad else "200"), ("content-type", "application/json")]
                    conn.send_headers(ev.stream_id, [*headers, ("content-length", str(len(body)))])
                    conn.send_data(ev.stream_id, body, end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()
        writer.close()

    def serve(self, stop: threading.Event) -> None:
        async def main() -> None:
            server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)
            server.close()

        asyncio.run(main())


@pytest.fixture
def h2_server() -> Iterator[H2Server]:
    srv = H2Server()
    stop = threading.Event()
    th = threading.Thread(target=srv.serve, args=(stop,), daemon=True)
    th.start()
    assert srv.ready.wait(10)
    yield srv
    stop.set()
    th.join(5)


def test_http2_requests_are_multiplexed_and_classified(h2_server: H2Server, tmp_path: Path) -> None:
    rec = Recorder(None, EventLog(None))
    cfg = HttpConfig(preset="openai-chat", http2=True)
    url = f"http://127.0.0.1:{h2_server.port}/v1/chat/completions"
    runner = HttpRunner(
        Plan(calls=50, duration=None, concurrency=8, timeout=5), rec, parse_target(url), None, ["a b"], config=cfg
    )
    runner.prepare()
    runner.run()
    rec.tick()
    assert (rec.calls, rec.ok) == (50, 40) and h2_server.requests == 50
    assert {k: v.count for k, v in rec.kinds.items()} == {"HTTP 503 overloaded": 10}
    assert h2_server.connections == 1  # one HTTP/2 connection carried all eight slots
    assert rec.value("tokens_completion") == 3 * 40
