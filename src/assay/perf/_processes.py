"""Client processes: a perf step's load split over several processes, GuideLLM-style.

One Python event loop writes requests one after another; at high concurrency a burst of
requests waits in it before reaching the wire, and that wait lands in every TTFT. With
`--client-processes P` each of P spawned processes runs its own event loop, connections and
loop-lag probe, and sends every P-th request (closed loop: its share of the workers and of
`--requests`; open loop: every P-th scheduled arrival, by the same absolute schedule). All
start a step at one instant (CLOCK_MONOTONIC is shared by processes), so their `started_s`
and `scheduled_s` share one origin and the rows merge into one step.

The processes outlive the steps (connections and start-up paid once) and are stopped, killed
if need be, when the run ends. Only HTTP targets can be split: an in-process model cannot.
The API key reaches them through the inherited environment, never through arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from assay._errors import TargetUnavailable
from assay.perf._profiles import LoadProfile, Step
from assay.perf._runner import Share, StepRecord, run_step, warm_up
from assay.perf._workload import Workload

READY_TIMEOUT_S = 120.0
# How far ahead of "now" a step's common start is set, so every process is waiting for it.
START_LEAD_S = 0.25
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ClientJob:
    base_url: str
    model: str
    max_concurrency: int
    workload: Workload
    profile: LoadProfile
    share: Share


def _child(conn: Connection, job: ClientJob) -> None:
    try:
        asyncio.run(_serve(conn, job))
    except KeyboardInterrupt:
        pass
    except BaseException as exc:  # reported to the parent as one line, then this process ends
        with contextlib.suppress(OSError):  # the parent may be gone
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


async def _serve(conn: Connection, job: ClientJob) -> None:
    from assay.targets._openai import OpenAITarget

    target = OpenAITarget(job.base_url, job.model, max_concurrency=job.max_concurrency, tools=False)
    await target.start()
    try:
        conn.send(("ready", None))
        while True:
            order = await asyncio.to_thread(conn.recv)
            if order is None:
                return
            step, offset, start_monotonic = order
            if start_monotonic is None:  # first the warmup, so that no process starts late
                await warm_up(target, job.workload, job.profile, offset, job.share)
                conn.send(("warm", None))
                continue
            # This process's perf_counter() at the shared monotonic instant.
            start_at = time.perf_counter() + (start_monotonic - time.monotonic())
            record = await run_step(
                target,
                job.workload,
                job.profile,
                step,
                offset,
                share=job.share,
                start_at=start_at,
                warm=False,
            )
            conn.send(("step", _relative(record)))
    finally:
        await target.close()


def _relative(record: StepRecord) -> StepRecord:
    """Times as seconds since the shared start: comparable whatever each clock's origin."""
    record.finished -= record.started
    record.started = 0.0
    return record


class ClientProcesses:
    """P spawned client processes for one perf run; use as a context manager."""

    def __init__(
        self,
        count: int,
        *,
        base_url: str,
        model: str,
        max_concurrency: int,
        workload: Workload,
        profile: LoadProfile,
    ) -> None:
        self.count = count
        self._jobs = [
            ClientJob(base_url, model, max_concurrency, workload, profile, Share(index, count))
            for index in range(count)
        ]
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []

    def __enter__(self) -> ClientProcesses:
        context = mp.get_context("spawn")  # no fork of a process with a running event loop
        try:
            for job in self._jobs:
                parent, child = context.Pipe()
                process = context.Process(target=_child, args=(child, job), daemon=True)
                process.start()
                child.close()
                self._pipes.append(parent)
                self._processes.append(process)
            for number, pipe in enumerate(self._pipes):
                self._expect(number, pipe, "ready", READY_TIMEOUT_S)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # already gone
                pipe.send(None)
        for process in self._processes:
            process.join(STOP_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes:
            pipe.close()

    def _expect(self, number: int, pipe: Connection, kind: str, timeout_s: float | None) -> Any:
        """The next message of process `number`, of this kind; None waits as long as it takes
        (a process that dies closes its pipe, which ends the wait)."""
        if not pipe.poll(timeout_s):
            assert timeout_s is not None
            raise TargetUnavailable(
                f"client process {number + 1} of {self.count} sent nothing for {timeout_s:g}s; "
                "run with fewer --client-processes"
            )
        try:
            got, payload = pipe.recv()
        except EOFError:
            raise TargetUnavailable(
                f"client process {number + 1} of {self.count} ended unexpectedly; "
                "run without --client-processes to see the error"
            ) from None
        if got == "error":
            raise TargetUnavailable(f"client process {number + 1} of {self.count}: {payload}")
        assert got == kind, (got, kind)
        return payload

    async def _all(self, order: tuple[Step, int, float | None], kind: str) -> list[Any]:
        for pipe in self._pipes:
            pipe.send(order)
        return [
            await asyncio.to_thread(self._expect, number, pipe, kind, None)
            for number, pipe in enumerate(self._pipes)
        ]

    async def run_step(self, step: Step, offset: int) -> StepRecord:
        """Every process's part of the step, merged into one record (times from the start)."""
        await self._all((step, offset, None), "warm")
        parts: list[StepRecord] = await self._all(
            (step, offset, time.monotonic() + START_LEAD_S), "step"
        )
        merged = StepRecord(step, started=0.0, finished=max(p.finished for p in parts))
        for part in parts:
            merged.requests += part.requests
            merged.loop_lag_s += part.loop_lag_s
            merged.in_flight_cap_hit += part.in_flight_cap_hit
        merged.requests.sort(key=lambda row: row["index"])
        return merged
