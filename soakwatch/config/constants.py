"""Constants every layer shares: exit codes (DESIGN.md, "Public contract") and final states.

Exit codes::

    0    EXIT_OK           every fail-gate passed
    1    EXIT_FAILED       a fail-gate failed (or aborted the stage), or the system under test failed
    2    EXIT_USAGE        bad invocation or bad profile: nothing ran, nothing changed
    3    EXIT_ABORTED      aborted by the operator
    4    EXIT_ERROR        soakwatch itself could not run the stage as planned (never a PASS)
    130  EXIT_INTERRUPTED  interrupted (SIGINT / SIGTERM)
"""

from __future__ import annotations

__all__ = [
    "EXIT_ABORTED",
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FINAL_STATES",
    "STATES",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3
EXIT_ERROR = 4
EXIT_INTERRUPTED = 130

#: every state a stage passes through, in order of appearance
STATES = (
    "STARTING",
    "RUNNING",
    "PAUSED",
    "ABORTING",
    "STOPPING",
    "PASSED",
    "FAILED",
    "ABORTED",
    "INTERRUPTED",
    "ERROR",
)
FINAL_STATES = frozenset({"PASSED", "FAILED", "ABORTED", "INTERRUPTED", "ERROR"})
