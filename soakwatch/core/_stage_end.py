"""How a stage's end is judged: its own verdict, then its end state and exit code."""

from __future__ import annotations

from soakwatch.config.constants import EXIT_ABORTED, EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from soakwatch.config.profile import Profile
from soakwatch.core.recorder import Recorder
from soakwatch.core.snapshot import StageState
from soakwatch.core.verdict import Verdict, missed_verdict

__all__ = ["end_state", "own_verdict"]


def own_verdict(
    profile: Profile, recorder: Recorder, runner_errors: list[str], write_error: OSError | None, stopped: bool
) -> Verdict:
    """The stage's own judgement: a stage with a target that ran none of its calls is an ERROR.

    ``stopped``: the stage was stopped (operator, gate, signal, error) before its calls could run."""
    caveats = recorder.callvalues.caveats()
    if profile.target and recorder.calls == 0 and not stopped:
        planned = f"{profile.calls}" if profile.calls else "its planned"
        return Verdict(caveats=caveats, error=f"0 of {planned} calls ran")
    if runner_errors:
        return Verdict(caveats=caveats, error=f"runner error: {runner_errors[0]}")
    missed = missed_verdict(recorder.calls + recorder.pending_calls(), recorder.missed + recorder.pending_missed())
    if write_error is not None:
        return Verdict(
            caveats=caveats + missed.caveats,
            error=f"cannot write the run directory: {write_error.strerror or write_error}",
        )
    return Verdict(caveats=caveats + missed.caveats)


def end_state(verdict: Verdict, abort_kind: str | None, killed: bool) -> tuple[StageState, int]:
    """The end state and exit code, from the verdict and how the stage stopped (``abort_kind``:
    "operator", "gate", "signal", "failed", "error" or None; ``killed``: stopped now, a second signal)."""
    if verdict.error is not None and abort_kind != "operator":
        return "ERROR", EXIT_ERROR
    if abort_kind == "signal" or killed:
        return "INTERRUPTED", EXIT_INTERRUPTED
    if abort_kind == "operator":
        return "ABORTED", EXIT_ABORTED
    if abort_kind == "gate":
        return "ABORTED", EXIT_FAILED
    if verdict.failed:
        return "FAILED", EXIT_FAILED
    return "PASSED", EXIT_OK
