"""The run directory: where a stage's evidence lives (DESIGN.md, "Run directory")."""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from soakwatch.config.errors import UsageError
from soakwatch.config.profile import Profile
from soakwatch.config.safetext import JsonRefused, loads_bounded
from soakwatch.core.events import utc_now
from soakwatch.core.redact import redact_argv, redact_obj, redact_profile

__all__ = ["create_run_dir", "read_run_config", "safe_dir_name", "update_run_config", "write_run_config"]

#: the longest stage name kept in a run directory's name
MAX_NAME = 64

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


def safe_dir_name(stage: str) -> str:
    """A stage name as one path component: letters, digits, ``._-`` only, at most 64 characters.

    ``"../../escape"`` becomes ``"escape"``; a name with nothing usable becomes ``"stage"``.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stage).strip("._-")[:MAX_NAME]
    return name or "stage"


def create_run_dir(base: Path, stage: str, share: bool = False) -> Path:
    """``base/<stage>-<UTC yyyymmddThhmmssZ>/``, with a suffix when that second is taken.

    The directory is always directly under ``base`` (the name is made safe first) and is
    private to its owner (0700) unless ``share`` (profile ``share_run_dir``) makes it 0755:
    it holds the target's errors and output. A base that cannot be written to is exit 2.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = safe_dir_name(stage)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create: {exc.strerror}", where="--out-dir", value=str(base)) from None
    if not os.access(base, os.W_OK | os.X_OK):
        raise UsageError("cannot write there (read-only or not ours)", where="--out-dir", value=str(base))
    mode = 0o755 if share else 0o700
    for n in range(1, 1000):
        path = base / (f"{name}-{stamp}" if n == 1 else f"{name}-{stamp}-{n}")
        try:
            path.mkdir(mode=mode)
        except FileExistsError:
            continue
        except OSError as exc:  # e.g. a read-only file system that os.access did not see
            raise UsageError(
                f"cannot create a run directory: {exc.strerror}", where="--out-dir", value=str(base)
            ) from None
        os.chmod(path, mode)  # exactly this, whatever the umask
        return path
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
    """run_config.json: the resolved profile (with its seed and labels), host, CPU, RAM, OS, Python,
    package versions and the git commit of the root; the target's packages are added by the stage."""
    config: dict[str, Any] = {
        "schema_version": 1,
        "started_at": utc_now(),
        "profile": redact_profile(profile.model_dump(mode="json", by_alias=True)),
        "seed": profile.seed,
        "labels": redact_obj(dict(profile.labels)),
        "resolved": {"root": str(root), "cases": str(cases) if cases else None, "run_dir": str(run_dir)},
        "host": host_facts(),
        "packages": _versions(),
        "root_git": redact_obj(git_state(root)),
        "argv": redact_argv(sys.argv),
        "pid": os.getpid(),
    }
    _write(run_dir, config)


def _write(run_dir: Path, config: dict[str, Any]) -> None:
    tmp = run_dir / "run_config.json.tmp"
    tmp.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, run_dir / "run_config.json")


def update_run_config(run_dir: Path, **fields: Any) -> None:
    """Add facts known only once the stage is prepared (e.g. ``target_packages``)."""
    config = read_run_config(run_dir)
    config.update(fields)
    _write(run_dir, config)


def host_facts() -> dict[str, Any]:
    """Where the run ran: host, OS, CPU model and cores, RAM, Python."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "os": _os_release() or f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": _physical_cores(),
        "ram_mb": _ram_mb(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
    }


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run_config.json"
    try:
        data = loads_bounded(path.read_bytes())
    except FileNotFoundError:
        raise UsageError("not a run directory (no run_config.json)", where=str(run_dir)) from None
    except OSError as exc:
        raise UsageError(f"cannot read run_config.json: {exc.strerror}", where=str(run_dir)) from None
    except JsonRefused as exc:
        raise UsageError(f"run_config.json: {exc}", where=str(run_dir)) from None
    if not isinstance(data, dict):
        raise UsageError("run_config.json is not an object", where=str(run_dir))
    return data


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _os_release() -> str | None:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip().strip('"')
    except OSError:
        pass
    return None


def _physical_cores() -> int | None:
    import psutil

    try:
        n: int | None = psutil.cpu_count(logical=False)
    except Exception:
        return None
    return n


def _ram_mb() -> int | None:
    import psutil

    try:
        return int(psutil.virtual_memory().total // (1 << 20))
    except Exception:
        return None


#: seconds each git question may take (a huge repository must not hold the start of a stage)
GIT_TIMEOUT = 5.0


def _git(root: Path, *args: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any] | None:
    """The commit of the repository holding ``root`` and whether tracked files differ from it;
    None when the root is not in a git repository (or git is not installed)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {
        "repository": top,
        "commit": _git(root, "rev-parse", "HEAD"),
        "branch": _git(root, "rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": None if status is None else bool(status),
    }
