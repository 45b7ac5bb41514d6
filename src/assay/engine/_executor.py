"""Sends requests to one target: adaptive bounded concurrency, retries with backoff and jitter.

The in-flight limit starts at the configured concurrency and follows AIMD: halved on 429, 5xx,
timeouts and broken streams (servers that cut streams under load, as llama-cpp-python's does
when a second request waits), grown by one per window of successes. Retry-After is honoured
when given.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, replace

from assay._errors import ErrorClass, TargetError
from assay.core import Request, Response, Target, Timings

_BACKOFF_CLASSES = {
    ErrorClass.RATE_LIMITED,
    ErrorClass.HTTP_5XX,
    ErrorClass.TIMEOUT,
    ErrorClass.STREAM_BROKEN,
}


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    jitter: float = 0.5  # fraction of the delay drawn at random, so clients do not synchronise

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None:
            return min(retry_after_s, self.max_backoff_s * 4)
        base = min(self.max_backoff_s, self.initial_backoff_s * 2.0 ** (attempt - 1))
        return base * (1 - self.jitter + self.jitter * random.random())


class AdaptiveLimit:
    """A concurrency limit that shrinks on overload signals and grows back on success."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = float(self.maximum)
        self.in_flight = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1

    async def release(self, overloaded: bool) -> None:
        async with self._changed:
            self.in_flight -= 1
            if overloaded:
                self.limit = max(1.0, self.limit / 2)
            else:
                self.limit = min(float(self.maximum), self.limit + 1 / max(self.limit, 1.0))
            self._changed.notify_all()


class Executor:
    def __init__(self, target: Target, concurrency: int, retry: RetryPolicy | None = None) -> None:
        self.target = target
        self.retry = retry or RetryPolicy()
        self.limit = AdaptiveLimit(min(concurrency, target.max_concurrency))
        self.sent = 0
        self.failed_attempts: Counter[str] = Counter()

    async def submit(self, request: Request) -> tuple[Response, Counter[str]]:
        """The final response (possibly an error response) and the failures retried on the way."""
        attempt_errors: Counter[str] = Counter()
        queued = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            await self.limit.acquire()
            queue_s = time.perf_counter() - queued
            overloaded = False
            try:
                self.sent += 1
                response = await self.target.send(request)
                return _with(response, queue_s, attempt), attempt_errors
            except TargetError as exc:
                error = exc.error_class
                overloaded = error in _BACKOFF_CLASSES
                self.failed_attempts[str(error)] += 1
                if not error.retryable or attempt >= self.retry.max_attempts:
                    return _failure(exc, queue_s, attempt), attempt_errors
                attempt_errors[str(error)] += 1
                delay = self.retry.delay_s(attempt, exc.retry_after_s)
            finally:
                await self.limit.release(overloaded)
            await asyncio.sleep(delay)
            queued = time.perf_counter()


def _with(response: Response, queue_s: float, attempts: int) -> Response:
    return replace(response, timings=replace(response.timings, queue_s=queue_s), attempts=attempts)


def _failure(exc: TargetError, queue_s: float, attempts: int) -> Response:
    return Response(
        error=exc.error_class,
        error_detail=str(exc)[:500],
        http_status=exc.status,
        timings=Timings(queue_s=queue_s),
        attempts=attempts,
    )
