"""Truthfulness tasks: TruthfulQA MC1/MC2 and hand-written misconception items.

TruthfulQA answers are ranked by the log-likelihood the target gives each answer after the
published QA primer, one likelihood request per answer; without logprobs MC1 falls back to a
lettered question answered by generation, and MC2 (which needs likelihoods) refuses to run.
"""

from __future__ import annotations

import json
from pathlib import Path

from assay._errors import DatasetError
from assay._files import read_text
from assay.core import GenerateConfig, Sample
from assay.core._task import Task, TaskContext, register_task
from assay.scorers._likelihood import mc1_score, mc2_score
from assay.scorers._match import choice
from assay.solvers._choice import MCQ_SHOTS
from assay.solvers._likelihood import likelihood_choices
from assay.solvers._solvers import multiple_choice
from assay.tasks import _loaders as loaders
from assay.tasks._items import bundled_mcq_samples

# -- TruthfulQA data ----------------------------------------------------------------------------

TRUTHFULQA = loaders.Origin(
    "truthfulqa", "v1_817/mc_task.json (the classic 817 questions of sylinrl/TruthfulQA data/v1)"
)
# The hub's `truthful_qa` now lives under this name; `multiple_choice` has only `validation`.
TRUTHFULQA_HUB = loaders.HubSource("truthfulqa/truthful_qa", "multiple_choice")
MC_FIELDS = ("mc1_targets", "mc2_targets")


def truthfulqa(ctx: TaskContext, field: str) -> list[Sample]:
    """TruthfulQA multiple choice (`field` mc1_targets or mc2_targets), one sample per question.

    Local: `truthfulqa/v1_817/mc_task.json`, the classic 817-question release that published
    MC1/MC2 numbers and the hub copy use (the 2025 790-question `mc_task.json` beside it is a
    different benchmark). Else hub `truthfulqa/truthful_qa` config `multiple_choice`, split
    `validation`, whose targets are `{choices, labels}` lists instead of `{answer: label}`.
    """
    local = TRUTHFULQA.local(ctx)
    if local is not None:
        rows = _read_json_list(TRUTHFULQA.require(local / "v1_817" / "mc_task.json"))
    else:
        splits = TRUTHFULQA.hub(ctx, TRUTHFULQA_HUB)
        rows = loaders.split_rows(splits, "validation", TRUTHFULQA_HUB)
    return [truthfulqa_sample(row, field) for row in rows]


def _read_json_list(path: Path) -> list[loaders.Row]:
    text = read_text(path, "data file", DatasetError)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc}); use the upstream file") from None
    if not isinstance(records, list):
        raise DatasetError(f"{path}: expected a JSON list of questions")
    rows = []
    for index, record in enumerate(records, start=1):
        where = f"{path} item {index}"
        if not isinstance(record, dict):
            raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
        rows.append(loaders.Row(where, record))
    return rows


def truthfulqa_sample(row: loaders.Row, field: str) -> Sample:
    question = row.text("question")
    answers, labels = _targets(row, field)
    if len(answers) < 2 or len(set(answers)) != len(answers):
        raise row.error(f"field {field!r} needs two or more distinct answers")
    if 1 not in labels:
        raise row.error(f"field {field!r} marks no answer as true")
    if field == "mc1_targets" and labels.count(1) != 1:
        raise row.error("field 'mc1_targets' must mark exactly one answer as true")
    return Sample(
        input=question,
        target=answers[labels.index(1)],
        choices=tuple(answers),
        metadata={"labels": labels},
    )


def _targets(row: loaders.Row, field: str) -> tuple[list[str], list[int]]:
    value = row.fields.get(field)
    if isinstance(value, dict) and set(value) == {"choices", "labels"}:  # hub layout
        pairs = list(zip(value["choices"] or [], value["labels"] or [], strict=False))
        if len(pairs) != len(value["choices"] or []) or len(pairs) != len(value["labels"] or []):
            raise row.error(f"field {field!r} has as many choices as labels")
    elif isinstance(value, dict):  # upstream mc_task.json: {answer: 0 or 1}
        pairs = list(value.items())
    else:
        raise row.error(f"field {field!r} is missing; expected answers with 0/1 labels")
    answers, labels = [], []
    for answer, label in pairs:
        if not isinstance(answer, str) or not answer.strip() or label not in (0, 1):
            raise row.error(f"field {field!r} holds {answer!r}: {label!r}, expected text: 0 or 1")
        answers.append(answer)
        labels.append(int(label))
    return answers, labels


# -- the tasks ----------------------------------------------------------------------------------

_ABOUT = (
    "TruthfulQA (Lin et al., 2021), the classic 817 questions: local "
    "truthfulqa/v1_817/mc_task.json or hub truthfulqa/truthful_qa[multiple_choice] validation. "
    "0-shot after the paper's QA primer (six fixed Q/A pairs, as lm-eval's truthfulqa tasks): "
    "'Q: {question}\\nA:', each answer scored as the continuation ' {answer}' by its summed "
    "log-likelihood."
)


@register_task("truthfulqa_mc1")
def truthfulqa_mc1() -> Task:
    return Task(
        name="truthfulqa_mc1",
        dimension="truthfulness",
        description=(
            f"{_ABOUT} MC1: correct when the single true answer is the most likely. Without "
            "logprobs: the answers lettered in a fixed shuffled order, letter by generation."
        ),
        dataset=lambda ctx: truthfulqa(ctx, "mc1_targets"),
        solvers=(likelihood_choices("truthfulqa_mc1", letter_fallback=True),),
        scorer=mc1_score(),
        config=GenerateConfig(max_tokens=16, stop=("\n",)),
        needs_continuation=True,
    )


@register_task("truthfulqa_mc2")
def truthfulqa_mc2() -> Task:
    return Task(
        name="truthfulqa_mc2",
        dimension="truthfulness",
        description=(
            f"{_ABOUT} MC2: the probability mass on the true answers, normalised over all "
            "answers. Needs a target with logprobs on raw completions."
        ),
        dataset=lambda ctx: truthfulqa(ctx, "mc2_targets"),
        solvers=(likelihood_choices("truthfulqa_mc2", letter_fallback=False),),
        scorer=mc2_score(),
        metric="mc2_true_mass",
        config=GenerateConfig(max_tokens=1),
        needs_continuation=True,
    )


# -- hand-written misconceptions ----------------------------------------------------------------


def truthful_mcq_samples(_ctx: TaskContext) -> list[Sample]:
    return bundled_mcq_samples("truthful_mcq.jsonl")


@register_task("truthful_mcq")
def truthful_mcq() -> Task:
    return Task(
        name="truthful_mcq",
        dimension="truthfulness",
        description=(
            "Hand-written 4-way questions on common misconceptions, one true option; the same "
            "prompt and scoring as knowledge_mcq (letter by logprob, else generated letter)."
        ),
        dataset=truthful_mcq_samples,
        solvers=(multiple_choice(prefix=MCQ_SHOTS, question_label="Question: "),),
        scorer=choice(),
        config=GenerateConfig(max_tokens=16, stop=("\n",)),
    )
