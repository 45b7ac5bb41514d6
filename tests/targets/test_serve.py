"""`assay model serve`: the bundled model over HTTP, requests queued, top_logprobs listed fast.

The server is the session's `llama_server` fixture, started with `assay model serve builtin`.
"""

from __future__ import annotations

import asyncio
import builtins
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from assay._errors import SpecError, TargetError, TargetUnavailable
from assay.targets import GenerateConfig, Request, Response
from assay.targets._openai import OpenAITarget
from assay.targets._serve import (
    BUILTIN_ALIAS,
    TOP_LOGPROBS,
    ServeOptions,
    build_app,
    served_model,
    top_zip,
)


async def _two_at_once(base_url: str) -> list[Response | BaseException]:
    target = OpenAITarget(base_url, max_concurrency=2)
    await target.start()
    try:
        requests = [
            Request(mode="completion", config=GenerateConfig(max_tokens=24), prompt=prompt)
            for prompt in ("Once upon a time", "The three largest cities of Europe are")
        ]
        return await asyncio.gather(*(target.send(r) for r in requests), return_exceptions=True)
    finally:
        await target.close()


@pytest.mark.slow
def test_concurrent_streams_queue_instead_of_being_cut(llama_server: str) -> None:
    # llama-cpp-python's server as shipped ends the running stream with a bare [DONE] when a
    # second request arrives (the client reports stream_broken); assay's queues the second.
    outcomes = asyncio.run(_two_at_once(llama_server))
    for outcome in outcomes:
        if isinstance(outcome, TargetError):
            pytest.fail(f"a stream failed: {outcome} ({outcome.error_class})")
        assert isinstance(outcome, Response)
        assert outcome.finish_reason in ("stop", "length")
        assert outcome.usage.completion_tokens
        assert len(outcome.timings.token_times_s) > 1  # streamed, chunk by chunk


@pytest.mark.slow
def test_serves_the_bundled_model_under_its_alias(llama_server: str) -> None:
    async def discover() -> str:
        target = OpenAITarget(llama_server)
        await target.start()
        try:
            return target.model
        finally:
            await target.close()

    assert asyncio.run(discover()) == BUILTIN_ALIAS


def test_top_zip_lists_the_same_top_entries_as_the_full_sort() -> None:
    rng = np.random.default_rng(0)
    row = rng.normal(size=100_000).astype(np.float32).tolist()
    index = range(len(row))
    full = sorted(builtins.zip(row, index, strict=True), reverse=True)
    fast = sorted(top_zip(row, index), reverse=True)
    assert len(fast) == TOP_LOGPROBS
    assert fast[:20] == full[:20]
    assert fast == full[:TOP_LOGPROBS]


def test_top_zip_is_zip_for_every_other_call() -> None:
    assert list(top_zip([1, 2], [3, 4])) == [(1, 3), (2, 4)]
    assert list(top_zip([0.5] * 10, range(10))) == list(zip([0.5] * 10, range(10), strict=True))


def test_served_model_strings(tmp_path: Path) -> None:
    gguf = tmp_path / "small-model.gguf"
    gguf.write_bytes(b"x")
    served = served_model(f"gguf:{gguf}?extra_bufts=off")
    assert (served.path, served.alias, served.extra_bufts) == (gguf, "small-model", "off")
    with pytest.raises(SpecError, match=r"temperature is a per-request option"):
        served_model("builtin?temperature=1.5")
    with pytest.raises(SpecError, match=r"write builtin or gguf:/path/to/model.gguf"):
        served_model("openai:http://127.0.0.1:1/v1")
    with pytest.raises(TargetUnavailable, match=r"missing\.gguf: GGUF file not found"):
        served_model(f"gguf:{tmp_path / 'missing.gguf'}")
    with pytest.raises(SpecError, match=r"extra_bufts must be auto, on or off, got 'maybe'"):
        served_model("builtin?extra_bufts=maybe")


def test_without_the_server_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp.server.app", None)  # import fails as if absent
    with pytest.raises(TargetUnavailable, match=re.escape("run: pip install -e '.[server]'")):
        build_app(ServeOptions())
