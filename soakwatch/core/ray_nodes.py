"""The Ray executor's per-node series as rows of the nodes panel (:class:`NodeView`).

The coordinator publishes, per Ray node (``NODE`` is ``address/node-id-prefix``), the series
``ray_actors[NODE]`` (slot actors placed there now), ``ray_rss_mb[NODE]`` and
``ray_cpu_pct[NODE]`` (their memory and CPU, measured on the node) and ``ray_crashes[NODE]``
(actors of that node that died or hung and were replaced). The live snapshot and the replay
turn the latest values into one row each: ``127.0.0.1/820d1f94  ALIVE  restarts 1 ...``,
the actors and CPU as the row's fields; a node whose actors all left shows ``STOPPED``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from soakwatch.core.snapshot import NodeView

__all__ = ["RAY_NODE_SERIES", "ray_node_views"]

#: the per-node series, each ``KIND[NODE]``
RAY_NODE_SERIES = ("ray_actors", "ray_rss_mb", "ray_cpu_pct", "ray_crashes")
_ACTORS = "ray_actors["


def ray_node_views(names: Iterable[str], latest: Callable[[str], float | None]) -> list[NodeView]:
    """One row per Ray node among the series ``names``, from each series' ``latest`` value."""

    def value(name: str) -> float | None:
        v = latest(name)
        return None if v is None or math.isnan(v) else float(v)

    nodes = sorted({n[len(_ACTORS) : -1] for n in names if n.startswith(_ACTORS) and n.endswith("]")})
    rows = []
    for node in nodes:
        actors = int(value(f"ray_actors[{node}]") or 0)
        fields = {"actors": float(actors)}
        cpu = value(f"ray_cpu_pct[{node}]")
        if cpu is not None and actors:
            fields["cpu %"] = round(cpu, 1)
        rows.append(
            NodeView(
                id=node,
                state="running" if actors else "stopped",
                restarts=int(value(f"ray_crashes[{node}]") or 0),
                fields=fields,
                rss_mb=value(f"ray_rss_mb[{node}]") if actors else None,
            )
        )
    return rows
