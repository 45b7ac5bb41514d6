"""Load profiles: validation, the steps each profile makes, and open-loop arrival schedules."""

from __future__ import annotations

import itertools
import statistics

import pytest

from assay._errors import SpecError
from assay.perf._profiles import PROFILES, LoadProfile, Step, parse_numbers


def test_a_profile_must_be_bounded_and_open_loops_need_a_rate() -> None:
    with pytest.raises(SpecError, match="--requests N or --duration S"):
        LoadProfile("sync")
    for kind in ("constant", "poisson"):
        with pytest.raises(SpecError, match=f"--profile {kind} needs --rate"):
            LoadProfile(kind, requests=10)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="positive"):
        LoadProfile("concurrent", concurrency=(0,), requests=10)
    with pytest.raises(SpecError, match="positive"):
        LoadProfile("constant", rates_per_s=(5.0, -1.0), requests=10)
    LoadProfile("sync", duration_s=1.0)  # a duration bound alone is enough


def test_steps_of_each_profile() -> None:
    def steps(kind: str, **kwargs: object) -> list[Step]:
        return LoadProfile(kind, requests=5, **kwargs).steps()  # type: ignore[arg-type]

    assert PROFILES == ("sync", "concurrent", "sweep", "constant", "poisson")
    assert steps("sync", concurrency=(8,)) == [Step("sync", concurrency=1)]
    assert steps("concurrent", concurrency=(8, 16)) == [Step("c=8", concurrency=8)]
    assert steps("sweep", concurrency=(1, 4, 16)) == [
        Step("c=1", concurrency=1),
        Step("c=4", concurrency=4),
        Step("c=16", concurrency=16),
    ]
    assert steps("constant", rates_per_s=(2.5, 10.0)) == [
        Step("constant 2.5/s", rate_per_s=2.5),
        Step("constant 10/s", rate_per_s=10.0),
    ]
    assert steps("poisson", rates_per_s=(4.0,)) == [
        Step("poisson 4/s", rate_per_s=4.0, poisson=True)
    ]


def test_parse_numbers() -> None:
    assert parse_numbers("1, 4,16", int, "--concurrency") == (1, 4, 16)
    assert parse_numbers("0.5,2", float, "--rate") == (0.5, 2.0)
    assert parse_numbers(None, float, "--rate") == ()
    with pytest.raises(SpecError, match="--rate 'fast'"):
        parse_numbers("fast", float, "--rate")


def test_constant_arrivals_are_evenly_spaced_absolute_times() -> None:
    times = Step("constant", rate_per_s=50.0).arrivals_s(101, seed=0)
    # Each instant is index / rate from the step's start (no accumulated float error).
    assert times == [index / 50.0 for index in range(101)]
    assert times[-1] == 2.0


def test_poisson_arrivals_have_the_asked_mean_rate_and_are_seeded() -> None:
    step = Step("poisson", rate_per_s=200.0, poisson=True)
    times = step.arrivals_s(20_000, seed=7)
    assert times[0] == 0.0
    assert all(b >= a for a, b in itertools.pairwise(times))
    # 20,000 exponential gaps: the relative standard error of the rate is ~0.7%.
    assert (len(times) - 1) / times[-1] == pytest.approx(200.0, rel=0.03)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Exponential gaps: standard deviation equals the mean (coefficient of variation 1).
    assert statistics.stdev(gaps) / statistics.mean(gaps) == pytest.approx(1.0, abs=0.05)
    assert step.arrivals_s(100, seed=7) == times[:100]  # same seed, same schedule
    assert step.arrivals_s(100, seed=8) != times[:100]
