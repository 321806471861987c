"""The nodes section of the summary: starts, exits, restarts and readiness per node.

Rebuilt from events.jsonl alone (``node_start``, ``node_ready``, ``node_not_ready``,
``node_exit``, ``node_restart``, ``node_gave_up``), like every other section, so it is
the same after a crash of the runner.
"""

from __future__ import annotations

from typing import Any

from soakwatch.core.event_types import NodeEvent, NodeExit, NodeGaveUp, NodeNotReady, NodeReady, NodeRestart, NodeStart
from soakwatch.core.reports import ReportSection
from soakwatch.core.rundir_reader import RunRecord
from soakwatch.core.summary import Summary

__all__ = ["SECTION", "nodes_section", "render_nodes"]


def _new(nid: str) -> dict[str, Any]:
    return {
        "id": nid,
        "starts": 0,
        "ready": 0,
        "not_ready": 0,
        "exits": 0,
        "unexpected_exits": 0,
        "restarts_policy": 0,
        "restarts_chaos": 0,
        "gave_up": False,
        "last_exit": None,
        "pids": [],
    }


def nodes_section(data: RunRecord) -> dict[str, Any]:
    """``{"nodes": {id: {...}}}`` when the stage supervised nodes, else nothing."""
    nodes: dict[str, dict[str, Any]] = {}
    for ev in data.of_type(NodeEvent):
        if not isinstance(ev, NodeStart | NodeReady | NodeNotReady | NodeExit | NodeRestart | NodeGaveUp):
            continue
        nid = str(ev.node if ev.node is not None else "?")
        n = nodes.setdefault(nid, _new(nid))
        if isinstance(ev, NodeStart):
            n["starts"] += 1
            if ev.pid is not None:
                n["pids"].append(ev.pid)
        elif isinstance(ev, NodeReady):
            n["ready"] += 1
        elif isinstance(ev, NodeNotReady):
            n["not_ready"] += 1
        elif isinstance(ev, NodeExit):
            n["exits"] += 1
            if not ev.expected:
                n["unexpected_exits"] += 1
            n["last_exit"] = {
                "t": ev.t,
                "code": ev.code,
                "signal": ev.signal,
                "expected": bool(ev.expected),
                "reason": ev.reason,
            }
        elif isinstance(ev, NodeRestart):
            n["restarts_chaos" if ev.reason == "chaos" else "restarts_policy"] += 1
        else:
            n["gave_up"] = True
    return {"nodes": nodes} if nodes else {}


def render_nodes(s: Summary) -> list[str]:
    nodes = s.sections.get("nodes")
    if not nodes:
        return []
    lines = [
        "## Nodes",
        "",
        "| node | starts | ready | exits (unexpected) | restarts: policy / chaos | last exit |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for n in nodes.values():
        last = n.get("last_exit") or {}
        how = "—"
        if last:
            how = f"signal {last['signal']}" if last.get("signal") else f"code {last.get('code')}"
            how += " (expected)" if last.get("expected") else " (unexpected)"
        gave = ", gave up" if n.get("gave_up") else ""
        lines.append(
            f"| `{n['id']}` | {n['starts']} | {n['ready']} | {n['exits']} ({n['unexpected_exits']}) | "
            f"{n['restarts_policy']} / {n['restarts_chaos']}{gave} | {how} |"
        )
    lines += ["", "Per-node logs, RSS and reports are in `nodes/<id>/`.", ""]
    return lines


#: the nodes' part of the report (the caller composing a stage passes it to build_summary / write_reports)
SECTION = ReportSection("nodes", nodes_section, render_nodes)
