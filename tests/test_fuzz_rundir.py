"""Fuzz (issue 13): run-directory files fed to ``report``, ``compare``, ``attach`` and ``ctl``.

A real run directory (a stage that ran, with errors) is copied for every example and one of
its files is mangled: random bytes, bytes that are not UTF-8, a torn tail, a hostile JSON
line (30,000 brackets, a 5000-digit integer, lone surrogates), or the file removed. Every
command ends with a documented exit code and, for exit 2, a message; never a traceback.
``report`` writes only inside the run directory: nothing beside it changes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import TARGETS
from tests.fuzz_harness import FUZZ, FUZZ_GROUP, TALLY, check_outcome, run_main, tree_digest
from tests.helpers import only_run_dir, run_cli

pytestmark = FUZZ_GROUP

FILES = [
    "events.jsonl", "timeline.csv", "summary.json", "run_config.json", "latency.hdr", "timeline_extra.csv",
    "control.addr", "junit.xml", "summary.md",
]  # fmt: skip
HOSTILE = [
    b"[" * 30_000,
    b'{"seq": 1, "kind": "error", "msg": "' + b"9" * 5000 + b'"}',
    b'{"seq": 1, "t": ' + b"9" * 5000 + b"}",
    b'{"seq": 2, "kind": "stage_end", "msg": "\\ud800\\udcff", "state": "\\ud800"}',
    b'{"seq": 3, "kind": "error", "msg": "bad \xff\xfe", "error_kind": "\xc3\x28"}',
    b"t,calls\n1,\xff\n",
    b"\x00\x00\x00",
    b'{"stage": 1, "calls": "many", "latency": null}',
]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    for f in TARGETS.glob("*.py"):
        shutil.copy(f, root / f.name)
    (root / "cases.jsonl").write_text("".join(f'{{"i": {i}}}\n' for i in range(60)))
    out = root.parent / "runs"
    args = ["run", "--target", "sw_targets:flaky", "--cases", "cases.jsonl", "--isolation", "inline", "--calls", "60"]
    args.append("--no-tui")
    res = run_cli([*args, "--out-dir", str(out), "--root", str(root)], root, env={"SOAKWATCH_ROOT": str(root)})
    assert res.returncode in (0, 1), res.stderr
    return only_run_dir(out)


@pytest.fixture
def quick_ctl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """ctl and attach look for a live socket briefly: there is none in a copied run dir."""
    import soakwatch.views.attach as attach

    monkeypatch.setattr(attach, "CONTROL_QUICK_TIMEOUT", 0.05)
    yield


mangle = st.one_of(
    st.tuples(st.just("replace"), st.binary(max_size=300)),
    st.tuples(st.just("append"), st.binary(max_size=200)),
    st.tuples(st.just("append"), st.sampled_from(HOSTILE)),
    st.tuples(st.just("replace"), st.sampled_from(HOSTILE)),
    st.tuples(st.just("truncate"), st.integers(min_value=0, max_value=2000).map(lambda n: n.to_bytes(2, "big"))),
    st.tuples(st.just("remove"), st.just(b"")),
)


def _apply(path: Path, op: str, data: bytes) -> None:
    if op == "remove":
        path.unlink(missing_ok=True)
    elif op == "replace":
        path.write_bytes(data)
    elif op == "append":
        with path.open("ab") as fh:
            fh.write(b"\n" + data + b"\n")
    else:  # truncate: keep the first N bytes, torn mid-line as a kill would leave it
        keep = int.from_bytes(data, "big")
        if path.exists():
            path.write_bytes(path.read_bytes()[:keep])


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(FILES), mangle), min_size=1, max_size=3))
def test_any_mangled_run_dir_is_read_or_clearly_refused(
    base_run: Path, quick_ctl: None, changes: list[tuple[str, tuple[str, bytes]]]
) -> None:
    work = Path(tempfile.mkdtemp(prefix="fz-"))
    try:
        run_dir = work / "run"
        shutil.copytree(base_run, run_dir)
        beside = work / "beside"
        beside.mkdir()
        (beside / "keep.txt").write_text("keep\n")
        before = tree_digest(beside)
        for name, (op, data) in changes:
            _apply(run_dir / name, op, data)
        check_outcome(run_main(["report", str(run_dir)]))
        check_outcome(run_main(["compare", str(run_dir), str(base_run)]))
        check_outcome(run_main(["compare", "--json", str(base_run), str(run_dir)]))
        check_outcome(run_main(["ctl", str(run_dir), "pause"]))
        check_outcome(run_main(["attach", str(run_dir)]))
        if tree_digest(beside) != before:
            TALLY["files outside the root changed"] += 1
        assert tree_digest(beside) == before
    finally:
        shutil.rmtree(work, ignore_errors=True)
