"""soakwatch: run a stress, pressure or soak test stage, watch it live, judge it, keep the evidence.

The public API for targets is ``from soakwatch import phase, record`` (see
:mod:`soakwatch._calldata`). Worker processes import this package beside the target,
so it imports only the standard library; everything else is exported lazily through
the module ``__getattr__``. The core package never imports textual; ``tui/`` depends
on it, never the reverse.
"""

from __future__ import annotations

import importlib
from typing import Any

from soakwatch._calldata import phase, record

__all__ = ["Profile", "Verdict", "__version__", "load_profile", "phase", "record"]

__version__ = "0.1.0"

#: names exported on first use, with the module that defines them (importing them costs pydantic)
_LAZY = {
    "Profile": "soakwatch.config.profile",
    "load_profile": "soakwatch.config.profile",
    "Verdict": "soakwatch.core.verdict",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'soakwatch' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
