"""Probes: run a command on a schedule and turn its output into series (``[[probe]]``).

The command runs with ``/bin/sh -c`` in the sandbox root (or the current directory),
in its own process group, so a run past its timeout is killed with everything it
started. Its standard output is parsed as JSON (the whole output, or else its last
non-empty line, for a script that prints one JSON line) or as Prometheus text
(``format`` chooses; ``auto`` tries JSON first). With ``fields``, each series reads a
dotted JSON path or a Prometheus selector; without, every top-level number or boolean
of the JSON (every unlabelled Prometheus sample) becomes a series named after its key
(at most :data:`AUTO_SERIES_MAX`).

Series: ``<field>[<name>]``, ``probe_ok[<name>]`` (1/0) and ``probe_ms[<name>]``; every
value is also kept in ``sources/<name>.csv``. A run that exits non-zero, times out or
prints nothing usable is a ``collector_error`` event carrying the exit code and the
tail of its stderr, and the verdict says so as a caveat ("probe lag.sh failed 3 of 40
runs"): a probe that failed is a collector that did not work.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from soakwatch.collectors._paths import MISSING, extract, to_number
from soakwatch.collectors._sampler import Sampler
from soakwatch.collectors._sources import SourceLog
from soakwatch.collectors.scrape import AUTO_SERIES_MAX, Selector, parse_prometheus, parse_selector
from soakwatch.config.collectors import ProbeConfig
from soakwatch.config.errors import UsageError
from soakwatch.core import platform as plat
from soakwatch.core.plugins import StageContext
from soakwatch.core.verdict import Verdict

__all__ = ["STDERR_TAIL", "ProbeCollector", "parse_output"]

#: characters of a failed run's stderr kept in its event and in the verdict
STDERR_TAIL = 400
#: characters of the last failure's reason on the verdict line (the event has the whole tail)
VERDICT_REASON = 120
#: longest output read from one run
OUTPUT_MAX = 1 << 20


def _json_values(doc: Any, fields: dict[str, str]) -> tuple[dict[str, float], list[str]]:
    if not fields:
        if not isinstance(doc, dict):
            raise ValueError("the JSON output is not an object: name its values with fields")
        auto: dict[str, float] = {}
        for key, value in doc.items():
            if isinstance(value, bool | int | float) and len(auto) < AUTO_SERIES_MAX:
                auto[str(key)] = float(value)
        return auto, []
    values: dict[str, float] = {}
    missing: list[str] = []
    for field, path in fields.items():
        raw = extract(doc, path)
        v = None if raw is MISSING else to_number(raw)
        if v is None:
            missing.append(field)
        else:
            values[field] = v
    return values, missing


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise ValueError("no output") from None
        return json.loads(lines[-1])


def parse_output(
    text: str, fmt: str, fields: dict[str, str], selectors: dict[str, Selector]
) -> tuple[dict[str, float], list[str]]:
    """Values per series from one run's output, and the fields it lacked; ValueError when unusable."""
    if fmt in ("auto", "json"):
        try:
            doc = _parse_json(text)
        except ValueError as exc:
            if fmt == "json":
                raise ValueError(f"not JSON: {exc}") from None
        else:
            return _json_values(doc, fields)
    values, missing = parse_prometheus(text, selectors)
    if not values and not missing:
        raise ValueError("neither JSON nor Prometheus samples in the output")
    return values, missing


def _tail(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return ("…" + text[-STDERR_TAIL:]) if len(text) > STDERR_TAIL else text


class ProbeCollector(Sampler):
    """One ``[[probe]]`` entry."""

    def __init__(self, cfg: ProbeConfig, cwd: Path | None = None) -> None:
        self.cfg = cfg
        self.name = f"probe:{cfg.name}"
        self.interval = cfg.every
        self.cwd = cwd
        self.selectors: dict[str, Selector] = {}
        self.runs = 0
        self.failed_runs = 0
        self.last_failure = ""

    def prepare(self, ctx: StageContext) -> None:
        super().prepare(ctx)
        if self.cfg.format == "json":
            return
        for field, sel in self.cfg.fields.items():
            try:
                self.selectors[field] = parse_selector(sel)
            except ValueError as exc:  # a dotted JSON path, in auto format: JSON only
                if self.cfg.format == "prometheus":
                    where = f"probe.{self.cfg.name}.fields.{field}"
                    raise UsageError(str(exc), field=where, value=sel) from None

    def start(self) -> None:
        self.log = SourceLog(self.ctx.run_dir, self.cfg.name)
        for field in self.cfg.fields:
            self.ctx.recorder.declare(f"{field}[{self.cfg.name}]")
        self.ctx.recorder.declare(f"probe_ok[{self.cfg.name}]")
        super().start()

    def _run(self) -> tuple[int | None, bytes, bytes]:
        """(exit code or None on timeout, stdout, stderr) of one run."""
        proc = subprocess.Popen(
            plat.shell_argv(self.cfg.command),
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            **plat.new_group_kwargs(),
        )
        try:
            out, err = proc.communicate(timeout=self.cfg.run_timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                plat.signal_group(proc.pid, plat.SIGKILL)
            out, err = proc.communicate()
            return None, out, err
        return proc.returncode, out[:OUTPUT_MAX], err

    def sample(self) -> None:
        name = self.cfg.name
        rec = self.ctx.recorder
        t0 = time.perf_counter()
        self.runs += 1
        try:
            code, out, err = self._run()
        except OSError as exc:
            return self._fail(f"cannot run: {exc}")
        rec.set(f"probe_ms[{name}]", (time.perf_counter() - t0) * 1000, "ms")
        if code is None:
            return self._fail(f"timeout after {self.cfg.run_timeout:g}s", stderr=_tail(err))
        if code != 0:
            tail = _tail(err)
            return self._fail(f"exit {code}" + (f": {tail}" if tail else ""), exit_code=code, stderr=tail)
        try:
            values, missing = parse_output(
                out.decode("utf-8", "replace"), self.cfg.format, self.cfg.fields, self.selectors
            )
        except Exception as exc:  # any parser complaint is unusable output, not a crash
            return self._fail(f"unusable output: {exc}", stderr=_tail(err))
        self.failures.ok("command")
        rec.set(f"probe_ok[{name}]", 1.0)
        for field, value in values.items():
            rec.set(f"{field}[{name}]", value)
        self.log.write(self.ctx.events.elapsed(), values)
        for field in missing:
            self.failures.failed(f"field {field}", "not in the output")
        for field in values:
            self.failures.ok(f"field {field}")

    def _fail(self, reason: str, **fields: object) -> None:
        self.failed_runs += 1
        self.last_failure = reason
        self.ctx.recorder.set(f"probe_ok[{self.cfg.name}]", 0.0)
        self.failures.failed("command", reason, command=self.cfg.command, **fields)

    def stop(self) -> None:
        super().stop()
        log = getattr(self, "log", None)
        if log is not None:
            log.close()

    def verdict(self) -> Verdict:
        if not self.failed_runs:
            return Verdict()
        why = (
            self.last_failure if len(self.last_failure) <= VERDICT_REASON else self.last_failure[:VERDICT_REASON] + "…"
        )
        return Verdict(caveats=(f"probe {self.cfg.name} failed {self.failed_runs} of {self.runs} runs ({why})",))
