from __future__ import annotations

import numpy as np
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from soakwatch.core.histogram import HIGHEST_US, LatencyHistogram


def test_bulk_record_matches_the_library_one_by_one() -> None:
    rng = np.random.default_rng(7)
    values = (rng.lognormal(5, 2, 20_000).astype(np.int64) + 1).clip(1, HIGHEST_US)
    fast = LatencyHistogram()
    fast.record_many(values)
    ref = HdrHistogram(1, HIGHEST_US, 3)
    for v in values:
        ref.record_value(int(v))
    assert np.array_equal(fast.counts, np.ctypeslib.as_array(ref.counts))
    pcts = [50, 90, 99, 99.9, 100]
    assert fast.percentiles(pcts) == [float(ref.get_value_at_percentile(p)) for p in pcts]
    assert fast.hdr.get_max_value() == ref.get_max_value()
    assert fast.total == 20_000


def test_encode_decode_roundtrip() -> None:
    h = LatencyHistogram()
    h.record_many(np.array([5, 50, 500, 5000, 50_000], dtype=np.int64))
    back = LatencyHistogram.decode(h.encode())
    assert back.total == 5
    assert back.percentiles([50, 100]) == h.percentiles([50, 100])


def test_empty_and_out_of_range() -> None:
    h = LatencyHistogram()
    assert h.percentiles([50]) == [0.0]
    h.record_many(np.array([10 * HIGHEST_US], dtype=np.int64))
    assert h.total == 1
    LatencyHistogram.decode(LatencyHistogram().encode())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=HIGHEST_US + 10), max_size=300), st.integers(0, 3))
def test_mean_is_the_librarys_mean_exactly(values: list[int], repeat: int) -> None:
    """The numpy mean over the buckets that hold counts equals hdrh's get_mean_value (a Python walk over
    every bucket) to the last bit, for values across the whole range, clipped ones included."""
    h = LatencyHistogram()
    for _ in range(repeat + 1):
        h.record_many(np.asarray(values, dtype=np.int64))
    assert h.mean() == (h.hdr.get_mean_value() if h.total else 0.0)
