"""Attack: run directories and secrets (issue 13, case 11; and case 6's read-only out dir).

Before the fix a profile ``name = "../../escape"`` created the run dir outside ``--out-dir``;
``run_config.json`` (0644 in a 0755 dir) held Authorization headers, env secrets and
``--set`` values for any local user to read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from soakwatch.core.redact import REDACTED, redact_argv
from tests.helpers import only_run_dir, run_cli

SECRETS = ["s3cret-bearer", "s3cret-key", "s3cret-env", "s3cret-set", "s3cret-cookie", "s3cret-url"]


def _profile(tmp_path: Path, name: str = "web", extra: str = "") -> Path:
    p = tmp_path / "p.toml"
    p.write_text(
        f'name = "{name}"\ntarget = "cmd:true"\ncalls = 3\n{extra}'
        '[http]\nheaders = { Authorization = "Bearer s3cret-bearer", X-Api-Key = "s3cret-key", '
        'Cookie = "sid=s3cret-cookie", Accept = "text/plain" }\n'
        '[cmd]\nenv = { DB_URL = "postgres://u:s3cret-env@db/x" }\n',
        encoding="utf-8",
    )
    return p


def test_a_name_cannot_put_the_run_dir_outside_the_out_dir(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "runs"
    res = run_cli(
        ["run", "--profile", str(_profile(tmp_path, "../../escape")), "--no-tui", "--out-dir", str(out)], sandbox
    )
    assert res.returncode == 0, res.stderr
    run_dir = only_run_dir(out)
    assert run_dir.parent == out and run_dir.name.startswith("escape-")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b"]  # nothing beside


def test_run_dir_is_private_and_holds_no_secret(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    sets = ["--set", "http.timeout=5", "--set", 'cmd.env={API_TOKEN="s3cret-set"}']
    args = ["run", "--profile", str(_profile(tmp_path)), "--no-tui", "--out-dir", str(out), *sets]
    res = run_cli(args, sandbox)
    assert res.returncode == 0, res.stderr
    run_dir = only_run_dir(out)
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700
    for path in run_dir.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in text, (path.name, secret)
    config = (run_dir / "run_config.json").read_text()
    assert '"Accept": "text/plain"' in config and f'"Authorization": "{REDACTED}"' in config
    assert f"cmd.env={REDACTED}" in config and "http.timeout=5" in config


def test_share_run_dir_makes_it_readable(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    prof = _profile(tmp_path, extra="share_run_dir = true\n")
    res = run_cli(["run", "--profile", str(prof), "--no-tui", "--out-dir", str(out)], sandbox)
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(only_run_dir(out).stat().st_mode) == 0o755


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_out_dir_is_exit_2_naming_it(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        res = run_cli(["run", "--target", "cmd:true", "--calls", "2", "--no-tui", "--out-dir", str(out)], sandbox)
    finally:
        out.chmod(0o700)
    assert res.returncode == 2 and str(out) in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_redact_argv() -> None:
    argv = ["run", "--set", "http.headers={Authorization='Bearer x'}", "--set=api_key=1", "--set", "calls=5"]
    argv += ["--target", "http://user:pw@127.0.0.1:1/x"]
    assert redact_argv(argv) == [
        "run", "--set", f"http.headers={REDACTED}", f"--set=api_key={REDACTED}", "--set", "calls=5",
        "--target", f"http://user:{REDACTED}@127.0.0.1:1/x",
    ]  # fmt: skip
