"""The built-in tasks of the `quick` suite, written for this project.

Arithmetic and instruction items are generated from templates with fresh random parameters per
seed, so they cannot have leaked into any training set. Knowledge items are a hand-written file.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from assay.core import GenerateConfig, Sample
from assay.core._task import Task, TaskContext, register_task
from assay.scorers._instructions import instructions_followed
from assay.scorers._match import choice, numeric_match
from assay.solvers._choice import MCQ_SHOTS
from assay.solvers._solvers import generate_step, multiple_choice, prompt_template
from assay.tasks._items import (
    Problem,
    ProblemMaker,
    bundled_mcq_samples,
    distinct_samples,
    problem_samples,
)

# -- arithmetic word problems ---------------------------------------------------------------


def _buy_more(rng: random.Random) -> Problem:
    a, b = rng.randint(3, 60), rng.randint(2, 40)
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    return (
        f"{name} has {a} {item}. {name} buys {b} more. How many {item} does {name} have now?",
        a + b,
        f"{a} + {b} = {a + b}",
    )


def _give_away(rng: random.Random) -> Problem:
    b = rng.randint(2, 30)
    a = b + rng.randint(1, 50)
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    return (
        f"{name} had {a} {item} and gave {b} of them to a friend. How many {item} are left?",
        a - b,
        f"{a} - {b} = {a - b}",
    )


def _boxes(rng: random.Random) -> Problem:
    boxes, per_box = rng.randint(2, 12), rng.randint(2, 12)
    item = rng.choice(_ITEMS)
    return (
        f"There are {boxes} boxes with {per_box} {item} in each box. "
        f"How many {item} are there in total?",
        boxes * per_box,
        f"{boxes} * {per_box} = {boxes * per_box}",
    )


def _share(rng: random.Random) -> Problem:
    people, each = rng.randint(2, 9), rng.randint(2, 15)
    total = people * each
    item = rng.choice(_ITEMS)
    return (
        f"{total} {item} are shared equally among {people} children. "
        f"How many {item} does each child get?",
        each,
        f"{total} / {people} = {each}",
    )


def _two_step(rng: random.Random) -> Problem:
    price, count, paid = rng.randint(2, 9), rng.randint(2, 6), 0
    paid = price * count + rng.randint(1, 20)
    name = rng.choice(_NAMES)
    cost = price * count
    return (
        f"{name} buys {count} notebooks at {price} dollars each and pays with {paid} dollars. "
        f"How much change does {name} get?",
        paid - cost,
        f"{count} * {price} = {cost}, {paid} - {cost} = {paid - cost}",
    )


def _weekly(rng: random.Random) -> Problem:
    per_day, days = rng.randint(2, 25), rng.choice((5, 6, 7))
    name = rng.choice(_NAMES)
    return (
        f"{name} reads {per_day} pages every day for {days} days. How many pages does {name} read?",
        per_day * days,
        f"{per_day} * {days} = {per_day * days}",
    )


_NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemi")
_ITEMS = ("apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards")
_MAKERS: tuple[ProblemMaker, ...] = (_buy_more, _give_away, _boxes, _share, _two_step, _weekly)


def arithmetic_samples(seed: int, count: int = 1000) -> list[Sample]:
    return problem_samples("arithmetic", _MAKERS, seed, count)


def arithmetic_renumbered(sample: Sample, rng: random.Random) -> Sample | None:
    """The item from its template with other numbers and a recomputed, different answer.

    The template also draws a name and an item; the original's are put back, so only the
    numbers change (renaming is a perturbation of its own).
    """
    maker = next((m for m in _MAKERS if m.__name__ == sample.metadata.get("template")), None)
    if maker is None:
        return None
    for _ in range(50):
        question, answer, _ = maker(rng)
        for pool in (_NAMES, _ITEMS):
            before = [word for word in pool if re.search(rf"\b{word}\b", sample.input)]
            after = [word for word in pool if re.search(rf"\b{word}\b", question)]
            if len(before) == 1 and len(after) == 1:
                question = re.sub(rf"\b{after[0]}\b", before[0], question)
        if str(answer) != sample.target and question != sample.input:
            return Sample(input=question, target=str(answer), metadata=dict(sample.metadata))
    return None


def _arithmetic_shots() -> str:
    rng = random.Random("arithmetic:few-shot")  # fixed: the same worked examples in every run
    shots = [maker(rng) for maker in (_buy_more, _boxes, _two_step)]
    return "".join(f"Question: {q}\nAnswer: {work}. The answer is {a}.\n\n" for q, a, work in shots)


@register_task("arithmetic")
def arithmetic() -> Task:
    return Task(
        name="arithmetic",
        dimension="reasoning_math",
        description="Grade-school word problems generated per seed; exact match on the number.",
        dataset=lambda ctx: arithmetic_samples(ctx.seed),
        solvers=(
            prompt_template("Question: {input}\nAnswer:", prefix=_arithmetic_shots()),
            generate_step(),
        ),
        scorer=numeric_match(),
        config=GenerateConfig(max_tokens=48, stop=("\n\n", "\nQuestion:")),
        perturb=arithmetic_renumbered,
    )


# -- knowledge multiple choice --------------------------------------------------------------


def knowledge_samples(_ctx: TaskContext) -> list[Sample]:
    return bundled_mcq_samples("knowledge_mcq.jsonl")


@register_task("knowledge_mcq")
def knowledge_mcq() -> Task:
    return Task(
        name="knowledge_mcq",
        dimension="knowledge",
        description="Hand-written 4-way general knowledge questions; letter by logprob or text.",
        dataset=knowledge_samples,
        solvers=(multiple_choice(prefix=MCQ_SHOTS, question_label="Question: "),),
        scorer=choice(),
        config=GenerateConfig(max_tokens=16, stop=("\n",)),
    )


# -- instruction following ------------------------------------------------------------------

Constraint = tuple[str, str, dict[str, object]]  # text, IFEval instruction id, kwargs
ConstraintMaker = Callable[[random.Random], Constraint]

_TOPICS = (
    "the sea",
    "a rainy morning",
    "bicycles",
    "a small library",
    "tea",
    "mountains",
    "a city park",
    "winter",
    "learning to cook",
    "an old clock",
    "trains",
    "gardening",
    "a night sky",
    "a village market",
    "summer holidays",
    "a lighthouse",
    "bread baking",
    "a long walk",
    "the first snow",
    "a busy airport",
    "an old bridge",
    "owls",
    "a quiet lake",
    "board games",
    "a school garden",
    "autumn leaves",
    "a desert road",
    "honeybees",
    "a football match",
    "a music lesson",
    "a fishing boat",
    "a birthday party",
    "a mountain hut",
    "street lamps",
    "a museum visit",
    "a windy beach",
)
# How the writing task is asked; every form asks for two sentences, as the constraints assume.
_FORMS = (
    "Write two sentences about {topic}.",
    "Describe {topic} in two sentences.",
    "Write two short sentences about {topic}.",
    "Tell me about {topic} in two sentences.",
)
_KEYWORDS = (
    "river",
    "window",
    "bright",
    "quiet",
    "journey",
    "silver",
    "market",
    "friend",
    "morning",
    "gentle",
    "garden",
    "stone",
    "warm",
    "paper",
    "ancient",
    "green",
    "storm",
    "music",
    "simple",
    "harbor",
    "golden",
    "village",
    "careful",
    "evening",
)


def _lowercase(rng: random.Random) -> Constraint:
    return ("Use only lowercase letters.", "change_case:english_lowercase", {})


def _uppercase(rng: random.Random) -> Constraint:
    return ("Write everything in capital letters.", "change_case:english_capital", {})


def _no_comma(rng: random.Random) -> Constraint:
    return ("Do not use any commas.", "punctuation:no_comma", {})


def _short(rng: random.Random) -> Constraint:
    limit = rng.choice((10, 15, 20, 25, 30, 35, 40))
    return (
        f"Use fewer than {limit} words.",
        "length_constraints:number_words",
        {"relation": "less than", "num_words": limit},
    )


def _keyword(rng: random.Random) -> Constraint:
    word = rng.choice(_KEYWORDS)
    return (f'Include the word "{word}".', "keywords:existence", {"keywords": [word]})


def _ending(rng: random.Random) -> Constraint:
    phrase = rng.choice(
        ("That is all.", "The end.", "Thank you.", "See you soon.", "Enough said.", "Bye for now.")
    )
    return (
        f'End your answer with the exact phrase "{phrase}".',
        "startend:end_checker",
        {"end_phrase": phrase},
    )


def _quoted(rng: random.Random) -> Constraint:
    return ("Wrap your whole answer in double quotation marks.", "startend:quotation", {})


def _bullets(rng: random.Random) -> Constraint:
    count = rng.choice((2, 3))
    return (
        f"Answer with exactly {count} bullet points using markdown '* '.",
        "detectable_format:number_bullet_lists",
        {"num_bullets": count},
    )


_CONSTRAINTS: tuple[ConstraintMaker, ...] = (
    _lowercase,
    _uppercase,
    _no_comma,
    _short,
    _keyword,
    _ending,
    _quoted,
    _bullets,
)


def instruction_samples(seed: int, count: int = 200) -> list[Sample]:
    rng = random.Random(f"instructions:{seed}")

    def make(index: int) -> Sample:
        task = rng.choice(_FORMS).format(topic=rng.choice(_TOPICS))
        text, instruction_id, kwargs = _CONSTRAINTS[index % len(_CONSTRAINTS)](rng)
        prompt = f"{task} {text}"
        return Sample(
            input=prompt,
            target="",
            metadata={"instruction_ids": [instruction_id], "kwargs": [kwargs]},
        )

    return distinct_samples(count, make)


@register_task("instructions")
def instructions() -> Task:
    return Task(
        name="instructions",
        dimension="instruction_following",
        description=(
            "Generated writing prompts (36 topics, 4 phrasings) with one verifiable constraint "
            "of 8 kinds and their parameters (IFEval rules); two seeds share few items."
        ),
        dataset=lambda ctx: instruction_samples(ctx.seed),
        solvers=(prompt_template("Instruction: {input}\nResponse:"), generate_step()),
        scorer=instructions_followed(),
        metric="prompt_strict_accuracy",
        config=GenerateConfig(max_tokens=64, stop=("\nInstruction:", "\n\n\n")),
    )
