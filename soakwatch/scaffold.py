"""``soakwatch init KIND [DIR]``: a commented, runnable profile for each kind of user in the design.

Kinds (templates in ``soakwatch/profiles/templates/<kind>/``, shipped with the package)::

    engine     a Python callable with a state folder: watched logs, snapshot Δ, size policies, DAG unchanged
    topology   supervised nodes with JSON epoch reports, stall/lag/monotonic/invariant/ratio gates, chaos
    http       an HTTP service, started as a node, with /metrics and /health scraped
    openai     an OpenAI-compatible model server (the openai-chat preset), /metrics and /health scraped
    sweep      a matrix over concurrency and a target parameter

Each scaffold runs as it is against pieces that ship with soakwatch (the demo engine, the example
node and chat service), so a new user starts from a passing stage and changes one thing at a time.
Beside the profile goes ``soakwatch.schema.json``, named on the profile's first line
(``#:schema``) for editors. Existing files are never overwritten without ``--force``.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from soakwatch.config.errors import UsageError

__all__ = ["KINDS", "SCHEMA_FILE", "scaffold"]

KINDS = ("engine", "topology", "http", "openai", "sweep")
SCHEMA_FILE = "soakwatch.schema.json"
#: the example service's port written in the http and openai templates (--port replaces it)
TEMPLATE_PORTS = {"http": 8765, "openai": 8766}


def _template_files(kind: str) -> dict[str, str]:
    folder = resources.files("soakwatch.profiles").joinpath("templates", kind)
    return {f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.is_file()}


def _planned(kind: str, port: int | None) -> dict[str, str]:
    from soakwatch.config.schema import profile_schema

    files = _template_files(kind)
    if port is not None:
        if kind not in TEMPLATE_PORTS:
            raise UsageError(f"only http and openai scaffolds start a service (got {kind})", where="--port")
        old = str(TEMPLATE_PORTS[kind])
        files = {name: text.replace(old, str(port)) for name, text in files.items()}
    files[SCHEMA_FILE] = json.dumps(profile_schema(), indent=2) + "\n"
    return files


def scaffold(kind: str, folder: Path, *, force: bool = False, port: int | None = None) -> list[Path]:
    """Write the ``kind`` scaffold into ``folder``; the paths written, the profile first."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})", where="init")
    files = _planned(kind, port)
    if kind == "engine":
        from soakwatch.demo import PROMPTS

        files["cases.jsonl"] = "".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS)
    taken = sorted(name for name in files if (folder / name).exists())
    if taken and not force:
        raise UsageError(f"would overwrite {', '.join(taken)} (use --force)", where="init", value=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    profile = f"{kind}.toml"
    written = []
    for name in sorted(files, key=lambda n: (n != profile, n)):
        (folder / name).write_text(files[name], encoding="utf-8")
        written.append(folder / name)
    if kind == "engine":  # the demo engine's state folder and the DAG it must leave alone
        from soakwatch.demo import prepare_sandbox

        prepare_sandbox(folder)
    return written


def next_steps(kind: str, folder: Path) -> str:
    """What to type next, for the message ``init`` prints."""
    command = "sweep" if kind == "sweep" else "run"
    return (
        f"next: cd {folder} && soakwatch validate {kind}.toml && soakwatch {command} --profile {kind}.toml\n"
        "every field: docs/profile.md (or `soakwatch schema --markdown`)"
    )
