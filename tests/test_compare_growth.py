"""File growth in ``compare`` over whole snapshot intervals soakwatch left untouched (issue 12, item 7)."""

from __future__ import annotations

from typing import Any

import pytest

from soakwatch.analysis._compare_figures import delta_per_kcalls, growth_per_kcalls

LOG = "state/pra_log.json"


def _row(calls: int, size: int, truncated: bool = False, delta: int = 0) -> dict[str, Any]:
    f = {"size": size, "exists": True, "truncated": truncated, "delta": delta}
    return {"calls": calls, "files": {LOG: f}}


def test_an_interval_in_which_soakwatch_truncated_the_file_is_left_out() -> None:
    # a bounded log at 4 KB; truncated at call 250 (inside 200 → 300), refilled to 3 KB by 300
    rows = [_row(100, 4096), _row(200, 4096 + 512), _row(300, 3072, truncated=True), _row(400, 3072 + 512)]
    assert growth_per_kcalls(rows) == {LOG: pytest.approx(5.0)}  # 0.5 KB per 100 calls in each untouched interval


def test_the_first_and_a_partial_interval_are_left_out() -> None:
    rows = [_row(100, 1024), _row(200, 1024 + 1024), _row(300, 2048 + 1024), _row(350, 100 * 1024)]
    assert growth_per_kcalls(rows) == {LOG: pytest.approx(10.0)}  # 1 KB per 100 calls; not the last 50
    assert growth_per_kcalls([_row(100, 1024), _row(150, 9999)]) == {}  # 100 → 150 is partial: no figure


def test_delta_lines_leave_out_a_lone_partial_interval_too() -> None:
    assert delta_per_kcalls([_row(100, 0, delta=5), _row(150, 0, delta=40)]) == {}
    assert delta_per_kcalls([_row(100, 0, delta=5), _row(200, 0, delta=3)]) == {LOG: pytest.approx(30.0)}
