"""Folders are the architecture: the core never imports textual, --help stays light."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "soakwatch.cli",
    "soakwatch.stage",
    "soakwatch.views.headless",
    "soakwatch.core.reports",
    "soakwatch.targets.process_runner",
    "collectors",
    "gates",
    "soakwatch.demo",
    "soakwatch.config.profile",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_core_never_imports_textual() -> None:
    mods = _modules_after("\n".join(f"import {m}" for m in CORE))
    for lazy in ("textual", "httpx", "aiohttp"):
        assert lazy not in mods, lazy


def test_help_imports_no_heavy_libraries() -> None:
    code = "import sys\nfrom soakwatch.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    mods = _modules_after(code)
    for heavy in ("textual", "httpx", "pydantic", "numpy", "rich"):
        assert heavy not in mods, heavy


def test_worker_module_is_stdlib_only() -> None:
    mods = _modules_after("import soakwatch.targets.worker")
    for heavy in ("numpy", "pydantic", "textual", "psutil"):
        assert heavy not in mods, heavy
