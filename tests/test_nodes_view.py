"""What a topology's snapshot says about each node, checked against what the node itself wrote:
its state, restarts, latest report fields, report age and RSS (the TUI's nodes panel shows these)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from soakwatch.config.profile import load_profile
from soakwatch.core.snapshot import Snapshot
from soakwatch.stage import EXIT_OK, Stage

#: a node that gets ready, reports nothing for a second, then writes one report a tick with its
#: own height, up to 400, and idles until stopped
NODE = """
import json, os, pathlib, sys, time
reports = pathlib.Path(sys.argv[1]); reports.mkdir(parents=True, exist_ok=True)
pathlib.Path(sys.argv[2]).write_text("1")
time.sleep(1.0)
for h in range(1, 400):
    tmp = reports / f".tmp-{h}"
    tmp.write_text(json.dumps({"height": h}))
    os.replace(tmp, reports / f"epoch-{h}.json")
    time.sleep(0.1)
time.sleep(60)
"""


def test_node_views_carry_state_report_fields_age_and_rss(tmp_path: Path) -> None:
    (tmp_path / "node.py").write_text(NODE)
    node = {
        "id": "n1",
        "command": ["{python}", "node.py", "data/{id}/reports", "data/{id}/ready"],
        "report_dir": "data/{id}/reports",
        "ready": {"file": "data/{id}/ready", "timeout": "10s"},
        "report_fields": {"height": "height"},
    }
    data = {"root": str(tmp_path), "duration": 3.0, "nodes": [node], "processes": {"interval": "0.2s"}}
    st = Stage(load_profile(None, data, ["tick=0.1"]), out_dir=tmp_path / "out", cwd=tmp_path)
    seen: list[Snapshot] = []
    lock = threading.Lock()

    def keep(snap: Snapshot) -> None:
        with lock:
            seen.append(snap)

    st.subscribers.append(keep)
    st.prepare()
    assert st.run() == EXIT_OK
    # every snapshot crosses the control socket as JSON: a field not reported yet must survive that
    assert all(Snapshot.model_validate_json(s.model_dump_json()) == s for s in seen)
    assert any(s.nodes and not s.nodes[0].fields for s in seen)  # the second before the first report
    live = [s for s in seen if not s.finished and s.nodes and s.nodes[0].fields]
    assert live, "no snapshot showed the node's report"
    last = live[-1].nodes[0]
    assert last.id == "n1" and last.state == "running" and last.restarts == 0
    # the height shown is one the node wrote, and the newest it had written a moment before
    written = sorted(int(p.stem.split("-")[1]) for p in (tmp_path / "data" / "n1" / "reports").glob("epoch-*.json"))
    assert int(last.fields["height"]) in written
    assert json.loads((tmp_path / "data" / "n1" / "reports" / f"epoch-{int(last.fields['height'])}.json").read_text())
    assert last.report_age_s is not None and 0 <= last.report_age_s < 2.0
    assert any(s.nodes[0].rss_mb and s.nodes[0].rss_mb > 1 for s in live)
    heights = [s.nodes[0].fields["height"] for s in live]
    assert heights == sorted(heights) and heights[-1] > heights[0]  # the heights move
    final = seen[-1].nodes[0]
    assert final.state == "stopped" and final.rss_mb is None  # a stopped node shows no memory
