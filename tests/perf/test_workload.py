"""Workloads: synthetic prompts calibrated by tokenizer, server usage or words; JSONL prompts."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from assay._errors import DatasetError
from assay.perf._workload import (
    UnresponsiveCounter,
    Workload,
    file_workload,
    fit_words,
    synthetic_workload,
)
from assay.targets._fake import FakeTarget
from assay.targets._openai import OpenAITarget
from assay.testing import StubConfig, StubServer


class DigitTokenizerTarget(FakeTarget):
    """A target with a tokenizer like Gemma's for this text: one token per word, one per digit,
    plus a BOS token."""

    async def count_tokens(self, text: str) -> int | None:
        return 1 + sum(len(w) if w.isdigit() else 1 for w in text.split())


def synthetic(target: object, **kwargs: int) -> Workload:
    options = {"output_tokens": 8, "count": 50, **kwargs}
    return asyncio.run(synthetic_workload(target, **options))  # type: ignore[arg-type]


def test_tokenizer_calibration_makes_every_prompt_the_asked_length() -> None:
    target = DigitTokenizerTarget()
    workload = synthetic(target, prompt_tokens=64, count=2000)
    assert workload.calibration == "tokenizer"
    assert workload.calibration_reason == "counted by the target's tokenizer"
    assert len(set(workload.prompts)) == 2000
    lengths = {asyncio.run(target.count_tokens(p)) for p in workload.prompts}
    # Prompt 1999 costs as many tokens as prompt 0: the serial number has a fixed width.
    assert lengths == {64}


def test_a_shared_prefix_is_identical_and_the_total_length_still_holds() -> None:
    target = DigitTokenizerTarget()
    workload = synthetic(target, prompt_tokens=128, shared_prefix_tokens=32, count=20)
    prefixes = {" ".join(p.split()[:31]) for p in workload.prompts}
    assert len(prefixes) == 1
    assert {asyncio.run(target.count_tokens(p)) for p in workload.prompts} == {128}
    assert workload.shared_prefix_tokens == 32


def test_without_tokenizer_or_usage_prompts_are_counted_in_words() -> None:
    workload = synthetic(FakeTarget(("a",)), prompt_tokens=40)
    assert workload.calibration == "words"
    assert workload.calibration_reason.startswith(
        "the target has no tokenizer; the server reports no prompt-token usage; "
        "lengths estimated at one token per word"
    )
    assert {len(p.split()) for p in workload.prompts} == {40}


async def calibrate_over_http(url: str, *, prompt_tokens: int, count: int) -> Workload:
    target = OpenAITarget(url)
    await target.start()
    try:
        return await synthetic_workload(
            target, prompt_tokens=prompt_tokens, output_tokens=8, count=count
        )
    finally:
        await target.close()


def test_server_usage_calibrates_when_there_is_no_tokenizer() -> None:
    # The stub has no /tokenize and reports prompt_tokens as the prompt's word count.
    with StubServer() as server:
        workload = asyncio.run(calibrate_over_http(server.url, prompt_tokens=48, count=30))
    assert workload.calibration == "usage"
    assert workload.calibration_reason == (
        "the server has no tokenize endpoint; "
        "counted by the prompt tokens the server reports in its usage"
    )
    assert {len(p.split()) for p in workload.prompts} == {48}


Count = Callable[[str], Awaitable[int | None]]


def recording(tokens: Callable[[int], int | None], seen: list[int]) -> Count:
    """A counter that answers `tokens(words)` and records every length it was asked about."""

    async def count(text: str) -> int | None:
        seen.append(len(text.split()))
        return tokens(len(text.split()))

    return count


def fit(count: Count, target_tokens: int, **kwargs: int) -> str:
    return asyncio.run(fit_words(count, target_tokens, random.Random(0), name="usage", **kwargs))


def test_fit_words_meets_an_additive_counter_with_a_fixed_part() -> None:
    seen: list[int] = []
    text = fit(recording(lambda words: 2 * words + 3, seen), 203)  # BOS-like fixed part
    assert len(text.split()) == 100
    assert len(seen) <= 3


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("target_tokens", [16, 128, 1024])
def test_fit_words_accepts_a_noisy_but_real_counter(seed: int, target_tokens: int) -> None:
    # About 1.3 tokens per word, each count off by up to 3 tokens (other words drawn each step):
    # the checks for a counter that does not respond must not fire on this.
    noise = random.Random(seed)
    seen: list[int] = []
    counter = recording(lambda words: round(1.3 * words) + noise.randint(-3, 3), seen)
    text = fit(counter, target_tokens)
    assert abs(1.3 * len(text.split()) - target_tokens) <= 8
    assert max(seen) <= 5 * target_tokens + 16


@pytest.mark.parametrize(
    ("tokens", "says"),
    [
        (lambda words: 8, "usage reported 8 prompt tokens for 128 words (0.0625 tokens per word"),
        (lambda words: 0, "usage reported 0 prompt tokens for 128 words"),
        (lambda words: None, "usage reported 0 prompt tokens for 128 words"),
        (lambda words: 5000, "usage reported 5000 prompt tokens for 128 words (39.1 tokens"),
        # Plausible for the first length, then the same whatever the length.
        (
            lambda words: 200,
            "usage did not change when the prompt shrank from 128 to 82 words (200 → 200 tokens)",
        ),
        # More tokens for fewer words.
        (
            lambda words: 400 - words,
            "usage moved implausibly when the prompt shrank from 128 to 60 words (272 → 340 "
            "tokens): -1 tokens per word changed",
        ),
    ],
    ids=["constant", "zero", "none", "too_many", "constant_plausible", "backwards"],
)
def test_fit_words_stops_at_once_on_a_counter_that_does_not_follow_the_length(
    tokens: Callable[[int], int | None], says: str
) -> None:
    seen: list[int] = []
    with pytest.raises(UnresponsiveCounter, match=re.escape(says)):
        fit(recording(tokens, seen), 128)
    assert len(seen) <= 2 and max(seen) <= 128


def test_fit_words_finds_out_a_constant_counter_from_steps_that_each_look_like_noise() -> None:
    # 150 for every length: 128 → 109 → 93 words; no one step is telling, the two together are.
    seen: list[int] = []
    says = "usage did not change when the prompt shrank from 128 to 93 words (150 → 150 tokens)"
    with pytest.raises(UnresponsiveCounter, match=re.escape(says)):
        fit(recording(lambda words: 150, seen), 128)
    assert seen == [128, 109, 93]


def test_fit_words_never_builds_more_than_five_words_a_token() -> None:
    # A counter at the edge of plausible (0.21 tokens per word) drives the search to long
    # prompts, and a first guess may be anything: neither goes past the cap.
    seen: list[int] = []
    fit(recording(lambda words: max(1, int(0.21 * words)), seen), 128)
    assert 600 < max(seen) <= 5 * 128 + 16
    seen.clear()
    fit(recording(lambda words: words, seen), 128, first_guess=10**8)
    assert seen[0] == 5 * 128 + 16


def test_fit_words_counts_the_fixed_part_in_the_plausible_ratio() -> None:
    # 1000 prefix words the counter adds itself: 1024 tokens for 24 fitted words is plausible.
    text = fit(recording(lambda words: words + 1000, []), 1024, first_guess=24, fixed_words=1000)
    assert len(text.split()) == 24
    with pytest.raises(UnresponsiveCounter, match="1024 prompt tokens for 24 words"):
        fit(recording(lambda words: words + 1000, []), 1024, first_guess=24)


class FlatTokenizerTarget(FakeTarget):
    """A tokenize endpoint that answers 8 for every text (a proxy's placeholder)."""

    async def count_tokens(self, text: str) -> int | None:
        return 8


def test_a_tokenizer_that_does_not_count_falls_back_with_its_reason() -> None:
    workload = synthetic(FlatTokenizerTarget(("a",)), prompt_tokens=64, shared_prefix_tokens=16)
    assert workload.calibration == "words"
    reason = workload.calibration_reason
    # Plausible for the 16-token prefix, then found out when the prefix search grew it.
    said = "the tokenizer did not change when the prompt grew from 16 to 32 words (8 → 8 tokens)"
    assert reason.startswith(said), reason
    assert "; the server reports no prompt-token usage; lengths estimated" in reason
    assert {len(p.split()) for p in workload.prompts} == {64}


def test_constant_server_usage_falls_back_to_words_in_few_requests() -> None:
    with StubServer(StubConfig(constant_prompt_tokens=8)) as server:
        workload = asyncio.run(calibrate_over_http(server.url, prompt_tokens=128, count=4))
        sent = list(server.log.by_prompt)
    assert workload.calibration == "words"
    assert "server usage reported 8 prompt tokens" in workload.calibration_reason
    assert {len(p.split()) for p in workload.prompts} == {128}
    # The usage probe and one calibration request: the first count already gave it away.
    assert [len(p.split()) for p in sent] == [2, 129]


def test_requests_are_raw_completions_unless_chat_is_asked() -> None:
    workload = Workload(("one", "two"), 16, True, "file")
    request = workload.request(3)
    assert request.mode == "completion" and request.prompt == "two"
    assert request.config.max_tokens == 16 and request.config.ignore_eos
    chat = Workload(("one", "two"), 16, False, "file", chat=True).request(0)
    assert chat.mode == "chat" and chat.messages[0].content == "one"
    assert chat.messages[0].role == "user"


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


def test_prompts_file(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", '{"prompt": "a b"}\n\n{"text": "c", "id": 2}\n')
    workload = file_workload(path, output_tokens=32)
    assert workload.prompts == ("a b", "c")
    assert workload.calibration == "file" and workload.output_tokens == 32
    assert workload.calibration_reason.startswith("prompts read from a file are sent as written")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            '{"prompt": "a"}\n{"prompt": "b"\n',
            2,
            "not valid JSON (Expecting ',' delimiter); fix or remove the line",
        ),
        (
            '{"prompt": "a"}\n\n["b"]\n',
            3,
            "expected a JSON object, got list; fix or remove the line",
        ),
        ('{"prompt": 7}\n', 1, 'needs a string field "prompt"; fix the line'),
    ],
)
def test_a_bad_prompts_line_is_named_by_file_and_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    path = write(tmp_path / "prompts.jsonl", text)
    with pytest.raises(DatasetError) as raised:
        file_workload(path, output_tokens=8)
    assert str(raised.value) == f"{path}:{line}: {says}"


def test_an_empty_or_missing_prompts_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no prompts"):
        file_workload(write(tmp_path / "empty.jsonl", "\n \n"), output_tokens=8)
    with pytest.raises(DatasetError, match="prompts file not found; check the path"):
        file_workload(tmp_path / "missing.jsonl", output_tokens=8)


@pytest.mark.slow
@pytest.mark.parametrize("prompt_tokens", [64, 256])
def test_prompts_match_the_llama_server_tokenizer(llama_server: str, prompt_tokens: int) -> None:
    async def calibrate_and_count() -> tuple[str, list[int | None]]:
        target = OpenAITarget(llama_server)
        await target.start()
        try:
            workload = await synthetic_workload(
                target, prompt_tokens=prompt_tokens, output_tokens=8, count=2000
            )
            sample = (0, 1, 9, 10, 99, 100, 999, 1000, 1999)
            counts = [await target.count_tokens(workload.prompts[i]) for i in sample]
            return workload.calibration, counts
        finally:
            await target.close()

    calibration, counts = asyncio.run(calibrate_and_count())
    assert calibration == "tokenizer"
    for count in counts:
        assert count is not None and abs(count - prompt_tokens) <= 2, counts
