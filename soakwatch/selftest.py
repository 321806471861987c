"""``soakwatch selftest``: short stages against built-in faulty targets, to trust the detectors on a new box.

Each scenario runs a real :class:`~soakwatch.stage.Stage` in a temporary sandbox with
gates that must fire (warn or fail): an error burst (error ratio, latency, burst of
one kind), a stall, a memory leak (RSS growth and slope), a growing state file with a
node report that goes wrong (file size, Δ lines, files unchanged, monotonic, invariant,
lag, counter ratio), a crashing worker (processes alive), a leaking agent of 150 calls in
process isolation with the default memory settings (growth after a fitted warm-up, growth
since start, slope, and per worker through a ``[*]`` rule) and per-epoch reports at 20 %
failures (``sum(a) / sum(b)``) whose storage status says "stalled" in one report and whose
``failure_reasons`` dict has one key bursting (a string gate on every report, a burst per
key, max/mean/p90). Healthy twins (:data:`QUIET`: a flat agent, reports at 1 %) must pass. The
targets below are importable as ``soakwatch.selftest:<name>``. Exit 0 when every detector
fired on its faulty target and stayed quiet on the healthy one, 1 otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "QUIET",
    "SCENARIOS",
    "crash",
    "epochs_bad",
    "epochs_ok",
    "error_burst",
    "flat_agent",
    "grow",
    "leak",
    "leak_agent",
    "run_selftest",
    "stall",
]

#: calls before each faulty target turns bad
GOOD_CALLS = 150
LEAK_CHUNK = 1 << 20

_n: dict[str, int] = {}
_leaked: list[bytearray] = []


def _count(name: str) -> int:
    _n[name] = _n.get(name, 0) + 1
    return _n[name]


def _root() -> Path:
    return Path(os.environ.get("SOAKWATCH_ROOT") or ".")


class SelftestError(RuntimeError):
    """The faulty target's failure."""


def error_burst(case: Any = None) -> int:
    """Fine and fast, then half the calls fail and every call is slow."""
    n = _count("error_burst")
    if n <= GOOD_CALLS:
        time.sleep(0.001)
        return n
    time.sleep(0.008)
    if n % 2:
        raise SelftestError(f"burst call {n}")
    return n


def stall(case: Any = None) -> int:
    """One call hangs for a while after the good calls: no progress."""
    n = _count("stall")
    time.sleep(2.5 if n == GOOD_CALLS else 0.002)
    return n


def leak(case: Any = None) -> int:
    """Holds on to a megabyte per call."""
    n = _count("leak")
    _leaked.append(bytearray(os.urandom(16)) * (LEAK_CHUNK // 16))
    time.sleep(0.02)
    return n


def grow(case: Any = None) -> int:
    """Grows a state log, touches the DAG it must not touch, and writes node reports that go wrong."""
    n = _count("grow")
    root = _root()
    time.sleep(0.01)
    with (root / "state" / "grow.log").open("a") as fh:
        fh.write("x" * 2000 + "\n")
    if n == GOOD_CALLS:
        (root / "dag" / "node.json").write_text('{"touched": true}\n')
    if n % 10 == 0:
        # the height falls back by more than the calls left can make up: a drop between any two ticks
        height = n if n < GOOD_CALLS else n - 2 * GOOD_CALLS
        report = {"height": height, "head": n, "ok": n < GOOD_CALLS, "checks": n, "failed": 0 if n < GOOD_CALLS else n}
        tmp = root / "reports" / f".epoch-{n}.tmp"
        tmp.write_text(json.dumps(report))
        os.replace(tmp, root / "reports" / f"epoch-{n:05d}.json")
    return n


def leak_agent(case: Any = None) -> int:
    """An agent that keeps a megabyte per call (about 10 ms): the 150-call stage that read 'insufficient data'."""
    n = _count("leak_agent")
    _leaked.append(bytearray(b"\x5a") * LEAK_CHUNK)
    time.sleep(0.01)
    return n


def flat_agent(case: Any = None) -> int:
    """The same agent keeping nothing: the memory gates must stay quiet."""
    n = _count("flat_agent")
    scratch = bytearray(b"\x5a") * LEAK_CHUNK
    time.sleep(0.01)
    return n + len(scratch) * 0


def _epoch(name: str, failed_per_100: int, bad: bool) -> int:
    n = _count(name)
    body: dict[str, Any] = {"failed_checks": failed_per_100 if n % 2 else 0, "total_checks": 50, "height": n}
    # the faulty node: its storage says "stalled" in one report only, and one failure reason
    # (bad_proof) shows up in every report after the first few; the healthy one a rare timeout
    body["status"] = "stalled" if bad and n == 100 else "ok"
    body["failure_reasons"] = {"timeout": int(n % 50 == 0), "bad_proof": int(bad and n > 20)}
    tmp = _root() / "reports" / f".epoch-{n}.tmp"
    tmp.write_text(json.dumps(body))
    os.replace(tmp, _root() / "reports" / f"epoch-{n:05d}.json")
    time.sleep(0.006)
    return n


def epochs_bad(case: Any = None) -> int:
    """Per-epoch reports with 20 % of the checks failed (counts of that epoch only, not cumulative)."""
    return _epoch("epochs_bad", 20, True)


def epochs_ok(case: Any = None) -> int:
    """Per-epoch reports with 1 % of the checks failed."""
    return _epoch("epochs_ok", 1, False)


def crash(case: Any = None) -> int:
    """A worker that exits by itself."""
    n = _count("crash")
    time.sleep(0.005)
    if n == 20:
        os._exit(3)
    return n


def _g(name: str, metric: str, condition: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "metric": metric, "condition": condition, **kw}


#: scenario -> (profile fields, {gate name: rule kind shown})
SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "error burst": (
        {
            "target": "soakwatch.selftest:error_burst",
            "calls": GOOD_CALLS + 300,
            "isolation": "inline",
            "gates": [
                _g("error ratio", "error_ratio", "< 5%", window="1s"),
                _g("latency", "latency", "p95 < 5ms", window="1s"),
                _g("burst", "error_kinds", "burst(5) < 2", window="0.5s"),
            ],
        },
        {"error ratio": "error ratio", "latency": "latency percentile", "burst": "same error in consecutive windows"},
    ),
    "stall": (
        {
            "target": "soakwatch.selftest:stall",
            "calls": GOOD_CALLS + 20,
            "isolation": "inline",
            "gates": [_g("progress", "calls", "stall < 1.5s")],
        },
        {"progress": "maximum stall"},
    ),
    "leak": (
        {
            "target": "soakwatch.selftest:leak",
            "calls": 80,
            "isolation": "inline",
            "processes": {"interval": "0.2s", "warmup": "0.4s"},
            "gates": [
                _g("rss growth", "rss_growth[monitor]", "< 1.2"),
                _g("rss slope", "rss_slope[monitor]", "< 1000"),
            ],
        },
        {"rss growth": "RSS growth ratio", "rss slope": "RSS slope (MB/h)"},
    ),
    "growing state file": (
        {
            "target": "soakwatch.selftest:grow",
            "calls": GOOD_CALLS + 100,
            "isolation": "inline",
            "watch": {"files": ["state/grow.log"], "snapshot_every": 50, "unchanged": ["dag/**"]},
            "reports": [
                {
                    "name": "node",
                    "path": "reports",
                    "pattern": "epoch-*.json",
                    "fields": {"height": "height", "head": "head", "ok": "ok", "checks": "checks", "failed": "failed"},
                }
            ],
            "gates": [
                _g("state size", "size_kb[state/grow.log]", "< 100"),
                _g("state Δ lines", "delta_lines[state/grow.log]", "max == 0"),
                _g("dag", "files_changed", "unchanged"),
                _g("height", "height[node]", "monotonic"),
                _g("node ok", "ok[node]", "always"),
                _g("lag", "head[node] - height[node]", "max < 20"),
                _g("failed checks", "failed[node] / checks[node]", "< 10%", window="run", min_samples=1),
            ],
        },
        {
            "state size": "watched file size",
            "state Δ lines": "snapshot Δ lines",
            "dag": "files unchanged",
            "height": "monotonic",
            "node ok": "invariant flag",
            "lag": "lag of two metrics",
            "failed checks": "ratio of two counters",
        },
    ),
    "crash": (
        {
            "target": "soakwatch.selftest:crash",
            "calls": 60,
            "concurrency": 1,
            "isolation": "process",
            "gates": [_g("alive", "processes", "alive")],
        },
        {"alive": "processes alive"},
    ),
}


_EPOCH_REPORTS = {
    "name": "node",
    "path": "reports",
    "pattern": "epoch-*.json",
    "fields": {
        "failed_checks": "failed_checks",
        "total_checks": "total_checks",
        "height": "height",
        "status": "status",
        "failure_reasons": "failure_reasons",
    },
}
_EPOCH_STAGE = {"isolation": "inline", "tick": 0.1, "reports": [_EPOCH_REPORTS]}
_EPOCH_GATES = [
    _g("epoch check failures", "sum(failed_checks[node]) / sum(total_checks[node])", "< 5%", window="run"),
    _g("storage status", "status[node]", '!= "stalled"'),
    # 0.2 s windows, 0.1 s ticks: the faulty key is in every window, the healthy one's timeout never in 3 running
    _g("failure reason burst", "failure_reasons.*[node]", "burst(3) < 2", window="0.2s"),
    _g("worst epoch", "max(failed_checks[node])", "< 5", window="run"),
    _g("mean epoch failures", "mean(failed_checks[node])", "< 3", window="run"),
    _g("p90 epoch failures", "p90(failed_checks[node])", "< 5", window="run"),
    _g("height rate", "rate(height[node])", "< 1000000", window="run"),
    _g("height progress", "delta(height[node])", "< 1000", window="run"),
]
_EPOCH_KINDS = {
    "epoch check failures": "sum(a) / sum(b) of per-epoch counts",
    "storage status": "string field, every report",
    "failure reason burst": "burst per key of a dict field",
    "worst epoch": "max(a) of a report field",
    "mean epoch failures": "mean(a) of a report field",
    "p90 epoch failures": "pNN(a) of a report field",
}
#: default [processes] settings on purpose: warm-up and sampling must fit a short stage by themselves
_MEMORY_GATES = [
    _g("agent growth", "rss_growth[target]", "< 1.10"),
    _g("agent growth since start", "rss_growth_start[target]", "< 1.5"),
    _g("agent slope", "rss_slope[target]", "< 100"),
    _g("worker growth", "rss_growth_start[*]", "< 1.5"),  # one gate per worker: worker-0
]
_MEMORY_KINDS = {
    "agent growth": "RSS growth after a fitted warm-up",
    "agent growth since start": "RSS growth since the first sample",
    "agent slope": "RSS slope of a short stage",
    "worker growth [worker-0]": "per-worker gate of a [*] rule",
}
SCENARIOS["leaking agent (process isolation)"] = (
    {"target": "soakwatch.selftest:leak_agent", "calls": 150, "isolation": "process", "gates": _MEMORY_GATES},
    _MEMORY_KINDS,
)
SCENARIOS["per-epoch reports"] = (
    {
        "target": "soakwatch.selftest:epochs_bad",
        "calls": 200,
        **_EPOCH_STAGE,
        "gates": _EPOCH_GATES[:6],
    },
    _EPOCH_KINDS,
)
#: healthy twins: the same gates on a target without the fault must be judged and pass
QUIET: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "flat agent (process isolation)": (
        {"target": "soakwatch.selftest:flat_agent", "calls": 150, "isolation": "process", "gates": _MEMORY_GATES},
        _MEMORY_KINDS,
    ),
    "healthy per-epoch reports": (
        {
            "target": "soakwatch.selftest:epochs_ok",
            "calls": 200,
            **_EPOCH_STAGE,
            "gates": _EPOCH_GATES,
        },
        _EPOCH_KINDS | {"height rate": "rate(a) of a report field", "height progress": "delta(a) of a report field"},
    ),
}


def _sandbox(base: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="sandbox-", dir=base))
    for d in ("state", "dag", "reports"):
        (root / d).mkdir()
    (root / "dag" / "node.json").write_text('{"node": "ingest"}\n')
    return root


def _finals(run_dir: Path) -> dict[str, dict[str, Any]]:
    from soakwatch.core.event_codec import read_records
    from soakwatch.core.event_types import GateFinal

    finals = [e for e in read_records(run_dir / "events.jsonl") if isinstance(e, GateFinal)]
    return {e.gate: e.data | {"msg": e.message} for e in finals}


def _run(name: str, fields: dict[str, Any], base: Path) -> dict[str, dict[str, Any]]:
    from soakwatch.config.profile import validate_profile
    from soakwatch.stage import Stage

    root = _sandbox(base)
    profile = validate_profile({"name": name.replace(" ", "_"), "root": str(root), **fields}, f"selftest {name}")
    stage = Stage(profile, out_dir=base / "runs", cwd=root)
    run_dir = stage.prepare()
    try:
        stage.run()
    finally:
        _leaked.clear()
        _n.clear()
    return _finals(run_dir)


def _run_quiet(base: Path, out: TextIO) -> int:
    """The healthy twins: each gate judged and passed ("quiet"), else counted."""
    noisy = 0
    for scenario, (fields, kinds) in QUIET.items():
        out.write(f"selftest: {scenario} …\n")
        out.flush()
        finals = _run(scenario, fields, base)
        for gate, kind in kinds.items():
            f = finals.get(gate, {})
            quiet = f.get("status") == "pass"
            noisy += not quiet
            out.write(f"  {'quiet ' if quiet else 'NOISY '} {kind:<34} {f.get('msg', 'no verdict')}\n")
    return noisy


def run_selftest(keep: Path | None = None, out: TextIO | None = None) -> int:
    """Run every scenario; print which detectors fired. 0 when all did."""
    out = out or sys.stdout
    base = Path(tempfile.mkdtemp(prefix="soakwatch-selftest-"))
    missed = 0
    try:
        for scenario, (fields, kinds) in SCENARIOS.items():
            out.write(f"selftest: {scenario} …\n")
            out.flush()
            finals = _run(scenario, fields, base)
            for gate, kind in kinds.items():
                f = finals.get(gate, {})
                fired = f.get("status") in ("warn", "fail")
                missed += not fired
                mark = "fired " if fired else "MISSED"
                shown = f.get("msg", "no verdict")
                out.write(f"  {mark} {kind:<34} {shown}\n")
        noisy = _run_quiet(base, out)
        out.write("selftest: every detector fired\n" if not missed else f"selftest: {missed} detector(s) missed\n")
        out.write("selftest: every detector stayed quiet on a healthy target\n" if not noisy else "")
        if noisy:
            out.write(f"selftest: {noisy} detector(s) not quiet on a healthy target\n")
        return 0 if not missed and not noisy else 1
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(base, keep / base.name)
            out.write(f"selftest: run directories kept in {keep / base.name}\n")
        shutil.rmtree(base, ignore_errors=True)
