"""Statistics: bootstrap confidence intervals and weighted roll-ups that keep the uncertainty,
and the unbiased pass@k estimator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_means(
    values: Sequence[float], *, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> npt.NDArray[np.float64]:
    """Means of `resamples` bootstrap resamples of `values` (with replacement)."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return np.full(resamples, np.nan)
    rng = np.random.default_rng(seed)
    # Chunked so memory stays bounded for large tasks.
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // data.size)
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        picks = rng.integers(0, data.size, size=(stop - start, data.size))
        means[start:stop] = data[picks].mean(axis=1)
    return means


def is_binary(values: Sequence[float]) -> bool:
    return all(value in (0.0, 1.0) for value in values)


def mean_ci(
    values: Sequence[float], *, level: float = 0.95, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """Mean and CI. NaN for an empty sample.

    Right/wrong scores get the Wilson score interval: the percentile bootstrap collapses to
    [0, 0] at 0 of n (and [1, 1] at n of n), claiming certainty that 30 items cannot give.
    Other values get the percentile bootstrap.
    """
    if not values:
        return float("nan"), (float("nan"), float("nan"))
    if is_binary(values):
        return float(np.mean(values)), wilson_interval(int(sum(values)), len(values), level=level)
    means = bootstrap_means(values, seed=seed)
    return float(np.mean(values)), _interval(means, level)


def _replicate_means(values: Sequence[float], seed: int) -> npt.NDArray[np.float64]:
    """Draws of a group's mean for roll-ups: bootstrap means, or for right/wrong scores draws
    from the Jeffreys posterior Beta(k + 1/2, n - k + 1/2), which, unlike the bootstrap, keeps
    uncertainty at 0 of n and n of n (its interval is close to Wilson's)."""
    if not is_binary(values):
        return bootstrap_means(values, seed=seed)
    successes = float(sum(values))
    rng = np.random.default_rng(seed)
    return rng.beta(successes + 0.5, len(values) - successes + 0.5, size=BOOTSTRAP_RESAMPLES)


def weighted_rollup(
    groups: Sequence[tuple[Sequence[float], float]], *, level: float = 0.95, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """Weighted mean of group means, with a CI from resampling each group independently."""
    usable = [(values, weight) for values, weight in groups if len(values) > 0]
    if not usable:
        return float("nan"), (float("nan"), float("nan"))
    total = sum(weight for _, weight in usable)
    point = sum(float(np.mean(values)) * weight for values, weight in usable) / total
    replicates = (
        sum(
            _replicate_means(values, seed=seed + index) * weight
            for index, (values, weight) in enumerate(usable)
        )
        / total
    )
    return point, _interval(np.asarray(replicates), level)


def _interval(replicates: npt.NDArray[np.float64], level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(replicates, [tail, 100 - tail])
    return float(low), float(high)


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 90, 99)) -> dict[str, float]:
    if not values:
        return {}
    found = np.percentile(np.asarray(values, dtype=np.float64), list(points))
    summary = {f"p{p}": float(v) for p, v in zip(points, found, strict=True)}
    summary["mean"] = float(np.mean(values))
    summary["n"] = len(values)
    return summary


# -- comparing two runs (assay compare): B minus A, paired where the runs share samples -------

PERMUTATIONS = 10_000
# Up to this many non-zero paired differences, the sign-flip test enumerates every sign vector.
EXACT_SIGN_FLIP_MAX = 16


@dataclass(frozen=True)
class DiffResult:
    """B minus A with a confidence interval and a two-sided p-value under "no difference"."""

    diff: float
    ci: tuple[float, float]
    p_value: float
    n_a: int
    n_b: int


def mcnemar_exact(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value from the discordant pairs (right in A only, in B only).

    Under no difference each discordant pair falls either way with probability 1/2, so this is
    a binomial test; concordant pairs carry no information about the difference.
    """
    if a_only < 0 or b_only < 0:
        raise ValueError("discordant counts cannot be negative")
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(a_only, b_only) + 1))
    # Integer arithmetic up to the final division: exact for any n, no overflow.
    return min(1.0, 2 * tail / (1 << n))


def wilson_interval(successes: int, n: int, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    if n == 0:
        return float("nan"), float("nan")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Corrected:
    """A prevalence corrected for a classifier's errors, with its interval."""

    value: float
    ci95: tuple[float, float]


def rogan_gladen(
    positives: int,
    n: int,
    *,
    sensitivity: tuple[int, int],
    specificity: tuple[int, int],
    level: float = 0.95,
    draws: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Corrected | None:
    """The true share of positives given `positives` of `n` flagged by a judge whose
    sensitivity is `(true positives, labelled positives)` and specificity `(true negatives,
    labelled negatives)` on a labelled set: (p + Sp - 1) / (Se + Sp - 1), clipped to [0, 1].

    The interval draws the observed share and the judge's Se and Sp from their Jeffreys
    posteriors together, so it is wider than the raw share's by the judge's own uncertainty.
    None when it is undefined: nothing observed, or a judge no better than chance (Se+Sp <= 1).
    """
    tp, n_pos = sensitivity
    tn, n_neg = specificity
    if n == 0 or n_pos == 0 or n_neg == 0 or tp / n_pos + tn / n_neg <= 1.0:
        return None
    rng = np.random.default_rng(seed)
    share = rng.beta(positives + 0.5, n - positives + 0.5, size=draws)
    se = rng.beta(tp + 0.5, n_pos - tp + 0.5, size=draws)
    sp = rng.beta(tn + 0.5, n_neg - tn + 0.5, size=draws)
    youden = se + sp - 1.0
    # Draws where the drawn judge is no better than chance carry no information: dropped.
    usable = youden > 0
    corrected = np.clip((share[usable] + sp[usable] - 1.0) / youden[usable], 0.0, 1.0)
    point = (positives / n + tn / n_neg - 1.0) / (tp / n_pos + tn / n_neg - 1.0)
    low, high = _interval(corrected, level)
    return Corrected(min(1.0, max(0.0, point)), (low, high))


def newcombe_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, level: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval (his method 10) for p_B - p_A, independent samples."""
    if n_a == 0 or n_b == 0:
        return float("nan"), float("nan")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson_interval(successes_a, n_a, level=level)
    low_b, high_b = wilson_interval(successes_b, n_b, level=level)
    diff = p_b - p_a
    lower = diff - math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    upper = diff + math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return lower, upper


def sign_flip_p_value(
    differences: Sequence[float], *, permutations: int = PERMUTATIONS, seed: int = 0
) -> float:
    """Two-sided paired permutation test: under no difference each pair's sign is a coin flip."""
    data = np.asarray(differences, dtype=np.float64)
    nonzero = data[data != 0]
    if nonzero.size == 0:
        return 1.0
    observed = abs(float(nonzero.sum()))
    tolerance = 1e-9 * max(1.0, observed)
    if nonzero.size <= EXACT_SIGN_FLIP_MAX:
        codes = np.arange(2**nonzero.size)[:, None] >> np.arange(nonzero.size)
        sums = ((codes & 1) * 2 - 1) @ nonzero
        return float(np.mean(np.abs(sums) >= observed - tolerance))
    rng = np.random.default_rng(seed)
    extreme = 0
    chunk = max(1, 2_000_000 // nonzero.size)
    for start in range(0, permutations, chunk):
        size = min(chunk, permutations - start)
        signs = rng.integers(0, 2, size=(size, nonzero.size)) * 2 - 1
        extreme += int(np.sum(np.abs(signs @ nonzero) >= observed - tolerance))
    # The observed labelling counts as one of the permutations, so p is never 0.
    return (extreme + 1) / (permutations + 1)


def paired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    *,
    level: float = 0.95,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> DiffResult:
    """Mean of b - a over aligned pairs: bootstrap CI of the paired differences, sign-flip p."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    if not a:
        return DiffResult(float("nan"), (float("nan"), float("nan")), float("nan"), 0, 0)
    differences = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    interval = _interval(bootstrap_means(differences.tolist(), seed=seed), level)
    p_value = sign_flip_p_value(differences.tolist(), permutations=permutations, seed=seed)
    return DiffResult(float(differences.mean()), interval, p_value, len(a), len(b))


def unpaired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    *,
    level: float = 0.95,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> DiffResult:
    """mean(b) - mean(a) for independent samples: bootstrap CI, label-permutation p-value."""
    if not a or not b:
        return DiffResult(float("nan"), (float("nan"), float("nan")), float("nan"), len(a), len(b))
    values_a = np.asarray(a, dtype=np.float64)
    values_b = np.asarray(b, dtype=np.float64)
    observed = float(values_b.mean() - values_a.mean())
    replicates = bootstrap_means(b, seed=seed) - bootstrap_means(a, seed=seed + 1)
    pooled = np.concatenate([values_a, values_b])
    tolerance = 1e-9 * max(1.0, abs(observed))
    rng = np.random.default_rng(seed)
    extreme = 0
    chunk = max(1, 2_000_000 // pooled.size)
    for start in range(0, permutations, chunk):
        size = min(chunk, permutations - start)
        shuffled = rng.permuted(np.tile(pooled, (size, 1)), axis=1)
        diffs = shuffled[:, values_a.size :].mean(axis=1) - shuffled[:, : values_a.size].mean(
            axis=1
        )
        extreme += int(np.sum(np.abs(diffs) >= abs(observed) - tolerance))
    p_value = (extreme + 1) / (permutations + 1)
    return DiffResult(observed, _interval(replicates, level), p_value, len(a), len(b))


# (scores of A, scores of B, paired, weight); paired groups are aligned pair by pair.
DiffGroup = tuple[Sequence[float], Sequence[float], bool, float]


def weighted_diff_rollup(
    groups: Sequence[DiffGroup], *, level: float = 0.95, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """Weighted mean of per-group differences B - A, with a CI from resampling each group
    (pairs together where paired, each run on its own where not)."""
    usable = [group for group in groups if len(group[0]) > 0 and len(group[1]) > 0]
    if not usable:
        return float("nan"), (float("nan"), float("nan"))
    total = sum(weight for *_, weight in usable)
    point = 0.0
    replicates = np.zeros(BOOTSTRAP_RESAMPLES)
    for index, (a, b, paired, weight) in enumerate(usable):
        point += (float(np.mean(b)) - float(np.mean(a))) * weight / total
        if paired:
            differences = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
            replicates += bootstrap_means(differences.tolist(), seed=seed + 2 * index) * weight
        else:
            draws_b = bootstrap_means(b, seed=seed + 2 * index)
            replicates += (draws_b - bootstrap_means(a, seed=seed + 2 * index + 1)) * weight
    return point, _interval(replicates / total, level)


def pass_at_k(n: int, c: int, k: int) -> float:
    """The probability that at least one of k samples drawn from n (c of them correct) passes.

    The unbiased estimator of the HumanEval paper (Chen et al. 2021, figure 3),
    1 - C(n-c, k) / C(n, k), computed as a product so that it neither overflows nor loses
    precision for large n.
    """
    if n < 1:
        raise ValueError(f"pass_at_k needs n >= 1 samples, got n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k needs 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k needs 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    # C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)
    all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        all_fail *= 1.0 - k / i
    return 1.0 - all_fail
