"""HTTP load throughput against a local nginx ``return 200``, side by side in one run.

(a) the per-request path alone, concurrency 16 in one process, a bounded number of requests:
soakwatch's clients as the HTTP target makes them (the fast client: asyncio Protocol + httptools;
aiohttp as configured today), aiohttp tuned (auto_decompress off, DummyCookieJar, no default
headers), httpx (one single-connection client per slot) and a minimal HTTP/1.1 client on raw
asyncio streams (keep-alive, Content-Length bodies only, no fault handling: a floor for the
asyncio machinery, not a candidate); (b) ``soakwatch run`` at concurrency 16 with the default
client (fast) and with ``--set http.client=aiohttp``, and at 2 load processes
(``--load-processes 2``); (c) Locust FastHttpUser with 16 users, in one process and with
``--processes 2``; (d) wrk, the ceiling, when installed. ``--runs N`` repeats the whole set,
every figure printed. Every leg is bounded in time (``--seconds``) and the per-request legs in
count too. nginx is installed with apt-get when absent (as root), configured in a temp dir on a
free 127.0.0.1 port with one worker, started and stopped by its pid.

    python bench/bench_http.py [--seconds 6] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from _common import HERE, run_stage

from soakwatch.targets.http_clients import SlotClient

CONCURRENCY = 16
#: requests per raw client leg (each also stops after --seconds)
RAW_REQUESTS = 60_000
NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp};
    proxy_temp_path {tmp};
    fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp};
    scgi_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _nginx() -> str | None:
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if exe is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "nginx"], capture_output=True, timeout=600)
        exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    return exe


@contextmanager
def nginx() -> Iterator[int]:
    exe = _nginx()
    if exe is None:
        sys.exit("nginx is not installed and could not be (apt-get install -y nginx as root)")
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        port = _free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        proc = subprocess.Popen([exe, "-c", str(conf), "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while not _answers(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
                time.sleep(0.05)
            yield port
        finally:
            proc.send_signal(signal.SIGQUIT)  # graceful: the master stops its worker
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _answers(port: int) -> bool:
    import urllib.request

    try:
        status: int = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).status
        return status == 200
    except OSError:
        return False


# ---------------------------------------------------------------- (a) the per-request path
async def _drive(send: Callable[[], Awaitable[None]], seconds: float) -> float:
    """CONCURRENCY tasks calling ``send`` until RAW_REQUESTS are done or ``seconds`` pass: requests/s."""
    left = [RAW_REQUESTS]
    deadline = time.perf_counter() + seconds

    async def slot() -> int:
        n = 0
        while left[0] > 0 and time.perf_counter() < deadline:
            left[0] -= 1
            await send()
            n += 1
        return n

    t0 = time.perf_counter()
    done = sum(await asyncio.gather(*(slot() for _ in range(CONCURRENCY))))
    return done / (time.perf_counter() - t0)


async def soakwatch_client_leg(engine: str, url: str, seconds: float) -> float:
    """soakwatch's own slot clients (one per slot, as the HTTP target makes them)."""
    from soakwatch.targets.http_clients import close_all, make_clients

    clients = make_clients(engine, CONCURRENCY, 10.0, http2=False, verify=True, url=url)
    free = asyncio.Queue[SlotClient]()
    for c in clients:
        free.put_nowait(c)

    async def send() -> None:
        c = await free.get()
        try:
            await c.send("GET", url, {"X-Request-ID": "bench"}, None)
        finally:
            free.put_nowait(c)

    try:
        return await _drive(send, seconds)
    finally:
        await close_all(clients)


async def aiohttp_tuned_leg(url: str, seconds: float) -> float:
    """aiohttp with what a load tester can turn off: decompression, cookies, default headers."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=CONCURRENCY, ttl_dns_cache=None)
    async with aiohttp.ClientSession(
        connector=connector,
        auto_decompress=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
        timeout=aiohttp.ClientTimeout(total=10),
    ) as session:

        async def send() -> None:
            async with session.get(url, allow_redirects=False) as r:
                await r.read()

        return await _drive(send, seconds)


async def httpx_leg(url: str, seconds: float) -> float:
    import httpx

    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=one) for _ in range(CONCURRENCY)]
    free = asyncio.Queue[httpx.AsyncClient]()
    for c in clients:
        free.put_nowait(c)

    async def send() -> None:
        c = await free.get()
        try:
            (await c.get(url)).read()
        finally:
            free.put_nowait(c)

    try:
        return await _drive(send, seconds)
    finally:
        for c in clients:
            await c.aclose()


_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


async def raw_leg(port: int, seconds: float) -> float:
    """One keep-alive connection per slot; a GET, the headers up to the blank line, the body by Content-Length."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CONCURRENCY)]
    free = asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]()
    for c in conns:
        free.put_nowait(c)
    request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()

    async def send() -> None:
        reader, writer = await free.get()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        m = _LENGTH.search(head)
        await reader.readexactly(int(m.group(1)) if m else 0)
        free.put_nowait((reader, writer))

    try:
        return await _drive(send, seconds)
    finally:
        for _, w in conns:
            w.close()


# ---------------------------------------------------------------- (b) soakwatch, (c) Locust, (d) wrk
def soakwatch_leg(url: str, seconds: float, *extra: str) -> float:
    args = ["--target", url, "--concurrency", str(CONCURRENCY), "--duration", f"{seconds:g}s", *extra]
    s = run_stage(args)
    return float(s["calls"]) / float(s["duration_s"])


def soakwatch_processes_leg(url: str, seconds: float, processes: int) -> float:
    """``soakwatch run`` with its HTTP slots shared out over ``processes`` load processes."""
    return soakwatch_leg(url, seconds, "--load-processes", str(processes))


def locust_leg(url: str, seconds: float, processes: int) -> float | None:
    exe = shutil.which("locust", path=str(Path(sys.executable).parent))
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "stats")
        cmd = [exe, "-f", str(HERE / "locustfile_http.py"), "--headless", "--host", url, "-u", str(CONCURRENCY)]
        cmd += ["-r", str(CONCURRENCY * 10), "-t", f"{int(seconds)}s", "--only-summary", "--csv", prefix]
        cmd += ["--loglevel", "ERROR"]
        if processes > 1:
            port = str(_free_port())
            cmd += ["--processes", str(processes), "--master-bind-host", "127.0.0.1"]
            cmd += ["--master-bind-port", port, "--master-host", "127.0.0.1", "--master-port", port]
        subprocess.run(cmd, cwd=HERE, capture_output=True, timeout=seconds + 60)
        with open(prefix + "_stats.csv") as fh:
            for row in csv.DictReader(fh):
                if row["Name"] == "Aggregated":
                    return float(row["Requests/s"])
    return None


def wrk_leg(url: str, seconds: float) -> float | None:
    exe = shutil.which("wrk")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "-t", "2", "-c", str(CONCURRENCY), "-d", f"{int(seconds)}s", url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    return float(m.group(1)) if m else None


Row = tuple[str, float | None]


def one_run(port: int, secs: float) -> list[Row]:
    url = f"http://127.0.0.1:{port}/"
    host = url.rstrip("/")
    return [
        ("per-request: raw asyncio streams", asyncio.run(raw_leg(port, secs))),
        ("per-request: soakwatch fast client", asyncio.run(soakwatch_client_leg("fast", url, secs))),
        ("per-request: soakwatch aiohttp client", asyncio.run(soakwatch_client_leg("aiohttp", url, secs))),
        ("per-request: aiohttp tuned", asyncio.run(aiohttp_tuned_leg(url, secs))),
        ("per-request: httpx (one per slot)", asyncio.run(httpx_leg(url, secs))),
        (SOAKWATCH_1, soakwatch_leg(url, secs)),
        ("soakwatch run aiohttp, 1 process", soakwatch_leg(url, secs, "--set", "http.client=aiohttp")),
        ("soakwatch run, 2 load processes", soakwatch_processes_leg(url, secs, 2)),
        (LOCUST_1, locust_leg(host, secs, 1)),
        ("locust FastHttpUser, --processes 2", locust_leg(host, secs, 2)),
        ("wrk -t2 (ceiling)", wrk_leg(url, secs)),
    ]


SOAKWATCH_1 = "soakwatch run (fast), 1 process"
LOCUST_1 = "locust FastHttpUser, 1 process"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    secs = args.seconds
    runs: list[list[Row]] = []
    with nginx() as port:
        for _ in range(args.runs):
            runs.append(one_run(port, secs))
    load = os.getloadavg()[0]
    print(f"requests/s against nginx return 200, concurrency {CONCURRENCY}, {secs:g} s per leg, ", end="")
    print(f"{os.cpu_count()} cores, {len(runs)} run(s) side by side (load average {load:.1f} at the end)")
    for i, (name, _) in enumerate(runs[0]):
        cells = [f"{r[i][1]:>9,.0f}" if r[i][1] is not None else f"{'n/a':>9}" for r in runs]
        print(f"{name:<40} {' '.join(cells)}")
    ratios = []
    for r in runs:
        got = dict(r)
        sw, loc = got[SOAKWATCH_1], got[LOCUST_1]
        ratios.append(f"{sw / loc:.2f}x" if sw and loc else "n/a")
    print(f"soakwatch / locust, 1 process each      {' '.join(f'{x:>9}' for x in ratios)}  (goal >= 1.5)")


if __name__ == "__main__":
    main()
