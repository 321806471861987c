"""The ``[matrix]`` section of a profile: axes, their combinations, and where each value goes.

A matrix maps an axis name to the list of values it takes; a sweep runs one stage per
combination (the cartesian product, in the order the axes are written). An axis whose
name is a profile field (``concurrency``, ``rate``, ``calls``, ``timeout``, ...) or a
dotted path into one (``"watch.snapshot_every"``) overrides that field for the cell.
Any other axis is a *parameter* of the target: merged into every case (a JSON object)
and exported as ``SOAKWATCH_PARAM_<NAME>`` (upper case, non-alphanumerics as ``_``) to
the stage's process and its workers.

Pure functions only: no profile import (the profile model imports this module).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "ENV_PREFIX",
    "MAX_AXIS_VALUES",
    "MAX_CELLS",
    "MatrixValue",
    "cell_id",
    "cells",
    "check_matrix",
    "env_name",
    "split_params",
]

MatrixValue = int | float | str | bool

#: values one axis may take; a sweep is a study, not a fuzzer
MAX_AXIS_VALUES = 50
#: combinations a sweep may run (each is a whole stage with its own run directory)
MAX_CELLS = 500
ENV_PREFIX = "SOAKWATCH_PARAM_"
#: profile fields a matrix may not sweep: they name the sweep itself
RESERVED = frozenset({"name", "description", "matrix"})

_AXIS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_matrix(matrix: Mapping[str, Sequence[MatrixValue]]) -> None:
    """Raise ValueError naming the axis when the matrix cannot be swept."""
    total = 1
    for name, values in matrix.items():
        if not _AXIS.match(name):
            raise ValueError(f"matrix axis {name!r}: expected a name like size or watch.snapshot_every")
        if name in RESERVED:
            raise ValueError(f"matrix axis {name!r}: the sweep's {name} cannot be swept")
        if not values:
            raise ValueError(f"matrix axis {name!r}: needs at least one value")
        if len(values) > MAX_AXIS_VALUES:
            raise ValueError(f"matrix axis {name!r}: {len(values)} values, at most {MAX_AXIS_VALUES}")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"matrix axis {name!r}: repeated values in {list(values)!r}")
        total *= len(values)
    if total > MAX_CELLS:
        raise ValueError(f"matrix has {total} combinations, at most {MAX_CELLS}")


def cells(matrix: Mapping[str, Sequence[MatrixValue]]) -> list[dict[str, MatrixValue]]:
    """Every combination, first axis slowest, as ``{axis: value}``."""
    names = list(matrix)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(matrix[n] for n in names))]


def split_params(
    params: Mapping[str, MatrixValue], profile_fields: Iterable[str]
) -> tuple[dict[str, MatrixValue], dict[str, MatrixValue]]:
    """(profile overrides, target parameters) of one cell."""
    fields = set(profile_fields)
    overrides: dict[str, MatrixValue] = {}
    target: dict[str, MatrixValue] = {}
    for name, value in params.items():
        (overrides if name.split(".", 1)[0] in fields else target)[name] = value
    return overrides, target


def env_name(axis: str) -> str:
    """``latency_ms`` → ``SOAKWATCH_PARAM_LATENCY_MS``."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", axis).upper()


def cell_id(params: Mapping[str, MatrixValue]) -> str:
    """A short name for a cell, safe in a directory name: ``concurrency2-size4``."""
    parts = []
    for name, value in params.items():
        short = name.rsplit(".", 1)[-1]
        parts.append(re.sub(r"[^A-Za-z0-9_.]+", "_", f"{short}{value}"))
    return "-".join(parts)[:120] or "cell"
