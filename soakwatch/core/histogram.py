"""Latency histograms: HdrHistogram with a vectorised bulk record and fast percentiles.

The ``hdrhistogram`` package records one value per Python call (about a microsecond
each) and walks every bucket in Python for a percentile. The runner can finish a
million calls a second, so values are folded in bulk here: bucket indices are
computed with numpy using the library's own layout, and added straight into its
counts array. Encoding, decoding and the bucket layout stay the library's.

Values are microseconds, from 1 µs to one hour, at three significant digits.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from soakwatch.config.constants import LATENCY_HEAT_EDGES_MS

__all__ = ["HIGHEST_US", "LOWEST_US", "LatencyHistogram"]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT = 3

IntArray = npt.NDArray[np.int64]


_PER_BUCKET: dict[tuple[str, int, int, int], IntArray] = {}
_HEAT_EDGES_US = np.asarray([round(ms * 1000) for ms in LATENCY_HEAT_EDGES_MS], dtype=np.int64)


def _per_bucket(h: HdrHistogram, which: str) -> IntArray:
    """A value of every bucket, computed once per layout (about 40 ms): ``highest`` its highest
    equivalent value (percentiles), ``median`` its median equivalent value (what the library's mean
    weighs each count by)."""
    key = (which, int(h.lowest_trackable_value), int(h.highest_trackable_value), int(h.significant_figures))
    cached = _PER_BUCKET.get(key)
    if cached is None:
        of = h.get_highest_equivalent_value if which == "highest" else h._hdr_median_equiv_value
        values = [of(h.get_value_from_index(i)) for i in range(h.counts_len)]
        cached = _PER_BUCKET[key] = np.asarray(values, dtype=np.int64)
    return cached


class LatencyHistogram:
    """An HDR histogram of microsecond latencies with numpy bulk operations."""

    def __init__(self, hdr: HdrHistogram | None = None) -> None:
        self.hdr: HdrHistogram = hdr or HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT)
        self.counts: npt.NDArray[np.uint64] = np.ctypeslib.as_array(self.hdr.counts)
        h = self.hdr
        self._mask = int(h.sub_bucket_mask)
        self._unit = int(h.unit_magnitude)
        self._half_mag = int(h.sub_bucket_half_count_magnitude)
        self._half = int(h.sub_bucket_half_count)
        self._len = int(h.counts_len)
        self._bucket_values: IntArray = _per_bucket(h, "highest")

    @property
    def total(self) -> int:
        return int(self.hdr.total_count)

    def indices(self, values_us: IntArray) -> IntArray:
        """Bucket index of each value (values clipped into the trackable range)."""
        v = np.clip(values_us, 0, HIGHEST_US).astype(np.int64)
        pow2ceiling = np.floor(np.log2((v | self._mask).astype(np.float64))).astype(np.int64) + 1
        bucket = pow2ceiling - self._unit - (self._half_mag + 1)
        sub = v >> (bucket + self._unit)
        return ((bucket + 1) << self._half_mag) + (sub - self._half)

    def add_counts(self, counts: IntArray, vmin: int, vmax: int) -> None:
        """Add a dense count vector of this layout (e.g. from :meth:`bin`)."""
        n = int(counts.sum())
        if n == 0:
            return
        self.counts += counts.astype(self.counts.dtype)
        h = self.hdr
        h.total_count += n
        h.min_value = min(h.min_value, vmin)
        h.max_value = max(h.max_value, vmax)

    def bin(self, values_us: IntArray) -> IntArray:
        """Dense count vector of ``values_us`` in this layout."""
        return np.bincount(self.indices(values_us), minlength=self._len).astype(np.int64)

    def record_many(self, values_us: IntArray) -> IntArray:
        """Record many values at once; returns the dense count vector that was added."""
        if len(values_us) == 0:
            return np.zeros(self._len, dtype=np.int64)
        counts = self.bin(values_us)
        self.add_counts(counts, int(values_us.min()), int(values_us.max()))
        return counts

    def percentiles(self, pcts: Sequence[float], counts: npt.NDArray[np.integer] | None = None) -> list[float]:
        """Values (µs) at the given percentiles of this histogram, or of another count vector."""
        c = self.counts if counts is None else counts
        total = int(c.sum())
        if total == 0:
            return [0.0 for _ in pcts]
        cum = np.cumsum(c)
        out = []
        for p in pcts:
            target = max(1, int(p / 100.0 * total + 0.5))
            idx = int(np.searchsorted(cum, target))
            out.append(float(self._bucket_values[min(idx, self._len - 1)]))
        return out

    def heat_row(self, idx: npt.NDArray[np.int32], cnt: npt.NDArray[np.int32]) -> list[int]:
        """Counts of a sparse count vector (bucket indices, counts) per heatmap bucket
        (:data:`LATENCY_HEAT_EDGES_MS`), trailing empty buckets left out."""
        buckets = np.searchsorted(_HEAT_EDGES_US, self._bucket_values[idx], side="right")
        row = np.bincount(buckets, weights=cnt, minlength=len(_HEAT_EDGES_US) + 1).astype(np.int64)
        nz = np.flatnonzero(row)
        return [int(c) for c in row[: nz[-1] + 1]] if len(nz) else []

    def max_of(self, counts: IntArray) -> float:
        nz = np.flatnonzero(counts)
        return float(self._bucket_values[nz[-1]]) if len(nz) else 0.0

    def mean(self) -> float:
        """The library's ``get_mean_value``, exactly (Python integers over the buckets that hold counts),
        without its walk over every bucket in Python (about 70,000)."""
        total = self.total
        if total == 0:
            return 0.0
        nz = np.flatnonzero(self.counts)
        medians = _per_bucket(self.hdr, "median")[nz].tolist()
        weighted = sum(c * m for c, m in zip(self.counts[nz].tolist(), medians, strict=True))
        return float(weighted) / total

    def encode(self) -> str:
        """The library's compressed base64 encoding."""
        if self.hdr.total_count == 0:
            self.hdr.min_value = sys.maxsize
        encoded: bytes = self.hdr.encode()
        return encoded.decode("ascii")

    @classmethod
    def decode(cls, text: str) -> LatencyHistogram:
        return cls(HdrHistogram.decode(text.encode("ascii")))
