"""Incremental line counts and JSON checks of one file (collectors._linetrack)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from soakwatch.collectors._linetrack import LineTracker


def _lines(p: Path) -> int:
    return len(p.read_bytes().decode().splitlines())


def test_counts_appends_by_reading_only_new_bytes(tmp_path: Path) -> None:
    p = tmp_path / "log.txt"
    t = LineTracker(p)
    assert t.refresh().kind == "none" and not t.exists
    p.write_text("a\nb\n")
    assert t.refresh().kind == "created"
    assert (t.lines, t.size) == (2, 4)
    with p.open("a") as fh:
        fh.write("c\nd")  # a last line without its newline counts
    r = t.refresh()
    assert r.kind == "append" and t.lines == 4 == _lines(p)
    with p.open("a") as fh:
        fh.write("\ne\n")
    t.refresh()
    assert t.lines == 5 == _lines(p)
    assert t.recounts == 1
    assert t.refresh().kind == "none"


def test_truncation_atomic_replace_and_inplace_rewrite_are_recounted(tmp_path: Path) -> None:
    p = tmp_path / "log.txt"
    p.write_text("1\n2\n3\n")
    t = LineTracker(p)
    t.refresh()
    os.truncate(p, 0)
    assert t.refresh().kind == "rewrite" and t.lines == 0
    p.write_text("x\n" * 10)
    t.refresh()
    assert t.lines == 10
    tmp = tmp_path / "log.tmp"
    tmp.write_text("y\n" * 10)
    os.replace(tmp, p)  # same size, new inode
    assert t.refresh().kind == "rewrite" and t.lines == 10
    with p.open("r+") as fh:  # same inode, grows, different head: not an append
        fh.write("z\nz\nz\nz\nz\nz\nz\nz\nz\nz\nz\nz\n")
    assert t.refresh().kind == "rewrite"
    assert t.lines == _lines(p) == 12
    p.unlink()
    assert t.refresh().kind == "removed" and t.lines == 0


def test_json_document_and_json_lines(tmp_path: Path) -> None:
    doc = tmp_path / "pra_log.json"
    doc.write_text(json.dumps([{"a": 1}, {"a": 2}], indent=1))
    t = LineTracker(doc)
    t.refresh()
    assert (t.json_mode, t.json_ok, t.corrupt_reads) == ("doc", True, 0)

    jl = tmp_path / "tul_log.json"
    jl.write_text('{"call": 1}\n{"call": 2}\n')
    u = LineTracker(jl)
    u.refresh()
    assert (u.json_mode, u.json_ok) == ("lines", True)
    with jl.open("a") as fh:
        fh.write('{"call": 3}\n{"call"')  # a line still being written is not judged yet
    assert u.refresh().corrupt is None and u.json_ok
    with jl.open("a") as fh:
        fh.write(": 4}\n{oops}\n")
    r = u.refresh()
    assert r.corrupt is not None and u.corrupt_reads == 1 and u.json_ok is False
    assert u.lines == 5


def test_half_written_json_counts_one_corrupt_read_until_it_changes(tmp_path: Path) -> None:
    p = tmp_path / "epoch.json"
    p.write_text('{"epoch": 7, "nodes": [1, 2')
    t = LineTracker(p)
    r = t.refresh()
    assert r.corrupt is not None and "line 1" in r.corrupt
    assert (t.corrupt_reads, t.json_ok) == (1, False)
    assert t.refresh().kind == "none" and t.corrupt_reads == 1
    with p.open("a") as fh:
        fh.write("]}")
    assert t.refresh().corrupt is None
    assert (t.json_ok, t.json_mode, t.corrupt_reads) == (True, "doc", 1)


def test_empty_json_file_is_not_judged(tmp_path: Path) -> None:
    p = tmp_path / "e.json"
    p.write_text("")
    t = LineTracker(p)
    t.refresh()
    assert t.json_ok is None and t.corrupt_reads == 0
