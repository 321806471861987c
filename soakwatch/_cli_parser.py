"""The argument parser of the ``soakwatch`` command line: its sub-commands, flags and value types."""

from __future__ import annotations

import argparse
import math
from typing import Any

from soakwatch.config.constants import METRICS_LINGER, METRICS_LINGER_MAX

__all__ = ["build_parser"]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {v}")
    return v


def _processes_arg(text: str) -> int | str:
    return "auto" if text.strip().lower() == "auto" else _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return v


def _seconds(text: str) -> float:
    """``30m``, ``500ms``, ``90`` as seconds; a usage error naming what is wrong otherwise."""
    from soakwatch.config.units import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> float:
    v = _seconds(text)
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite duration, got {text}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return v


def _linger_seconds(text: str) -> float:
    """A duration from 0 (no wait) to METRICS_LINGER_MAX seconds."""
    v = _seconds(text)
    if not (math.isfinite(v) and 0 <= v <= METRICS_LINGER_MAX):
        raise argparse.ArgumentTypeError(f"must be 0 to {METRICS_LINGER_MAX:g} seconds, got {text}")
    return v


def _add_metrics_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve the live series for Prometheus on this port (0: any free port; docs/prometheus/)",
    )
    p.add_argument("--metrics-addr", metavar="ADDR", help="address for --metrics-port (default 127.0.0.1)")
    p.add_argument(
        "--metrics-linger",
        type=_linger_seconds,
        default=METRICS_LINGER,
        metavar="SECONDS",
        help="with --metrics-port: serve the final values this long after the stage ends "
        f"(default {METRICS_LINGER:g}s; 0: no wait)",
    )


def _add_stage_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", metavar="NAME|PATH", help="built-in profile name or TOML file")
    p.add_argument(
        "--target", metavar="SPEC", help="module.path:function, http://host:port/path ([http] section) or cmd:COMMAND"
    )
    p.add_argument("--root", metavar="DIR", help="sandbox root, put on sys.path (default: current dir)")
    p.add_argument("--cases", metavar="FILE", help="JSONL file of cases, cycled, one per call")
    p.add_argument(
        "--allow-broad-root",
        action="store_true",
        default=None,
        help="allow / or your home as --root of a stage with file actions (refused otherwise)",
    )
    lim = p.add_mutually_exclusive_group()
    lim.add_argument("--calls", type=_positive_int, metavar="N", help="number of calls")
    lim.add_argument("--duration", type=_duration, metavar="30m", help="run for this long")
    p.add_argument("--concurrency", type=_positive_int, metavar="N", help="concurrent calls (closed model)")
    p.add_argument("--rate", type=_positive_float, metavar="PER_S", help="fixed arrival rate (open model)")
    p.add_argument("--timeout", type=_positive_float, metavar="SECONDS", help="per-call timeout")
    p.add_argument("--isolation", choices=["process", "inline"], help="where the target runs")
    p.add_argument(
        "--load-processes",
        type=_processes_arg,
        metavar="N|auto",
        help="HTTP targets: send the requests from N processes, the slots shared out between them "
        "(auto, the default: one per 16 slots on the usable cores but one)",
    )
    p.add_argument("--executor", choices=["local", "ray"], help="where the slots run: this machine or a Ray cluster")
    p.add_argument("--ray-address", metavar="ADDR", help="Ray cluster of --executor ray (default RAY_ADDRESS)")
    p.add_argument("--gate", action="append", default=[], metavar="RULE", help="add a fail gate")
    p.add_argument("--abort-on", action="append", default=[], metavar="RULE", help="add an abort gate")
    p.add_argument(
        "--chaos-plan", metavar="FILE", help="chaos actions from a TOML ([[chaos]]) or JSON file, added to the profile"
    )
    p.add_argument("--out-dir", metavar="DIR", help="where run directories go (default .soakwatch/runs)")
    p.add_argument("--no-tui", action="store_true", help="headless: status lines and a summary")
    # internal: run as the stage child of a TUI (soakwatch.views.launch); output goes to stage.log
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    _add_metrics_args(p)
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any profile field, e.g. --set watch.snapshot_every=50",
    )
    p.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="tag the run (run_config.json, summary, compare), e.g. --label model=real --label llm=mock",
    )
    p.add_argument("--seed", type=int, metavar="N", help="seed of the case order and soakwatch's randomness")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soakwatch",
        description="Run a stress, pressure or soak test stage, watch it live, judge it with gates, keep the evidence.",
        epilog="Exit codes: 0 passed, 1 a fail-gate failed, 2 bad invocation or profile, "
        "3 aborted by the operator, 130 interrupted.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run_commands(sub)
    _add_check_commands(sub)
    _add_compare_command(sub)
    _add_remote_commands(sub)
    _add_chaos_command(sub)
    _add_setup_commands(sub)
    return parser


def _add_run_commands(sub: Any) -> None:
    """run and demo (a stage, with the stage and detach flags), report (rebuilds a run's reports), profiles."""
    run = sub.add_parser("run", help="run a stage")
    _add_stage_args(run)
    demo = sub.add_parser("demo", help="a full stage against the built-in demo engine")
    _add_stage_args(demo)
    for p in (run, demo):
        _add_detach_args(p)
    rep = sub.add_parser("report", help="rebuild summary.json/.md and report.html from a run directory")
    rep.add_argument("run_dir", metavar="RUN_DIR")
    sub.add_parser("profiles", help="list the built-in profiles")


def _add_check_commands(sub: Any) -> None:
    """validate checks a stage without running it; sweep runs a matrix of stages."""
    val = sub.add_parser(
        "validate",
        help="check a profile and run's flags: every check `run` makes before it starts, nothing run",
        description="Check PROFILE (or --profile) with the same flags and the same checks as `soakwatch run`; "
        "exit 0 when run would start, 2 with the reason when it would refuse.",
    )
    val.add_argument("profile_arg", metavar="PROFILE", nargs="?")
    _add_stage_args(val)
    val.add_argument("--show", action="store_true", help="print the resolved profile (after extends and --set) as JSON")
    sw = sub.add_parser(
        "sweep",
        help="one stage per combination of the profile's [matrix]; scaling report and chart",
        description="Run a matrix sweep (docs/sweeps.md). "
        "Axes come from [matrix] in the profile or --set 'matrix.size=[1,2,4]'.",
    )
    _add_stage_args(sw)


def _add_compare_command(sub: Any) -> None:
    """compare: stages side by side, with tolerances."""
    cmp = sub.add_parser(
        "compare",
        help="stages side by side (Markdown or JSON); exit 1 on a regression beyond tolerance",
        description="Compare runs with the first one (docs/compare.md).",
    )
    cmp.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    cmp.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="KEY=AMOUNT,...",
        help="e.g. p95=10%%,error_ratio=0.5pp,rss_slope=5,gate=off (docs/compare.md)",
    )
    cmp.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    cmp.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    cmp.add_argument(
        "--html", metavar="FILE", help="also write the table and the runs' charts overlaid as one HTML page"
    )


def _add_chaos_command(sub: Any) -> None:
    """chaos: trigger an action on a running stage."""
    ch = sub.add_parser(
        "chaos",
        help="trigger a chaos action on a running stage",
        description="Trigger the chaos action ACTION (a name from the profile's [[chaos]] or --chaos-plan) "
        "on the stage running in RUN_DIR; without ACTION, list them. Exit 0 with the stage's answer, "
        "2 when it refused or no stage runs there.",
    )
    ch.add_argument("run_dir", metavar="RUN_DIR")
    ch.add_argument("action", metavar="ACTION", nargs="?")


def _add_setup_commands(sub: Any) -> None:
    """init, schema and selftest: scaffolding, the profile schema and the self-check."""
    ini = sub.add_parser(
        "init",
        help="write a commented, runnable profile: engine, topology, http, openai or sweep",
        description="Scaffold a profile of KIND into DIR (default: the current directory), with what it needs "
        "to run as it is against pieces that ship with soakwatch, and the JSON Schema for editors.",
    )
    ini.add_argument("kind", metavar="KIND", choices=["engine", "topology", "http", "openai", "sweep"])
    ini.add_argument("dir", metavar="DIR", nargs="?", default=".")
    ini.add_argument("--force", action="store_true", help="overwrite files that exist")
    ini.add_argument("--port", type=int, metavar="PORT", help="http/openai: the example service's port")
    sch = sub.add_parser(
        "schema",
        help="the JSON Schema of profiles (for editors), or the profile reference in Markdown",
        description="Print the JSON Schema of profile files (put '#:schema ./FILE' on a profile's first line "
        "for editors that read TOML schemas), or with --markdown the profile reference (docs/profile.md).",
    )
    sch.add_argument("--markdown", action="store_true", help="the reference of every section and field, in Markdown")
    st = sub.add_parser("selftest", help="short stages against built-in faulty targets: does every gate kind fire?")
    st.add_argument("--keep", metavar="DIR", help="keep the selftest run directories here")


def _add_detach_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detach",
        action="store_true",
        help="start the stage in the background, print its run dir and exit (docs/remote.md)",
    )
    p.add_argument(
        "--stop-on-hangup",
        action="store_true",
        help="stop the stage gracefully when the terminal hangs up (default: it goes on headless)",
    )


def _add_remote_commands(sub: Any) -> None:
    att = sub.add_parser(
        "attach",
        help="the TUI on a running stage (full control), or a replay of a finished one",
        description="Attach to the stage running in RUN_DIR; on a finished or crashed run, replay its "
        "timeline with a time cursor (docs/remote.md).",
    )
    att.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        nargs="?",
        help="the run directory; without it, the only or the most recent stage running on this box",
    )
    sub.add_parser("ps", help="list the stages running on this box")
    ctl = sub.add_parser(
        "ctl",
        help="send one command to a running stage (for scripts)",
        description="Send one command to the stage running in RUN_DIR; exit 0 with its answer, "
        "2 when it refused or no stage runs there.",
    )
    ctl.add_argument("run_dir", metavar="RUN_DIR")
    ctl.add_argument("ctl_command", metavar="COMMAND", help="pause, resume, abort, truncate, chaos, auto-abort")
    ctl.add_argument("ctl_args", nargs="*", metavar="ARG", help="chaos NAME; auto-abort on|off; truncate [FILE ...]")
