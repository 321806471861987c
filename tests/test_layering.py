"""Folders are the architecture: declared layers hold, no import cycles, the core never imports textual.

The contracts themselves are in pyproject.toml ([tool.importlinter]) and `lint-imports`
runs in `make lint`; these tests show the contracts catch what they promise to catch
and that the installed package has no top-level `tui`, `gates`, ... of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

CORE = [
    "soakwatch.cli",
    "soakwatch.stage",
    "soakwatch.views.headless",
    "soakwatch.core.reports",
    "soakwatch.targets.process_runner",
    "soakwatch.collectors",
    "soakwatch.gates",
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
    for lazy in ("textual", "httpx", "aiohttp", "httptools"):
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


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_cycle_of_any_length() -> None:
    """Counting imports inside functions and under TYPE_CHECKING: a deferred import is still a dependency."""
    graph = grimp.build_graph("soakwatch", cache_dir=None)
    assert "soakwatch.tui.app" in graph.modules  # the symlinked folders are part of the picture
    assert _cycles(graph) == []


def test_few_modules_sit_directly_in_the_package() -> None:
    top = [p for p in (REPO / "soakwatch").glob("*.py")]
    assert len(top) <= 12, sorted(p.name for p in top)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_lower_layer_importing_a_higher_one_breaks_a_contract(tmp_path: Path) -> None:
    """A copy of the tree (symlinked folders followed), once as it is and once with tui/ importing the stage."""
    tree = tmp_path / "tree"
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "soakwatch", tree / "soakwatch", symlinks=False, ignore=skip)
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    kept = _lint_imports(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "3 kept, 0 broken" in kept.stdout
    widget = tree / "soakwatch" / "tui" / "widgets" / "rate.py"
    widget.write_text(widget.read_text() + "\nfrom soakwatch.stage import Stage  # deliberate violation\n")
    broken = _lint_imports(tree)
    assert broken.returncode == 1
    assert "soakwatch.tui is not allowed to import soakwatch.stage" in broken.stdout
    assert "soakwatch.tui.widgets.rate -> soakwatch.stage" in broken.stdout


@pytest.mark.e2e
def test_the_wheel_installs_tui_inside_the_package_only(tmp_path: Path) -> None:
    src = tmp_path / "src"  # a copy, so that the build leaves nothing in the checkout
    junk = shutil.ignore_patterns(".venv", ".git", "__pycache__", "build", "*.egg-info", ".soakwatch", "tests")
    shutil.copytree(REPO, src, symlinks=True, ignore=junk)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*build, str(src), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("soakwatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"soakwatch", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    assert "soakwatch/tui/app.tcss" in names and "soakwatch/profiles/demo.toml" in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import soakwatch.tui.app, soakwatch.gates, soakwatch.collectors\n"
        "assert soakwatch.tui.app.__file__.startswith(sys.argv[1]), soakwatch.tui.app.__file__\n"
        "for name in ('tui', 'gates', 'collectors', 'profiles'):\n"
        "    try:\n"
        "        __import__(name)\n"
        "    except ModuleNotFoundError:\n"
        "        continue\n"
        "    raise SystemExit(f'{name} imports')\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code, str(site)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.stdout.strip() == "ok", out.stdout + out.stderr
