"""The nodes section of the summary: starts, exits, restarts and readiness per node.

Rebuilt from events.jsonl alone (``node_start``, ``node_ready``, ``node_not_ready``,
``node_exit``, ``node_restart``, ``node_gave_up``), like every other section, so it is
the same after a crash of the runner.
"""

from __future__ import annotations

from typing import Any

from soakwatch.core.reports import MARKDOWN_SECTIONS, SECTION_BUILDERS, RunData
from soakwatch.core.summary import Summary

__all__ = ["nodes_section", "render_nodes"]


def nodes_section(data: RunData) -> dict[str, Any]:
    """``{"nodes": {id: {...}}}`` when the stage supervised nodes, else nothing."""
    nodes: dict[str, dict[str, Any]] = {}

    def node(ev: dict[str, Any]) -> dict[str, Any]:
        nid = str(ev.get("node", "?"))
        return nodes.setdefault(
            nid,
            {
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
            },
        )

    for ev in data.events:
        kind = ev.get("kind")
        if kind == "node_start":
            n = node(ev)
            n["starts"] += 1
            if ev.get("pid") is not None:
                n["pids"].append(int(ev["pid"]))
        elif kind == "node_ready":
            node(ev)["ready"] += 1
        elif kind == "node_not_ready":
            node(ev)["not_ready"] += 1
        elif kind == "node_exit":
            n = node(ev)
            n["exits"] += 1
            if not ev.get("expected"):
                n["unexpected_exits"] += 1
            n["last_exit"] = {
                "t": ev.get("t"),
                "code": ev.get("code"),
                "signal": ev.get("signal"),
                "expected": bool(ev.get("expected")),
                "reason": ev.get("reason"),
            }
        elif kind == "node_restart":
            n = node(ev)
            n["restarts_chaos" if ev.get("reason") == "chaos" else "restarts_policy"] += 1
        elif kind == "node_gave_up":
            node(ev)["gave_up"] = True
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


SECTION_BUILDERS.append(nodes_section)
MARKDOWN_SECTIONS.append(render_nodes)
