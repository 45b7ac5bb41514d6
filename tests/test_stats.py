from __future__ import annotations

import math

import numpy as np
import pytest

from assay.stats import (
    mcnemar_exact,
    mean_ci,
    newcombe_interval,
    paired_bootstrap_diff,
    pass_at_k,
    percentiles,
    rogan_gladen,
    sign_flip_p_value,
    unpaired_bootstrap_diff,
    weighted_diff_rollup,
    weighted_rollup,
    wilson_interval,
)


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


def test_constant_non_binary_scores_have_zero_width() -> None:
    assert mean_ci([0.5] * 50) == (0.5, (0.5, 0.5))


def test_all_wrong_or_all_right_keeps_an_honest_interval() -> None:
    # The bootstrap would say [0, 0]: certainty 30 items cannot give. Wilson: [0, 0.114].
    value, (low, high) = mean_ci([0.0] * 30)
    assert value == 0.0 and low == 0.0 and high == pytest.approx(0.1135, abs=1e-3)
    value, (low, high) = mean_ci([1.0] * 30)
    assert value == 1.0 and high == 1.0 and low == pytest.approx(1 - 0.1135, abs=1e-3)


def test_rollup_of_an_all_wrong_task_is_not_certain() -> None:
    value, (low, high) = weighted_rollup([([0.0] * 30, 1.0), ([1.0] * 30, 1.0)])
    assert value == 0.5
    # Each group's Jeffreys draws spread; the roll-up keeps about half of each width.
    assert low < 0.5 - 0.02 and high > 0.5 + 0.02


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


# -- comparing two runs ----------------------------------------------------------------------


def test_mcnemar_exact_matches_hand_computed_binomial_tails() -> None:
    # Two-sided: twice P(X <= min) for X ~ Binomial(discordant, 1/2).
    assert mcnemar_exact(0, 10) == 2 / 2**10
    assert mcnemar_exact(1, 6) == 2 * (1 + 7) / 2**7 == 0.125
    assert mcnemar_exact(3, 11) == pytest.approx(2 * (1 + 14 + 91 + 364) / 2**14)  # 0.0574
    assert mcnemar_exact(11, 3) == mcnemar_exact(3, 11)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    # Large counts stay exact (integer arithmetic) instead of overflowing.
    assert 0 < mcnemar_exact(900, 1100) < 1e-5
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_newcombe_interval_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80, method 10.
    low, high = newcombe_interval(48, 80, 56, 70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    # Newcombe (1998), Statistics in Medicine 17:857, 0/10 with the Wilson score method.
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and round(high, 4) == 0.2775


def test_sign_flip_is_exact_for_few_pairs() -> None:
    # 5 differences of +1 and one of -1: sums at least |4| in 14 of the 64 sign vectors.
    assert sign_flip_p_value([1, 1, 1, 1, 1, -1]) == pytest.approx(14 / 64)
    assert sign_flip_p_value([0.0, 0.0]) == 1.0


def test_pairing_detects_what_independent_samples_cannot() -> None:
    rng = np.random.default_rng(7)
    # Items differ far more than the runs do: pairing removes that spread.
    item_difficulty = rng.normal(0, 1, 60)
    a = item_difficulty.tolist()
    b = (item_difficulty + 0.15 + rng.normal(0, 0.05, 60)).tolist()
    paired = paired_bootstrap_diff(a, b)
    unpaired = unpaired_bootstrap_diff(a, b)

    assert paired.diff == pytest.approx(unpaired.diff)
    assert paired.p_value < 0.001 and paired.ci[0] > 0
    assert unpaired.p_value > 0.3 and unpaired.ci[0] < 0 < unpaired.ci[1]
    with pytest.raises(ValueError):
        paired_bootstrap_diff([1.0], [1.0, 0.0])


def test_unpaired_permutation_finds_a_real_gap_and_not_a_null_one() -> None:
    assert unpaired_bootstrap_diff([0.0] * 30, [1.0] * 30).p_value < 0.001
    null = unpaired_bootstrap_diff([1.0, 0.0] * 30, [0.0, 1.0] * 30)
    assert null.diff == 0.0 and null.p_value == 1.0
    assert math.isnan(unpaired_bootstrap_diff([], [1.0]).diff)


def test_weighted_diff_rollup_weights_tasks_and_keeps_pairs() -> None:
    same = [1.0, 0.0] * 50
    better = [1.0] * 100
    value, (low, high) = weighted_diff_rollup([(same, same, True, 1.0), (same, better, True, 3.0)])
    assert value == pytest.approx(0.5 * 3 / 4)
    assert low < value < high
    # Identical paired runs contribute no spread at all.
    assert weighted_diff_rollup([(same, same, True, 1.0)]) == (0.0, (0.0, 0.0))
    assert weighted_diff_rollup([(same, same, False, 1.0)])[1][0] < 0


# --------------------------------------------------------------------------------------------
# pass@k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 0.4),  # c / n
        (5, 0, 1, 0.0),
        (5, 0, 5, 0.0),
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (5, 4, 2, 1.0),  # n - c < k: every draw of 2 contains a pass
        (5, 5, 1, 1.0),
        (1000, 1, 1, 0.001),
    ],
)
def test_pass_at_k_hand_computed(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_pass_at_k_matches_the_binomial_form_for_large_n() -> None:
    n, c, k = 200, 13, 50
    exact = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass_at_k"):
        pass_at_k(n, c, k)


def test_rogan_gladen_corrects_for_the_judges_errors_and_widens_the_interval() -> None:
    # A judge with Se 0.9 (90 of 100) and Sp 0.95 (190 of 200) flags 30 of 100: the true
    # share is (0.30 + 0.95 - 1) / (0.90 + 0.95 - 1) = 0.25 / 0.85.
    found = rogan_gladen(30, 100, sensitivity=(90, 100), specificity=(190, 200))
    assert found is not None
    assert found.value == pytest.approx(0.25 / 0.85)
    low, high = found.ci95
    assert low < found.value < high
    raw_low, raw_high = wilson_interval(30, 100)
    assert high - low > raw_high - raw_low  # the judge's own uncertainty widens it
    # Clipped to [0, 1]: fewer flagged than the judge's false-positive rate explains.
    low_case = rogan_gladen(2, 100, sensitivity=(90, 100), specificity=(190, 200))
    assert low_case is not None and low_case.value == 0.0
    # Undefined for a judge no better than chance, or with nothing observed.
    assert rogan_gladen(30, 100, sensitivity=(50, 100), specificity=(100, 200)) is None
    assert rogan_gladen(0, 0, sensitivity=(90, 100), specificity=(190, 200)) is None
