"""The ``[[nodes]]`` profile section: processes soakwatch starts and supervises for a stage.

Kept apart from :mod:`soakwatch.nodes.plugin` (which acts) so the profile model imports it
without pulling in the supervisor. Example::

    [[nodes]]
    id = "node1"
    command = ["python", "node.py", "--id", "{id}", "--reports", "{report_dir}"]
    cwd = "."                         # inside the sandbox root (the default)
    env = { NODE_FAULTS = "0.01" }
    report_dir = "data/{id}/reports"  # under the root; default: the run dir's nodes/<id>/report/
    report_fields = { committed_height = "node_snapshot.consensus.committed_height" }
    ready = { file = "data/{id}/ready", timeout = "20s" }   # or tcp = 7001, or http = "http://127.0.0.1:7001/health"
    restart = "on-failure"            # never | on-failure | always
    max_restarts = 5
    backoff = "1s"                    # doubles after each quick failure, up to backoff_max
    depends_on = ["seed"]             # started once these nodes are ready

Placeholders in ``command``, ``env`` values, ``cwd``, ``report_dir`` and ``ready.file``:
``{id}``, ``{root}`` (the sandbox root), ``{python}`` (the interpreter running
soakwatch), ``{run_dir}`` (the stage's run directory), ``{node_dir}`` (the node's folder in
the run dir, ``{run_dir}/nodes/<id>``) and ``{report_dir}`` (the resolved report folder; not
in ``report_dir`` itself). Nothing else is substituted, so other braces pass through.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from soakwatch.config.base import ProfileModel
from soakwatch.config.chaos import NODE_ACTIONS
from soakwatch.config.collectors import PatternLevel, check_patterns
from soakwatch.config.units import seconds_fields

if TYPE_CHECKING:
    from soakwatch.config.chaos import ChaosSpec

__all__ = [
    "NODE_ACTIONS",
    "PLACEHOLDERS",
    "NodeSpec",
    "ReadyCheck",
    "RestartPolicy",
    "check_topology",
    "start_order",
    "substitute",
]

RestartPolicy = Literal["never", "on-failure", "always"]
PLACEHOLDERS = ("id", "root", "python", "run_dir", "node_dir", "report_dir")
#: default seconds a node gets to become ready
READY_TIMEOUT = 30.0
#: names the process collector already uses for its own subjects
RESERVED_IDS = frozenset({"monitor", "target"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def substitute(text: str, values: dict[str, str]) -> str:
    """``text`` with the :data:`PLACEHOLDERS` in ``values`` replaced; other braces kept."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


class ReadyCheck(ProfileModel):
    """When a started node counts as ready (``ready = {...}``): exactly one of a file, a TCP port, an HTTP URL.

    Checked after every start (the first one and each restart) until it holds, the node exits
    or ``timeout`` passes. A file counts only when it was written after that start, so a
    ``ready`` file left by an earlier run is not readiness.
    """

    file: str | None = Field(
        default=None,
        description="a file (under the root or the run dir) the node writes once it is ready; placeholders allowed",
        examples=["{node_dir}/ready"],
    )
    tcp: int | None = Field(
        default=None, ge=1, le=65535, description="a port on 127.0.0.1 that accepts", examples=[7001]
    )
    http: str | None = Field(
        default=None, description="a URL on 127.0.0.1 that answers 200", examples=["http://127.0.0.1:7001/health"]
    )
    timeout: float = Field(
        default=READY_TIMEOUT,
        gt=0,
        description="seconds before the node counts as failed to start (the stage ends FAILED, exit 1); "
        "the stage's duration (also --duration) bounds it too",
    )
    interval: float = Field(default=0.1, gt=0, description="seconds between checks")

    _secs = seconds_fields("timeout", "interval")

    @model_validator(mode="after")
    def _one_kind(self) -> ReadyCheck:
        given = [k for k in ("file", "tcp", "http") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of file, tcp, http (got {', '.join(given) or 'none'})")
        if self.http is not None:
            parts = urlsplit(self.http)
            if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
                raise ValueError(f"http readiness must be an http:// URL on 127.0.0.1 (got {self.http!r})")
        return self


class NodeSpec(ProfileModel):
    """One node of a topology (``[[nodes]]``): a process soakwatch starts, checks for readiness and supervises.

    Placeholders in ``command``, ``env`` values, ``cwd``, ``report_dir`` and ``ready.file``: ``{id}``,
    ``{python}`` (the interpreter running soakwatch), ``{root}`` (the sandbox root), ``{run_dir}`` (the
    stage's run directory), ``{node_dir}`` (``{run_dir}/nodes/<id>``: stdout.log, stderr.log, rss.csv,
    report/) and ``{report_dir}`` (the resolved report folder; not in ``report_dir`` itself). Other
    braces are left as they are. The node's environment also has ``SOAKWATCH_NODE_ID``,
    ``SOAKWATCH_NODE_DIR`` and ``SOAKWATCH_NODE_REPORT_DIR`` (its id, node dir and report folder).
    Nodes start in ``depends_on`` order; a node that is not ready in time ends the stage FAILED (exit 1).
    """

    id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="node name: subject of its series (alive[ID], rss_mb[ID], <field>[ID]) and of chaos actions",
        examples=["node1"],
    )
    command: list[str] = Field(
        min_length=1,
        description="argv, or one string split like a shell would; placeholders allowed",
        examples=[["{python}", "-m", "soakwatch.profiles.examples.node", "--id", "{id}", "--reports", "{report_dir}"]],
    )
    cwd: str = Field(default=".", description="working directory under the sandbox root")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="added to soakwatch's environment; placeholders allowed in values",
        examples=[{"NODE_FAULTS": "0.01"}],
    )
    report_dir: str | None = Field(
        default=None,
        description="where the node writes JSON reports (under the root); default: the run dir's nodes/<id>/report/",
        examples=["data/{id}/reports"],
    )
    report_pattern: str = Field(default="epoch-*.json", min_length=1, description="glob of the report files")
    report_fields: dict[str, str] = Field(
        default_factory=dict,
        description="series name -> dotted JSON path in each report; the node's reports give series "
        "(<name>[ID]) only for the fields named here",
        examples=[{"committed_height": "node_snapshot.consensus.committed_height"}],
    )
    ready: ReadyCheck | None = Field(
        default=None,
        description="readiness check; without one a node is ready as soon as it started",
        examples=[{"file": "{node_dir}/ready", "timeout": "20s"}],
    )
    depends_on: list[str] = Field(
        default_factory=list,
        description="ids of nodes that must be ready before this one starts",
        examples=[["seed"]],
    )
    restart: RestartPolicy = Field(
        default="on-failure",
        description="after an exit: never; on-failure (exit code not 0 or a signal); always",
    )
    max_restarts: int = Field(default=5, ge=0, description="restarts by the policy before the node is given up")
    backoff: float = Field(default=1.0, ge=0, description="seconds before a restart; doubles after quick failures")
    backoff_max: float = Field(default=30.0, ge=0, description="the longest backoff, seconds")
    stop_grace: float = Field(default=5.0, ge=0, description="seconds between SIGTERM and SIGKILL when stopping")
    patterns: dict[str, PatternLevel] = Field(
        default_factory=dict,
        description="regular expression -> error | warn | info: matching lines of this node's stdout/stderr "
        "become log_match events and the counters matches[PATTERN]; failures.md shows them",
        examples=[{"panic": "error", "slow commit": "warn"}],
    )

    _patterns = field_validator("patterns")(check_patterns)

    _secs = seconds_fields("backoff", "backoff_max", "stop_grace")

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, v: object) -> object:
        if isinstance(v, str):
            try:
                return shlex.split(v)
            except ValueError as exc:
                raise ValueError(f"command does not split into words: {exc}") from None
        return v

    @field_validator("command")
    @classmethod
    def _program(cls, v: list[str]) -> list[str]:
        if not v or not v[0].strip():
            raise ValueError("command needs a program")
        return v

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if v in RESERVED_IDS or v.startswith("worker-"):
            raise ValueError(f"node id {v!r} is taken by the process collector (monitor, target, worker-N)")
        return v


def check_topology(nodes: list[NodeSpec], chaos: list[ChaosSpec], target: str | None, calls: int | None) -> list[str]:
    """Problems of the profile as a whole (unique ids, chaos aimed at known nodes, a stage that can end)."""
    problems: list[str] = []
    ids = [n.id for n in nodes]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        problems.append(f"nodes: ids must be unique (repeated: {', '.join(dup)})")
    for i, spec in enumerate(chaos):
        if spec.action in NODE_ACTIONS and spec.node not in ids:
            known = ", ".join(ids) or "none"
            problems.append(f"chaos[{i}].node: no node {spec.node!r} in [[nodes]] (nodes: {known})")
    problems += _dependency_problems(nodes)
    if nodes and target is None and calls is not None:
        problems.append("a stage with nodes and no target makes no calls: give 'duration', not 'calls'")
    return problems


def _dependency_problems(nodes: list[NodeSpec]) -> list[str]:
    """``depends_on`` names known nodes, never the node itself, and has no cycle."""
    ids = {n.id for n in nodes}
    problems = []
    for i, n in enumerate(nodes):
        for dep in n.depends_on:
            if dep == n.id:
                problems.append(f"nodes[{i}].depends_on: node {n.id!r} cannot depend on itself")
            elif dep not in ids:
                problems.append(
                    f"nodes[{i}].depends_on: no node {dep!r} in [[nodes]] (nodes: {', '.join(sorted(ids))})"
                )
    if problems:
        return problems
    try:
        start_order(nodes)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def start_order(nodes: list[NodeSpec]) -> list[list[NodeSpec]]:
    """Nodes in waves: each wave's ``depends_on`` are all in earlier waves (profile order kept within a wave)."""
    placed: set[str] = set()
    waves: list[list[NodeSpec]] = []
    left = list(nodes)
    while left:
        wave = [n for n in left if set(n.depends_on) <= placed]
        if not wave:
            cycle = ", ".join(n.id for n in left)
            raise ValueError(f"nodes: depends_on forms a cycle among {cycle}")
        waves.append(wave)
        placed |= {n.id for n in wave}
        left = [n for n in left if n.id not in placed]
    return waves
