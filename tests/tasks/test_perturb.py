"""Perturbations keep a valid answer: shuffled options, renamed people, regenerated numbers."""

from __future__ import annotations

import random
import re

import pytest

from assay.core import Sample
from assay.solvers._solvers import LETTERS
from assay.tasks import TaskContext, get_task
from assay.tasks._perturb import (
    NAMES,
    PROBE_SUFFIX,
    perturbed_task,
    rename_entities,
    shuffle_choices,
)
from assay.tasks._quick import arithmetic_renumbered, arithmetic_samples, knowledge_samples


def answer_text(sample: Sample) -> str:
    return sample.choices[LETTERS.index(sample.target)]


def solve(sample: Sample) -> int:
    """The answer of an arithmetic item, worked out again from its question's numbers."""
    numbers = [int(n) for n in re.findall(r"\d+", sample.input)]
    template = sample.metadata["template"]
    if template == "_buy_more":
        return numbers[0] + numbers[1]
    if template == "_give_away":
        return numbers[0] - numbers[1]
    if template in ("_boxes", "_weekly"):
        return numbers[0] * numbers[1]
    if template == "_share":
        return numbers[0] // numbers[1]
    count, price, paid = numbers
    return paid - count * price


def test_shuffle_moves_the_letter_with_its_option() -> None:
    moved = 0
    for index, sample in enumerate(knowledge_samples(TaskContext())):
        shuffled = shuffle_choices(sample, random.Random(index))
        assert shuffled is not None
        assert answer_text(shuffled) == answer_text(sample)
        assert shuffled.choices != sample.choices
        assert sorted(shuffled.choices) == sorted(sample.choices)
        assert shuffled.input == sample.input
        assert shuffled.id != sample.id
        moved += shuffled.target != sample.target
    # Over 80 items the right option usually lands on another letter.
    assert moved > 40


def test_shuffle_keeps_a_text_answer_and_skips_what_it_cannot_follow() -> None:
    text_answer = Sample("Pick the fruit.", "pear", choices=("stone", "pear", "chair"))
    shuffled = shuffle_choices(text_answer, random.Random(0))
    assert shuffled is not None and shuffled.target == "pear" and "pear" in shuffled.choices
    assert shuffle_choices(Sample("q", "E", choices=("a", "b")), random.Random(0)) is None
    assert shuffle_choices(Sample("q", "A", choices=("only",)), random.Random(0)) is None
    assert shuffle_choices(Sample("q", "4"), random.Random(0)) is None


def test_rename_swaps_every_name_consistently_and_keeps_the_answer() -> None:
    renamed_count = 0
    for index, sample in enumerate(arithmetic_samples(3, 120)):
        found = {name for name in NAMES if re.search(rf"\b{name}\b", sample.input)}
        renamed = rename_entities(sample, random.Random(index))
        if not found:
            assert renamed is None
            continue
        renamed_count += 1
        assert renamed is not None
        assert renamed.target == sample.target  # the numbers, hence the answer, are untouched
        assert re.findall(r"\d+", renamed.input) == re.findall(r"\d+", sample.input)
        assert not any(re.search(rf"\b{name}\b", renamed.input) for name in found)
        # The same person keeps one (new) name throughout the question.
        assert solve(renamed) == int(renamed.target)
        new_names = {name for name in NAMES if re.search(rf"\b{name}\b", renamed.input)}
        assert len(new_names) == len(found)
    assert renamed_count > 50


def test_rename_reaches_choices_and_answer_text_but_not_ordinary_words() -> None:
    sample = Sample(
        "Maria gave Omar a book. Who has the book now? It may rain.",
        "Omar",
        choices=("Maria", "Omar"),
    )
    renamed = rename_entities(sample, random.Random(1))
    assert renamed is not None
    mapping = dict(zip(sample.choices, renamed.choices, strict=True))
    assert renamed.target == mapping["Omar"] != "Omar"
    assert renamed.input == (
        f"{mapping['Maria']} gave {mapping['Omar']} a book. Who has the book now? It may rain."
    )


def test_regenerated_numbers_recompute_the_answer() -> None:
    for index, sample in enumerate(arithmetic_samples(5, 120)):
        renumbered = arithmetic_renumbered(sample, random.Random(index))
        assert renumbered is not None
        assert renumbered.metadata["template"] == sample.metadata["template"]
        assert renumbered.target != sample.target
        assert solve(renumbered) == int(renumbered.target)
        # Only the numbers changed: the words (names, items) are the original's.
        assert re.sub(r"\d+", "#", renumbered.input) == re.sub(r"\d+", "#", sample.input)


def test_renumbering_needs_a_known_template() -> None:
    assert arithmetic_renumbered(Sample("q", "1"), random.Random(0)) is None


def test_arithmetic_variant_task_pairs_every_variant_with_its_original() -> None:
    task = get_task("arithmetic")
    samples = arithmetic_samples(0, 30)
    found = perturbed_task(task, samples, seed=0)
    assert found is not None
    variant, variants = found
    assert variant.name == "arithmetic" + PROBE_SUFFIX
    assert variant.dimension == task.dimension and variant.scorer is task.scorer
    assert list(variant.dataset(TaskContext())) == list(variants)
    originals = {sample.id: sample for sample in samples}
    kinds = {v.metadata["perturbation"] for v in variants}
    assert kinds == {"rename", "numbers"}
    for v in variants:
        assert v.metadata["original_id"] in originals
        assert v.id not in originals
    # Each original has a numbers variant; a variant does not depend on what else is planned.
    assert sum(v.metadata["perturbation"] == "numbers" for v in variants) == 30
    alone = perturbed_task(task, samples[:1], seed=0)
    assert alone is not None
    assert {v.id for v in alone[1]} <= {v.id for v in variants}
    again = perturbed_task(task, samples, seed=0)
    assert again is not None and [v.id for v in again[1]] == [v.id for v in variants]
    other_seed = perturbed_task(task, samples, seed=1)
    assert other_seed is not None and {v.id for v in other_seed[1]} != {v.id for v in variants}


def test_knowledge_questions_are_shuffled_not_renamed() -> None:
    task = get_task("knowledge_mcq")
    found = perturbed_task(task, knowledge_samples(TaskContext()), seed=0)
    assert found is not None
    assert {v.metadata["perturbation"] for v in found[1]} == {"shuffle"}
    assert len(found[1]) == 80


@pytest.mark.parametrize("name", ["instructions", "needle_1k"])
def test_free_text_and_long_context_tasks_are_not_probed(name: str) -> None:
    task = get_task(name)
    samples = list(task.dataset(TaskContext()))[:5]
    assert perturbed_task(task, samples, seed=0) is None
