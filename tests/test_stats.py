from __future__ import annotations

import math

import numpy as np

from assay.stats import mean_ci, percentiles, weighted_rollup


def test_mean_ci_brackets_the_mean_and_narrows_with_n() -> None:
    small_mean, (small_low, small_high) = mean_ci([1.0, 0.0] * 10)
    big_mean, (big_low, big_high) = mean_ci([1.0, 0.0] * 500)
    assert small_mean == big_mean == 0.5
    assert small_low < 0.5 < small_high
    assert big_low < 0.5 < big_high
    assert (big_high - big_low) < (small_high - small_low) / 4


def test_mean_ci_matches_normal_approximation_for_binary_scores() -> None:
    values = [1.0] * 300 + [0.0] * 700
    _, (low, high) = mean_ci(values)
    half_width = 1.96 * math.sqrt(0.3 * 0.7 / 1000)
    assert abs((high - low) / 2 - half_width) < 0.006


def test_mean_ci_empty_is_nan() -> None:
    value, (low, high) = mean_ci([])
    assert math.isnan(value) and math.isnan(low) and math.isnan(high)


def test_constant_scores_have_zero_width() -> None:
    assert mean_ci([1.0] * 50) == (1.0, (1.0, 1.0))


def test_weighted_rollup_weights_and_uncertainty() -> None:
    certain = [1.0] * 1000
    noisy = [1.0, 0.0] * 10
    value, (low, high) = weighted_rollup([(certain, 3.0), (noisy, 1.0)])
    assert value == (1.0 * 3 + 0.5) / 4
    assert low < value < high
    # The noisy group's spread, scaled by its weight 1/4, is the roll-up's spread.
    _, (noisy_low, noisy_high) = mean_ci(noisy)
    assert abs((high - low) - (noisy_high - noisy_low) / 4) < 0.03


def test_percentiles() -> None:
    summary = percentiles([float(v) for v in range(1, 101)])
    assert summary["p50"] == np.percentile(range(1, 101), 50)
    assert summary["n"] == 100
    assert percentiles([]) == {}
