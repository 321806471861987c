"""``soakwatch chaos RUN_DIR [ACTION]``: trigger a chaos action on a running stage over its control socket."""

from __future__ import annotations

import sys
from pathlib import Path

from soakwatch.config.constants import CONTROL_QUICK_TIMEOUT, EXIT_OK, EXIT_USAGE
from soakwatch.config.errors import UsageError

__all__ = ["trigger_chaos"]

#: how long to look for the stage's control socket: a stage that runs has it already


def trigger_chaos(run_dir: Path, action: str | None) -> int:
    """Send ``chaos`` (with ``action``, or without to list the actions); print the answer.

    Exit 0 with the stage's answer; 2 when the stage refused, or no stage runs in ``run_dir``.
    """
    from soakwatch.control.client import ControlClient
    from soakwatch.core.source import CommandError

    if not run_dir.is_dir():
        raise UsageError("no such run directory", where="chaos", value=str(run_dir))
    try:
        client = ControlClient(run_dir, timeout=CONTROL_QUICK_TIMEOUT)
    except (TimeoutError, OSError):
        print(f"soakwatch: no stage runs in {run_dir} (no control socket)", file=sys.stderr)
        return EXIT_USAGE
    with client:
        try:
            answer = client.command("chaos", {"action": action} if action else {"list": True})
        except CommandError as exc:
            print(f"soakwatch: chaos refused: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except TimeoutError as exc:
            print(f"soakwatch: no answer from the stage: {exc}", file=sys.stderr)
            return EXIT_USAGE
    print(answer)
    return EXIT_OK
