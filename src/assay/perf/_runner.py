"""Runs load-profile steps against a target and records every request's timings.

No retries here: a failure is a measurement. The client watches itself too: how late each
request started against its schedule, and how late the event loop wakes up, so a run where the
client and not the server was the bottleneck is flagged instead of printed as the server's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from assay._errors import TargetError
from assay.core import Response, Target
from assay.perf._profiles import LoadProfile, Step
from assay.perf._workload import Workload

LOOP_PROBE_INTERVAL_S = 0.01
# Open loop: at most this many requests in flight; past it the client, not the server, limits.
MAX_IN_FLIGHT = 4096


@dataclass(frozen=True)
class Share:
    """The part of a step one client process sends: process `index` of `count` takes every
    `count`-th request (indices index, index + count, ...) and its share of the workers."""

    index: int = 0
    count: int = 1

    def split(self, total: int) -> int:
        return total // self.count + (1 if self.index < total % self.count else 0)

    def request_index(self, offset: int, nth: int) -> int:
        """The step-wide index of this process's `nth` request."""
        return offset + self.index + self.count * nth


WHOLE = Share()


@dataclass
class StepRecord:
    step: Step
    started: float = 0.0
    finished: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    loop_lag_s: list[float] = field(default_factory=list)
    in_flight_cap_hit: int = 0


class LoopLagProbe:
    """Measures how late the event loop runs a timer: CPU saturation of the client itself."""

    def __init__(self) -> None:
        self.lags_s: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._due = 0.0

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self._due - time.perf_counter()))
            now = time.perf_counter()
            self.lags_s.append(max(0.0, now - self._due))
            self._due = now + LOOP_PROBE_INTERVAL_S

    def __enter__(self) -> LoopLagProbe:
        # The first deadline counts from entry, not from whenever the loop first runs the probe.
        self._due = time.perf_counter() + LOOP_PROBE_INTERVAL_S
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        # A timer the loop never got round to running is lag too (a step that never yielded).
        overdue = time.perf_counter() - self._due
        if overdue > 0:
            self.lags_s.append(overdue)


async def _one(
    target: Target, workload: Workload, index: int, scheduled_s: float, step_start: float
) -> dict[str, Any]:
    started = time.perf_counter()
    request = workload.request(index)
    try:
        response = await target.send(request)
    except TargetError as exc:
        response = Response(
            error=exc.error_class, error_detail=str(exc)[:300], http_status=exc.status
        )
    ended = time.perf_counter()
    timings, usage = response.timings, response.usage
    return {
        "index": index,
        "scheduled_s": scheduled_s,
        "started_s": started - step_start,
        "ended_s": ended - step_start,
        "schedule_lag_s": max(0.0, (started - step_start) - scheduled_s),
        "ttft_s": timings.ttft_s,
        "ttfat_s": timings.ttfat_s,
        "token_times_s": list(timings.token_times_s),
        "e2e_s": ended - started,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "usage_source": usage.source,
        "client_chunks": usage.client_chunks,
        "finish_reason": response.finish_reason,
        "error_class": str(response.error) if response.error else None,
        "error_detail": response.error_detail,
    }


def _more(profile: LoadProfile, limit: int | None, sent: int, step_start: float) -> bool:
    if limit is not None and sent >= limit:
        return False
    return profile.duration_s is None or time.perf_counter() - step_start < profile.duration_s


async def _closed_loop(
    target: Target,
    workload: Workload,
    profile: LoadProfile,
    step: Step,
    record: StepRecord,
    offset: int,
    share: Share,
) -> None:
    sent = 0
    limit = None if profile.requests is None else share.split(profile.requests)

    async def worker() -> None:
        nonlocal sent
        while _more(profile, limit, sent, record.started):
            index = share.request_index(offset, sent)
            sent += 1
            scheduled = time.perf_counter() - record.started  # closed loop: due now
            record.requests.append(await _one(target, workload, index, scheduled, record.started))

    assert step.concurrency is not None
    await asyncio.gather(*(worker() for _ in range(share.split(step.concurrency))))


async def _open_loop(
    target: Target,
    workload: Workload,
    profile: LoadProfile,
    step: Step,
    record: StepRecord,
    offset: int,
    share: Share,
) -> None:
    count = profile.requests
    if count is None:  # duration-bound: schedule enough arrivals to cover it
        assert profile.duration_s is not None and step.rate_per_s is not None
        count = int(profile.duration_s * step.rate_per_s * 1.5) + 10
    arrivals = step.arrivals_s(count, profile.seed)
    in_flight: set[asyncio.Task[dict[str, Any]]] = set()
    results: list[asyncio.Task[dict[str, Any]]] = []
    for sent, due in enumerate(arrivals):
        if profile.duration_s is not None and due >= profile.duration_s:
            break
        if sent % share.count != share.index:
            continue  # another client process's arrival
        delay = record.started + due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(in_flight) >= MAX_IN_FLIGHT:
            record.in_flight_cap_hit += 1
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(_one(target, workload, offset + sent, due, record.started))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        results.append(task)
    record.requests.extend(await asyncio.gather(*results))


async def warm_up(
    target: Target, workload: Workload, profile: LoadProfile, offset: int, share: Share = WHOLE
) -> None:
    """The step's `--warmup` requests (this process's share): caches and connections warmed,
    nothing recorded."""
    for nth in range(share.split(profile.warmup)):
        await _one(target, workload, share.request_index(offset, nth), 0.0, time.perf_counter())


async def run_step(
    target: Target,
    workload: Workload,
    profile: LoadProfile,
    step: Step,
    offset: int = 0,
    *,
    share: Share = WHOLE,
    start_at: float | None = None,
    warm: bool = True,
) -> StepRecord:
    """One step; with a `share`, this process's part of it, started at the `start_at`
    `perf_counter()` instant that the other client processes start at too (their warmup done
    beforehand, `warm=False`, so no process starts late)."""
    if warm:
        await warm_up(target, workload, profile, offset, share)
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    record = StepRecord(step)
    offset += profile.warmup
    with LoopLagProbe() as probe:
        record.started = time.perf_counter() if start_at is None else start_at
        if step.concurrency is not None:
            await _closed_loop(target, workload, profile, step, record, offset, share)
        else:
            await _open_loop(target, workload, profile, step, record, offset, share)
        record.finished = time.perf_counter()
    record.loop_lag_s = probe.lags_s
    record.requests.sort(key=lambda row: row["index"])
    return record
