"""Which distributions a target imported, and their versions (standard library only: workers use it).

Called with the module names loaded *before* the target was imported, so what is new is
the target's own: each new top-level module is mapped to its distribution with
``importlib.metadata.packages_distributions`` (a package installed, editable or found as
a ``*.dist-info`` on ``sys.path``), and a module that belongs to none (a local package in
the root) is listed under its own name with its ``__version__``, or ``unknown``.
"""

from __future__ import annotations

import sys
from importlib import metadata

__all__ = ["LOCAL_NO_VERSION", "imported_distributions"]

#: the version shown for a local module without a distribution or a __version__
LOCAL_NO_VERSION = "unknown (not an installed distribution)"
_SKIP = frozenset({"soakwatch", "__main__", "__mp_main__"})


def imported_distributions(before: set[str], target_module: str = "") -> dict[str, str]:
    """``{distribution or local module: version}`` of the top-level modules imported since ``before``
    (the target's own module is left out when it belongs to no distribution: the root's commit says it)."""
    tops = {name.partition(".")[0] for name in sys.modules if name not in before}
    tops -= set(sys.stdlib_module_names) | _SKIP
    if not tops:
        return {}
    try:
        owners = metadata.packages_distributions()
    except Exception:  # a broken metadata entry on sys.path must not stop the stage
        owners = {}
    out: dict[str, str] = {}
    for top in sorted(tops):
        dists = owners.get(top)
        if dists:
            for dist in dists:
                try:
                    out[dist] = metadata.version(dist)
                except Exception:
                    out[dist] = "unknown"
            continue
        if top.startswith("_") or top == target_module.partition(".")[0]:
            continue
        version = getattr(sys.modules.get(top), "__version__", None)
        out[top] = str(version) if version is not None else LOCAL_NO_VERSION
    return out
