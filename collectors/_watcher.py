"""A background thread that turns watchfiles notifications into callbacks.

watchfiles (inotify on Linux, FSEvents/kqueue elsewhere) tells us which paths
changed, so the collectors read a file only after it changed: no busy poll of file
contents. A directory to watch may not exist yet (``state/`` created by the first
call); the owner calls :meth:`DirWatcher.poke` on its ticks, which compares the set
of existing directories (one ``stat`` each) and restarts the watch when it grew.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from soakwatch.collectors._sampler import JOIN_S, FailureReporter

__all__ = ["DEBOUNCE_MS", "DirWatcher"]

#: longest time changes are grouped before the callback sees them
DEBOUNCE_MS = 200
#: how often the notifier checks for changes and for the stop event
STEP_MS = 50
#: pause before watching again after the notifier failed
RETRY_S = 1.0

OnChanges = Callable[[set[Path]], None]


class DirWatcher:
    """Watch some directories in a thread; call ``on_changes`` with the changed paths."""

    def __init__(
        self,
        name: str,
        dirs: Callable[[], list[Path]],
        on_changes: OnChanges,
        failures: FailureReporter,
        *,
        recursive: bool = True,
    ) -> None:
        self.name = name
        self._dirs = dirs
        self._on_changes = on_changes
        self._failures = failures
        self.recursive = recursive
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._lock = threading.Lock()
        self._watching: tuple[Path, ...] = ()
        self._thread = threading.Thread(target=self._loop, name=f"watch-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _existing(self) -> tuple[Path, ...]:
        return tuple(sorted({d for d in self._dirs() if d.is_dir()}))

    def poke(self) -> bool:
        """Restart the watch if the set of existing directories changed (cheap: a stat per dir).

        Returns True when it did, so the owner can rescan what appeared meanwhile.
        """
        if self._existing() != self._watching:
            self._restart.set()
            return True
        return False

    def _loop(self) -> None:
        while not self._stop.is_set():
            dirs = self._existing()
            with self._lock:
                self._watching = dirs
            self._restart.clear()
            if not dirs:
                self._restart.wait(RETRY_S)
                continue
            try:
                for changes in watchfiles.watch(
                    *dirs,
                    watch_filter=None,
                    debounce=DEBOUNCE_MS,
                    step=STEP_MS,
                    stop_event=_Either(self._stop, self._restart),
                    recursive=self.recursive,
                    raise_interrupt=False,
                ):
                    try:
                        self._on_changes({Path(p) for _, p in changes})
                    except Exception as exc:  # the callback's bug must not end the watch
                        self._failures.failed("watch", f"{type(exc).__name__}: {exc}")
                self._failures.ok("watch")
            except Exception as exc:
                self._failures.failed("watch", f"{type(exc).__name__}: {exc}")
                self._stop.wait(RETRY_S)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(JOIN_S)


class _Either:
    """An event that is set when either of two events is (what watchfiles' stop_event reads)."""

    def __init__(self, a: threading.Event, b: threading.Event) -> None:
        self.a, self.b = a, b

    def is_set(self) -> bool:
        return self.a.is_set() or self.b.is_set()
