"""Compiling a profile's gates: parse, check and name each rule (re-exported by :mod:`soakwatch.gates`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from soakwatch.config.errors import UsageError

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.gates.rules import Rule

__all__ = ["check_rules", "compile_rules", "rule_from_cli"]


def compile_rules(profile: Profile) -> list[Rule]:
    """Every gate of the profile, parsed and checked; raises UsageError naming the gate, text and position."""
    from soakwatch.gates.expand import expand_wildcards
    from soakwatch.gates.rules import RuleError, compile_rule

    rules = []
    names: set[str] = set()
    for i, given in enumerate(profile.gates):
        try:
            specs = expand_wildcards(given, profile)
        except ValueError as exc:
            raise UsageError(f"gate {given.name!r}: {exc}", where=f"gates[{i}]", field="metric") from None
        for spec in specs:
            if spec.name in names:
                raise UsageError(f"two gates are named {spec.name!r}", where=f"gates[{i}]", field="name")
            names.add(spec.name)
            try:
                rules.append(compile_rule(spec, profile))
            except RuleError as exc:
                raise UsageError(str(exc), where=f"gates[{i}]") from None
    return rules


def check_rules(profile: Profile) -> None:
    """Refuse a profile whose gates do not parse or name unknown metrics (UsageError, exit 2)."""
    compile_rules(profile)


def rule_from_cli(text: str, abort: bool, where: str) -> dict[str, Any]:
    """A ``[[gates]]`` entry from the one-line form, e.g. ``"errors: error_ratio < 5% over 60s"``.

    ``--gate`` makes a fail gate, ``--abort-on`` one that also stops the stage.
    """
    from soakwatch.gates.parse import ParseError, caret, parse_rule_line

    try:
        rule = parse_rule_line(text)
    except ParseError as exc:
        raise UsageError(
            f"rule {text!r}: {exc.message} at position {exc.pos + 1}\n{caret(text, exc.pos)}", where=where, value=text
        ) from None
    rule.pop("_condition_at", None)
    rule.pop("_window_at", None)
    rule.setdefault("severity", "fail")
    rule["abort"] = abort
    return rule
