"""Faults injected by the stub server: retried, classified, counted, and never scored.

Every run here is loopback-only and bounded: stalls are 1 s against a 0.5 s read timeout and
backoffs are 10 ms, so the whole file takes a few seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from assay import ErrorClass, RunSpec, TargetError, evaluate
from assay.engine import Executor, RetryPolicy
from assay.store import Store
from assay.targets import GenerateConfig, Message, Request, Response
from assay.targets._openai import HttpLimits, OpenAITarget
from assay.tasks._quick import arithmetic_samples
from assay.testing import StubConfig, StubServer

FAST_RETRY = RetryPolicy(initial_backoff_s=0.01, max_attempts=4)
LIMITS = HttpLimits(read_timeout_s=0.5)
_TARGETS = {s.input: s.target for s in arithmetic_samples(0, 100)}


def right_answer(prompt: str) -> str:
    """The stub answers every arithmetic question correctly (and the capability probes)."""
    if "Question: " not in prompt:
        return "Hi"
    question = prompt.rsplit("Question: ", 1)[1].split("\nAnswer:")[0]
    return f" The answer is {_TARGETS[question]}."


def run_against_stub(
    tmp_path: Path, config: StubConfig, limit: int, run_id: str = "faults"
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], StubServer]:
    """Evaluate `arithmetic` against the stub; results.json, score rows, request rows, server."""
    with StubServer(config) as server:
        result = evaluate(
            RunSpec(target=f"openai:{server.url}", tasks=("arithmetic",), limit=limit),
            out_dir=tmp_path,
            run_id=run_id,
            target=OpenAITarget(server.url, limits=LIMITS),
            retry=FAST_RETRY,
        )
    results = json.loads(result.results_path.read_text())
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        data = store.read_run(run_id)
    finally:
        store.close()
    return results, data.scores, data.requests, server


def test_every_fault_is_retried_or_counted_and_never_scored(tmp_path: Path) -> None:
    faults = ("429", "500", "stall", "broken", "malformed", "400", "content_filter")
    config = StubConfig(answer=right_answer, faults=faults, stall_s=1.0)
    results, scores, requests, server = run_against_stub(tmp_path, config, limit=12)

    # Requests 0-6 carry the faults; the four retryable ones are sent once more and succeed.
    assert server.log.requests == 12 + 4
    assert results["status"] == "complete"
    summary = results["requests"]
    assert summary["retried"] == {
        "rate_limited": 1,
        "http_5xx": 1,
        "timeout": 1,
        "stream_broken": 1,
    }
    assert summary["errors"] == {"http_4xx": 1, "malformed": 1, "content_filter": 1}
    assert (summary["total"], summary["sent"], summary["stored"]) == (12, 12, 12)

    (task,) = results["tasks"]
    assert task["error_classes"] == {"http_4xx": 1, "malformed": 1, "content_filter": 1}
    assert task["errors"] == 3
    assert task["n"] == 9  # errored samples are not in n ...
    assert task["value"] == 1.0  # ... nor scored as wrong (every answer given was right)
    assert task["samples_planned"] == 12

    errored = [row for row in scores if row["outcome"] == "error"]
    assert len(scores) == 12
    assert sorted(row["error_class"] for row in errored) == [
        "content_filter",
        "http_4xx",
        "malformed",
    ]
    for row in errored:
        assert row["value"] is None  # never correct, never wrong
        assert row["output"] == ""
    assert all(row["value"] == 1.0 for row in scores if row["outcome"] == "scored")

    by_outcome = sorted((row["error_class"] or "ok", row["attempts"]) for row in requests)
    assert by_outcome == sorted(
        [("ok", 1)] * 5
        + [("ok", 2)] * 4
        + [("http_4xx", 1), ("malformed", 1), ("content_filter", 1)]
    )
    retried_rows = [row for row in requests if row["attempt_errors"]]
    assert sorted(next(iter(row["attempt_errors"])) for row in retried_rows) == [
        "http_5xx",
        "rate_limited",
        "stream_broken",
        "timeout",
    ]
    details = {row["error_class"]: row["error_detail"] for row in requests if row["error_class"]}
    assert "bad request" in details["http_4xx"]
    assert "not json" in details["malformed"]
    statuses = {row["error_class"]: row["http_status"] for row in requests if row["error_class"]}
    assert statuses == {"http_4xx": 400, "content_filter": 400, "malformed": None}


@pytest.mark.parametrize(
    ("fault", "error_class", "status"),
    [
        ("429", "rate_limited", 429),
        ("500", "http_5xx", 500),
        ("stall", "timeout", None),
        ("broken", "stream_broken", None),
        ("cut", "stream_broken", 200),  # [DONE] with no finish_reason: an unfinished answer
    ],
)
def test_retryable_fault_on_every_attempt_ends_as_its_class(
    tmp_path: Path, fault: str, error_class: str, status: int | None
) -> None:
    config = StubConfig(answer=right_answer, faults=(fault,) * 4, stall_s=1.0, retry_after_s=0.0)
    results, scores, requests, server = run_against_stub(tmp_path, config, limit=1)

    assert server.log.requests == FAST_RETRY.max_attempts
    (task,) = results["tasks"]
    assert task["error_classes"] == {error_class: 1}
    assert task["n"] == 0
    assert task["value"] is None
    assert results["requests"]["errors"] == {error_class: 1}
    # The last failure ends the sample; the ones before it were retried.
    assert results["requests"]["retried"] == {error_class: FAST_RETRY.max_attempts - 1}
    (score,) = scores
    assert (score["outcome"], score["error_class"], score["value"]) == ("error", error_class, None)
    (request,) = requests
    assert request["error_class"] == error_class
    assert request["attempts"] == FAST_RETRY.max_attempts
    assert request["http_status"] == status
    if fault == "cut":
        assert "without a finish_reason" in request["error_detail"]
    (invocation,) = _invocations(tmp_path, "faults")
    assert invocation["status"] == "complete"
    assert invocation["failed_attempts"] == {error_class: FAST_RETRY.max_attempts}
    assert invocation["attempts"] == FAST_RETRY.max_attempts


def _invocations(tmp_path: Path, run_id: str) -> list[dict[str, Any]]:
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        run = store.get_run(run_id)
    finally:
        store.close()
    assert run is not None
    return list(run["invocations"])


def _submit_once(config: StubConfig) -> tuple[Response, float, int]:
    """One request through the executor; the response, its wall time and requests served."""

    async def go(server: StubServer) -> tuple[Response, float]:
        target = OpenAITarget(server.url, limits=LIMITS)
        await target.start()
        try:
            executor = Executor(target, concurrency=1, retry=FAST_RETRY)
            request = Request(
                mode="completion", config=GenerateConfig(max_tokens=8), prompt="Say something"
            )
            started = time.perf_counter()
            response, _ = await executor.submit(request)
            return response, time.perf_counter() - started
        finally:
            await target.close()

    with StubServer(config) as server:
        response, elapsed_s = asyncio.run(go(server))
    return response, elapsed_s, server.log.requests


def test_retry_after_is_honoured() -> None:
    response, elapsed_s, served = _submit_once(StubConfig(faults=("429",), retry_after_s=0.3))
    assert response.ok and response.attempts == 2 and served == 2
    assert elapsed_s >= 0.3
    assert elapsed_s < 5  # bounded: Retry-After, not a runaway backoff


def test_without_retry_after_the_own_backoff_is_used() -> None:
    # The stub sends "Retry-After: 0.0": the retry follows at once, not after 0.3 s.
    response, elapsed_s, served = _submit_once(StubConfig(faults=("429",), retry_after_s=0.0))
    assert response.ok and response.attempts == 2 and served == 2
    assert elapsed_s < 0.3


TTFT_S = 0.05
ITL_S = 0.01
N_TOKENS = 20
# Generous: a loaded CI machine delays chunks by milliseconds. A wrong measurement is far off:
# stamping headers gives TTFT ~0, stamping at [DONE] gives ~0.24 s and ITL ~0.
TTFT_TOLERANCE_S = 0.015
ITL_TOLERANCE_S = 0.003


def _twenty_words(prompt: str) -> str:
    return " ".join(f"w{index}" for index in range(N_TOKENS))


def _assert_timings_match_injection(response: Response) -> None:
    timings = response.timings
    times = timings.token_times_s
    assert len(times) == N_TOKENS  # one arrival time per streamed chunk
    assert response.usage.source == "server"  # the stub honours stream_options.include_usage
    assert response.usage.completion_tokens == N_TOKENS
    assert timings.ttft_s == times[0]
    assert TTFT_S <= times[0] < TTFT_S + 3 * TTFT_TOLERANCE_S
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap > 0 for gap in gaps)
    mean_itl_s = (times[-1] - times[0]) / (N_TOKENS - 1)
    assert abs(mean_itl_s - ITL_S) < ITL_TOLERANCE_S
    assert abs(statistics.median(gaps) - ITL_S) < ITL_TOLERANCE_S
    assert timings.e2e_s >= times[-1]


@pytest.mark.parametrize("mode", ["completion", "chat"])
def test_streaming_timings_match_the_injected_ones(mode: str) -> None:
    config = StubConfig(answer=_twenty_words, ttft_s=TTFT_S, itl_s=ITL_S)

    async def go(server: StubServer) -> list[Response]:
        target = OpenAITarget(server.url, limits=LIMITS)
        await target.start()
        try:
            request = Request(
                mode="chat" if mode == "chat" else "completion",
                config=GenerateConfig(max_tokens=64),
                prompt="Say twenty words",
                messages=(Message("user", "Say twenty words"),),
            )
            return [await target.send(request) for _ in range(5)]
        finally:
            await target.close()

    with StubServer(config) as server:
        responses = asyncio.run(go(server))
    for response in responses:
        assert response.text == _twenty_words("")
        assert response.finish_reason == "stop"
        _assert_timings_match_injection(response)
    ttfts = [response.timings.ttft_s or 0.0 for response in responses]
    assert TTFT_S <= statistics.median(ttfts) < TTFT_S + TTFT_TOLERANCE_S


def test_serving_figures_of_a_run_match_the_injected_timings(tmp_path: Path) -> None:
    config = StubConfig(answer=_twenty_words, ttft_s=TTFT_S, itl_s=ITL_S)
    results, _, requests, _ = run_against_stub(tmp_path, config, limit=4)
    serving = results["serving"]
    assert serving["ttft_s"]["n"] == serving["itl_s"]["n"] == 4
    # Four streams at once, beside the store's writes: a little more slack than one alone.
    assert TTFT_S <= serving["ttft_s"]["p50"] < TTFT_S + 2 * TTFT_TOLERANCE_S
    assert abs(serving["itl_s"]["p50"] - ITL_S) < ITL_TOLERANCE_S
    for row in requests:
        assert len(row["token_times_s"]) == N_TOKENS
        assert row["usage_source"] == "server"
        assert row["completion_tokens"] == N_TOKENS


def test_stall_in_the_middle_of_a_stream_is_a_timeout() -> None:
    # Tokens 0.8 s apart against a 0.3 s read timeout: the first arrives, the second never does.
    config = StubConfig(answer=lambda prompt: "a b c", itl_s=0.8)

    async def go(server: StubServer) -> tuple[TargetError, float]:
        target = OpenAITarget(server.url, limits=HttpLimits(read_timeout_s=0.3))
        await target.start()
        started = time.perf_counter()
        try:
            with pytest.raises(TargetError) as raised:
                await target.send(Request(mode="completion", config=GenerateConfig(), prompt="x"))
            return raised.value, time.perf_counter() - started
        finally:
            await target.close()

    with StubServer(config) as server:
        error, elapsed_s = asyncio.run(go(server))
    assert error.error_class is ErrorClass.TIMEOUT
    assert "0.3s" in str(error) and server.url in str(error)
    assert 0.3 <= elapsed_s < 0.8
