"""The in-process llama.cpp target with the bundled Gemma 3 270M: generation, logprobs, seeds."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from assay._errors import ErrorClass, TargetError
from assay.targets import GenerateConfig, Message, Request, Response
from assay.targets._llamacpp import LlamaCppTarget

pytestmark = pytest.mark.slow


def send(target: LlamaCppTarget, request: Request) -> Response:
    return asyncio.run(target.send(request))


def completion(prompt: str, **config: Any) -> Request:
    return Request(mode="completion", config=GenerateConfig(**config), prompt=prompt)


def test_identity_and_capabilities(builtin: LlamaCppTarget) -> None:
    assert builtin.spec == "builtin"
    assert builtin.model.endswith(".gguf")
    capabilities = builtin.capabilities
    assert (capabilities.completion, capabilities.chat, capabilities.logprobs) == (True, True, True)
    assert builtin.max_concurrency == 1


def test_completion_has_text_usage_and_timings(builtin: LlamaCppTarget) -> None:
    response = send(builtin, completion("The capital of France is", max_tokens=16))
    assert response.ok
    assert response.text.strip()
    assert response.finish_reason in ("length", "stop")
    usage = response.usage
    assert usage.source == "server"
    assert usage.prompt_tokens is not None and usage.prompt_tokens > 0
    assert usage.completion_tokens is not None and 0 < usage.completion_tokens <= 16
    times = response.timings.token_times_s
    assert len(times) == usage.completion_tokens
    assert response.timings.ttft_s == times[0] > 0
    assert all(later > earlier for earlier, later in itertools.pairwise(times))
    assert response.timings.e2e_s >= times[-1]
    assert response.logprobs is None


def test_max_tokens_is_honoured(builtin: LlamaCppTarget) -> None:
    response = send(builtin, completion("Once upon a time", max_tokens=5))
    assert response.finish_reason == "length"
    assert response.usage.completion_tokens == 5


def test_chat(builtin: LlamaCppTarget) -> None:
    request = Request(
        mode="chat",
        config=GenerateConfig(max_tokens=16),
        messages=(Message("user", "What is the capital of France?"),),
    )
    response = send(builtin, request)
    assert response.ok
    assert response.text.strip()
    assert response.finish_reason in ("length", "stop")
    assert len(response.timings.token_times_s) == response.usage.completion_tokens


def test_logprobs_top_k_sorted_and_normalised(builtin: LlamaCppTarget) -> None:
    response = send(builtin, completion("The capital of France is", max_tokens=4, top_logprobs=5))
    assert response.logprobs is not None
    assert len(response.logprobs) == response.usage.completion_tokens == 4
    pieces = []
    for entry in response.logprobs:
        values = [value for _, value in entry.top]
        assert len(values) == 5
        assert values == sorted(values, reverse=True)
        assert all(value <= 0 for value in values)
        assert sum(math.exp(value) for value in values) <= 1 + 1e-6
        # Greedy decoding: the chosen token is the most likely one.
        assert entry.top[0] == (entry.token, pytest.approx(entry.logprob))
        pieces.append(entry.token)
    assert "".join(pieces) == response.text


def test_stop_sequence_is_honoured(builtin: LlamaCppTarget) -> None:
    free = send(builtin, completion("1, 2, 3, 4,", max_tokens=12))
    assert "," in free.text  # without a stop sequence the count goes on
    stopped = send(builtin, completion("1, 2, 3, 4,", max_tokens=12, stop=(",",)))
    assert stopped.finish_reason == "stop"
    assert "," not in stopped.text
    assert free.text.startswith(stopped.text)


def test_same_seed_same_text_whatever_came_before(builtin: LlamaCppTarget) -> None:
    """Regression: reusing a cached KV prefix of any length changed the logits, so a request's
    output depended on the request before it (the same seed gave different texts)."""

    def sampled(seed: int) -> str:
        request = completion("Once upon a time", max_tokens=16, temperature=0.8, seed=seed)
        return send(builtin, request).text

    first = sampled(7)
    send(builtin, completion("The weather today is", max_tokens=8))
    assert sampled(7) == first
    assert sampled(7) == first
    # Sampling is really random at this temperature: different seeds give different texts.
    assert len({sampled(seed) for seed in range(1, 5)}) > 1


def test_greedy_output_is_independent_of_the_previous_prompt(builtin: LlamaCppTarget) -> None:
    shots = "".join(f"Question: What is {n} + {n}?\nAnswer: {2 * n}\n\n" for n in range(1, 12))
    prompts = [shots + f"Question: What is {a} + 5?\nAnswer:" for a in (3, 8)]
    cold = []
    for prompt in prompts:
        send(builtin, completion("Unrelated words to flush the cache", max_tokens=2))
        cold.append(send(builtin, completion(prompt, max_tokens=6, top_logprobs=3)))
    # Now each prompt follows one that shares its long few-shot prefix.
    warm = [send(builtin, completion(prompt, max_tokens=6, top_logprobs=3)) for prompt in prompts]
    warm_again = send(builtin, completion(prompts[0], max_tokens=6, top_logprobs=3))
    for before, after in [*zip(cold, warm, strict=True), (cold[0], warm_again)]:
        assert after.text == before.text
        assert after.logprobs == before.logprobs


def test_repeat_penalty_is_off_unless_asked(builtin: LlamaCppTarget) -> None:
    # Greedy decoding of a small model loops; llama.cpp's repeat penalty breaks the loop.
    prompt = "1 2 3 1 2 3 1 2 3 1 2 3"
    plain = send(builtin, completion(prompt, max_tokens=24))
    assert send(builtin, completion(prompt, max_tokens=24, repeat_penalty=1.0)).text == plain.text
    penalised = send(builtin, completion(prompt, max_tokens=24, repeat_penalty=1.5))
    assert penalised.text != plain.text


def test_prompt_too_long_is_truncated_error(builtin: LlamaCppTarget) -> None:
    with pytest.raises(TargetError) as raised:
        send(builtin, completion("word " * 5000, max_tokens=16))
    assert raised.value.error_class is ErrorClass.TRUNCATED
    assert "4096" in str(raised.value)
    # The target still answers afterwards.
    assert send(builtin, completion("Hello", max_tokens=2)).ok


def test_send_before_start_is_an_error(bundled_model: Path) -> None:
    target = LlamaCppTarget(bundled_model)
    with pytest.raises(TargetError) as raised:
        send(target, completion("Hello", max_tokens=2))
    assert raised.value.error_class is ErrorClass.CONNECTION
