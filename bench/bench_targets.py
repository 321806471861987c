"""Targets for the benchmarks."""


def noop() -> None:
    """Does nothing: what is measured is the runner's own cost per call."""
