"""Test doubles and helpers for the TUI tests: a fake snapshot source and predicate waits."""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from textual.pilot import Pilot

from soakwatch.core.snapshot import Snapshot
from soakwatch.core.source import CommandError
from soakwatch.tui.app import SoakwatchApp, make_app

#: longest a test waits for the app to reach a state
WAIT_S = 10.0


class FakeSource:
    """Yields the snapshots pushed to it (in order) and records the commands it gets.

    ``end()`` ends the stream; commands named in ``refuse`` raise CommandError.
    """

    def __init__(self, *snapshots: Snapshot, refuse: tuple[str, ...] = ()) -> None:
        self.queue: asyncio.Queue[Snapshot | None] = asyncio.Queue()
        for snap in snapshots:
            self.queue.put_nowait(snap)
        self.commands: list[tuple[str, dict[str, Any] | None]] = []
        self.refuse = refuse
        self.closed = False

    def push(self, snap: Snapshot) -> None:
        self.queue.put_nowait(snap)

    def end(self) -> None:
        self.queue.put_nowait(None)

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        while (snap := await self.queue.get()) is not None:
            yield snap

    async def command(self, name: str, args: dict[str, Any] | None = None) -> str:
        self.commands.append((name, args))
        if name in self.refuse:
            raise CommandError(f"{name}: not possible now")
        return f"{name}: ok"

    async def close(self) -> None:
        self.closed = True
        self.end()

    def names(self) -> list[str]:
        return [name for name, _ in self.commands]


async def wait_for(predicate: Callable[[], object], timeout: float = WAIT_S, what: str = "") -> None:
    """Poll ``predicate`` until true; fail the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


async def shown(app: SoakwatchApp, seq: int | None = None) -> None:
    """Wait until the app shows a snapshot (``seq`` or any)."""
    await wait_for(
        lambda: app.snapshot is not None and (seq is None or app.snapshot.seq == seq),
        what=f"snapshot {seq} on screen",
    )


@contextlib.asynccontextmanager
async def live_app(
    source: FakeSource, seq: int | None = None, size: tuple[int, int] = (100, 30)
) -> AsyncIterator[tuple[SoakwatchApp, Pilot[Any]]]:
    """The app on ``source``, running under a pilot, once it shows a snapshot (``seq`` or any)."""
    app = make_app(source)
    async with app.run_test(size=size) as pilot:
        await shown(app, seq)
        yield app, pilot


_SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>'
)
#: width of one terminal cell in Textual's SVG export
SVG_CELL_PX = 12.2


def svg_lines(svg: str) -> list[str]:
    """The screen of an exported SVG as plain text lines (one per terminal row)."""
    rows: dict[int, dict[int, str]] = {}
    for x, line, content in _SVG_TEXT.findall(svg):
        text = html.unescape(content).replace("\xa0", " ")
        rows.setdefault(int(line), {})[round(float(x) / SVG_CELL_PX)] = text
    out = []
    for n in range(max(rows, default=-1) + 1):
        buf: list[str] = []
        for col, text in sorted(rows.get(n, {}).items()):
            buf.extend(" " * max(0, col - len(buf)))
            buf[col : col + len(text)] = list(text)
        out.append("".join(buf).rstrip())
    return out
