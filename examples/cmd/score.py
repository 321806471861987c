"""A tiny command for soakwatch's command-target example: scores one case per run.

Reads the case as one JSON line on stdin (``[cmd] stdin = "json"``) and the mode from
its first argument. Exit codes, so every outcome kind shows up in a short stage::

    0   scored: prints {"score": ...} on stdout
    3   the case asks to be rejected ("reject": true): a reason on stderr
    4   the case is not a JSON object: a reason on stderr
    (sleeps "sleep" seconds first when the case has it, to show timeouts)
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    mode = sys.argv[1] if len(sys.argv) > 1 else "plain"
    try:
        case = json.loads(sys.stdin.readline() or "null")
    except ValueError as exc:
        print(f"score.py: stdin is not JSON: {exc}", file=sys.stderr)
        return 4
    if not isinstance(case, dict):
        print(f"score.py: expected a JSON object, got {type(case).__name__}", file=sys.stderr)
        return 4
    time.sleep(float(case.get("sleep", 0)))
    if case.get("reject"):
        print(f"score.py: case {case.get('id')} rejected ({mode} mode)", file=sys.stderr)
        return 3
    words = str(case.get("prompt", "")).split()
    print(json.dumps({"id": case.get("id"), "score": len(words), "mode": mode}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
