"""OpenAITarget against a real OpenAI-compatible server: llama-cpp-python's, with Gemma 3 270M.

`normalise_base_url` and the unreachable-server error need no server; everything else uses the
session's `llama_server` fixture on loopback and is marked slow.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import itertools
import json
import sqlite3
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assay import (
    ErrorClass,
    RateLimited,
    Refused,
    RunSpec,
    TargetError,
    TargetUnavailable,
    Timeout,
    evaluate,
)
from assay.store import Store
from assay.targets import GenerateConfig, Message, Request, Response, resolve_target
from assay.targets._openai import (
    HttpLimits,
    OpenAITarget,
    normalise_base_url,
    parse_retry_after,
)
from assay.testing import StubConfig, StubServer
from helpers import free_port, run_assay, with_target

MODEL = "gemma-3-270m"


def send(base_url: str, request: Request) -> Response:
    return with_target(OpenAITarget(base_url), lambda target: target.send(request))


def completion(prompt: str, **config: Any) -> Request:
    return Request(mode="completion", config=GenerateConfig(**config), prompt=prompt)


# -- no server needed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("https://api.example.com/openai/v1//", "https://api.example.com/openai/v1"),
        ("http://localhost:11434/api", "http://localhost:11434/api"),
    ],
)
def test_normalise_base_url(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize("bad", ["localhost:8000", "ftp://host/v1", "http://", "127.0.0.1:8000/v1"])
def test_normalise_base_url_rejects_what_is_not_http(bad: str) -> None:
    with pytest.raises(TargetUnavailable) as raised:
        normalise_base_url(bad)
    message = str(raised.value)
    assert bad in message and "openai:http://" in message
    assert "\n" not in message


@pytest.mark.parametrize("model", [None, "some-model"])
def test_unreachable_server_is_one_line_naming_the_url(model: str | None) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    target = OpenAITarget(base_url, model)
    with pytest.raises(TargetUnavailable) as raised:
        asyncio.run(target.start())
    message = str(raised.value)
    assert base_url in message
    assert "cannot reach" in message
    assert "\n" not in message and "Traceback" not in message
    # Regression: a failed start left its HTTP session open (nobody closes such a target).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del target, raised  # the traceback holds the target too
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


# -- credentials in the target's URL -----------------------------------------------------------

# One value in every form, so one search finds any copy of it.
URL_SECRET = "s3cr3t-9d2f61c0b4"
# (URL on the stub with {port}, what the server must receive, the spec as written)
CREDENTIAL_FORMS = [
    (
        "http://user:{secret}@127.0.0.1:{port}/v1",
        "Basic " + base64.b64encode(f"user:{URL_SECRET}".encode()).decode(),
        "openai:http://***@127.0.0.1:{port}/v1",
    ),
    (
        "http://{secret}@127.0.0.1:{port}/v1",
        "Basic " + base64.b64encode(f"{URL_SECRET}:".encode()).decode(),
        "openai:http://***@127.0.0.1:{port}/v1",
    ),
    *(
        (
            f"http://127.0.0.1:{{port}}/v1?{name}={{secret}}",
            f"?{name}={URL_SECRET}",
            f"openai:http://127.0.0.1:{{port}}/v1?{name}=***",
        )
        for name in ("api-key", "api_key", "key", "token", "access_token", "sig", "signature")
    ),
    (
        "http://127.0.0.1:{port}/v1?api-version=2024-06-01&X-Amz-Credential={secret}",
        f"?api-version=2024-06-01&X-Amz-Credential={URL_SECRET}",
        "openai:http://127.0.0.1:{port}/v1?api-version=2024-06-01&X-Amz-Credential=***",
    ),
]


def assert_written_nowhere(secret: str, out_dir: Path, *outputs: str) -> None:
    """Not in the store (nor a WAL beside it), results.json, report.html, nor what was printed."""
    written = sorted(path for path in out_dir.rglob("*") if path.is_file())
    assert {"assay.db", "results.json", "report.html"} <= {path.name for path in written}
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    for output in outputs:
        assert secret not in output


@pytest.mark.parametrize(("form", "received", "written"), CREDENTIAL_FORMS)
def test_url_credentials_reach_the_server_and_are_written_only_redacted(
    form: str, received: str, written: str, tmp_path: Path
) -> None:
    with StubServer() as stub:
        url = form.format(secret=URL_SECRET, port=stub.port)
        # assay's own override after the URL's query must still apply (and be kept).
        target = f"openai:{url}#stub-model?temperature=0.5"
        run = ("run", "--target", target, "--task", "arithmetic", "--limit", "3")
        result = run_assay(*run, "--run-id", "cred", "--out", str(tmp_path))
        assert result.returncode == 0, result.stderr
        sent = stub.log.requests
        results = json.loads((tmp_path / "cred" / "results.json").read_text())
        # Resuming without the target: the stored copy lost its credentials, so say so.
        resumed = run_assay("run", "--run-id", "cred", "--out", str(tmp_path))
        again = run_assay(*run, "--run-id", "cred", "--out", str(tmp_path))
    assert sent == 3
    if received.startswith("Basic "):
        assert stub.log.authorization[received] >= 3  # every request, probes included
    else:
        assert stub.log.query[received.removeprefix("?")] >= 3
        assert set(stub.log.authorization) == {""}  # no key in the environment: none sent
    spec = written.format(port=stub.port) + "#stub-model?temperature=0.5"
    assert results["target"]["spec"] == spec
    assert results["requests"]["sent"] == 3 and results["requests"]["errors"] == {}
    assert resumed.returncode == 2 and len(resumed.stderr.splitlines()) == 1, resumed.stderr
    assert "credentials were redacted" in resumed.stderr and "pass --target again" in resumed.stderr
    assert again.returncode == 0, again.stderr  # the same target with its credentials resumes
    assert stub.log.requests == 3  # ... from the store: nothing sent again
    assert_written_nowhere(URL_SECRET, tmp_path, result.stdout, result.stderr, resumed.stderr)


def test_perf_and_monitor_runs_write_url_credentials_only_redacted(tmp_path: Path) -> None:
    basic = "Basic " + base64.b64encode(f"user:{URL_SECRET}".encode()).decode()
    with StubServer() as stub:
        url = f"http://user:{URL_SECRET}@127.0.0.1:{stub.port}/v1?api-key={URL_SECRET}"
        perf = run_assay("perf", f"openai:{url}", "--requests", "2", "--out", str(tmp_path))
        down = f"http://user:{URL_SECRET}@127.0.0.1:{free_port()}/v1?token={URL_SECRET}"
        config = tmp_path / "monitor.yaml"
        config.write_text(
            "endpoints:\n"
            + "".join(
                f"  - name: {name}\n    url: '{address}'\n"
                "    workload: {prompt_tokens: 8, output_tokens: 4, requests: 2, concurrency: 1}\n"
                for name, address in (("up", url), ("down", down))
            ),
            "utf-8",
        )
        monitor = run_assay("monitor", "run", str(config), "--once", "--out", str(tmp_path))
        report = run_assay("monitor", "report", "--out", str(tmp_path))
    assert perf.returncode == 0, perf.stderr
    assert monitor.returncode == 0, monitor.stderr
    assert report.returncode == 0, report.stderr
    assert stub.log.requests >= 4 and stub.log.authorization[basic] >= 4
    assert stub.log.query[f"api-key={URL_SECRET}"] >= 4
    specs = {row[0] for row in _rows(tmp_path / "assay.db", "SELECT target_spec FROM runs")}
    assert specs == {
        f"openai:http://***@127.0.0.1:{stub.port}/v1?api-key=***",
        f"openai:{down.replace(f'user:{URL_SECRET}', '***').replace(URL_SECRET, '***')}",
    }
    config.unlink()  # the one file that holds the secret on purpose
    outputs = (perf.stdout, perf.stderr, monitor.stdout, monitor.stderr, report.stdout)
    assert_written_nowhere(URL_SECRET, tmp_path, *outputs)


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # Nothing listens there: the message names the endpoint, which holds no credentials.
        ("openai:http://user:{secret}@127.0.0.1:{port}/v1", "cannot reach the server"),
        ("openai:http://127.0.0.1:{port}/v1?api-key={secret}", "cannot reach the server"),
        # Messages that quote the target string quote it redacted.
        ("openai:http://127.0.0.1:{port}/v1?api-key={secret}&temperature=1", "api-key=***"),
        ("openai:http://user:{secret}@127.0.0.1:notaport/v1", "http://***@127.0.0.1:notaport"),
    ],
)
def test_errors_about_a_target_with_credentials_are_one_line_without_them(
    target: str, expected: str, tmp_path: Path
) -> None:
    spec = target.format(secret=URL_SECRET, port=free_port())
    result = run_assay("run", "--target", spec, "--task", "arithmetic", "--out", str(tmp_path))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert URL_SECRET not in result.stdout + result.stderr


# -- errors by family --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "family", "error_class", "status"),
    [
        ("429", RateLimited, ErrorClass.RATE_LIMITED, 429),
        ("content_filter", Refused, ErrorClass.CONTENT_FILTER, 400),
        ("stall", Timeout, ErrorClass.TIMEOUT, None),
    ],
)
def test_failures_are_raised_as_their_family(
    fault: str, family: type[TargetError], error_class: ErrorClass, status: int | None
) -> None:
    config = StubConfig(faults=(fault,), retry_after_s=2.5, stall_s=0.5)

    async def go(target: OpenAITarget) -> None:
        try:
            await target.send(completion("x", max_tokens=4))
        except family as exc:
            # The subclass keeps what callers read today, and `except TargetError` still holds.
            assert isinstance(exc, TargetError)
            assert exc.error_class is error_class and exc.status == status
            if fault == "429":
                assert exc.retry_after_s == 2.5
            return
        pytest.fail(f"no {family.__name__} raised")

    limits = HttpLimits(read_timeout_s=0.1)
    with StubServer(config) as server:
        with_target(OpenAITarget(server.url, limits=limits), go)


def test_other_http_errors_are_plain_target_errors() -> None:
    with StubServer(StubConfig(faults=("500",))) as server, pytest.raises(TargetError) as raised:
        send(server.url, completion("x", max_tokens=4))
    assert type(raised.value) is TargetError
    assert raised.value.error_class is ErrorClass.HTTP_5XX and raised.value.status == 500


NOW = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected_s"),
    [
        ("120", 120.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wed, 21 Oct 2015 07:28:30 -0000", 30.0),  # no zone given: UTC
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
        (None, None),
        ("soon", None),
        ("", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 32 Oct 2015 07:28:30 GMT", None),
    ],
)
def test_retry_after_in_seconds_or_as_an_http_date(
    header: str | None, expected_s: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == expected_s


# -- against llama-cpp-python's server ---------------------------------------------------------


@pytest.mark.slow
def test_model_is_discovered_and_capabilities_probed(llama_server: str) -> None:
    target = OpenAITarget(llama_server)
    assert target.model == ""

    with_target(target, lambda _: asyncio.sleep(0))
    assert target.model == MODEL  # from /v1/models
    assert target.spec == f"openai:{llama_server}"  # the model was not given, so not in the spec
    capabilities = target.capabilities
    assert capabilities.completion is True
    assert capabilities.chat is True
    assert capabilities.logprobs is True
    assert capabilities.streaming is True


@pytest.mark.slow
def test_completion_streams_with_per_chunk_times(llama_server: str) -> None:
    prompt = "The capital of France is"
    response = send(llama_server, completion(prompt, max_tokens=16))
    assert response.ok
    assert response.text.strip()
    assert response.finish_reason == "length"
    assert response.http_status == 200

    usage = response.usage
    # llama-cpp-python's server ignores stream_options.include_usage, so usage is counted from
    # the streamed chunks; a server that sends usage is covered in tests/engine/test_faults.py.
    if usage.source == "server":
        assert usage.prompt_tokens is not None and usage.prompt_tokens > 0
    else:
        assert usage.source == "client"
    assert usage.completion_tokens == 16  # cut at max_tokens

    timings = response.timings
    times = timings.token_times_s
    assert len(times) == 16  # one arrival time per streamed chunk, one chunk per token
    assert timings.ttft_s is not None and timings.ttft_s > 0
    assert timings.ttft_s == times[0]
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    assert timings.e2e_s >= times[-1]
    assert response.logprobs is None


@pytest.mark.slow
def test_chat(llama_server: str) -> None:
    # A system turn, because this base model ends a bare user turn at once.
    request = Request(
        mode="chat",
        config=GenerateConfig(max_tokens=16),
        messages=(
            Message("system", "You are a helpful assistant."),
            Message("user", "What is the capital of France?"),
        ),
    )
    response = send(llama_server, request)
    assert response.ok
    assert response.text.strip()
    assert response.finish_reason in ("stop", "length")
    assert len(response.timings.token_times_s) >= 1
    assert response.timings.e2e_s >= response.timings.token_times_s[-1]


@pytest.mark.slow
def test_completion_logprobs(llama_server: str) -> None:
    response = send(
        llama_server, completion("The capital of France is", max_tokens=4, top_logprobs=5)
    )
    assert response.logprobs is not None
    assert len(response.logprobs) == 4
    assert "".join(entry.token for entry in response.logprobs) == response.text
    for entry in response.logprobs:
        assert entry.logprob <= 0
        assert 5 <= len(entry.top) <= 6  # llama.cpp adds the sampled token when not in the top 5
        assert all(value <= 0 for _, value in entry.top)
        # The server lists the chosen token among the alternatives (it may not be the most
        # likely one: llama-cpp-python's server applies a repeat penalty of 1.1 by default).
        alternatives = dict(entry.top)
        assert alternatives[entry.token] == pytest.approx(entry.logprob)
        values = [value for _, value in entry.top]
        assert values[:5] == sorted(values[:5], reverse=True)


@pytest.mark.slow
def test_stop_sequences_are_honoured(llama_server: str) -> None:
    free = send(llama_server, completion("1, 2, 3, 4,", max_tokens=12))
    assert free.text.count(",") >= 2  # the count goes on without a stop sequence
    stopped = send(llama_server, completion("1, 2, 3, 4,", max_tokens=12, stop=(",",)))
    assert stopped.finish_reason == "stop"
    assert "," not in stopped.text
    assert stopped.text.strip()
    assert free.text.startswith(stopped.text)


@pytest.mark.slow
def test_explicit_model_in_the_spec(llama_server: str) -> None:
    target = resolve_target(f"openai:{llama_server}#{MODEL}")
    assert isinstance(target, OpenAITarget)
    assert target.model == MODEL  # before start: no discovery needed
    assert target.spec == f"openai:{llama_server}#{MODEL}"
    response = with_target(target, lambda t: t.send(completion("Hello", max_tokens=4)))
    assert response.ok and response.usage.completion_tokens == 4
    assert target.model == MODEL


@pytest.mark.slow
def test_secret_key_is_never_written(
    llama_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-assay-test-7f3c9e1d2b8a4f60"
    monkeypatch.setenv("ASSAY_API_KEY", secret)
    spec = RunSpec(target=f"openai:{llama_server}", tasks=("arithmetic",), limit=3)
    result = evaluate(spec, out_dir=tmp_path, run_id="secret")

    results = json.loads(result.results_path.read_text())
    assert results["target"]["spec"] == f"openai:{llama_server}"
    assert results["requests"]["sent"] == 3 and results["requests"]["errors"] == {}
    assert results["tasks"][0]["n"] + results["tasks"][0]["errors"] == 3
    assert_written_nowhere(secret, tmp_path)


@pytest.mark.slow
def test_multiple_choice_uses_logprobs_on_the_server(llama_server: str, tmp_path: Path) -> None:
    spec = RunSpec(target=f"openai:{llama_server}", tasks=("knowledge_mcq",), limit=8)
    result = evaluate(spec, out_dir=tmp_path)
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert task["task"] == "knowledge_mcq"
    assert task["method"] == "logprob"
    assert task["n"] == 8 and task["errors"] == 0
    assert 0.0 <= task["value"] <= 1.0


@pytest.mark.slow
def test_answers_the_server_cuts_are_retried_not_scored(
    interrupting_llama_server: str, tmp_path: Path
) -> None:
    # llama-cpp-python ends a stream with a bare [DONE] as soon as a second request waits for
    # the model; four at once make it cut. Such an answer is unfinished: retried, never scored.
    url = interrupting_llama_server
    spec = RunSpec(target=f"openai:{url}", tasks=("arithmetic",), limit=4, concurrency=4)
    result = evaluate(spec, out_dir=tmp_path, run_id="cut")
    results = json.loads(result.results_path.read_text())
    assert results["requests"]["errors"] == {}
    assert results["requests"]["retried"].get("stream_broken", 0) >= 1  # the server did cut
    assert results["tasks"][0]["n"] + results["tasks"][0]["errors"] == 4
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        requests = store.read_run("cut").requests
    finally:
        store.close()
    assert len(requests) == 4
    assert all(row["finish_reason"] in ("stop", "length") for row in requests)
