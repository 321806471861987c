"""The sweep report's model: per-cell measurements and fitted scaling exponents.

Scaling exponent: for each measure *m* (throughput, latency p50/p95, memory) one least-
squares fit over every measured cell of

    log m = c + Σ b_a · log a  (+ one term per level of each non-numeric axis)

so ``b_a`` is the exponent in ``m ∝ a^b`` with the other axes held by their own terms.
Shapes, for the size of ``b``::

    b < -0.2          decreasing
    -0.2 ≤ b < 0.2    flat
    0.2 ≤ b < 0.8     sub-linear
    0.8 ≤ b ≤ 1.2     linear
    b > 1.2           super-linear

A numeric axis needs two or more values, all > 0, to get an exponent.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from soakwatch.config.matrix import MatrixValue

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile

__all__ = ["MEASURES", "CellResult", "Fit", "SweepReport", "build_report", "cell_memory", "fit_exponents", "shape_of"]

SCHEMA_VERSION = 1
FLAT_BELOW = 0.2
LINEAR_FROM, LINEAR_TO = 0.8, 1.2
#: measures fitted and charted: key → label with unit
MEASURES = {
    "throughput": "throughput (calls/s)",
    "p50_ms": "latency p50 (ms)",
    "p95_ms": "latency p95 (ms)",
    "rss_mb": "memory, RSS max (MB)",
}
#: cells shorter than this (seconds) get a note: start/stop overhead weighs on their throughput
SHORT_CELL_S = 3.0
#: the monitor's own subjects: never the target's memory when another subject has it
MONITOR = "monitor"
_OWN = re.compile(r"^(monitor|target|worker-\d+)$")


def cell_memory(procs: dict[str, dict[str, Any]]) -> tuple[float | None, str | None]:
    """A cell's memory, the target's own: its workers' sum (process isolation), else its nodes'
    and watched processes' sum, else (inline: the target runs in the monitor) the monitor's rise
    in the cell, from its first sample to its maximum. The monitor's level runs all the cells of
    a sweep and creeps with cell order, so it is never the figure itself.
    """
    target = _num((procs.get("target") or {}).get("rss_max_mb"))
    if target is not None:
        return target, "target"
    others = [v for n, p in procs.items() if not _OWN.match(n) and (v := _num(p.get("rss_max_mb"))) is not None]
    if others:
        return sum(others), "nodes and watched processes"
    mon = procs.get(MONITOR) or {}
    top, first = _num(mon.get("rss_max_mb")), _num(mon.get("rss_first_mb"))
    if top is not None and first is not None:
        return top - first, "monitor, rise in the cell (inline target)"
    return None, None


def shape_of(b: float) -> str:
    """The word for an exponent (module docstring)."""
    if b < -FLAT_BELOW:
        return "decreasing"
    if b < FLAT_BELOW:
        return "flat"
    if b < LINEAR_FROM:
        return "sub-linear"
    if b <= LINEAR_TO:
        return "linear"
    return "super-linear"


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    return float(v)


@dataclass
class CellResult:
    """What one cell measured, read from its run directory's summary."""

    index: int
    params: dict[str, MatrixValue]
    run_dir: str
    exit_code: int
    state: str
    calls: int
    error_ratio: float
    duration_s: float
    throughput: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    rss_mb: float | None
    rss_subject: str | None

    @classmethod
    def from_summary(
        cls, index: int, params: dict[str, MatrixValue], run_dir: Path, code: int, s: dict[str, Any]
    ) -> CellResult:
        lat = s.get("latency") or {}
        has_lat = bool(lat.get("count"))
        procs = {str(p.get("name")): p for p in ((s.get("sections") or {}).get("processes") or {}).get("list") or []}
        rss, subject = cell_memory(procs)
        return cls(
            index=index,
            params=dict(params),
            run_dir=str(run_dir),
            exit_code=code,
            state=str(s.get("state", "?")),
            calls=int(s.get("calls") or 0),
            error_ratio=float(s.get("error_ratio") or 0.0),
            duration_s=float(s.get("duration_s") or 0.0),
            throughput=_num(s.get("rate_avg")) if s.get("calls") else None,
            p50_ms=_num(lat.get("p50")) if has_lat else None,
            p95_ms=_num(lat.get("p95")) if has_lat else None,
            p99_ms=_num(lat.get("p99")) if has_lat else None,
            mean_ms=_num(lat.get("mean")) if has_lat else None,
            rss_mb=rss,
            rss_subject=subject,
        )

    def value(self, measure: str) -> float | None:
        v = getattr(self, measure)
        return v if isinstance(v, float) else None

    def line(self) -> str:
        """One progress line: the cell, its verdict and its headline numbers."""
        params = " ".join(f"{k}={v}" for k, v in self.params.items())
        tp = f"{self.throughput:.1f}/s" if self.throughput is not None else "—"
        p50 = f"p50 {self.p50_ms:.2f}ms" if self.p50_ms is not None else "p50 —"
        return f"{params}: {self.state} {self.calls} calls, {tp}, {p50}, errors {self.error_ratio:.2%}"


@dataclass(frozen=True)
class Fit:
    """The exponent of one measure against one axis."""

    measure: str
    axis: str
    exponent: float
    r2: float | None
    cells: int
    shape: str


@dataclass
class SweepReport:
    """The sweep: axes, cells, fits; rendered to sweep.json, sweep.md and sweep.svg."""

    name: str
    sweep_dir: str
    axes: dict[str, list[MatrixValue]]
    axis_kinds: dict[str, str]
    planned: int
    cells: list[CellResult]
    fits: list[Fit]
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.cells) == self.planned

    def fit(self, measure: str, axis: str) -> Fit | None:
        return next((f for f in self.fits if f.measure == measure and f.axis == axis), None)

    def headline(self) -> list[str]:
        """A few lines for the terminal: the exponents in words and where the report is."""
        lines = [f"sweep {self.name}: {len(self.cells)} of {self.planned} cells"]
        for f in self.fits:
            r2 = f", R² {f.r2:.2f}" if f.r2 is not None else ""
            lines.append(f"  {MEASURES[f.measure]} ∝ {f.axis}^{f.exponent:.2f}  ({f.shape}{r2})")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(f"  report: {Path(self.sweep_dir) / 'sweep.md'}")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "sweep_dir": self.sweep_dir,
            "complete": self.complete,
            "planned_cells": self.planned,
            "axes": [{"name": k, "values": v, "kind": self.axis_kinds[k]} for k, v in self.axes.items()],
            "cells": [asdict(c) for c in self.cells],
            "fits": [asdict(f) for f in self.fits],
            "shapes": {
                "flat_below": FLAT_BELOW,
                "linear_from": LINEAR_FROM,
                "linear_to": LINEAR_TO,
            },
            "notes": self.notes,
        }


def _numeric_axis(values: list[MatrixValue]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in values)


def fit_exponents(
    axes: dict[str, list[MatrixValue]], cells: list[CellResult], measure: str
) -> tuple[dict[str, float], float | None, int] | None:
    """({axis: exponent}, R² or None for an exact fit, cells used), or None when it cannot be fitted."""
    varying = {k: v for k, v in axes.items() if len(v) >= 2}
    numeric = [k for k, v in varying.items() if _numeric_axis(v)]
    if not numeric:
        return None
    points = [(c, y) for c in cells if (y := c.value(measure)) is not None and y > 0]
    columns: list[list[float]] = [[1.0] * len(points)]
    for k in numeric:
        columns.append([math.log(float(c.params[k])) for c, _ in points])
    for k, values in varying.items():
        if k in numeric:
            continue
        for level in values[1:]:
            columns.append([1.0 if c.params[k] == level else 0.0 for c, _ in points])
    n, p = len(points), len(columns)
    if n < p:
        return None
    x = np.array(columns, dtype=float).T
    y = np.log(np.array([v for _, v in points], dtype=float))
    coef, _res, rank, _sv = np.linalg.lstsq(x, y, rcond=None)
    if rank < p:
        return None
    r2: float | None = None
    if n > p:
        ss_res = float(np.sum((y - x @ coef) ** 2))
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return {k: float(coef[i + 1]) for i, k in enumerate(numeric)}, r2, n


def build_report(profile: Profile, sweep_dir: Path, cells: list[CellResult], planned: int) -> SweepReport:
    """Fit every measure against every numeric axis of the cells measured so far."""
    from soakwatch.config.matrix import split_params
    from soakwatch.config.profile import Profile as ProfileModel

    axes = {k: list(v) for k, v in profile.matrix.items()}
    prof, _ = split_params({k: v[0] for k, v in axes.items()}, ProfileModel.model_fields)
    kinds = {k: "profile" if k in prof else "target" for k in axes}
    notes = []
    for k, v in axes.items():
        if len(v) >= 2 and not _numeric_axis(v):
            notes.append(f"axis {k}: not all values are numbers > 0, so it has no exponent (fitted as levels)")
    fits: list[Fit] = []
    for measure in MEASURES:
        got = fit_exponents(axes, cells, measure)
        if got is None:
            continue
        exps, r2, n = got
        fits += [
            Fit(measure, axis, round(b, 4), None if r2 is None else round(r2, 4), n, shape_of(b))
            for axis, b in exps.items()
        ]
    short = [c for c in cells if 0 < c.duration_s < SHORT_CELL_S]
    if short:
        notes.append(
            f"{len(short)} cell(s) ran under {SHORT_CELL_S:g} s: their throughput (calls / stage duration) includes "
            "the stage's start and stop, so throughput exponents are rough; latency exponents are not affected"
        )
    if len(cells) < planned:
        notes.append(f"only {len(cells)} of {planned} cells ran: fits use the cells measured so far")
    return SweepReport(profile.name, str(sweep_dir), axes, kinds, planned, list(cells), fits, notes)
