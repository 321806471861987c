"""Gates: rules that turn the recorded series into verdicts while the stage runs.

``build_gates`` makes the evaluator plugin for a profile, ``rule_from_cli`` reads the
one-line form of ``--gate`` / ``--abort-on``, ``check_rules`` refuses a profile whose
rules do not parse or name a metric the profile cannot produce. The rule language is
in :mod:`gates.parse`, the kinds in :mod:`gates.kinds`, the reports in :mod:`gates.report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from soakwatch.gates.compile import check_rules, compile_rules, rule_from_cli

if TYPE_CHECKING:
    from soakwatch.config.profile import Profile
    from soakwatch.core.plugins import Plugin

__all__ = ["build_gates", "check_rules", "compile_rules", "rule_from_cli"]


def build_gates(profile: Profile) -> Plugin | None:
    """The gate evaluator for a profile's rules, or None without rules."""
    if not profile.gates:
        return None
    from soakwatch.gates.evaluator import GateEvaluator

    return GateEvaluator(profile, compile_rules(profile))
