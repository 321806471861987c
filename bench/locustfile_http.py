"""Locust FastHttpUser calling ``/`` as fast as it can (bench_http.py drives it with --host)."""

from __future__ import annotations

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class RootUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self) -> None:
        self.client.get("/")
