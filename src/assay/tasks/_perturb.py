"""Perturbed variants of samples for the contamination probe.

A model that memorised a benchmark answers its items but not the same items with the options
shuffled, the people renamed or (for generated tasks) the numbers changed. Each variant keeps a
valid answer and records `original_id` and `perturbation` so the drop can be measured in pairs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from assay.core import Sample
from assay.core._task import Task
from assay.solvers._solvers import LETTERS

Perturbation = Literal["shuffle", "rename", "numbers"]
PROBE_SUFFIX = "~perturbed"
CONTAMINATION = "contamination"

# First names from many languages that are not also common English words ("May", "Will",
# "Rose" are left out), so a rename never rewrites an ordinary word of a question.
NAMES = (
    "Aaliyah", "Abdul", "Adele", "Ahmed", "Aiko", "Albert", "Alejandro", "Alice", "Amara",
    "Ana", "Andrea", "Anika", "Arjun", "Beatriz", "Ben", "Betty", "Bilal", "Bruno", "Carla",
    "Carlos", "Chen", "Chloe", "Claire", "Dara", "Daniel", "David", "Diego", "Elena", "Eli",
    "Emily", "Emma", "Eric", "Fatima", "Farah", "Felix", "Fiona", "Gabriel", "George", "Goran",
    "Hana", "Hannah", "Hassan", "Helen", "Henry", "Igor", "Ines", "Isabel", "Ivo", "James",
    "Jamal", "Jasmine", "Jane", "Javier", "Jennifer", "Jessica", "John", "Jose", "Julia",
    "Julie", "Jun", "Karim", "Kate", "Kemi", "Kenji", "Laura", "Leila", "Liam", "Lina",
    "Lucas", "Lucia", "Luis", "Maria", "Marco", "Marta", "Mary", "Mateo", "Mei", "Michael",
    "Mohammed", "Nadia", "Natalia", "Nia", "Nikolai", "Noah", "Olga", "Omar", "Oscar",
    "Paolo", "Priya", "Rahul", "Ravi", "Rosa", "Ruth", "Sam", "Samir", "Sara", "Sarah",
    "Sofia", "Tariq", "Thomas", "Tom", "Tomas", "Valentina", "Wei", "Yara", "Yusuf", "Zara",
)  # fmt: skip
_NAME_PATTERN = re.compile(r"\b(" + "|".join(NAMES) + r")\b")


def _rng(seed: int, sample: Sample, kind: Perturbation) -> random.Random:
    # Keyed by sample and kind, so a variant does not depend on which other samples are planned.
    return random.Random(f"perturb:{seed}:{sample.id}:{kind}")


def _variant(original: Sample, changed: Sample, kind: Perturbation) -> Sample:
    metadata = {**changed.metadata, "original_id": original.id, "perturbation": kind}
    return Sample(
        input=changed.input, target=changed.target, choices=changed.choices, metadata=metadata
    )


def shuffle_choices(sample: Sample, rng: random.Random) -> Sample | None:
    """The options in another order; a letter answer moves with its option."""
    count = len(sample.choices)
    letters = LETTERS[:count]
    if count < 2 or count > len(LETTERS):
        return None
    if sample.target in letters:
        correct = letters.index(sample.target)
    elif sample.target in sample.choices:
        correct = sample.choices.index(sample.target)
    else:
        return None  # an answer that names no option cannot follow a shuffle
    order = list(range(count))
    while order == list(range(count)):
        rng.shuffle(order)
    choices = tuple(sample.choices[index] for index in order)
    target = letters[order.index(correct)] if sample.target in letters else sample.target
    return replace(sample, choices=choices, target=target, id="")


def rename_entities(sample: Sample, rng: random.Random) -> Sample | None:
    """Every known first name swapped, consistently, for one the sample does not use."""
    texts = (sample.input, sample.target, *sample.choices)
    found = sorted({name for text in texts for name in _NAME_PATTERN.findall(text)})
    if not found:
        return None
    unused = [name for name in NAMES if name not in found]
    mapping = dict(zip(found, rng.sample(unused, len(found)), strict=True))

    def swap(text: str) -> str:
        return _NAME_PATTERN.sub(lambda match: mapping[match.group(1)], text)

    return replace(
        sample,
        input=swap(sample.input),
        target=swap(sample.target),
        choices=tuple(swap(choice) for choice in sample.choices),
        id="",
    )


def probe_applies(task: Task, samples: Sequence[Sample]) -> bool:
    """Multiple choice, math and tasks that regenerate their own items; not free text or code,
    where a rename could change what a right answer is."""
    if task.name.endswith(PROBE_SUFFIX):
        return False
    has_choices = any(sample.choices for sample in samples)
    return has_choices or task.dimension == "reasoning_math" or task.perturb is not None


def perturbed_samples(task: Task, samples: Sequence[Sample], seed: int) -> list[Sample]:
    """Every variant that applies to each sample, in sample order."""
    variants: list[Sample] = []
    for sample in samples:
        if sample.choices:
            shuffled = shuffle_choices(sample, _rng(seed, sample, "shuffle"))
            if shuffled is not None:
                variants.append(_variant(sample, shuffled, "shuffle"))
        # Only word problems: their people are invented, while renaming the people of a
        # knowledge question ("Albert Einstein", the unit "Henry") changes the facts it asks.
        if task.dimension == "reasoning_math":
            renamed = rename_entities(sample, _rng(seed, sample, "rename"))
            if renamed is not None:
                variants.append(_variant(sample, renamed, "rename"))
        if task.perturb is not None:
            renumbered = task.perturb(sample, _rng(seed, sample, "numbers"))
            if renumbered is not None:
                variants.append(_variant(sample, renumbered, "numbers"))
    unique = {variant.id: variant for variant in variants}
    return list(unique.values())


def perturbed_task(
    task: Task, samples: Sequence[Sample], seed: int
) -> tuple[Task, tuple[Sample, ...]] | None:
    """The probe's variant task `<task>~perturbed` (same solvers and scorer), or None."""
    if not probe_applies(task, samples):
        return None
    variants = tuple(perturbed_samples(task, samples, seed))
    if not variants:
        return None
    variant = replace(
        task,
        name=task.name + PROBE_SUFFIX,
        description=f"Contamination probe: perturbed variants of {task.name}.",
        dataset=lambda _ctx: variants,
        perturb=None,
    )
    return variant, variants
