"""JSON report folders (collectors.reportdirs) and the files collector's operator truncate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from soakwatch.collectors.files import GLOB_RESCAN_S, FilesCollector
from soakwatch.collectors.reportdirs import MAX_ATTEMPTS, ReportFolderCollector
from soakwatch.config.collectors import ReportFolderConfig, WatchConfig
from tests.collectors_ctx import CtxFactory, contexts, events_of, wait_for


@pytest.fixture
def ctx_factory(tmp_path: Path) -> Iterator[CtxFactory]:
    yield from contexts(tmp_path)


FIELDS = {
    "committed_height": "node_snapshot.consensus.committed_height",
    "failed_checks": "distfs_challenge_report.failed_checks",
    "invariant_ok": "reward_asset_invariant_status.ok",
}


def _report(height: int, failed: int = 0, ok: bool = True) -> str:
    return json.dumps(
        {
            "node_snapshot": {"consensus": {"committed_height": height}},
            "distfs_challenge_report": {"failed_checks": failed},
            "reward_asset_invariant_status": {"ok": ok},
        }
    )


def test_new_files_are_picked_up_and_half_written_ones_retried(ctx_factory: CtxFactory, tmp_path: Path) -> None:
    ctx = ctx_factory()
    folder = ctx.root / "nodes" / "node1" / "report"  # created after the collector started
    c = ReportFolderCollector(
        ReportFolderConfig(name="node1", path="nodes/node1/report", pattern="epoch-*.json", fields=FIELDS)
    )
    c.prepare(ctx)
    c.start()
    try:
        folder.mkdir(parents=True)
        (folder / "epoch-0001.json").write_text(_report(10))
        (folder / "ignored.txt").write_text("x")
        wait_for(lambda: ctx.recorder.value("committed_height[node1]") == 10.0, what="first report")
        half = folder / "epoch-0002.json"
        half.write_text(_report(20, failed=2, ok=False)[:25])  # half-written: retried, not given up yet
        wait_for(lambda: c._retry.get("epoch-0002.json", 0) >= 2, what="retries")
        half.write_text(_report(20, failed=2, ok=False))
        wait_for(lambda: ctx.recorder.value("committed_height[node1]") == 20.0, what="completed report")
        assert ctx.recorder.value("failed_checks[node1]") == 2.0
        assert ctx.recorder.value("invariant_ok[node1]") == 0.0
        assert not events_of(ctx, "corrupt_read")
        (folder / "epoch-0003.json").write_text("{not json")  # never completed
        wait_for(lambda: events_of(ctx, "corrupt_read"), what="corrupt read", timeout=MAX_ATTEMPTS * 2)
    finally:
        c.stop()
    assert c.read == 2 and c.corrupt == 1
    assert (ctx.run_dir / "sources" / "node1.csv").read_text().count("committed_height") == 2


def test_operator_truncate_and_refusal(ctx_factory: CtxFactory) -> None:
    ctx = ctx_factory()
    state = ctx.root / "state"
    state.mkdir()
    log = state / "tul_log.json"
    log.write_text('{"a": 1}\n' * 1000)
    fc = FilesCollector(WatchConfig(files=["state/*.json"], snapshot_every=10, warn_size_kb=1))
    fc.prepare(ctx)
    fc.start()
    try:
        assert [f.path for f in fc.view()["files"]] == ["state/tul_log.json"]
        assert events_of(ctx, "size_warning")
        assert ctx.commands["truncate"]({"files": ["../outside.json"]}).startswith("refused")
        answer = ctx.commands["truncate"]({})
        assert answer.startswith("truncated 1 file")
        assert log.stat().st_size == 0
        (t,) = events_of(ctx, "truncate")
        assert t["file"] == "state/tul_log.json" and t["lines"] == 1000 and t["reason"] == "operator"
        with log.open("a") as fh:
            fh.write('{"a": 2}\n' * 7)
        fc.on_barrier(10)
        (snap,) = events_of(ctx, "snapshot")
        assert snap["files"]["state/tul_log.json"]["delta"] == 7
        assert snap["files"]["state/tul_log.json"]["truncated"] is True
        (new := state / "new.json").write_text("[]")  # a new match of the glob is picked up
        # found by its notification, or (a file made before the watch was up has none) by the tick's rescan
        ticks = iter(range(1, 10_000))

        def found() -> bool:
            fc.tick(float(next(ticks)) * GLOB_RESCAN_S)
            return any(f.path == "state/new.json" for f in fc.view()["files"])

        wait_for(found, what="new file")
        assert new.exists()
    finally:
        fc.stop()
