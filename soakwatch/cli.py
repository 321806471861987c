"""The ``soakwatch`` command line.

Imports stay lazy: ``--help``, ``profiles`` and headless runs never import textual
or HTTP clients, and pydantic only when a profile is read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from soakwatch._cli_parser import build_parser
from soakwatch.config.constants import EXIT_USAGE

__all__ = ["build_parser", "main"]


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
        "executor": getattr(args, "executor", None),
        "ray_address": getattr(args, "ray_address", None),
        "seed": getattr(args, "seed", None),
        "allow_broad_root": args.allow_broad_root,
    }
    chaos: list[dict[str, Any]] = []
    if getattr(args, "chaos_plan", None):
        from soakwatch.config.chaos import load_chaos_plan

        chaos = load_chaos_plan(Path(args.chaos_plan))
    sets = [*args.set, *_label_sets(getattr(args, "label", []))]
    if getattr(args, "load_processes", None) is not None:
        sets.append(f"http.load_processes={args.load_processes}")
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
        view.print(render_summary(build_summary(run_dir, REPORT_SECTIONS), sys.stdout.isatty()))
        view.close()  # a bounded wait: with nobody reading, the summary is in the run dir all the same
        if exporter is not None:  # the final values, for a last scrape
            exporter.linger(args.metrics_linger)
    finally:
        if exporter is not None:
            exporter.close()
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
