"""Fuzz (issue 13): profile TOML, CLI flags, ``--set`` and control-socket lines.

Whatever comes in, soakwatch answers with a documented exit code and, for exit 2, a message
on stderr; never a traceback. Inputs known to be bad (non-finite or absurd numbers, empty
names and targets, bad URLs, ...) must be refused with exit 2: accepting one is counted as
"wrongly accepted". ``validate`` shares every check with ``run``, so it stands for ``run``
here without starting stages; a sample of the known-bad inputs goes through ``run`` itself.
Nothing outside the sandbox may change (a digest of a neighbouring directory is compared).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soakwatch.control import wire
from soakwatch.control.server import ControlServer
from tests.fuzz_harness import FUZZ, FUZZ_GROUP, TALLY, check_outcome, run_main, toml_doc, tree_digest

pytestmark = FUZZ_GROUP

FIELDS = [
    "name", "description", "target", "root", "cases", "calls", "duration", "concurrency", "rate", "timeout",
    "isolation", "tick", "status_every", "refresh_hz", "strict", "insufficient_data",
]  # fmt: skip
SECTIONS = ["watch", "processes", "http", "cmd", "matrix"]
LISTS = ["gates", "chaos", "scrape", "reports", "nodes"]

#: (field, value) pairs a profile or --set must never get past validation with
KNOWN_BAD: list[tuple[str, Any]] = [
    *[("timeout", v) for v in (float("inf"), float("-inf"), float("nan"), 0, -1, 1e300, "abc", True)],
    *[("rate", v) for v in (float("inf"), float("nan"), 0, -5, 1e-300, 1e300, "fast")],
    *[("calls", v) for v in (0, -1, True, 1.5, 10**20, "many")],
    *[("concurrency", v) for v in (0, -1, 5000, True)],
    *[("duration", v) for v in (float("inf"), 0, -1, "1e400", "soon", 1e300)],
    *[("tick", v) for v in (0, float("inf"), 1e-300, 100)],
    *[("name", v) for v in ("", "   ")],
    *[("target", v) for v in ("", "nocolon", "http:///x", "cmd:", "sw_hostile:LONG_NAMED", "sw_hostile:missing")],
    ("isolation", "thread"),
    ("not_a_field", 1),
    ("gates", [{"name": "g", "metric": "error_ratio", "condition": "< 0.5", "for": 1e20}]),
    ("gates", [{"name": "g", "metric": "error_kinds", "condition": "burst(0) < 2"}]),
    ("scrape", [{"name": "s", "url": "http:///metrics"}]),
    ("processes", {"watch": [{"name": "p"}]}),
]

BASE: dict[str, Any] = {"name": "fz", "target": "sw_hostile:ok", "calls": 5}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["30s", "1.5h", "250ms", "sw_hostile:ok", "http://127.0.0.1:1/x", "cmd:true", "inline", "-1s"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _strip_none(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _strip_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [_strip_none(x) for x in v if x is not None]
    return v


@pytest.fixture
def world(sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The sandbox as the current directory, and a directory beside it that must not change."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me\n")
    (outside / "state.json").write_text('{"keep": true}\n')
    monkeypatch.chdir(sandbox)
    before = tree_digest(outside)
    yield sandbox
    if tree_digest(outside) != before:
        TALLY["files outside the root changed"] += 1
    assert tree_digest(outside) == before
    TALLY["files outside the root changed"] += 0


@FUZZ
@given(data=st.dictionaries(st.sampled_from(FIELDS + SECTIONS + LISTS + ["x", "gates.0"]), values, max_size=8))
def test_any_profile_toml_is_ok_or_a_clear_refusal(world: Path, tmp_path: Path, data: dict[str, Any]) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text(toml_doc(_strip_none({**BASE, **data})), encoding="utf-8", errors="surrogatepass")
    check_outcome(run_main(["validate", str(prof), "--root", str(world)]))


@FUZZ
@given(raw=st.binary(max_size=400))
def test_any_bytes_as_a_profile_are_a_clear_refusal(world: Path, tmp_path: Path, raw: bytes) -> None:
    prof = tmp_path / "p.toml"
    prof.write_bytes(raw)
    check_outcome(run_main(["validate", str(prof), "--root", str(world)]))


@pytest.mark.parametrize(("field", "value"), KNOWN_BAD, ids=[f"{f}={v!r}"[:40] for f, v in KNOWN_BAD])
def test_known_bad_profile_values_are_refused_by_validate_and_run(
    world: Path, tmp_path: Path, field: str, value: Any
) -> None:
    prof = tmp_path / "p.toml"
    prof.write_text(toml_doc({**BASE, field: value}), encoding="utf-8")
    out = tmp_path / "runs"
    check_outcome(run_main(["validate", str(prof), "--root", str(world)]), must_refuse=True)
    check_outcome(
        run_main(["run", "--profile", str(prof), "--root", str(world), "--out-dir", str(out)]), must_refuse=True
    )
    assert not out.exists()  # nothing created before every check passed


FLAGS = ["--calls", "--duration", "--concurrency", "--rate", "--timeout", "--isolation", "--gate", "--abort-on",
         "--cases", "--set", "--target", "--root", "--profile", "--chaos-plan"]  # fmt: skip
flag_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["inf", "-inf", "nan", "0", "-1", "1e-300", "1e300", "1e400", "", " ", "3", "0.5", "30s"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10).map(
        lambda s: s + "\udcff"  # what undecodable argv bytes become (surrogateescape)
    ),
)


@FUZZ
@given(pairs=st.lists(st.tuples(st.sampled_from(FLAGS), flag_values), max_size=4))
def test_any_flags_are_ok_or_a_clear_refusal(world: Path, pairs: list[tuple[str, str]]) -> None:
    argv = ["validate", "--target", "sw_hostile:ok", "--calls", "3", "--root", str(world)]
    for flag, value in pairs:
        argv += [flag, value]
    check_outcome(run_main(argv))


SET_KEYS = [*FIELDS, "watch.snapshot_every", "watch.files", "http.headers", "http.method", "processes.interval",
                     "matrix.size", "gates", "chaos", "cmd.shell", "a.b.c", "", ".", "calls.x"]  # fmt: skip


@FUZZ
@given(
    sets=st.lists(
        st.tuples(st.sampled_from(SET_KEYS), st.one_of(flag_values, values.map(lambda v: str(v)))), max_size=4
    )
)
def test_any_set_is_ok_or_a_clear_refusal(world: Path, sets: list[tuple[str, str]]) -> None:
    argv = ["validate", "--target", "sw_hostile:ok", "--calls", "3", "--root", str(world)]
    for key, value in sets:
        argv += ["--set", f"{key}={value}"]
    check_outcome(run_main(argv))


@pytest.mark.parametrize(
    "flags",
    [
        ["--timeout", "inf"], ["--timeout", "nan"], ["--rate", "inf"], ["--rate", "1e-300"], ["--calls", "0"],
        ["--duration", "1e400"], ["--concurrency", "0"], ["--set", "timeout=inf"], ["--set", "rate=nan"],
        ["--set", "calls=true"], ["--set", "name="], ["--set", 'target=""'], ["--target", ""], ["--set", "tick=0"],
        ["--set", "duration=10s"], ["--gate", "error_ratio <"], ["--set", "x.y=1"], ["--root", "/nonexistent/x"],
    ],
)  # fmt: skip
def test_known_bad_flags_are_refused_by_validate_and_run(world: Path, tmp_path: Path, flags: list[str]) -> None:
    base = ["--target", "sw_hostile:ok", "--calls", "3", "--root", str(world)]
    out = tmp_path / "runs"
    check_outcome(run_main(["validate", *base, *flags]), must_refuse=True)
    check_outcome(run_main(["run", *base, "--no-tui", "--out-dir", str(out), *flags]), must_refuse=True)
    assert not out.exists()


# ---------------------------------------------------------------- control-socket lines
json_like = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
lines = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda cmd, args, rid: {"cmd": cmd, "args": args, "id": rid}, json_like, json_like, json_like).map(
        lambda o: wire.encode(o)[:-1]
    ),
    st.integers(min_value=1, max_value=40_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b'{"cmd": "hello", "id": ' + b"7" * n + b"}"),
    st.sampled_from([b'{"cmd": "note", "args": {"action": "\\ud800"}}', b'{"cmd": "\xff"}', b"{" * 70 + b"}" * 70]),
)


@FUZZ
@given(line=lines)
def test_parse_request_answers_every_line(line: bytes) -> None:
    TALLY["inputs tried"] += 1
    try:
        req = wire.parse_request(line)
    except wire.ProtocolError as exc:
        assert str(exc)
        return
    req.cmd.encode("utf-8")  # whatever was accepted is safe to write anywhere
    for k in req.args:
        k.encode("utf-8")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ControlServer]:
    def handler(name: str, args: dict[str, Any], source: str = "socket") -> str:
        if name == "note":
            return f"noted: {args}"
        raise ValueError(f"unknown command {name!r}")

    srv = ControlServer(tmp_path, handler)
    srv.start()
    yield srv
    srv.close(grace=0.5)


def _reply(sock: socket.socket, buf: bytearray) -> dict[str, Any]:
    from soakwatch.config.safetext import loads_bounded

    while b"\n" not in buf:
        data = sock.recv(65536)
        assert data, "the server hung up"
        buf += data
    nl = buf.index(b"\n")
    line = bytes(buf[:nl])
    del buf[: nl + 1]
    obj = loads_bounded(line)
    assert isinstance(obj, dict)
    return obj


@FUZZ
@given(line=lines)
def test_the_control_thread_survives_every_line(server: ControlServer, line: bytes) -> None:
    TALLY["inputs tried"] += 1
    assert server.address is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(server.address))
        buf = bytearray()
        clean = line.replace(b"\n", b" ")
        sock.sendall(clean + b"\n")
        if clean.strip():
            assert isinstance(_reply(sock, buf).get("ok"), bool)
        sock.sendall(b'{"cmd": "hello", "id": "h"}\n')
        reply = _reply(sock, buf)
        while reply.get("id") != "h":
            reply = _reply(sock, buf)
        assert reply["ok"] is True
