"""Running steps: closed and open loops, absolute schedules, and the client watching itself."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

import pytest

from assay.perf import _runner
from assay.perf._metrics import Slo, summarize_step
from assay.perf._profiles import LoadProfile, Step
from assay.perf._runner import StepRecord, run_step
from assay.perf._workload import Workload
from assay.targets import Request, Response
from assay.targets._fake import FakeTarget

WORKLOAD = Workload(tuple(f"prompt {i}" for i in range(1000)), 8, False, "words")


def run(target: FakeTarget, profile: LoadProfile, step: Step) -> StepRecord:
    return asyncio.run(run_step(target, WORKLOAD, profile, step))


def summary(record: StepRecord) -> dict[str, object]:
    return summarize_step(
        record.step.name,
        record.requests,
        duration_s=record.finished - record.started,
        requested_rate=record.step.rate_per_s,
        concurrency=record.step.concurrency,
        loop_lags_s=record.loop_lag_s,
        in_flight_cap_hit=record.in_flight_cap_hit,
        slo=Slo(),
    )


def test_closed_loop_keeps_n_requests_in_flight_and_sends_exactly_n() -> None:
    peak = 0

    class Counting(FakeTarget):
        in_flight = 0

        async def send(self, request: Request) -> Response:
            nonlocal peak
            self.in_flight += 1
            peak = max(peak, self.in_flight)
            await asyncio.sleep(0.01)
            self.in_flight -= 1
            return await super().send(request)

    target = Counting(("a b c",))
    record = run(target, LoadProfile("concurrent", concurrency=(4,), requests=20), Step("c", 4))
    assert len(record.requests) == 20 and peak == 4
    assert [r["index"] for r in record.requests] == list(range(20))
    # Every prompt of the workload is used once, in order of index.
    assert sorted(req.prompt for req in target.requests) == sorted(f"prompt {i}" for i in range(20))


def test_warmup_requests_are_sent_but_not_recorded() -> None:
    target = FakeTarget(("a",))
    profile = LoadProfile("sync", requests=3, warmup=2)
    record = run(target, profile, Step("sync", 1))
    assert len(target.requests) == 5
    assert [r["index"] for r in record.requests] == [2, 3, 4]


def test_a_duration_bound_stops_starting_requests() -> None:
    target = FakeTarget(("a",), latency_s=0.05)
    record = run(target, LoadProfile("sync", duration_s=0.3), Step("sync", 1))
    assert 3 <= len(record.requests) <= 7
    assert all(r["started_s"] < 0.3 for r in record.requests)


def test_open_loop_starts_requests_on_an_absolute_schedule() -> None:
    target = FakeTarget(("a",), latency_s=0.02)
    profile = LoadProfile("constant", rates_per_s=(100.0,), requests=40)
    record = run(target, profile, Step("constant 100/s", rate_per_s=100.0))
    rows = record.requests
    assert [r["scheduled_s"] for r in rows] == [i / 100.0 for i in range(40)]
    # Never early, and the lag does not accumulate over the step (deadlines are absolute).
    assert all(r["started_s"] >= r["scheduled_s"] - 1e-6 for r in rows)
    assert statistics.median(r["schedule_lag_s"] for r in rows) < 0.01
    assert rows[-1]["schedule_lag_s"] < 0.025
    # Open loop: requests overlap (each takes 20 ms, one starts every 10 ms).
    assert any(b["started_s"] < a["ended_s"] for a, b in itertools.pairwise(rows))


def test_failures_are_rows_with_their_class() -> None:
    from assay._errors import ErrorClass, TargetError

    def script(request: Request) -> str:
        if request.prompt.endswith(("1", "3")):
            raise TargetError("boom", error_class=ErrorClass.HTTP_5XX, status=500)
        return "a b"

    record = run(FakeTarget(script), LoadProfile("sync", requests=5), Step("sync", 1))
    assert [r["error_class"] for r in record.requests] == [None, "http_5xx", None, "http_5xx", None]
    assert record.requests[1]["error_detail"] == "boom"


def test_a_blocked_event_loop_is_measured_and_flags_the_step() -> None:
    def blocking(request: Request) -> str:
        time.sleep(0.12)  # the client's own CPU work, holding the loop
        return "a"

    target = FakeTarget(blocking, latency_s=0.001)
    record = run(target, LoadProfile("sync", requests=2), Step("sync", 1))
    assert max(record.loop_lag_s) > 0.05
    step = summary(record)
    assert step["client_limited"] is True
    assert any("event-loop lag" in reason for reason in step["client"]["reasons"])  # type: ignore[index]


def test_hitting_the_in_flight_cap_flags_the_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_runner, "MAX_IN_FLIGHT", 2)
    target = FakeTarget(("a",), latency_s=0.05)
    profile = LoadProfile("constant", rates_per_s=(200.0,), requests=10)
    record = run(target, profile, Step("constant 200/s", rate_per_s=200.0))
    assert len(record.requests) == 10 and record.in_flight_cap_hit > 0
    step = summary(record)
    assert step["client_limited"] is True
    assert any("in-flight cap" in reason for reason in step["client"]["reasons"])  # type: ignore[index]


def test_a_loop_blocked_before_the_probe_ever_ran_is_still_measured() -> None:
    # No await at all in the request: the probe task never runs during the step; the lag of
    # its pending timer is recorded when the step ends.
    def blocking(request: Request) -> str:
        time.sleep(0.08)
        return "a"

    record = run(FakeTarget(blocking), LoadProfile("sync", requests=1), Step("sync", 1))
    assert record.loop_lag_s and max(record.loop_lag_s) > 0.05
