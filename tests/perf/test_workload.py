"""Workloads: synthetic prompts calibrated by tokenizer, server usage or words; JSONL prompts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from assay._errors import DatasetError
from assay.perf._workload import Workload, file_workload, synthetic_workload
from assay.targets._fake import FakeTarget
from assay.targets._openai import OpenAITarget
from assay.testing import StubServer


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
    assert {len(p.split()) for p in workload.prompts} == {40}


def test_server_usage_calibrates_when_there_is_no_tokenizer() -> None:
    # The stub has no /tokenize and reports prompt_tokens as the prompt's word count.
    async def calibrate(url: str) -> Workload:
        target = OpenAITarget(url)
        await target.start()
        try:
            return await synthetic_workload(target, prompt_tokens=48, output_tokens=8, count=30)
        finally:
            await target.close()

    with StubServer() as server:
        workload = asyncio.run(calibrate(server.url))
    assert workload.calibration == "usage"
    assert {len(p.split()) for p in workload.prompts} == {48}


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


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('{"prompt": "a"}\n{"prompt": "b"\n', 2, "not valid JSON"),
        ('{"prompt": "a"}\n\n["b"]\n', 3, 'needs a string field "prompt"'),
        ('{"prompt": 7}\n', 1, 'needs a string field "prompt"'),
    ],
)
def test_a_bad_prompts_line_is_named_by_file_and_line(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    path = write(tmp_path / "prompts.jsonl", text)
    with pytest.raises(DatasetError, match=re.escape(f"{path}:{line}: {says}")):
        file_workload(path, output_tokens=8)


def test_an_empty_or_missing_prompts_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no prompts"):
        file_workload(write(tmp_path / "empty.jsonl", "\n \n"), output_tokens=8)
    with pytest.raises(DatasetError, match="cannot read prompts"):
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
