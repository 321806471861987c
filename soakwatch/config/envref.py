"""``${NAME}`` references to environment variables in header values (secrets kept out of profiles).

A profile says ``headers = { Authorization = "Bearer ${SLM_API_KEY}" }`` for an HTTP target or a
``[[scrape]]``; the profile (and so ``run_config.json``) keeps the reference, and the value is
read from the environment when the stage starts. A reference to a variable that is not set is a
usage error (exit 2) naming the profile file, the field and the variable, found when the profile
is validated, before a run directory exists. The values read are secrets: the caller hands them to
:func:`soakwatch.core.redact.note_secret` so that no writer records them.

No escaping: every ``${NAME}`` (letters, digits and ``_``, not starting with a digit) is a reference.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from soakwatch.config.errors import UsageError

__all__ = ["ENV_REF", "check_env_refs", "env_names", "expand_env"]

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def env_names(text: str) -> list[str]:
    """The variables ``text`` refers to, in order."""
    return ENV_REF.findall(text)


def expand_env(text: str, environ: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """``text`` with every ``${NAME}`` replaced by its value, and the values used.

    Raises ``KeyError(NAME)`` for a variable that is not set (checked earlier by :func:`check_env_refs`).
    """
    env = os.environ if environ is None else environ
    used: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = env[m.group(1)]
        used.append(value)
        return value

    return ENV_REF.sub(sub, text), used


def check_env_refs(
    fields: Iterable[tuple[str, Mapping[str, str]]], where: str, environ: Mapping[str, str] | None = None
) -> None:
    """Exit 2 for the first ``${NAME}`` in ``fields`` (field prefix, headers) whose variable is not set."""
    env = os.environ if environ is None else environ
    for prefix, headers in fields:
        for name, value in headers.items():
            for var in env_names(value):
                if var not in env:
                    raise UsageError(
                        f"environment variable {var} is not set (the value is read from ${{{var}}}; "
                        f"export {var}=... before the run)",
                        where=where,
                        field=f"{prefix}.{name}",
                    )
