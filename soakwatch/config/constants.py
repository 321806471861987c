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
    "CONTROL_CONNECT_TIMEOUT",
    "CONTROL_QUICK_TIMEOUT",
    "CONTROL_REPLY_TIMEOUT",
    "DEFAULT_REFRESH_HZ",
    "EXIT_ABORTED",
    "EXIT_ERROR",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FINAL_STATES",
    "LATENCY_HEAT_EDGES_MS",
    "LATENCY_HEAT_TICKS",
    "METRICS_LINGER",
    "METRICS_LINGER_MAX",
    "SOCKET_WAIT",
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

#: redraws per second of the TUI (the profile's ``refresh_hz`` default; replay and attach fall back to it)
DEFAULT_REFRESH_HZ = 2.0
#: bucket edges (ms) of the latency heatmap, a 1-2-5 log scale: bucket 0 is under the first edge,
#: bucket i (1..) from edge i-1 up to edge i, the last one from the last edge up
LATENCY_HEAT_EDGES_MS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
#: ticks of per-tick latency bucket counts a snapshot carries (the heatmap's width; as the charts' series)
LATENCY_HEAT_TICKS = 120
#: how long a view waits for a just-started stage's control socket to answer
SOCKET_WAIT = 30.0
#: a control client's wait to connect to (and hear from) a running stage
CONTROL_CONNECT_TIMEOUT = 10.0
#: one-shot commands (`ctl`, `chaos`, attach's look-up): a stage that does not answer this fast is said to be gone
CONTROL_QUICK_TIMEOUT = 2.0
#: how long `ctl` waits for the stage's answer once connected before it gives up and says why
CONTROL_REPLY_TIMEOUT = 10.0
#: seconds ``--metrics-port`` still serves the final values after the stage ended (one default
#: Prometheus scrape interval, so a last scrape sees them); ``--metrics-linger`` changes it
METRICS_LINGER = 15.0
#: the longest ``--metrics-linger``
METRICS_LINGER_MAX = 3600.0
#: ``[http] load_processes = "auto"``: one load process per this many slots (an asyncio process keeps
#: about a core busy at local-server speeds with 16 calls in flight), at most one per usable core
#: but one (the stage's own process records every result)
SLOTS_PER_LOAD_PROCESS = 16
