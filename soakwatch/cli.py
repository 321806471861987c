"""The ``soakwatch`` command line.

Imports stay lazy: ``--help``, ``profiles`` and headless runs never import textual
or HTTP clients, and pydantic only when a profile is read.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from soakwatch.config.constants import EXIT_USAGE

__all__ = ["build_parser", "main"]


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {v}")
    return v


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


def _duration(text: str) -> float:
    from soakwatch.config.units import parse_duration

    try:
        v = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be a finite duration, got {text}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return v


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
    p.add_argument("--gate", action="append", default=[], metavar="RULE", help="add a fail gate")
    p.add_argument("--abort-on", action="append", default=[], metavar="RULE", help="add an abort gate")
    p.add_argument(
        "--chaos-plan", metavar="FILE", help="chaos actions from a TOML ([[chaos]]) or JSON file, added to the profile"
    )
    p.add_argument("--out-dir", metavar="DIR", help="where run directories go (default .soakwatch/runs)")
    p.add_argument("--no-tui", action="store_true", help="headless: status lines and a summary")
    # internal: run as the stage child of a TUI (soakwatch.views.launch); output goes to stage.log
    p.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve the live series for Prometheus on this port (0: any free port; docs/prometheus/)",
    )
    p.add_argument("--metrics-addr", metavar="ADDR", help="address for --metrics-port (default 127.0.0.1)")
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
    run = sub.add_parser("run", help="run a stage")
    _add_stage_args(run)
    demo = sub.add_parser("demo", help="a full stage against the built-in demo engine")
    _add_stage_args(demo)
    for p in (run, demo):
        _add_detach_args(p)
    rep = sub.add_parser("report", help="rebuild summary.json/.md and report.html from a run directory")
    rep.add_argument("run_dir", metavar="RUN_DIR")
    sub.add_parser("profiles", help="list the built-in profiles")
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
    _add_remote_commands(sub)
    ch = sub.add_parser(
        "chaos",
        help="trigger a chaos action on a running stage",
        description="Trigger the chaos action ACTION (a name from the profile's [[chaos]] or --chaos-plan) "
        "on the stage running in RUN_DIR; without ACTION, list them. Exit 0 with the stage's answer, "
        "2 when it refused or no stage runs there.",
    )
    ch.add_argument("run_dir", metavar="RUN_DIR")
    ch.add_argument("action", metavar="ACTION", nargs="?")
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
    return parser


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


def _gate_dicts(args: argparse.Namespace) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    if args.gate or args.abort_on:
        from soakwatch.gates import rule_from_cli

        rules += [rule_from_cli(text, abort=False, where="--gate") for text in args.gate]
        rules += [rule_from_cli(text, abort=True, where="--abort-on") for text in args.abort_on]
    return rules


def _label_sets(labels: list[str]) -> list[str]:
    """``--label k=v`` as ``--set labels.k="v"`` (a label value is always text)."""
    import json

    from soakwatch.config.errors import UsageError

    out = []
    for item in labels:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not all(c.isalnum() or c in "_-" for c in key.strip()):
            raise UsageError("expected KEY=VALUE with a key of letters, digits, _ or -", where="--label", value=item)
        out.append(f"labels.{key.strip()}={json.dumps(value.strip())}")
    return out


def _load(args: argparse.Namespace, default_profile: str | None = None) -> Any:
    from soakwatch.config.profile import load_profile

    overrides = {
        "target": args.target,
        "root": args.root,
        "cases": args.cases,
        "calls": args.calls,
        "duration": args.duration,
        "concurrency": args.concurrency,
        "rate": args.rate,
        "timeout": args.timeout,
        "isolation": args.isolation,
        "seed": getattr(args, "seed", None),
        "allow_broad_root": args.allow_broad_root,
    }
    chaos: list[dict[str, Any]] = []
    if getattr(args, "chaos_plan", None):
        from soakwatch.config.chaos import load_chaos_plan

        chaos = load_chaos_plan(Path(args.chaos_plan))
    sets = [*args.set, *_label_sets(getattr(args, "label", []))]
    profile = load_profile(args.profile or default_profile, overrides, sets, _gate_dicts(args), chaos)
    if profile.gates:
        from soakwatch.gates import check_rules

        check_rules(profile)  # a bad rule is exit 2 before a run directory exists
    return profile


def _run_stage(args: argparse.Namespace, profile: Any) -> int:
    from soakwatch.core.reports import build_summary
    from soakwatch.sections import REPORT_SECTIONS
    from soakwatch.stage import Stage
    from soakwatch.views.headless import HeadlessView, render_summary
    from soakwatch.views.prometheus import start_exporter

    stage = Stage(profile, out_dir=Path(args.out_dir).resolve() if args.out_dir else None)
    exporter = start_exporter(args.metrics_addr, args.metrics_port)  # a taken port: exit 2 before anything runs
    run_dir = stage.prepare()
    if exporter is not None:
        exporter.attach(stage)
    # the view writes in a thread of its own: a reader that stops reading never holds up the stage
    view = HeadlessView(profile.status_every, on_drop=lambda n: _note_dropped(stage, n))
    stage.subscribers.append(view)
    view.print(f"soakwatch: stage {profile.name} → {run_dir}")
    if args.ready_fd is not None:
        from soakwatch.views.spawn import write_ready

        write_ready(run_dir, args.ready_fd)
    stage.install_signal_handlers(stop_on_hangup=getattr(args, "stop_on_hangup", False))
    try:
        code = stage.run()
    finally:
        if exporter is not None:
            exporter.close()
    view.print(render_summary(build_summary(run_dir, REPORT_SECTIONS), sys.stdout.isatty()))
    view.close()  # a bounded wait: with nobody reading, the summary is in the run dir all the same
    return code


def _note_dropped(stage: Any, n: int) -> None:
    stage.events.emit(
        "output_dropped",
        f"standard output is not being read: {n} status line(s) dropped so far (the stage goes on)",
        "warn",
        dropped=n,
    )


def _tui_wanted(args: argparse.Namespace) -> bool:
    from soakwatch.views.launch import wants_tui

    return args.ready_fd is None and wants_tui(args.no_tui)


def _run_in_tui(args: argparse.Namespace, profile: Any) -> int:
    """The stage in a child process, the TUI here (DESIGN.md: never in one process)."""
    from soakwatch.sections import REPORT_SECTIONS
    from soakwatch.views.launch import run_with_tui

    return run_with_tui(args.argv, profile, REPORT_SECTIONS, stop_on_hangup=args.stop_on_hangup)


def _detach_wanted(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "detach", False)) and args.ready_fd is None  # the stage child itself runs here


def cmd_run(args: argparse.Namespace) -> int:
    profile = _load(args)
    if profile.matrix:
        from soakwatch.config.errors import UsageError

        raise UsageError("this profile has a [matrix]: run it with `soakwatch sweep`", where="--profile")
    if _detach_wanted(args):
        from soakwatch.views.detach import run_detached

        return run_detached(args.argv)
    if _tui_wanted(args):
        return _run_in_tui(args, profile)
    return _run_stage(args, profile)


def cmd_demo(args: argparse.Namespace) -> int:
    from soakwatch.demo import prepare_sandbox

    if _detach_wanted(args):  # the stage child prepares the sandbox
        from soakwatch.views.detach import run_detached

        _load(args, default_profile="demo")  # a bad flag or profile is exit 2 here, before anything starts
        return run_detached(args.argv)
    if _tui_wanted(args):  # the stage child prepares the sandbox
        return _run_in_tui(args, _load(args, default_profile="demo"))
    if args.root is None:
        args.root = str(prepare_sandbox())
        print(f"soakwatch: demo sandbox {args.root}", flush=True)
    profile = _load(args, default_profile="demo")
    return _run_stage(args, profile)


def cmd_report(args: argparse.Namespace) -> int:
    from soakwatch.core.reports import build_summary, write_reports
    from soakwatch.sections import REPORT_SECTIONS
    from soakwatch.views.headless import print_summary

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        from soakwatch.config.errors import UsageError

        raise UsageError("no such run directory", where="report", value=args.run_dir)
    from soakwatch.views.html import write_run_report

    paths = write_reports(run_dir, REPORT_SECTIONS)
    paths.append(write_run_report(run_dir, REPORT_SECTIONS))
    print_summary(build_summary(run_dir, REPORT_SECTIONS))
    for p in paths:
        print(f"wrote {p}")
    return 0


def cmd_profiles(args: argparse.Namespace) -> int:
    import tomllib

    from soakwatch.config.builtin import builtin_profiles

    for name, path in builtin_profiles().items():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        desc = data.get("description", "")
        size = f"{data['calls']} calls" if "calls" in data else f"{data.get('duration', '?')}"
        print(f"{name:<16} {size:<12} {desc}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """run's checks without running: the profile, the flags, the gates, root, target and cases."""
    from soakwatch.stage import Stage

    if args.profile_arg and args.profile and args.profile_arg != args.profile:
        from soakwatch.config.errors import UsageError

        raise UsageError("give the profile once (PROFILE or --profile)", where="validate", value=args.profile_arg)
    args.profile = args.profile or args.profile_arg
    profile = _load(args)
    if profile.target is not None or not profile.nodes:
        Stage(profile, out_dir=Path(args.out_dir).resolve() if args.out_dir else None).preflight()
    out = sys.stderr if args.show else sys.stdout
    if args.show:
        import json

        print(json.dumps(profile.model_dump(mode="json", by_alias=True), indent=2))
    print(f"{args.profile or 'command line'}: ok ({profile.name})", file=out)
    from soakwatch.collectors.reportdirs import where_reports

    raw = args.root or profile.root
    root = (Path.cwd() / raw).resolve() if raw else Path.cwd()
    for line in where_reports(profile, root):
        print(f"  {line}", file=out)
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from soakwatch.scaffold import next_steps, scaffold

    folder = Path(args.dir)
    for path in scaffold(args.kind, folder, force=args.force, port=args.port):
        print(f"wrote {path}")
    print(next_steps(args.kind, folder))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    import json

    from soakwatch.config.schema import profile_markdown, profile_schema

    if args.markdown:
        sys.stdout.write(profile_markdown())
    else:
        print(json.dumps(profile_schema(), indent=2))
    return 0


def cmd_selftest(args: argparse.Namespace) -> int:
    from soakwatch.selftest import run_selftest

    return run_selftest(Path(args.keep) if args.keep else None)


def cmd_sweep(args: argparse.Namespace) -> int:
    from soakwatch.sweep import run_sweep

    return run_sweep(_load(args), args.out_dir, args.metrics_addr, args.metrics_port)


def cmd_compare(args: argparse.Namespace) -> int:
    from soakwatch.analysis.compare import Comparison
    from soakwatch.analysis.compare_render import comparison_table, run_compare
    from soakwatch.sections import REPORT_SECTIONS

    def write_html(cmp: Comparison) -> None:
        from soakwatch.config.errors import UsageError
        from soakwatch.views.html.compare import write_compare_report

        header, rows = comparison_table(cmp)
        n = len(cmp.regressions)
        line = f"{n} regression{'s' if n != 1 else ''} against {cmp.runs[0].label}" if n else "No regression"
        runs = [(r.label, Path(r.run_dir)) for r in cmp.runs]
        try:
            path = write_compare_report(Path(args.html), header, rows, runs, line, REPORT_SECTIONS)
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror}", where="--html", value=args.html) from None
        print(f"wrote {path}", file=sys.stderr)

    also = write_html if args.html else None
    return run_compare(args.run_dirs, args.tolerance, REPORT_SECTIONS, as_json=args.json, out=args.out, also=also)


def cmd_attach(args: argparse.Namespace) -> int:
    from soakwatch.sections import REPLAY_PLUGINS
    from soakwatch.views.attach import attach, running_run_dir

    return attach(Path(args.run_dir) if args.run_dir else running_run_dir(), REPLAY_PLUGINS)


def cmd_ps(args: argparse.Namespace) -> int:
    from soakwatch.control.ps import print_ps

    return print_ps()


def cmd_ctl(args: argparse.Namespace) -> int:
    from soakwatch.views.attach import ctl

    return ctl(Path(args.run_dir), args.ctl_command, args.ctl_args)


def cmd_chaos(args: argparse.Namespace) -> int:
    from soakwatch.views.chaos_cli import trigger_chaos

    return trigger_chaos(Path(args.run_dir), args.action)


COMMANDS = {
    "chaos": cmd_chaos,
    "attach": cmd_attach,
    "ps": cmd_ps,
    "ctl": cmd_ctl,
    "compare": cmd_compare,
    "sweep": cmd_sweep,
    "run": cmd_run,
    "demo": cmd_demo,
    "report": cmd_report,
    "profiles": cmd_profiles,
    "validate": cmd_validate,
    "selftest": cmd_selftest,
    "schema": cmd_schema,
    "init": cmd_init,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    from soakwatch.config.errors import UsageError

    try:
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"soakwatch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
