"""Locust running the same no-op function from a custom User (bench_runner.py drives it)."""

from __future__ import annotations

import time

from bench_targets import noop
from locust import User, constant, task


class NoopUser(User):
    wait_time = constant(0)

    @task
    def call(self) -> None:
        fire = self.environment.events.request.fire
        t0 = time.perf_counter()
        exc = None
        try:
            noop()
        except Exception as e:  # pragma: no cover - noop never raises
            exc = e
        fire(
            request_type="call",
            name="noop",
            response_time=(time.perf_counter() - t0) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )
