"""Item helpers shared by the built-in tasks: bundled question files and generated item sets."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from importlib.resources import files

from assay._files import jsonl_objects
from assay.core import Sample


def bundled_mcq_samples(filename: str) -> list[Sample]:
    """A hand-written multiple-choice file of `assay.suites/data`, one JSON object a line with
    `id`, `subject`, `question`, `choices` and `answer` (the letter)."""
    text = files("assay.suites").joinpath(f"data/{filename}").read_text("utf-8")
    samples = []
    for _, row in jsonl_objects(f"assay.suites/data/{filename}", text):
        samples.append(
            Sample(
                input=row["question"],
                target=row["answer"],
                choices=tuple(row["choices"]),
                metadata={"subject": row["subject"]},
                id=row["id"],
            )
        )
    return samples


def distinct_samples(count: int, make: Callable[[int], Sample], *, tries: int = 50) -> list[Sample]:
    """`make(0)`, `make(1)`, ... until `count` distinct samples (a repeat would be scored twice),
    giving up after `count * tries` calls if the space of items runs out."""
    samples: dict[str, Sample] = {}
    index = 0
    while len(samples) < count and index < count * tries:
        sample = make(index)
        samples.setdefault(sample.id, sample)
        index += 1
    return list(samples.values())


Problem = tuple[str, int, str]  # question, answer, worked solution
ProblemMaker = Callable[[random.Random], Problem]


def problem_samples(
    task: str, makers: Sequence[ProblemMaker], seed: int, count: int
) -> list[Sample]:
    """`count` distinct word problems, the templates in turn, all numbers drawn from `seed`."""
    rng = random.Random(f"{task}:{seed}")

    def make(index: int) -> Sample:
        maker = makers[index % len(makers)]
        question, answer, _ = maker(rng)
        return Sample(input=question, target=str(answer), metadata={"template": maker.__name__})

    return distinct_samples(count, make)
