"""A deterministic three-node topology stage (no load on top), for screenshots and tests.

Like :mod:`soakwatch.tui._sample`, every value comes from fixed formulas: node1 was
killed by chaos at 40 s and restarted, node2 is paused, node3 runs.
"""

from __future__ import annotations

from soakwatch.core.snapshot import EventView, GateView, Mark, NodeView, ProcView, Snapshot

__all__ = ["TOPOLOGY_RUN_DIR", "topology_snapshot"]

TOPOLOGY_RUN_DIR = "/srv/soak/.soakwatch/runs/three_node-20250101T000000Z"
TICK = 0.5


def _nodes(elapsed: float) -> list[NodeView]:
    head = int(elapsed * 2)
    return [
        NodeView(
            id="node1",
            state="running",
            pid=5101,
            restarts=1,
            report_age_s=0.4,
            fields={"committed_height": head - 12, "network_head": head, "failed_checks": 3, "total_checks": 311},
            rss_mb=24.1,
        ),
        NodeView(
            id="node2",
            state="paused",
            pid=5102,
            report_age_s=7.5,
            fields={"committed_height": head - 16, "network_head": head - 15, "failed_checks": 2, "total_checks": 298},
            rss_mb=23.2,
        ),
        NodeView(
            id="node3",
            state="running",
            pid=5103,
            report_age_s=0.9,
            fields={"committed_height": head - 1, "network_head": head, "failed_checks": 4, "total_checks": 320},
            rss_mb=22.8,
        ),
    ]


def _gates() -> list[GateView]:
    def stall(node: str, status: str, observed: float) -> GateView:
        return GateView(
            name=f"{node} progress",
            metric=f"committed_height[{node}]",
            condition=f"committed_height[{node}] stall < 5s",
            check="stall < 5s",
            subject=node,
            unit="s",
            window_s=5.0,
            severity="fail",
            status=status,
            observed=observed,
            margin=5.0 - observed,
        )

    return [
        stall("node1", "pass", 0.5),
        stall("node2", "exempt", 7.5),
        stall("node3", "pass", 1.0),
        GateView(
            name="nodes alive",
            metric="processes",
            condition="processes alive",
            check="alive",
            unit="exits",
            severity="fail",
            status="pass",
            observed=0,
            abort=True,
        ),
        GateView(
            name="node3 RSS slope",
            metric="rss_slope[node3]",
            condition="rss_slope[node3] < 200",
            check="< 200",
            subject="node3",
            unit="MB/h",
            severity="warn",
            status="pass",
            observed=41.0,
            margin=159.0,
        ),
    ]


def _events() -> list[EventView]:
    raw = [
        (0.0, "stage_start", "info", "stage three_node started: 3 nodes"),
        (2.0, "node_ready", "info", "node node1 ready after 1.1s"),
        (40.0, "chaos_start", "warn", "chaos kill-node1: kill_node node1 for 5s"),
        (40.1, "node_exit", "warn", "node node1 exited (SIGKILL, expected: chaos)"),
        (45.0, "chaos_end", "info", "chaos kill-node1 ended"),
        (45.2, "node_start", "info", "node node1 started again (restart 1)"),
        (55.0, "chaos_start", "warn", "chaos pause-node2: pause_node node2 for 8s"),
    ]
    return [EventView(seq=i + 1, t=t, kind=k, level=lvl, message=m) for i, (t, k, lvl, m) in enumerate(raw)]


def topology_snapshot(*, seq: int = 1, elapsed: float = 62.5) -> Snapshot:
    """Three nodes at ``elapsed`` seconds of a two-minute watch-only stage."""
    n = min(120, int(elapsed / TICK))
    rss = {nid: [round(base + 0.004 * i, 2) for i in range(n)] for nid, base in (("node1", 23.6), ("node2", 23.0))}
    rss["node3"] = [round(22.3 + 0.004 * i, 2) for i in range(n)]
    events = _events()
    kinds = {"chaos_start": "chaos", "chaos_end": "chaos"}
    return Snapshot(
        seq=seq,
        stage="three_node",
        profile="three_node",
        target="3 nodes",
        run_dir=TOPOLOGY_RUN_DIR,
        state="RUNNING",
        elapsed=elapsed,
        eta=120.0 - elapsed,
        planned_duration=120.0,
        processes=[
            ProcView(name=node.id, pid=node.pid, rss_mb=node.rss_mb or 0.0, rss_tail=rss[node.id], slope_mb_h=28.8)
            for node in _nodes(elapsed)
        ],
        nodes=_nodes(elapsed),
        gates=_gates(),
        events=events,
        marks=[Mark(t=e.t, kind=kinds[e.kind], label=e.message[:40]) for e in events if e.kind in kinds],
        chaos_actions=["kill-node1", "pause-node2", "restart-node3"],
        extra={"tick": TICK},
    )
