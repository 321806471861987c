"""Shared parts of the fuzz tests (tests/test_fuzz_*.py): the CLI called in-process with its
output captured, a TOML writer for generated profiles, the tally the tests report, and a
guard that no file outside the sandbox changed.

Every fuzz test has a fixed seed (``derandomize``) and a bounded number of examples, so it
finds the same things on every machine and ``make test`` stays fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import sys
import traceback
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from soakwatch.cli import main

#: the exit codes a command may end with (DESIGN.md); anything else, or an exception, is a defect
DOCUMENTED = {0, 1, 2, 3, 4, 130}

#: one place for the fuzz budget: fixed seed, bounded examples, no example database on disk
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: the fuzz modules and the tally are one xdist group (``--dist loadgroup``): one worker runs them all, in
#: collection order, so the tally test (tests/test_fuzz_zz_tally.py, collected last) sees every fuzz test
FUZZ_GROUP = pytest.mark.xdist_group("fuzz")

#: totals over the whole session, printed at its end (and written to $SOAKWATCH_FUZZ_COUNTS when set)
TALLY: Counter[str] = Counter()


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    traceback: str | None


def run_main(argv: list[str]) -> Outcome:
    """``soakwatch ARGV`` in this process: exit code, output, and the traceback if one escaped."""
    out, err = io.StringIO(), io.StringIO()
    tb = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: a bad flag is exit 2 with its usage line
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:
            tb = traceback.format_exc()
            code = -1
    TALLY["inputs tried"] += 1
    if tb is not None:
        TALLY["tracebacks"] += 1
    return Outcome(code, out.getvalue(), err.getvalue(), tb)


def check_outcome(res: Outcome, *, must_refuse: bool = False) -> None:
    """No traceback; a documented exit code; a refusal says why on stderr; a known-bad input is refused."""
    assert res.traceback is None, res.traceback
    assert res.code in DOCUMENTED, (res.code, res.err)
    if res.code == 2:
        assert res.err.strip(), "exit 2 without a message"
        assert "Traceback" not in res.err, res.err
    if must_refuse:
        TALLY["known-bad inputs"] += 1
        if res.code != 2:
            TALLY["wrongly accepted"] += 1
        assert res.code == 2, ("accepted a bad input", res.out, res.err)


def toml_value(v: Any) -> str:
    """A TOML literal for a generated value (strings escaped the TOML way; inf/nan as TOML spells them)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are TOML basic-string escapes (lone surrogates: refused)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_doc(top: dict[str, Any]) -> str:
    """A profile: scalars and inline tables at the top; lists of tables as ``[[name]]``."""
    lines = []
    tables = []
    for k, v in top.items():
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            tables.append((k, v))
        else:
            lines.append(f"{json.dumps(k)} = {toml_value(v)}")
    for k, items in tables:
        for item in items:
            lines.append(f"[[{json.dumps(k)}]]")
            lines.extend(f"{json.dumps(str(ik))} = {toml_value(iv)}" for ik, iv in item.items())
    return "\n".join(lines) + "\n"


def tree_digest(root: Path) -> str:
    """A digest of every file's path, mode and bytes under ``root``: any change outside the sandbox shows."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            st = p.lstat()
            h.update(f"{p.relative_to(root)}\0{st.st_mode}\0".encode())
            if p.is_file() and not p.is_symlink():
                h.update(p.read_bytes())
    return h.hexdigest()


def report_tally() -> str:
    keys = ("inputs tried", "tracebacks", "known-bad inputs", "wrongly accepted", "files outside the root changed")
    line = "fuzz: " + ", ".join(f"{k}: {TALLY.get(k, 0)}" for k in keys)
    target = os.environ.get("SOAKWATCH_FUZZ_COUNTS")
    if target:
        Path(target).write_text(json.dumps({k: TALLY.get(k, 0) for k in keys}) + "\n", encoding="utf-8")
    print("\n" + line, file=sys.stderr)
    return line
