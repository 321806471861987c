"""The ``[cmd]`` profile section: how a ``cmd:...`` target runs its command for each call.

No behaviour here (the profile model imports it); the runner is :mod:`soakwatch.targets.cmd`.

Example::

    target = "cmd:python3 examples/cmd/score.py --prompt {prompt}"
    [cmd]
    stdin = "json"          # the case as one JSON line on stdin
    expect_exit = [0]
    env = { SCORE_MODE = "strict" }
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from soakwatch.config.base import ProfileModel

__all__ = ["CmdConfig"]


class CmdConfig(ProfileModel):
    """How a ``cmd:`` target runs its command for each call (``[cmd]``); {placeholders} come from the case.

    A call is ok when the command exits with one of ``expect_exit`` within the stage's timeout.
    """

    stdin: Literal["none", "json", "text"] = Field(
        default="none", description="json: the case as a JSON line; text: a string case as it is"
    )
    shell: bool = Field(default=False, description="run through /bin/sh -c; placeholders are shell-quoted")
    cwd: str | None = Field(
        default=None, description="working directory, relative to the root; default: the root", examples=["tools"]
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="added to the environment", examples=[{"SCORE_MODE": "strict"}]
    )
    expect_exit: list[int] = Field(default_factory=lambda: [0], min_length=1, description="exit codes that are ok")
    stderr_tail: int = Field(default=300, ge=0, le=4000, description="characters of stderr kept in an error message")
