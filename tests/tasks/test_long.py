"""Needle-in-a-haystack tasks: lengths checked with the bundled model's own tokenizer."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from assay.core import Sample
from assay.tasks import TaskContext, get_task
from assay.tasks._long import (
    DEPTHS,
    KV_TOKENS,
    LENGTHS,
    TEMPLATE,
    estimate_tokens,
    kv_sample,
    needle_sample,
)

TASKS = {**LENGTHS, "kv_retrieval": KV_TOKENS}
N_CTX = 4096  # the bundled model's context in assay.targets._llamacpp


@pytest.fixture(scope="module")
def tokenizer(bundled_model: Path) -> Any:
    import llama_cpp

    return llama_cpp.Llama(str(bundled_model), vocab_only=True, verbose=False)


def prompt_tokens(tokenizer: Any, sample: Sample) -> int:
    text = TEMPLATE.format(input=sample.input)
    return len(tokenizer.tokenize(text.encode(), add_bos=True, special=False))


def samples_of(name: str, seed: int = 0, count: int = len(DEPTHS)) -> list[Sample]:
    return list(get_task(name).dataset(TaskContext(seed=seed)))[:count]


@pytest.mark.parametrize("name", sorted(TASKS))
def test_prompt_lengths_are_within_15_percent_of_target(tokenizer: Any, name: str) -> None:
    target = TASKS[name]
    for sample in samples_of(name, seed=3):
        actual = prompt_tokens(tokenizer, sample)
        assert abs(actual - target) <= 0.15 * target, (name, sample.metadata["depth"], actual)
        # The tokenizer-free estimate recorded in metadata agrees with the real count too.
        assert abs(sample.metadata["estimated_tokens"] - actual) <= 0.15 * actual
        assert sample.metadata["target_tokens"] == target


def test_needle_4k_and_its_answer_fit_the_bundled_context(tokenizer: Any) -> None:
    task = get_task("needle_4k")
    longest = max(prompt_tokens(tokenizer, sample) for sample in samples_of("needle_4k"))
    assert longest + task.config.max_tokens <= N_CTX


def test_estimate_counts_words_digits_and_punctuation() -> None:
    # Three words, six digits, the space before the number, the full stop.
    assert estimate_tokens("The code is 123456.") == 3 + 6 + 1 + 1
    assert estimate_tokens("") == 0


@pytest.mark.parametrize("make", [needle_sample, kv_sample])
@pytest.mark.parametrize("depth", DEPTHS)
def test_needle_appears_once_at_its_depth(make: Any, depth: float) -> None:
    sample = make(random.Random(f"depth:{depth}"), 2000, depth)
    text, meta = sample.input, sample.metadata
    # The code is the only six-digit run equal to the answer, and its sentence is there once.
    assert len(re.findall(rf"\b{sample.target}\b", text)) == 1
    if meta["kind"] == "needle":
        needle = f"The access code for the {meta['city']} office is {sample.target}."
        assert len(re.findall(r"\d", text.replace(sample.target, ""))) == 0
        assert text.rsplit("\n\nQuestion:", 1)[0].count("access code for the") == 1
    else:
        needle = f"The locker {meta['key']} has code {sample.target}."
        assert text.count(f"locker {meta['key']} ") == 1
    assert text[meta["needle_char_offset"] :].startswith(needle)
    assert meta["depth"] == depth
    assert meta["needle_index"] == round(depth * (meta["pieces"] - 1))
    assert abs(meta["needle_char_depth"] - depth) < 0.03
    # The question asks for this needle.
    assert text.rstrip().endswith("?")
    assert (meta.get("city") or meta["key"]) in text.rsplit("Question:", 1)[1]


def test_depths_cycle_so_a_limit_stays_balanced() -> None:
    samples = samples_of("needle_1k", count=12)
    assert [s.metadata["depth"] for s in samples[:5]] == list(DEPTHS)
    assert [s.metadata["depth"] for s in samples[5:10]] == list(DEPTHS)


def test_seeds_differ_and_repeat() -> None:
    first, again = samples_of("needle_1k", 1), samples_of("needle_1k", 1)
    other = samples_of("needle_1k", 2)
    assert [s.id for s in first] == [s.id for s in again]
    assert not {s.id for s in first} & {s.id for s in other}
    assert [s.target for s in first] != [s.target for s in other]
    assert first[1].input != other[1].input


def test_tasks_are_registered_in_the_long_context_dimension() -> None:
    for name in TASKS:
        task = get_task(name)
        assert task.dimension == "long_context"
        assert len(task.dataset(TaskContext(seed=0))) == 50
