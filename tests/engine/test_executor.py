"""The executor: backoff delays, the AIMD concurrency limit, retries ending in an error response."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from assay._errors import ErrorClass, TargetError
from assay.engine import Executor, RetryPolicy
from assay.engine._executor import AdaptiveLimit
from assay.targets import FakeTarget, GenerateConfig, Request, Response

REQUEST = Request(mode="completion", config=GenerateConfig(max_tokens=4), prompt="Hi")

# -- RetryPolicy.delay_s ------------------------------------------------------------------------


def test_delay_grows_exponentially_without_jitter() -> None:
    policy = RetryPolicy(initial_backoff_s=0.5, max_backoff_s=100.0, jitter=0.0)
    assert [policy.delay_s(attempt, None) for attempt in range(1, 6)] == [0.5, 1, 2, 4, 8]


def test_delay_is_capped() -> None:
    policy = RetryPolicy(initial_backoff_s=1.0, max_backoff_s=5.0, jitter=0.0)
    assert [policy.delay_s(attempt, None) for attempt in (3, 4, 10, 60)] == [4.0, 5.0, 5.0, 5.0]


def test_jitter_stays_in_range_and_varies() -> None:
    policy = RetryPolicy(initial_backoff_s=1.0, max_backoff_s=100.0, jitter=0.5)
    random.seed(1234)
    for attempt, base in ((1, 1.0), (3, 4.0)):
        delays = [policy.delay_s(attempt, None) for _ in range(500)]
        assert all(base * 0.5 <= delay <= base for delay in delays)
        # Spread over the range, so clients that failed together do not retry together.
        assert min(delays) < base * 0.6 and max(delays) > base * 0.9
    capped = [RetryPolicy(max_backoff_s=2.0).delay_s(30, None) for _ in range(100)]
    assert all(1.0 <= delay <= 2.0 for delay in capped)


def test_retry_after_takes_precedence() -> None:
    policy = RetryPolicy(initial_backoff_s=0.5, max_backoff_s=2.0, jitter=0.5)
    assert policy.delay_s(1, 3.0) == 3.0  # longer than our own backoff: the server knows best
    assert policy.delay_s(5, 0.1) == 0.1  # shorter too
    assert policy.delay_s(5, 0.0) == 0.0
    # Bounded, so a hostile or broken header cannot park a run for hours.
    assert policy.delay_s(1, 10_000.0) == 2.0 * 4


# -- AdaptiveLimit -----------------------------------------------------------------------------


def test_limit_halves_on_overload_and_never_drops_below_one() -> None:
    async def go() -> list[float]:
        limit = AdaptiveLimit(16)
        seen = []
        for _ in range(7):
            await limit.acquire()
            await limit.release(overloaded=True)
            seen.append(limit.limit)
        assert limit.in_flight == 0
        return seen

    assert asyncio.run(go()) == [8.0, 4.0, 2.0, 1.0, 1.0, 1.0, 1.0]


def test_limit_grows_back_additively_up_to_the_maximum() -> None:
    async def go() -> list[int]:
        limit = AdaptiveLimit(8)
        for _ in range(3):
            await limit.acquire()
            await limit.release(overloaded=True)
        assert limit.limit == 1.0
        whole_limits = []
        for _ in range(60):
            await limit.acquire()
            await limit.release(overloaded=False)
            whole_limits.append(int(limit.limit))
        return whole_limits

    whole_limits = asyncio.run(go())
    assert whole_limits[0] == 2
    assert whole_limits == sorted(whole_limits)
    # Additive: about one step per window of `limit` successes, so 1 -> 8 takes ~30, not 3.
    assert 20 <= whole_limits.index(8) <= 40
    assert whole_limits[-1] == 8  # back at the maximum, and never above it


def test_limit_maximum_is_at_least_one() -> None:
    assert AdaptiveLimit(0).maximum == 1
    assert AdaptiveLimit(-3).limit == 1.0


def test_in_flight_never_exceeds_the_limit_under_contention() -> None:
    async def go() -> tuple[int, int]:
        limit = AdaptiveLimit(6)
        rng = random.Random(7)
        peak = 0
        violations = 0

        async def worker() -> None:
            nonlocal peak, violations
            for _ in range(30):
                await limit.acquire()
                # Admission is checked against the limit in force at that moment.
                if limit.in_flight > max(1, int(limit.limit)):
                    violations += 1
                peak = max(peak, limit.in_flight)
                await asyncio.sleep(rng.random() * 0.002)
                await limit.release(overloaded=rng.random() < 0.2)

        await asyncio.gather(*(worker() for _ in range(25)))
        assert limit.in_flight == 0
        return peak, violations

    peak, violations = asyncio.run(go())
    assert violations == 0
    assert 1 < peak <= 6


# -- Executor ----------------------------------------------------------------------------------


def test_executor_keeps_in_flight_within_the_limit() -> None:
    async def go() -> tuple[list[int], Executor]:
        observed: list[int] = []
        executor: Executor

        def reply(request: Request) -> str:
            observed.append(executor.limit.in_flight)
            return "ok"

        target = FakeTarget(reply, latency_s=0.005, max_concurrency=64)
        executor = Executor(target, concurrency=4, retry=RetryPolicy(initial_backoff_s=0.001))
        results = await asyncio.gather(*(executor.submit(REQUEST) for _ in range(40)))
        assert all(response.ok and response.text == "ok" for response, _ in results)
        return observed, executor

    observed, executor = asyncio.run(go())
    assert len(observed) == 40 == executor.sent
    assert max(observed) == 4  # contention fills the limit, never more
    assert executor.limit.in_flight == 0


def test_target_max_concurrency_bounds_the_executor() -> None:
    executor = Executor(FakeTarget(("x",), max_concurrency=3), concurrency=32)
    assert executor.limit.maximum == 3


# A cut stream is an overload signal too: llama-cpp-python's server cuts a stream as soon as a
# second request waits, so only a lower limit lets answers finish.
@pytest.mark.parametrize(
    "overload", [ErrorClass.RATE_LIMITED, ErrorClass.STREAM_BROKEN], ids=["429", "cut_stream"]
)
def test_overload_shrinks_concurrency_and_retries_succeed(overload: ErrorClass) -> None:
    async def go() -> tuple[list[int], Executor]:
        observed: list[int] = []
        calls = 0
        executor: Executor

        def reply(request: Request) -> str:
            nonlocal calls
            calls += 1
            observed.append(executor.limit.in_flight)
            if calls <= 12:
                raise TargetError("overloaded", error_class=overload)
            return "ok"

        target = FakeTarget(reply, latency_s=0.002)
        executor = Executor(target, concurrency=8, retry=RetryPolicy(initial_backoff_s=0.001))
        results = await asyncio.gather(*(executor.submit(REQUEST) for _ in range(30)))
        assert all(response.ok for response, _ in results)
        retried = sum((errors for _, errors in results), start=Counter[str]())
        assert retried == {str(overload): 12}
        return observed, executor

    observed, executor = asyncio.run(go())
    assert max(observed) <= 8
    assert executor.failed_attempts == {str(overload): 12}
    assert executor.sent == 42
    assert executor.limit.limit < 8  # halved by the burst of overloads, growing back since


def test_executor_returns_an_error_response_after_max_attempts() -> None:
    def always_503(request: Request) -> str:
        raise TargetError("HTTP 503: overloaded", error_class=ErrorClass.HTTP_5XX, status=503)

    target = FakeTarget(always_503)
    executor = Executor(
        target, concurrency=2, retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.001)
    )
    response, retried = asyncio.run(executor.submit(REQUEST))

    assert isinstance(response, Response) and not response.ok
    assert response.error is ErrorClass.HTTP_5XX
    assert response.error_detail == "HTTP 503: overloaded"
    assert response.http_status == 503
    assert response.attempts == 3
    assert response.text == ""
    assert retried == {"http_5xx": 2}  # the last failure is the answer, not a retry
    assert executor.failed_attempts == {"http_5xx": 3}
    assert len(target.requests) == 3 == executor.sent
    assert executor.limit.in_flight == 0


@pytest.mark.parametrize(
    "error_class",
    [ErrorClass.HTTP_4XX, ErrorClass.MALFORMED, ErrorClass.CONTENT_FILTER, ErrorClass.TRUNCATED],
)
def test_non_retryable_errors_are_not_retried(error_class: ErrorClass) -> None:
    def fail(request: Request) -> str:
        raise TargetError("no", error_class=error_class)

    target = FakeTarget(fail)
    executor = Executor(target, concurrency=1, retry=RetryPolicy(initial_backoff_s=0.001))
    response, retried = asyncio.run(executor.submit(REQUEST))
    assert response.error is error_class
    assert response.attempts == 1
    assert retried == {}
    assert len(target.requests) == 1
    assert executor.failed_attempts == {str(error_class): 1}


def test_retry_after_delays_the_next_attempt() -> None:
    calls = 0

    def limited_once(request: Request) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise TargetError("429", error_class=ErrorClass.RATE_LIMITED, retry_after_s=0.2)
        return "ok"

    async def go() -> tuple[Response, float]:
        executor = Executor(FakeTarget(limited_once), 1, RetryPolicy(initial_backoff_s=0.001))
        loop = asyncio.get_running_loop()
        started = loop.time()
        response, _ = await executor.submit(REQUEST)
        return response, loop.time() - started

    response, elapsed_s = asyncio.run(go())
    assert response.ok and response.attempts == 2
    assert elapsed_s >= 0.2
    # Queue time restarts after the backoff: it measures waiting for a slot, not the backoff.
    assert response.timings.queue_s < 0.2
