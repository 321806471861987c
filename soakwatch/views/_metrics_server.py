"""The HTTP server behind ``--metrics-port``: ``/metrics`` from a registry, with bounded connections.

prometheus_client's own server starts a thread for every connection and keeps it as long as the
client does: 500 connections that never send a request made 508 threads. Here at most
:data:`MAX_CONNECTIONS` are served at once (one more is answered by closing it at once), and a
connection that does not send its request within :data:`REQUEST_TIMEOUT` seconds is closed.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

__all__ = ["MAX_CONNECTIONS", "REQUEST_TIMEOUT", "MetricsServer"]

#: connections served at once; more are closed as they come
MAX_CONNECTIONS = 16
#: seconds a connection may take to send its request (and to read the answer)
REQUEST_TIMEOUT = 5.0


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer
    timeout = REQUEST_TIMEOUT  # applied to the socket by StreamRequestHandler.setup

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/", "/metrics"):
            self.send_error(404, "only /metrics here")
            return
        body = generate_latest(self.server.registry)
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_PLAIN_0_0_4)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the monitor's output is the stage's."""


class MetricsServer(HTTPServer):
    """Serves ``/metrics`` of ``registry``: one thread per connection, at most ``limit`` at once."""

    daemon_threads = True
    #: the listen backlog: a burst of connections waits here to be served or closed, not refused by the kernel
    request_queue_size = 128

    def __init__(self, addr: str, port: int, registry: CollectorRegistry, limit: int = MAX_CONNECTIONS) -> None:
        self.address_family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        super().__init__((addr, port), _Handler)
        self.registry = registry
        self._slots = threading.BoundedSemaphore(limit)
        #: connections closed at once because ``limit`` were being served
        self.refused = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.refused += 1
            self.shutdown_request(request)
            return
        threading.Thread(target=self._serve_one, args=(request, client_address), daemon=True).start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away or timed out is not an error of the stage: nothing printed."""

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="metrics", daemon=True)
        thread.start()
        return thread
