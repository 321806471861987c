"""Named numeric series: a fixed ring at tick resolution plus a day of minute averages."""

from __future__ import annotations

import math
from array import array
from collections import deque

__all__ = ["COARSE_POINTS", "RING_POINTS", "SAMPLES_KEPT", "TEXT_SAMPLES_KEPT", "SampleKeeper", "Series", "TextSeries"]

#: points kept per series at tick resolution (half an hour at the default 0.5 s tick)
RING_POINTS = 3600
#: minute averages kept per series (a day)
COARSE_POINTS = 1440
#: values kept per string field, so every report's status is judged once even between two ticks
TEXT_SAMPLES_KEPT = 1024
#: values kept per tracked series between two reads (a gate reads every tick; snapshots and
#: reports arrive far slower than this many per tick)
SAMPLES_KEPT = 1024


class Series:
    """A named numeric series: a ring of (t, value) at tick resolution plus minute averages.

    Points live in two preallocated ``array('d')`` rings (16 bytes a point) rather than a
    deque of tuples (about 100 bytes a point), so a day of every series costs a few MB
    that are allocated up front instead of growing for the first hour.
    """

    __slots__ = ("_acc_minute", "_acc_n", "_acc_sum", "_head", "_n", "_t", "_v", "coarse", "name", "unit")

    def __init__(self, name: str, unit: str = "") -> None:
        self.name = name
        self.unit = unit
        self._t = array("d", bytes(8 * RING_POINTS))
        self._v = array("d", bytes(8 * RING_POINTS))
        self._head = 0  # index of the next write
        self._n = 0
        self.coarse: deque[tuple[float, float]] = deque(maxlen=COARSE_POINTS)
        self._acc_sum = 0.0
        self._acc_n = 0
        self._acc_minute = -1

    def __len__(self) -> int:
        return self._n

    def append(self, t: float, value: float) -> None:
        self._t[self._head] = t
        self._v[self._head] = value
        self._head = (self._head + 1) % RING_POINTS
        self._n = min(self._n + 1, RING_POINTS)
        minute = int(t // 60)
        if minute != self._acc_minute and self._acc_n:
            self.coarse.append((self._acc_minute * 60.0, self._acc_sum / self._acc_n))
            self._acc_sum, self._acc_n = 0.0, 0
        self._acc_minute = minute
        if not math.isnan(value):
            self._acc_sum += value
            self._acc_n += 1

    def put(self, t: float, value: float) -> None:
        """Set the point at ``t``: replace the newest point if it is at ``t``, else append."""
        last = (self._head - 1) % RING_POINTS
        if self._n and self._t[last] == t:
            old = self._v[last]
            self._v[last] = value
            if not math.isnan(old):
                self._acc_sum -= old
                self._acc_n -= 1
            if not math.isnan(value):
                self._acc_sum += value
                self._acc_n += 1
        else:
            self.append(t, value)

    @property
    def points(self) -> list[tuple[float, float]]:
        """Every point in the ring, oldest first."""
        first = (self._head - self._n) % RING_POINTS
        idx = [(first + i) % RING_POINTS for i in range(self._n)]
        return [(self._t[i], self._v[i]) for i in idx]

    @property
    def last(self) -> float | None:
        return self._v[(self._head - 1) % RING_POINTS] if self._n else None

    def since(self, t: float) -> list[tuple[float, float]]:
        """Points with time >= ``t`` (from the fine ring)."""
        return [p for p in self.points if p[0] >= t]

    def tail(self, n: int) -> list[float]:
        """The newest ``n`` values, oldest first."""
        k = min(n, self._n)
        return [self._v[(self._head - k + i) % RING_POINTS] for i in range(k)]


class TextSeries:
    """A string field (a status, an enum): its newest value and every value set, numbered.

    A gate reads the values set since the number it last saw, so a "stalled" that lasted
    one report between two ticks is still judged (the newest value alone would hide it).
    """

    __slots__ = ("_kept", "_seq", "last")

    def __init__(self) -> None:
        self.last: str | None = None
        self._seq = 0
        self._kept: deque[tuple[int, float, str]] = deque(maxlen=TEXT_SAMPLES_KEPT)

    def put(self, t: float, value: str) -> None:
        self.last = value
        self._seq += 1
        self._kept.append((self._seq, t, value))

    def since(self, seq: int) -> tuple[list[tuple[float, str]], int]:
        """The (t, value) set after number ``seq``, and the newest number."""
        return [(t, v) for n, t, v in self._kept if n > seq], self._seq


class SampleKeeper:
    """Every value set on the series a reader asked for, numbered, so none is lost between reads.

    A series is tracked by name (:meth:`track`) or by the shape of its name
    (:meth:`track_matching`: ``failure_reasons.`` … ``[n1]`` catches the keys of a
    dict-of-counters field as they appear, from their first value on). Not thread-safe:
    the recorder calls it under its lock.
    """

    def __init__(self) -> None:
        self._kept: dict[str, deque[tuple[int, float, float]]] = {}
        self._seq: dict[str, int] = {}
        self._shapes: set[tuple[str, str]] = set()

    def track(self, name: str) -> None:
        if name not in self._kept:
            self._kept[name] = deque(maxlen=SAMPLES_KEPT)
            self._seq[name] = 0

    def track_matching(self, prefix: str, suffix: str) -> None:
        self._shapes.add((prefix, suffix))

    def __contains__(self, name: str) -> bool:
        return name in self._kept

    def matching(self, prefix: str, suffix: str) -> list[str]:
        """The tracked series whose name starts with ``prefix`` and ends with ``suffix``."""
        return [n for n in self._kept if n.startswith(prefix) and n.endswith(suffix)]

    def put(self, name: str, t: float, value: float) -> None:
        kept = self._kept.get(name)
        if kept is None:
            if not any(name.startswith(a) and name.endswith(b) for a, b in self._shapes):
                return
            self.track(name)
            kept = self._kept[name]
        seq = self._seq[name] = self._seq[name] + 1
        kept.append((seq, t, value))

    def since(self, name: str, seq: int) -> tuple[list[tuple[float, float]], int]:
        """The (t, value) set after number ``seq``, and the newest number."""
        kept = self._kept.get(name)
        if kept is None:
            return [], seq
        return [(t, v) for n, t, v in kept if n > seq], self._seq[name]
