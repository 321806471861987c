"""The environment a stage hands its target and workers: root, run dir, seed and [record] sampling."""

from __future__ import annotations

import os
from pathlib import Path

from soakwatch._calldata import ENV_EVERY, ENV_MAX_BYTES, ENV_SAMPLE
from soakwatch.config.profile import Profile
from soakwatch.core.callvalues import ANSWER_FILE, AnswerLog

__all__ = ["export_env"]


def export_env(profile: Profile, root: Path, run_dir: Path) -> AnswerLog | None:
    """Set the environment the target (and its workers, which inherit it) may want to know; returns
    the log of sampled answers when [record] asks the slots and workers for them."""
    os.environ["SOAKWATCH_ROOT"] = str(root)
    os.environ["SOAKWATCH_RUN_DIR"] = str(run_dir)
    os.environ["SOAKWATCH_SEED"] = str(profile.seed)
    rec = profile.record
    for name in (ENV_EVERY, ENV_SAMPLE, ENV_MAX_BYTES):
        os.environ.pop(name, None)  # a previous stage of this process may have set them
    if not rec.enabled:
        return None
    if rec.every:
        os.environ[ENV_EVERY] = str(rec.every)
    if rec.sample:
        os.environ[ENV_SAMPLE] = repr(rec.sample)
    os.environ[ENV_MAX_BYTES] = str(rec.max_bytes)
    return AnswerLog(run_dir / ANSWER_FILE, rec.max_file_mb)
