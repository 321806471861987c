"""Reaching a Ray cluster: the lazy import, the connection and the facts kept in run_config.json.

Ray is imported only here and in :mod:`soakwatch.targets.ray_runner`, and only when a stage
asks for ``executor = "ray"``: it is an optional extra (``pip install 'soakwatch[ray]'``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from soakwatch.config.errors import UsageError

__all__ = ["INSTALL_HINT", "cluster_facts", "connect", "import_ray", "labelled_cpus"]

INSTALL_HINT = "pip install 'soakwatch[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, or exit 2 with the install command."""
    try:
        import ray
    except ImportError as exc:
        raise UsageError(
            f"executor 'ray' needs Ray, which is not installed ({exc}); install it with: {INSTALL_HINT}",
            where="executor",
            value="ray",
        ) from None
    return ray


def connect(ray: Any, address: str | None) -> str:
    """Connect to the cluster at ``address``, else RAY_ADDRESS, else a cluster started on this
    machine with ``ray start`` ("auto"); never start one of our own. Returns the address used."""
    where = address or os.environ.get("RAY_ADDRESS") or "auto"
    if ray.is_initialized():
        return where
    try:
        ray.init(
            address=where,
            logging_level=logging.WARNING,
            log_to_driver=False,
            configure_logging=False,
        )
    except Exception as exc:  # ConnectionError, a bad address, a version mismatch: all the user's to fix
        raise UsageError(
            f"cannot connect to the Ray cluster at {where!r}: {type(exc).__name__}: {exc} "
            "(set ray_address / --ray-address or RAY_ADDRESS to the head's address, e.g. 10.0.0.5:6379 "
            "or ray://head:10001; start a cluster with `ray start --head`)",
            where="ray_address",
            value=where,
        ) from None
    return where


def cluster_facts(ray: Any, address: str) -> dict[str, Any]:
    """Ray's version, the address, and each live node with its resources (for run_config.json)."""
    nodes = [
        {
            "node_id": n.get("NodeID"),
            "address": n.get("NodeManagerAddress"),
            "hostname": n.get("NodeManagerHostname"),
            "resources": {k: v for k, v in n.get("Resources", {}).items() if not k.startswith("node:")},
            "labels": {k: v for k, v in (n.get("Labels") or {}).items() if not k.startswith("ray.io/")},
        }
        for n in ray.nodes()
        if n.get("Alive")
    ]
    return {
        "executor": "ray",
        "ray_version": ray.__version__,
        "address": address,
        "nodes": nodes,
        "resources": dict(ray.cluster_resources()),
    }


def labelled_cpus(facts: dict[str, Any], labels: dict[str, str]) -> float:
    """The CPUs of the live nodes that carry every one of ``labels``; exit 2 when there is none
    (Ray would keep such an actor pending for ever)."""
    nodes = [n for n in facts["nodes"] if all(n["labels"].get(k) == v for k, v in labels.items())]
    if not nodes:
        want = ", ".join(f"{k}={v}" for k, v in labels.items())
        have = sorted({f"{k}={v}" for n in facts["nodes"] for k, v in n["labels"].items()})
        raise UsageError(
            f"no live node of the Ray cluster has the labels {want} "
            f"(the nodes' labels: {', '.join(have) or 'none'}; a node gets one with `ray start --labels zone=a`)",
            where="ray_node_labels",
            value=want,
        )
    return float(sum(n["resources"].get("CPU", 0.0) for n in nodes))
