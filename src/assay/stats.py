"""Statistics: bootstrap confidence intervals and weighted roll-ups that keep the uncertainty."""

from __future__ import annotations

from collections.abc import Sequence

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


def mean_ci(
    values: Sequence[float], *, level: float = 0.95, seed: int = 0
) -> tuple[float, tuple[float, float]]:
    """Mean and percentile-bootstrap CI. NaN for an empty sample."""
    if not values:
        return float("nan"), (float("nan"), float("nan"))
    means = bootstrap_means(values, seed=seed)
    return float(np.mean(values)), _interval(means, level)


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
            bootstrap_means(values, seed=seed + index) * weight
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
