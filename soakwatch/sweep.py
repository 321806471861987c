"""``soakwatch sweep``: one stage per combination of a profile's ``[matrix]``, and a sweep report.

A sweep directory (default ``.soakwatch/sweeps/sweep-<name>-<UTC>/``) holds
``cells/<name>-<cell>-<UTC>/`` (an ordinary run directory per combination, so
``soakwatch report`` and ``soakwatch compare`` work on each), ``sweep.json``,
``sweep.md``, ``sweep.svg`` and ``sweep.html`` (written again after every cell, so a sweep stopped
half-way still has its report).

Cells run one after another in this process with :class:`soakwatch.stage.Stage`, each
with the profile's fields overridden by its profile axes and its target parameters
merged into the cases and exported as ``SOAKWATCH_PARAM_<NAME>``
(:mod:`soakwatch.config.matrix`). A cell that fails a gate is measured like any other; the
sweep goes on. Ctrl-C stops the current cell gracefully and ends the sweep (exit 130).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soakwatch.analysis.sweep_model import CellResult, SweepReport, build_report
from soakwatch.analysis.sweep_report import write_report
from soakwatch.config.constants import EXIT_ABORTED, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from soakwatch.config.errors import UsageError
from soakwatch.config.matrix import MatrixValue, cell_id, cells, env_name, split_params
from soakwatch.config.overrides import override
from soakwatch.config.profile import Profile, validate_profile
from soakwatch.core.redact import redact_profile
from soakwatch.core.rundir import create_run_dir
from soakwatch.views.html.sweep import write_sweep_report

__all__ = ["Cell", "Sweep", "plan_cells", "run_sweep"]

DEFAULT_OUT = Path(".soakwatch") / "sweeps"


@dataclass(frozen=True)
class Cell:
    """One combination: its values, the stage profile it runs, and what the target is given."""

    index: int
    params: dict[str, MatrixValue]
    profile: Profile
    target_params: dict[str, MatrixValue]


def plan_cells(profile: Profile) -> list[Cell]:
    """Every cell's profile, validated before anything runs (a bad value is exit 2)."""
    if not profile.matrix:
        raise UsageError(
            "no [matrix] section: a sweep needs axes, e.g. [matrix] concurrency = [1, 2, 4]", where=profile.name
        )
    base = profile.model_dump(mode="json", by_alias=True)
    base["matrix"] = {}
    out = []
    for i, params in enumerate(cells(profile.matrix)):
        overrides, target = split_params(params, Profile.model_fields)
        data = json.loads(json.dumps(base))
        for key, value in overrides.items():
            override(data, key, value)
        data["name"] = f"{profile.name}-{cell_id(params)}"
        where = f"[matrix] cell {', '.join(f'{k}={v!r}' for k, v in params.items())}"
        out.append(Cell(i, params, validate_profile(data, where), target))
    return out


def _merge_cases(cases: list[Any] | None, params: Mapping[str, MatrixValue], where: str) -> list[Any]:
    if not cases:
        return [dict(params)]
    merged = []
    for n, case in enumerate(cases, start=1):
        if not isinstance(case, dict):
            raise UsageError(
                f"case {n} is not a JSON object, so matrix parameters cannot be merged into it", where=where
            )
        merged.append({**case, **params})
    return merged


@contextmanager
def _environment(params: Mapping[str, MatrixValue]) -> Iterator[None]:
    """``SOAKWATCH_PARAM_<NAME>`` for the length of one cell (workers inherit it when spawned)."""
    saved = {env_name(k): os.environ.get(env_name(k)) for k in params}
    for k, v in params.items():
        os.environ[env_name(k)] = json.dumps(v) if not isinstance(v, str) else v
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


@contextmanager
def _own_signals() -> Iterator[None]:
    """A stage installs its own SIGINT/SIGTERM handlers; between cells the sweep's apply again."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)


class Sweep:
    """Runs the cells of a matrix profile and keeps the sweep report current."""

    def __init__(
        self,
        profile: Profile,
        *,
        out_dir: Path | None = None,
        cwd: Path | None = None,
        on_stage: Callable[[Any], None] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.profile = profile
        self.cwd = (cwd or Path.cwd()).resolve()
        self.cells = plan_cells(profile)
        self.out_dir = out_dir or self.cwd / DEFAULT_OUT
        self.on_stage = on_stage
        self.echo = echo
        self.results: list[CellResult] = []
        self.sweep_dir: Path | None = None

    def run(self) -> int:
        """Run every cell; returns 0 when all passed, 1 when one failed, 3 aborted, 130 interrupted."""
        self.sweep_dir = create_run_dir(self.out_dir, f"sweep-{self.profile.name}")
        (self.sweep_dir / "sweep_profile.json").write_text(
            json.dumps(redact_profile(self.profile.model_dump(mode="json", by_alias=True)), indent=2) + "\n",
            encoding="utf-8",
        )
        axes = ", ".join(f"{k} × {len(v)}" for k, v in self.profile.matrix.items())
        self.echo(f"soakwatch: sweep {self.profile.name}: {len(self.cells)} cells ({axes}) → {self.sweep_dir}")
        code = EXIT_OK
        try:
            for cell in self.cells:
                result = self._run_cell(cell)
                self.results.append(result)
                self._write(chart=False)
                self.echo(f"  [{cell.index + 1}/{len(self.cells)}] {result.line()}")
                if result.exit_code == EXIT_INTERRUPTED:
                    code = EXIT_INTERRUPTED
                    break
                if result.exit_code == EXIT_FAILED:
                    code = EXIT_FAILED
                elif result.exit_code == EXIT_ABORTED and code == EXIT_OK:
                    code = EXIT_ABORTED
        except KeyboardInterrupt:  # between two cells: nothing is running to stop gracefully
            code = EXIT_INTERRUPTED
        report = self._write()
        for line in report.headline():
            self.echo(line)
        return code

    def _write(self, chart: bool = True) -> SweepReport:
        assert self.sweep_dir is not None
        report = build_report(self.profile, self.sweep_dir, self.results, planned=len(self.cells))
        write_report(report, self.sweep_dir, chart=chart)
        write_sweep_report(report.to_json(), self.sweep_dir)
        return report

    def _run_cell(self, cell: Cell) -> CellResult:
        from soakwatch.analysis.compare import load_summary
        from soakwatch.sections import REPORT_SECTIONS
        from soakwatch.stage import Stage

        assert self.sweep_dir is not None
        stage = Stage(cell.profile, out_dir=self.sweep_dir / "cells", cwd=self.cwd)
        if cell.target_params:
            where = str(stage.cases_path) if stage.cases_path else "[matrix]"
            stage.cases = _merge_cases(stage.cases, cell.target_params, where)
        with _environment(cell.target_params), _own_signals():
            run_dir = stage.prepare()
            _record_params(run_dir, cell.params)
            if self.on_stage is not None:
                self.on_stage(stage)
            stage.install_signal_handlers()
            code = stage.run()
        summary, _ = load_summary(run_dir, REPORT_SECTIONS)
        return CellResult.from_summary(cell.index, cell.params, run_dir, code, summary)


def _record_params(run_dir: Path, params: Mapping[str, MatrixValue]) -> None:
    """The cell's matrix parameters in its run_config.json (``matrix_params``), beside the resolved profile."""
    path = run_dir / "run_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    config["matrix_params"] = dict(params)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def run_sweep(profile: Profile, out_dir: str | None, metrics_addr: str | None, metrics_port: int | None) -> int:
    """The ``sweep`` command: run the cells, print one line each and where the report is."""
    from soakwatch.views.prometheus import start_exporter

    sweep = Sweep(profile, out_dir=Path(out_dir).resolve() if out_dir else None)
    exporter = start_exporter(metrics_addr, metrics_port)
    if exporter is not None:
        sweep.on_stage = exporter.attach
    try:
        return sweep.run()
    finally:
        if exporter is not None:
            exporter.close()
