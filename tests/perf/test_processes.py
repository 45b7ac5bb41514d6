"""`--client-processes`: one step's load sent by several spawned processes, merged into one step.

The stub runs on a thread of the test process; the client processes reach it over loopback.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_perf_runs import check_step, options, run_perf, stub_config

from assay._api import perf_async
from assay._errors import SpecError, TargetUnavailable
from assay.perf._perf import PerfOptions
from assay.perf._processes import ClientProcesses
from assay.perf._profiles import LoadProfile, Step
from assay.perf._runner import Share, run_step
from assay.perf._workload import Workload
from assay.store import Store
from assay.targets import Request
from assay.targets._fake import FakeTarget
from assay.testing import StubServer
from helpers import free_port

WORKLOAD = Workload(tuple(f"prompt {i}" for i in range(100)), 8, False, "words")


def test_shares_split_workers_and_requests_without_overlap() -> None:
    shares = [Share(index, 3) for index in range(3)]
    assert [s.split(10) for s in shares] == [4, 3, 3]
    assert sum(s.split(2) for s in shares) == 2
    taken = sorted(s.request_index(100, n) for s in shares for n in range(s.split(10)))
    assert taken == list(range(100, 110))


@pytest.mark.parametrize(
    ("profile", "step"),
    [
        (LoadProfile("concurrent", concurrency=(4,), requests=10), Step("c=4", concurrency=4)),
        (LoadProfile("constant", rates_per_s=(200.0,), requests=10), Step("r", rate_per_s=200)),
    ],
    ids=["closed", "open"],
)
def test_the_parts_of_a_step_cover_it_exactly_once(profile: LoadProfile, step: Step) -> None:
    seen: list[str] = []

    def answer(request: Request) -> str:
        seen.append(request.sample_id or "")
        return "ok"

    async def parts() -> list[list[int]]:
        out = []
        for share in (Share(0, 2), Share(1, 2)):
            record = await run_step(FakeTarget(answer), WORKLOAD, profile, step, 0, share=share)
            out.append([row["index"] for row in record.requests])
        return out

    first, second = asyncio.run(parts())
    assert sorted(first + second) == list(range(10)) and not set(first) & set(second)
    assert len(seen) == 10


@pytest.mark.parametrize(
    "profile",
    [
        LoadProfile("sweep", concurrency=(2, 4), requests=12, warmup=2),
        LoadProfile("constant", rates_per_s=(40.0,), requests=12),
    ],
    ids=["sweep", "constant"],
)
def test_two_client_processes_send_one_merged_step(tmp_path: Path, profile: LoadProfile) -> None:
    with StubServer(stub_config()) as server:
        results = run_perf(server, options(profile, client_processes=2), tmp_path)
        sent = server.log.requests
    perf = results["perf"]
    for step in perf["steps"]:
        check_step(step, 12)
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    stored = store.read_run("perf").perf_samples
    rows = [r["data"] for r in stored if r["data"]["kind"] == "request"]
    # Every request once, from both processes' index sets, on one time origin.
    assert len(rows) == 12 * len(perf["steps"])
    assert len({row["index"] for row in rows}) == len(rows)
    assert sent >= len(rows) + profile.warmup * len(perf["steps"])  # + start-up probes
    assert all(0 <= row["started_s"] < 5 for row in rows)
    assert results["perf"]["client_processes"] == 2


def test_client_processes_need_an_http_target_and_a_worker_each(tmp_path: Path) -> None:
    profile = LoadProfile("concurrent", concurrency=(2,), requests=2)
    with pytest.raises(SpecError, match="more than --concurrency 2"):
        PerfOptions(profile, client_processes=3)
    fake = FakeTarget(lambda request: "ok")
    with pytest.raises(SpecError, match="needs an openai: target"):
        asyncio.run(
            perf_async(fake, options(profile, client_processes=2), out_dir=tmp_path, run_id="p")
        )


def test_a_process_that_cannot_start_fails_the_run_in_one_line() -> None:
    processes = ClientProcesses(
        2,
        base_url=f"http://127.0.0.1:{free_port()}/v1",
        model="m",
        max_concurrency=2,
        workload=WORKLOAD,
        profile=LoadProfile("concurrent", concurrency=(2,), requests=2),
    )
    failed = r"^client process 1 of 2: TargetUnavailable: "
    with pytest.raises(TargetUnavailable, match=failed), processes:
        pass
    assert not any(process.is_alive() for process in processes._processes)
