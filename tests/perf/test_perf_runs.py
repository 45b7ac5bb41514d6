"""`perf_async` end to end against the stub server on loopback: every profile, the results.json
`perf` contract, measured latencies against injected ones, failures, and reasoning streams.

The stub runs on a thread of the test process (it shares the GIL with the client), so latency
checks here are loose; benchmarks/perf_validation.py measures accuracy with the stub in its own
process.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from assay._api import perf_async
from assay._errors import SpecError
from assay.perf._metrics import Slo
from assay.perf._perf import PerfOptions, parse_slo
from assay.perf._profiles import LoadProfile
from assay.store import Store
from assay.testing import StubConfig, StubServer

TTFT_S, ITL_S = 0.05, 0.01
OUTPUT_TOKENS = 16
STEP_KEYS = {
    "requests",
    "success_rate",
    "failures",
    "ttft_s",
    "ttfat_s",
    "itl_s",
    "e2e_s",
    "output_tokens_per_s",
    "aggregate_output_tokens_per_s",
    "request_throughput",
    "goodput",
    "client_limited",
}
DISTRIBUTION_KEYS = {"p50", "p90", "p95", "p99", "mean", "mean_ci95", "n"}


def long_answer(prompt: str) -> str:
    return " ".join(f"w{index}" for index in range(64))


def stub_config(**overrides: Any) -> StubConfig:
    settings: dict[str, Any] = {"answer": long_answer, "ttft_s": TTFT_S, "itl_s": ITL_S}
    return StubConfig(**(settings | overrides))


def run_perf(
    server: StubServer, options: PerfOptions, out: Path, run_id: str = "perf"
) -> dict[str, Any]:
    result = asyncio.run(perf_async(f"openai:{server.url}", options, out_dir=out, run_id=run_id))
    assert result.report_path.is_file()
    results: dict[str, Any] = json.loads(result.results_path.read_text("utf-8"))
    return results


def options(profile: LoadProfile, **overrides: Any) -> PerfOptions:
    settings: dict[str, Any] = {"prompt_tokens": 32, "output_tokens": OUTPUT_TOKENS}
    return PerfOptions(profile, **(settings | overrides))


def check_step(step: dict[str, Any], requests: int) -> None:
    assert set(step) >= STEP_KEYS, STEP_KEYS - set(step)
    assert step["requests"] == requests and step["success_rate"] == 1.0
    assert step["failures"] == {}
    for metric in ("ttft_s", "ttfat_s", "itl_s", "e2e_s", "output_tokens_per_s"):
        assert set(step[metric]) >= DISTRIBUTION_KEYS and step[metric]["n"] == requests
    # Injected: first token after 50 ms, then one every 10 ms. The client can only be later.
    assert TTFT_S <= step["ttft_s"]["p50"] < TTFT_S + 0.02
    assert step["ttfat_s"]["p50"] == step["ttft_s"]["p50"]  # no reasoning stream here
    assert ITL_S * 0.9 < step["itl_s"]["p50"] < ITL_S * 1.25
    expected_e2e = TTFT_S + (OUTPUT_TOKENS - 1) * ITL_S
    assert expected_e2e <= step["e2e_s"]["p50"] < expected_e2e + 0.03
    assert step["output_token_source"] == "server"
    assert step["output_tokens_server"] == step["output_tokens_client"] == requests * 16
    assert step["aggregate_output_tokens_per_s"] == pytest.approx(
        OUTPUT_TOKENS * step["request_throughput"]
    )
    assert step["goodput"] == step["request_throughput"]  # no SLO: every success counts
    assert step["client_limited"] is False, step["client"]["reasons"]


PROFILES: list[tuple[LoadProfile, list[int]]] = [
    (LoadProfile("sync", requests=4), [4]),
    (LoadProfile("concurrent", concurrency=(4,), requests=12), [12]),
    (LoadProfile("sweep", concurrency=(1, 4), requests=6), [6, 6]),
    (LoadProfile("constant", rates_per_s=(40.0,), requests=12), [12]),
    (LoadProfile("poisson", rates_per_s=(40.0,), requests=12, seed=3), [12]),
]


@pytest.mark.parametrize(("profile", "per_step"), PROFILES, ids=lambda p: getattr(p, "kind", ""))
def test_each_profile_fills_the_perf_contract(
    tmp_path: Path, profile: LoadProfile, per_step: list[int]
) -> None:
    with StubServer(stub_config()) as server:
        results = run_perf(server, options(profile), tmp_path)
        # Calibration probes aside, the server saw exactly the recorded requests.
        assert sum(server.log.by_prompt.values()) >= sum(per_step)
    perf = results["perf"]
    assert perf["profile"] == profile.kind
    assert perf["client_limited"] is False
    assert [s["step"] for s in perf["steps"]] == [s.name for s in profile.steps()]
    for step, requests in zip(perf["steps"], per_step, strict=True):
        check_step(step, requests)
    if len(per_step) == 1:  # one step: its figures are also the top level of "perf"
        check_step(perf, per_step[0])
    assert perf["workload"]["length_calibration"] == "usage"  # the stub has no tokenizer
    assert perf["workload"]["calibration"] == {
        "source": "usage",
        "reason": "the server has no tokenize endpoint; "
        "counted by the prompt tokens the server reports in its usage",
    }
    assert perf["workload"]["api"] == "completion"


@pytest.mark.timeout(120)
def test_constant_usage_with_a_shared_prefix_is_found_out_and_lengths_bounded(
    tmp_path: Path,
) -> None:
    # Usage stuck at 40: plausible for the 32-token prefix's first guess, so it is found out in
    # the prefix search, by small steps; the whole prompt is then fitted by word count.
    profile = LoadProfile("sweep", concurrency=(1, 2), requests=3)
    config = stub_config(constant_prompt_tokens=40)
    with StubServer(config) as server:
        perf = run_perf(
            server, options(profile, prompt_tokens=256, shared_prefix_tokens=32), tmp_path
        )["perf"]
        sent = [len(prompt.split()) for prompt in server.log.by_prompt]
    assert max(sent) <= 5 * 256 and sent.count(256) == 6
    calibration = perf["workload"]["calibration"]
    assert calibration["source"] == perf["workload"]["length_calibration"] == "words"
    # Two steps of 6 and 5 words look like noise each; together they must move any real count.
    assert calibration["reason"].startswith(
        "the server has no tokenize endpoint; server usage did not change when the prompt "
        "shrank from 32 to 21 words (40 → 40 tokens); lengths estimated at one token per word"
    ), calibration["reason"]
    assert [s["success_rate"] for s in perf["steps"]] == [1.0, 1.0]


def test_open_loop_steps_record_the_requested_rate(tmp_path: Path) -> None:
    profile = LoadProfile("constant", rates_per_s=(20.0, 40.0), requests=10)
    with StubServer(stub_config()) as server:
        perf = run_perf(server, options(profile), tmp_path)["perf"]
    assert [s["rate"] for s in perf["steps"]] == [20.0, 40.0]
    for step in perf["steps"]:
        assert step["client"]["requested_rate"] == step["rate"]
        # 10 requests at R/s are sent over 9/R seconds.
        assert step["client"]["achieved_send_rate"] == pytest.approx(step["rate"], rel=0.1)


def test_failures_are_counted_and_kept_out_of_latency_figures(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"p{i}"}) + "\n" for i in range(10)))
    faults = ("500", "ok", "429", "ok", "broken", "ok", "ok", "ok", "ok", "ok")
    config = stub_config(faults=faults)
    profile = LoadProfile("sync", requests=10)
    with StubServer(config) as server:
        perf = run_perf(server, options(profile, prompts_file=prompts), tmp_path)["perf"]
        assert server.log.requests == 10  # no retries: a failure is a measurement
    assert perf["requests"] == 10
    assert perf["success_rate"] == pytest.approx(0.7)
    assert perf["failures"] == {"http_5xx": 1, "rate_limited": 1, "stream_broken": 1}
    # The 500 and 429 came back in about a millisecond; none of that is in the percentiles.
    for metric in ("ttft_s", "itl_s", "e2e_s", "output_tokens_per_s"):
        assert perf[metric]["n"] == 7
    assert perf["e2e_s"]["p50"] >= TTFT_S + (OUTPUT_TOKENS - 1) * ITL_S
    assert min(perf["ttft_s"]["p50"], perf["ttft_s"]["mean"]) >= TTFT_S
    assert perf["request_throughput"] < perf["requests"] / perf["duration_s"]
    assert perf["workload"]["length_calibration"] == "file"
    assert perf["workload"]["calibration"]["source"] == "file"


def test_reasoning_streams_separate_ttft_from_ttfat(tmp_path: Path) -> None:
    reasoning_tokens = 5
    profile = LoadProfile("concurrent", concurrency=(2,), requests=6)
    with StubServer(stub_config(reasoning_tokens=reasoning_tokens)) as server:
        perf = run_perf(server, options(profile, chat=True), tmp_path)["perf"]
    assert perf["workload"]["api"] == "chat"
    assert perf["ttft_s"]["n"] == perf["ttfat_s"]["n"] == 6
    ttft, ttfat = perf["ttft_s"]["p50"], perf["ttfat_s"]["p50"]
    # The first delta is reasoning at 50 ms; the first answer token comes 5 tokens later.
    assert TTFT_S <= ttft < ttfat
    assert ttfat - ttft == pytest.approx(reasoning_tokens * ITL_S, abs=0.01)
    # Reasoning deltas are output tokens too: counted by the server and the client alike.
    assert perf["output_tokens_server"] == perf["output_tokens_client"] == 6 * OUTPUT_TOKENS


def test_goodput_counts_only_requests_within_the_slo(tmp_path: Path) -> None:
    # TTFT is ~50 ms: a 40 ms objective is met by no request, a 1 s one by every request.
    profile = LoadProfile("sync", requests=3)
    with StubServer(stub_config()) as server:
        strict = run_perf(server, options(profile, slo=parse_slo("ttft=40ms")), tmp_path, "a")
        loose = run_perf(server, options(profile, slo=parse_slo("ttft=1s")), tmp_path, "b")
    assert strict["perf"]["goodput"] == 0.0 and strict["perf"]["slo"] == {"ttft_s": 0.04}
    assert loose["perf"]["goodput"] == loose["perf"]["request_throughput"] > 0


def test_parse_slo() -> None:
    assert parse_slo(None) == Slo()
    assert parse_slo("ttft=1s,tpot=50ms") == Slo(ttft_s=1.0, tpot_s=0.05)
    assert parse_slo(" e2e = 2.5 , itl=20ms ") == Slo(e2e_s=2.5, tpot_s=0.02)
    assert parse_slo("ttft=0.5") == Slo(ttft_s=0.5)
    for bad in ("ttft", "ttft=fast", "latency=1s", "ttft=1h"):
        with pytest.raises(SpecError, match="--slo"):
            parse_slo(bad)


def test_per_request_rows_are_stored_and_a_run_id_is_not_reused(tmp_path: Path) -> None:
    profile = LoadProfile("sync", requests=3)
    with StubServer(stub_config()) as server:
        run_perf(server, options(profile), tmp_path, "once")
        with pytest.raises(SpecError, match="already exists"):
            run_perf(server, options(profile), tmp_path, "once")
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        data = store.read_run("once")
    finally:
        store.close()
    assert data.run["status"] == "complete"
    kinds = [row["data"]["kind"] for row in data.perf_samples]
    assert kinds.count("step") == 1 and kinds.count("request") == 3
    request = next(r["data"] for r in data.perf_samples if r["data"]["kind"] == "request")
    assert len(request["token_times_s"]) == OUTPUT_TOKENS
    assert request["usage_source"] == "server" and request["prompt_tokens"] == 32


def test_the_outcome_counts_the_measured_requests(tmp_path: Path) -> None:
    # Two steps of three, each after two warmup requests that are sent but not measured.
    profile = LoadProfile("sweep", concurrency=(1, 2), requests=3, warmup=2)
    with StubServer(stub_config(faults=("ok", "500"), cycle_faults=True)) as server:
        result = asyncio.run(
            perf_async(f"openai:{server.url}", options(profile), out_dir=tmp_path, run_id="n")
        )
        served = server.log.requests
    outcome = result.outcome
    assert (outcome.run_id, outcome.requests_total, outcome.requests_cached) == ("n", 6, 0)
    assert outcome.requests_sent == 6  # failed requests were sent too
    assert served >= 6 + 2 * 2  # warmup (and length calibration) reached it, unmeasured
