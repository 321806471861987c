"""Why a gate was not judged, and how the unjudged gates reach the verdict line.

A gate that never had enough data is not a pass: the verdict says "PASSED, 2 gates not
judged (rss slope, errors)" and every report names each gate's reason::

    stage ended before its delay (30s)
    no samples of rss_slope[target] (processes collector)
    min 20 samples not reached (at most 7 in the 60s window)

``insufficient_data = "fail"`` turns an unjudged *fail* gate into a failure; it never
raises a gate declared ``severity = "warn"`` (that one stays a caveat).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from soakwatch.gates.metrics import FILE_KINDS, PROCESS_KINDS

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.gates.rules import Rule

__all__ = ["NAMES_SHOWN", "not_judged_caveat", "source_of", "why_not_judged"]

#: gate names listed on the verdict line before "…"
NAMES_SHOWN = 3
_SUBJECT = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\[(.+)\]$")


def source_of(series: str, profile: Profile) -> str:
    """Which collector produces ``series`` (for "no samples of X (from Y)"), or "" for core series."""
    m = _SUBJECT.match(series)
    if not m:
        return ""
    kind, subject = m.group(1), m.group(2)
    if any(s.name == subject for s in profile.scrape):
        return f"scrape {subject}"
    if any(r.name == subject for r in profile.reports):
        return f"reports {subject}"
    if any(n.id == subject and n.report_fields for n in profile.nodes) and kind not in PROCESS_KINDS:
        return f"reports of node {subject}"
    if kind in PROCESS_KINDS:
        return "processes collector"
    if kind in FILE_KINDS:
        return "files collector"
    if kind in ("gate_value", "gate_margin"):
        return "gates"
    return ""


def why_not_judged(rule: Rule, profile: Profile, reached_delay: bool, had_value: bool, most: int) -> str:
    """One line: why this gate was never judged."""
    if not reached_delay:
        return f"stage ended before its delay ({rule.spec.delay:g}s)"
    if not had_value:
        names = [n for n in rule.metric.names if n not in ("error_ratio", "latency", "error_kinds", "processes")]
        what = " and ".join(names) or rule.metric.text
        sources = sorted({s for n in names if (s := source_of(n, profile))})
        return f"no samples of {what}" + (f" ({', '.join(sources)})" if sources else "")
    where = "" if rule.window.kind == "run" else f" in the {rule.window.text} window"
    return f"min {rule.min_samples} samples not reached (at most {most}{where})"


def not_judged_caveat(names: list[str]) -> str:
    """``2 gates not judged (rss slope, errors)``."""
    shown = ", ".join(names[:NAMES_SHOWN]) + (", …" if len(names) > NAMES_SHOWN else "")
    return f"{len(names)} gate{'s' if len(names) != 1 else ''} not judged ({shown})"
