"""The verdict of a stage: what each plugin judged, and the one line that says it.

A bare ``PASSED`` means every fail-gate was judged on enough data and passed, the planned
load was applied and every collector worked (DESIGN.md, "Non-negotiables"). Anything a
user could not see is a *caveat* and is said on the verdict line itself; anything that
kept soakwatch from running the stage as planned is an *error* (state ERROR, exit 4)::

    PASSED
    PASSED, 2 gates not judged; 504 of 600 arrivals missed      (caveats)
    FAILED: errors: error_ratio 0.21 > 0.05; 1 gate not judged  (reasons, caveats)
    ERROR: 0 of 1000 calls ran                                   (error)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Verdict", "combine", "missed_caveat", "missed_verdict", "verdict_line"]


@dataclass(frozen=True)
class Verdict:
    """One part's judgement at the end of a stage (a plugin's, the runner's, the stage's)."""

    #: a fail-gate failed, or the system under test failed
    failed: bool = False
    #: why it failed, one line each (gate name and value)
    reasons: tuple[str, ...] = ()
    #: what the user could not see: a gate not judged, a collector that failed, load not applied
    caveats: tuple[str, ...] = ()
    #: soakwatch itself could not run the stage as planned: the stage is ERROR, never PASSED
    error: str | None = None


def combine(parts: Iterable[Verdict]) -> Verdict:
    """All parts' judgements in one: failed if any failed, every reason, caveat and error kept."""
    failed = False
    reasons: list[str] = []
    caveats: list[str] = []
    errors: list[str] = []
    for v in parts:
        failed = failed or v.failed
        reasons.extend(v.reasons)
        caveats.extend(c for c in v.caveats if c not in caveats)
        if v.error and v.error not in errors:
            errors.append(v.error)
    return Verdict(failed, tuple(reasons), tuple(caveats), "; ".join(errors) or None)


def verdict_line(state: str, caveats: Iterable[str] = (), error: str | None = None) -> str:
    """The verdict as one line: the state, then what could not be seen or what went wrong."""
    said = list(caveats)
    if state == "ERROR" and error:
        return f"ERROR: {error}" + (f"; {'; '.join(said)}" if said else "")
    return state + (f", {'; '.join(said)}" if said else "")


def missed_caveat(started: int, missed: int) -> str | None:
    """The caveat of an open-model stage whose planned load was not all applied, or None."""
    if missed <= 0:
        return None
    return f"{missed} of {started + missed} arrivals missed"


def missed_verdict(started: int, missed: int) -> Verdict:
    """Arrivals that were due and never sent: the planned load was not applied, said on the verdict
    line (a gate on ``missed_arrivals`` decides whether it fails the stage)."""
    caveat = missed_caveat(started, missed)
    return Verdict(caveats=(caveat,) if caveat else ())
