"""The README's screenshots from real runs: ``python -m soakwatch.tui.screenshots_live DIR``.

``soakwatch demo`` and the three-node example (with a short chaos plan: node1 killed at
5 s and started again, node2 paused at 12 s) run detached; the TUI attaches to each over
its control socket, headless at 160×48, and is photographed at chosen moments (running,
the help, paused, a failing gate, the verdict). The demo runs with one more fail gate
(errors under 1 %) that its engine breaks by design, so a real failure is on screen.
Fonts come from the system (no web font). ``make screenshots`` runs it; the stages end by
themselves (the demo in about a minute, the topology after 30 s), or are aborted if a
shot fails.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from soakwatch.control.client import SocketSource
from soakwatch.core.snapshot import Snapshot
from soakwatch.tui.app import SoakwatchApp, make_app
from soakwatch.tui.screenshots import SIZE, offline_fonts

__all__ = ["Shot", "main"]

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "three_node"
#: node1 killed at 5 s for 3 s, node2 paused from 12 s for 10 s: both show on the nodes panel at 16 s
TOPOLOGY_PLAN = """
[[chaos]]
name = "kill-node1"
action = "kill_node"
node = "node1"
at = "5s"
duration = "3s"

[[chaos]]
name = "pause-node2"
action = "pause_node"
node = "node2"
at = "12s"
duration = "10s"
"""
#: the longest a shot waits for its moment (the demo runs about a minute)
WAIT_S = 120.0


def _always(snap: Snapshot) -> bool:
    return True


@dataclass(frozen=True)
class Shot:
    """A file name; when the keys are pressed, the keys, when the shot is taken, and keys pressed after it."""

    name: str
    at: Callable[[Snapshot], bool]
    keys: tuple[str, ...] = ()
    ready: Callable[[Snapshot], bool] = _always
    after: tuple[str, ...] = ()


#: a real fail gate the demo engine breaks (it fails about 1.2 % of its calls by design)
DEMO_GATE = "errors under 1%: error_ratio < 1% over 30s"
DEMO_SHOTS = (
    Shot("running.svg", lambda s: s.elapsed >= 28),
    Shot("help.svg", lambda s: s.elapsed >= 30, ("question_mark",), after=("escape",)),
    Shot("paused.svg", lambda s: s.elapsed >= 33, ("p",), lambda s: s.state == "PAUSED", ("p",)),
    Shot("failing-gate.svg", lambda s: s.elapsed >= 45 and any(g.status == "fail" for g in s.gates)),
    Shot("finished.svg", lambda s: s.finished),
)
TOPOLOGY_SHOTS = (Shot("topology.svg", lambda s: s.elapsed >= 16),)


def _detach(argv: Sequence[str], cwd: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "soakwatch", *argv, "--detach"], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"soakwatch {' '.join(argv)} did not start: {done.stderr[-2000:]}")
    return Path(done.stdout.splitlines()[0])


async def _until(
    app: SoakwatchApp, pilot_pause: Callable[[float], Awaitable[None]], when: Callable[[Snapshot], bool]
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while app.snapshot is None or not when(app.snapshot):
        if loop.time() > deadline:
            raise TimeoutError("the stage never reached the moment of a screenshot")
        await pilot_pause(0.2)


async def _shoot(run_dir: Path, shots: Sequence[Shot], out: Path, title: str) -> None:
    source = SocketSource(run_dir)
    app = make_app(source)
    try:
        async with app.run_test(size=SIZE) as pilot:
            for shot in shots:
                await _until(app, pilot.pause, shot.at)
                if shot.keys:
                    await pilot.press(*shot.keys)
                await _until(app, pilot.pause, shot.ready)
                await pilot.pause(1.0)  # one more refresh after the key
                (out / shot.name).write_text(offline_fonts(app.export_screenshot(title=title)), encoding="utf-8")
                print(f"wrote {out / shot.name}", flush=True)
                if shot.after:
                    await pilot.press(*shot.after)
    finally:
        if app.last_snapshot is None or not app.last_snapshot.finished:
            subprocess.run([sys.executable, "-m", "soakwatch", "ctl", str(run_dir), "abort"], capture_output=True)
        await source.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soakwatch.tui.screenshots_live", description=__doc__)
    parser.add_argument("out_dir", type=Path, help="where the SVG files go (e.g. screenshots)")
    args = parser.parse_args(argv)
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="soakwatch-shots-") as tmp_name:
        tmp = Path(tmp_name)
        demo = _detach(["demo", "--gate", DEMO_GATE, "--out-dir", str(tmp / "runs")], tmp)
        asyncio.run(_shoot(demo, DEMO_SHOTS, out, "soakwatch demo"))
        root = tmp / "three_node"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("data", "__pycache__"))
        plan = tmp / "plan.toml"
        plan.write_text(TOPOLOGY_PLAN)
        argv_topology = ["run", "--profile", str(EXAMPLE / "profile.toml"), "--root", str(root)]
        argv_topology += ["--chaos-plan", str(plan), "--duration", "30s", "--out-dir", str(tmp / "runs")]
        topology = _detach(argv_topology, tmp)
        asyncio.run(_shoot(topology, TOPOLOGY_SHOTS, out, "soakwatch three_node"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
