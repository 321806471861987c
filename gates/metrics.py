"""Which metric names a profile can produce, so a gate on a misspelt series fails before the stage runs.

Core series come from the recorder on every tick; collector series follow the
``kind[subject]`` contract and exist only when the profile asks for them (a watched
file, a process, a scrape or report field). Derived metrics are computed by the gates.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from soakwatch.targets.http_stream import STREAM_PHASES

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile

__all__ = ["CALL_KINDS", "CORE_SERIES", "DERIVED", "FILE_KINDS", "PROCESS_KINDS", "unknown_metric"]

CORE_SERIES = frozenset(
    {
        "calls",
        "ok",
        "errors",
        "timeouts",
        "rate",
        "in_flight",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "calls_delta",
        "error_delta",
        "missed_arrivals",
        "planned_rate",
        "planned_concurrency",
    }
)
#: computed by the gate evaluator itself (see gates.kinds)
DERIVED = frozenset({"error_ratio", "latency", "error_kinds", "processes", "goodput", *STREAM_PHASES})
#: per watched file (collectors.files)
FILE_KINDS = frozenset(
    {"size_kb", "lines", "delta_lines", "corrupt_reads", "growth_lines", "growth_kb", "json_ok", "exists"}
)
#: per process (collectors.processes)
PROCESS_KINDS = frozenset(
    {
        "rss_mb",
        "cpu_pct",
        "rss_growth",
        "rss_growth_start",
        "rss_slope",
        "rss_slope_conf",
        "rss_limit_eta_s",
        "threads",
        "open_files",
        "alive",
        "restarts",
    }
)
#: per scrape or report-folder source, besides its declared fields
SOURCE_KINDS = frozenset({"scrape_ok", "scrape_ms", "reports_read", "corrupt_reads", "probe_ok", "probe_ms"})
#: per recorded value and per phase of a call (soakwatch.record / phase, [http] extract): the
#: names come from the target at run time, so any subject is accepted
CALL_KINDS = frozenset({"record", "phase_p50_ms", "phase_p95_ms", "phase_p99_ms"})
#: per gate, published by the evaluator
GATE_KINDS = frozenset({"gate_value", "gate_margin"})
_SUBJECT = re.compile(r"^([A-Za-z_](?:[A-Za-z0-9_]|\.(?!\*))*(?:\.\*)?)\[(.+)\]$")
_WORKER = re.compile(r"^worker-\d+$")


def _file_subject_ok(subject: str, profile: Profile) -> bool:
    return any(subject == f or fnmatchcase(subject, f) for f in profile.watch.files)


def _process_subject_ok(subject: str, profile: Profile) -> bool:
    names = {w.name for w in profile.processes.watch} | {n.id for n in profile.nodes}
    return subject in {"monitor", "target"} or bool(_WORKER.match(subject)) or subject in names


def _is_source(subject: str, profile: Profile) -> bool:
    return (
        any(s.name == subject for s in profile.scrape)
        or any(r.name == subject for r in profile.reports)
        or any(p.name == subject for p in profile.probe)
        or any(n.id == subject and n.report_fields for n in profile.nodes)
    )


def unknown_metric(name: str, profile: Profile) -> str | None:
    """None when ``name`` is a series this profile produces, else why not (for the error message)."""
    if name in STREAM_PHASES or name == "goodput":
        http = profile.http
        if http.stream or any(r.stream for r in http.requests):
            return None
        # without streamed answers there are no token times: every call would miss the objectives
        return f"{name} needs streamed answers: [http] stream = true (or stream = true on a [[http.requests]])"
    if name in CORE_SERIES or name in DERIVED:
        return None
    if name == "files_changed":
        return None if profile.watch.unchanged else "files_changed needs [watch] unchanged = [...] in the profile"
    m = _SUBJECT.match(name)
    if not m:
        return (
            f"unknown metric {name!r} (core series: {', '.join(sorted(CORE_SERIES))}; derived: "
            f"{', '.join(sorted(DERIVED))}; collector series are kind[subject], e.g. rss_slope[target])"
        )
    kind, subject = m.group(1), m.group(2)
    if kind in CALL_KINDS:
        return None
    if kind == "matches":
        pats = set(profile.watch.patterns) | {p for n in profile.nodes for p in n.patterns}
        if subject in pats:
            return None
        return (
            f"no log pattern {subject!r} ([watch] patterns / [[nodes]] patterns: {', '.join(sorted(pats)) or 'none'})"
        )
    if kind in ("errors", "error_ratio"):
        return None  # errors of the kinds matching a pattern: errors[Timeout], error_ratio[HTTP 5*]
    if kind in FILE_KINDS and not (kind in SOURCE_KINDS and _is_source(subject, profile)):
        if _file_subject_ok(subject, profile):
            return None
        watched = ", ".join(profile.watch.files) or "none"
        return f"{subject!r} is not a watched file ([watch] files: {watched})"
    if kind in PROCESS_KINDS:
        if _process_subject_ok(subject, profile):
            return None
        return f"unknown process {subject!r} (monitor, target, worker-N, or a [[processes.watch]] name)"
    if kind in GATE_KINDS:
        if any(g.name == subject for g in profile.gates):
            return None
        return f"no gate named {subject!r}"
    sources = {s.name: s.fields for s in profile.scrape} | {r.name: r.fields for r in profile.reports}
    sources |= {n.id: n.report_fields for n in profile.nodes if n.report_fields}
    auto = {p.name for p in profile.probe if not p.fields}  # every top-level key of its output
    sources |= {p.name: p.fields for p in profile.probe}
    if subject in auto:
        return None
    if subject in sources:
        # a dict-of-counters field gives one series per key: failure_reasons.timeout[node1]
        if kind in sources[subject] or kind in SOURCE_KINDS or kind.split(".", 1)[0] in sources[subject]:
            return None
        fields = ", ".join(sorted(sources[subject])) or "none"
        return f"{subject!r} has no field {kind!r} (fields: {fields})"
    return (
        f"unknown metric {name!r}: {kind!r} is not a file kind ({', '.join(sorted(FILE_KINDS))}), "
        f"a process kind ({', '.join(sorted(PROCESS_KINDS))}) or a field of a scrape/report source"
    )
