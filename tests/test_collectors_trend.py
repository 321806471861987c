"""Theil–Sen memory trend with confidence (collectors.trend), on synthetic series."""

from __future__ import annotations

import numpy as np
import pytest

from soakwatch.collectors.trend import MAX_POINTS, TrendWindow, fit_trend, theil_sen, time_to_limit

RNG = np.random.default_rng(7)


def _t(n: int = 200, seconds: float = 3600.0) -> np.ndarray:
    return np.linspace(0, seconds, n)


def test_leak_has_the_right_slope_and_high_confidence() -> None:
    t = _t()
    y = 100 + 50 * t / 3600 + RNG.normal(0, 1.0, len(t))  # 50 MB/h with 1 MB of noise
    tr = fit_trend(t, y)
    assert tr is not None
    assert tr.slope == pytest.approx(50, rel=0.05)
    assert tr.lo < 50 < tr.hi
    assert tr.confidence > 0.9


def test_flat_noise_has_a_slope_near_zero_and_low_confidence() -> None:
    t = _t()
    y = 100 + RNG.normal(0, 1.0, len(t))
    tr = fit_trend(t, y)
    assert tr is not None
    assert abs(tr.slope) < 1.0
    assert tr.lo < 0 < tr.hi
    assert tr.confidence < 0.2


def test_a_one_off_step_is_not_a_leak() -> None:
    t = _t()
    y = np.where(t < 1800, 100.0, 140.0) + RNG.normal(0, 0.2, len(t))
    tr = fit_trend(t, y)
    assert tr is not None
    assert tr.confidence < 0.2  # however steep the overall line looks


def test_outliers_do_not_drag_the_slope() -> None:
    t = _t()
    y = 100 + 20 * t / 3600 + RNG.normal(0, 0.3, len(t))
    y[::17] += 300  # GC spikes
    tr = fit_trend(t, y)
    assert tr is not None and tr.slope == pytest.approx(20, rel=0.1)


def test_too_few_points_and_forecast() -> None:
    assert fit_trend([0, 1, 2], [1, 2, 3]) is None
    assert (
        theil_sen(np.array([1.0, 1.0]), np.array([1.0, 2.0]))[0]
        != theil_sen(np.array([1.0, 1.0]), np.array([1.0, 2.0]))[0]
    )  # NaN
    assert time_to_limit(100, 50, 200) == pytest.approx(2 * 3600)
    assert time_to_limit(100, 0, 200) is None
    assert time_to_limit(250, 5, 200) == 0.0


def test_window_stays_bounded_and_spans_everything() -> None:
    w = TrendWindow()
    for i in range(100_000):
        w.add(float(i), 10 + i * 0.001)
    assert len(w) <= MAX_POINTS
    assert w.t[0] == 0.0 and w.t[-1] > 90_000
    tr = w.fit()
    assert tr is not None and tr.slope == pytest.approx(3.6, rel=0.01)  # 0.001/s = 3.6/h
