"""The fuzz tests' counts (runs after tests/test_fuzz_*.py in the same process; with xdist too: the
fuzz modules and this one are one xdist group). ``SOAKWATCH_FUZZ_COUNTS=FILE`` writes them as JSON;
``-s`` shows the line."""

from __future__ import annotations

from tests.fuzz_harness import FUZZ_GROUP, TALLY, report_tally

pytestmark = FUZZ_GROUP


def test_fuzz_tally_has_no_traceback_no_wrong_acceptance_and_nothing_changed_outside() -> None:
    report_tally()
    assert TALLY["tracebacks"] == 0
    assert TALLY["wrongly accepted"] == 0
    assert TALLY["files outside the root changed"] == 0
