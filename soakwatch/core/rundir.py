"""The run directory: where a stage's evidence lives (DESIGN.md, "Run directory")."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import Profile
from soakwatch.core.events import utc_now

__all__ = ["create_run_dir", "read_run_config", "write_run_config"]

PACKAGES = (
    "soakwatch",
    "pydantic",
    "rich",
    "textual",
    "psutil",
    "watchfiles",
    "httpx",
    "hdrhistogram",
    "numpy",
    "prometheus-client",
)


def create_run_dir(base: Path, stage: str) -> Path:
    """``base/<stage>-<UTC yyyymmddThhmmssZ>/``, with a suffix when that second is taken."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create: {exc.strerror}", where="--out-dir", value=str(base)) from None
    for n in range(1, 1000):
        path = base / (f"{stage}-{stamp}" if n == 1 else f"{stage}-{stamp}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise UsageError("no free run directory name", where="--out-dir", value=str(base))


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_run_config(run_dir: Path, profile: Profile, root: Path, cases: Path | None) -> None:
    """run_config.json: the resolved profile plus host, CPU, Python and package versions."""
    config: dict[str, Any] = {
        "schema_version": 1,
        "started_at": utc_now(),
        "profile": profile.model_dump(mode="json", by_alias=True),
        "resolved": {"root": str(root), "cases": str(cases) if cases else None, "run_dir": str(run_dir)},
        "host": {
            "hostname": platform.node(),
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
        },
        "packages": _versions(),
        "argv": sys.argv,
        "pid": os.getpid(),
    }
    (run_dir / "run_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError("not a run directory (no run_config.json)", where=str(run_dir)) from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"run_config.json is not JSON: {exc.msg}", where=str(run_dir)) from None
    if not isinstance(data, dict):
        raise UsageError("run_config.json is not an object", where=str(run_dir))
    return data
