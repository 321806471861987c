"""The Ray executor's per-node series as rows of the nodes panel: the conversion the live
snapshot and the replay share, the rows as text, and the dashboard with two Ray nodes (SVG)."""

from __future__ import annotations

from soakwatch.core.ray_nodes import ray_node_views
from soakwatch.core.snapshot import Snapshot
from soakwatch.tui._sample import sample_snapshot
from soakwatch.tui.app import make_app
from soakwatch.tui.widgets.nodes import render_nodes
from tests.tui.test_tui_render import text
from tests.tui.test_tui_snapshots import _ready
from tests.tui.tui_harness import FakeSource

A, B = "127.0.0.1/46e7ae5a", "127.0.0.1/820d1f94"
#: the latest value of each series, as the recorder (live) or the timeline row (replay) holds them
LATEST = {
    f"ray_actors[{A}]": 3.0,
    f"ray_rss_mb[{A}]": 351.2,
    f"ray_cpu_pct[{A}]": 187.44,
    f"ray_crashes[{A}]": 1.0,
    f"ray_actors[{B}]": 0.0,  # its actors died and were placed on A
    f"ray_rss_mb[{B}]": 0.0,
    f"ray_cpu_pct[{B}]": float("nan"),  # a timeline cell the sampler did not fill
    "rss_mb[monitor]": 130.0,
}


def _ray_snapshot() -> Snapshot:
    nodes = ray_node_views(LATEST, LATEST.get)
    return sample_snapshot("running").model_copy(update={"nodes": nodes})


def test_each_ray_node_is_a_row_of_its_actors_memory_cpu_and_replaced_actors():
    a, b = ray_node_views(LATEST, LATEST.get)
    assert (a.id, a.state, a.restarts, a.fields, a.rss_mb) == (
        A,
        "running",
        1,
        {"actors": 3.0, "cpu %": 187.4},
        351.2,
    )
    assert (b.id, b.state, b.restarts, b.fields, b.rss_mb) == (B, "stopped", 0, {"actors": 0.0}, None)
    assert ray_node_views(["rss_mb[monitor]"], LATEST.get) == []


def test_the_nodes_panel_shows_the_ray_rows():
    rows = text(render_nodes(_ray_snapshot(), height=6, width=100), width=100).splitlines()
    assert rows[0].split() == ["node", "state", "restarts", "report", "actors", "cpu", "%", "rss", "MB"]
    assert rows[1].split() == [A, "ALIVE", "1", "—", "3", "187", "351.2"]
    assert rows[2].split() == [B, "STOPPED", "0", "—", "0", "—", "—"]


def test_screen_with_two_ray_nodes(snap_compare):
    assert snap_compare(make_app(FakeSource(_ray_snapshot())), terminal_size=(120, 40), run_before=_ready([]))
