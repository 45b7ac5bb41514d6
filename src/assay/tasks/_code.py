"""Code tasks: HumanEval and generated function-writing problems, graded in the sandbox.

`code_gen` is written for this project: each template draws fresh parameters per seed, and its
hidden tests are computed by running the template's reference implementation on random inputs.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.core import GenerateConfig, Sample
from assay.core._task import Task, TaskContext, register_task
from assay.scorers._code import CODEX_STOPS, code_execution
from assay.solvers._code import code_prompt
from assay.solvers._solvers import sampling
from assay.tasks import _loaders as loaders
from assay.tasks._items import distinct_samples

# -- HumanEval --------------------------------------------------------------------------------

HUMANEVAL = loaders.Origin("humaneval", "HumanEval.jsonl.gz")
HUMANEVAL_HUB = loaders.HubSource("openai/openai_humaneval")


def humaneval_samples(ctx: TaskContext) -> list[Sample]:
    """HumanEval: local `humaneval/HumanEval.jsonl.gz` (openai/human-eval layout), else hub
    `openai/openai_humaneval`, split `test`; file order."""
    local = HUMANEVAL.local(ctx)
    if local is not None:
        rows = loaders.read_jsonl(HUMANEVAL.require(local / "HumanEval.jsonl.gz"))
    else:
        rows = loaders.split_rows(HUMANEVAL.hub(ctx, HUMANEVAL_HUB), "test", HUMANEVAL_HUB)
    return [humaneval_sample(row) for row in rows]


def humaneval_sample(row: loaders.Row) -> Sample:
    entry_point = row.text("entry_point").strip()
    test = row.text("test")
    if not entry_point.isidentifier():
        raise row.error(f"field 'entry_point' is {entry_point!r}, not a Python function name")
    if "def check(" not in test:
        raise row.error("field 'test' has no check(candidate) function")
    return Sample(
        input=row.text("prompt"),
        target=row.text("canonical_solution"),
        metadata={"task_id": row.text("task_id"), "entry_point": entry_point, "test": test},
    )


_HUMANEVAL_ABOUT = (
    "HumanEval (Chen et al. 2021), 164 Python problems in file order; local "
    "humaneval/HumanEval.jsonl.gz or hub openai/openai_humaneval. Raw completion: the prompt "
    "(imports, signature, docstring) as published, stopped at the Codex stops "
    "'\\ndef ', '\\nclass ', '\\nif __name__', '\\nprint(', '\\n#'. Chat: asked for the whole "
    "function in a ```python block (code extracted; a reply without a fence is read from its "
    "first line of code). Graded by running prompt + code + the problem's check() in the sandbox."
)


@register_task("humaneval")
def humaneval() -> Task:
    return Task(
        name="humaneval",
        dimension="code",
        description=f"{_HUMANEVAL_ABOUT} Greedy decoding; pass@1.",
        dataset=humaneval_samples,
        solvers=(code_prompt(),),
        scorer=code_execution(),
        metric="pass@1",
        config=GenerateConfig(max_tokens=512, stop=CODEX_STOPS),
    )


@register_task("humaneval_sampled")
def humaneval_sampled() -> Task:
    return Task(
        name="humaneval_sampled",
        dimension="code",
        description=(
            f"{_HUMANEVAL_ABOUT} Sampled at temperature 0.8, top_p 0.95 (the Codex paper's "
            "setting for large k), one seed per epoch: run with --epochs N for pass@1 and "
            "pass@N (unbiased estimator)."
        ),
        dataset=humaneval_samples,
        solvers=(sampling(0.8, 0.95), code_prompt()),
        scorer=code_execution(),
        metric="pass@k",
        config=GenerateConfig(max_tokens=512, stop=CODEX_STOPS),
    )


# -- code_gen: function-writing problems generated per seed -------------------------------------


@dataclass(frozen=True)
class CodeProblem:
    """One generated problem: what the prompt shows and what the reference computes."""

    entry_point: str
    signature: str  # "name: type, ..." without parentheses
    returns: str
    description: str  # the docstring's prose, one paragraph
    reference: str  # the body, unindented
    inputs: tuple[tuple[Any, ...], ...]  # argument tuples: an edge case, then random ones


ProblemMaker = Callable[[random.Random], CodeProblem]
_DRAWS = 30  # random inputs per problem
_EXAMPLES = 2
_HIDDEN_TESTS = 10

_WORDS = (
    "amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor", "island", "jasper",
    "kettle", "lantern", "meadow", "nectar", "orbit", "pepper", "quartz", "ripple", "saddle",
    "timber", "umbra", "velvet", "willow", "yonder", "zephyr", "ash", "bay", "cove", "dew", "elm",
)  # fmt: skip


def _ints(rng: random.Random, low: int, high: int, longest: int = 9) -> list[int]:
    return [rng.randint(low, high) for _ in range(rng.randint(0, longest))]


def _words(rng: random.Random, longest: int = 7) -> list[str]:
    return [rng.choice(_WORDS) for _ in range(rng.randint(0, longest))]


def _cases(
    rng: random.Random, make: Callable[[random.Random], tuple[Any, ...]], edge: tuple[Any, ...]
) -> tuple[tuple[Any, ...], ...]:
    """An edge case, then random inputs to pick the docstring examples and hidden tests from."""
    return (edge, *(make(rng) for _ in range(_DRAWS)))


def _count_above(rng: random.Random) -> CodeProblem:
    limit = rng.randint(-10, 40)
    inputs = _cases(rng, lambda r: (_ints(r, -20, 60),), ([],))
    return CodeProblem(
        "count_above",
        "numbers: list[int]",
        "int",
        f"Return how many numbers in the list are strictly greater than {limit}.",
        f"return sum(1 for n in numbers if n > {limit})",
        inputs,
    )


def _join_long_words(rng: random.Random) -> CodeProblem:
    shortest, separator = rng.randint(3, 6), rng.choice(("-", "+", "::", " | ", "_", "/"))
    inputs = _cases(rng, lambda r: (_words(r),), ([],))
    return CodeProblem(
        "join_long_words",
        "words: list[str]",
        "str",
        f"Join the words that have at least {shortest} letters, in their original order, "
        f"with {separator!r} between them. Return the empty string when none qualifies.",
        f"return {separator!r}.join(w for w in words if len(w) >= {shortest})",
        inputs,
    )


def _sum_with_remainder(rng: random.Random) -> CodeProblem:
    modulus = rng.randint(3, 9)
    remainder = rng.randrange(modulus)
    inputs = _cases(rng, lambda r: (_ints(r, -30, 99),), ([],))
    return CodeProblem(
        "sum_with_remainder",
        "numbers: list[int]",
        "int",
        f"Return the sum of the numbers that leave remainder {remainder} when divided by "
        f"{modulus} (Python's % operator, so negative numbers count by their remainder too).",
        f"return sum(n for n in numbers if n % {modulus} == {remainder})",
        inputs,
    )


def _shift_letters(rng: random.Random) -> CodeProblem:
    shift = rng.randint(1, 25)

    def make(r: random.Random) -> tuple[Any, ...]:
        return (" ".join(_words(r, 4)) + r.choice(("", "!", " 42", "?")),)

    inputs = _cases(rng, make, ("",))
    return CodeProblem(
        "shift_letters",
        "text: str",
        "str",
        f"Shift every lowercase letter a-z of the text {shift} places forward in the alphabet, "
        "wrapping from z back to a. Leave every other character unchanged.",
        "return ''.join(\n"
        f"    chr((ord(c) - 97 + {shift}) % 26 + 97) if 'a' <= c <= 'z' else c for c in text\n"
        ")",
        inputs,
    )


def _longest_divisible_run(rng: random.Random) -> CodeProblem:
    divisor = rng.randint(2, 5)
    inputs = _cases(rng, lambda r: (_ints(r, 0, 30, 12),), ([],))
    return CodeProblem(
        "longest_divisible_run",
        "numbers: list[int]",
        "int",
        f"Return the length of the longest stretch of consecutive list elements that are all "
        f"divisible by {divisor}; 0 when there is none.",
        "best = current = 0\n"
        "for n in numbers:\n"
        f"    current = current + 1 if n % {divisor} == 0 else 0\n"
        "    best = max(best, current)\n"
        "return best",
        inputs,
    )


def _sort_by_letter(rng: random.Random) -> CodeProblem:
    letter = rng.choice("aeinorst")
    inputs = _cases(rng, lambda r: (_words(r),), ([],))
    return CodeProblem(
        "sort_by_letter",
        "words: list[str]",
        "list[str]",
        f"Return the words sorted by how many times the letter {letter!r} occurs in them, "
        "most first; words with the same count are in alphabetical order.",
        f"return sorted(words, key=lambda w: (-w.count({letter!r}), w))",
        inputs,
    )


def _chunk_sums(rng: random.Random) -> CodeProblem:
    size = rng.randint(2, 4)
    inputs = _cases(rng, lambda r: (_ints(r, -9, 20, 11),), ([],))
    return CodeProblem(
        "chunk_sums",
        "numbers: list[int]",
        "list[int]",
        f"Split the list into consecutive chunks of {size} elements (the last chunk may be "
        "shorter) and return the sum of each chunk, in order.",
        f"return [sum(numbers[i : i + {size}]) for i in range(0, len(numbers), {size})]",
        inputs,
    )


def _rotate_left(rng: random.Random) -> CodeProblem:
    places = rng.randint(1, 12)
    inputs = _cases(rng, lambda r: (_ints(r, 0, 9),), ([],))
    return CodeProblem(
        "rotate_left",
        "items: list[int]",
        "list[int]",
        f"Return a new list with the items rotated {places} places to the left (the first "
        "item moves to the end, repeatedly; the number of places may exceed the length). An "
        "empty list stays empty.",
        f"if not items:\n    return []\nk = {places} % len(items)\nreturn items[k:] + items[:k]",
        inputs,
    )


def _word_game(rng: random.Random) -> CodeProblem:
    first, second = rng.sample((2, 3, 4, 5, 7), 2)
    word_a, word_b = (w.capitalize() for w in rng.sample(_WORDS, 2))
    inputs = _cases(rng, lambda r: (r.randint(1, 16),), (0,))
    return CodeProblem(
        "word_game",
        "n: int",
        "list[str]",
        f"Return a list of the numbers 1 to n as strings, except that multiples of {first} "
        f"become {word_a!r}, multiples of {second} become {word_b!r}, and multiples of both "
        f"become {word_a + word_b!r}.",
        "out = []\n"
        "for i in range(1, n + 1):\n"
        f"    word = ({word_a!r} if i % {first} == 0 else '') + "
        f"({word_b!r} if i % {second} == 0 else '')\n"
        "    out.append(word or str(i))\n"
        "return out",
        inputs,
    )


def _mask_digits(rng: random.Random) -> CodeProblem:
    keep, mask = rng.randint(1, 4), rng.choice("*#x")

    def make(r: random.Random) -> tuple[Any, ...]:
        return ("".join(r.choice("0123456789-  ab") for _ in range(r.randint(0, 14))),)

    inputs = _cases(rng, make, ("",))
    return CodeProblem(
        "mask_digits",
        "text: str",
        "str",
        f"Replace every digit of the text with {mask!r}, except the last {keep} digits, which "
        "stay as they are. Other characters are unchanged.",
        "total = sum(c.isdigit() for c in text)\n"
        "seen = 0\n"
        "out = []\n"
        "for c in text:\n"
        "    if c.isdigit():\n"
        "        seen += 1\n"
        f"        out.append(c if seen > total - {keep} else {mask!r})\n"
        "    else:\n"
        "        out.append(c)\n"
        "return ''.join(out)",
        inputs,
    )


def _division_steps(rng: random.Random) -> CodeProblem:
    divisor = rng.randint(2, 9)
    inputs = _cases(rng, lambda r: (r.randint(0, 10 ** r.randint(1, 6)),), (0,))
    return CodeProblem(
        "division_steps",
        "n: int",
        "int",
        f"Starting from the non-negative integer n, repeatedly replace n by n // {divisor} "
        f"while n is at least {divisor}. Return how many replacements were made.",
        f"steps = 0\nwhile n >= {divisor}:\n    n //= {divisor}\n    steps += 1\nreturn steps",
        inputs,
    )


def _pairs_with_sum(rng: random.Random) -> CodeProblem:
    total = rng.randint(5, 15)
    inputs = _cases(rng, lambda r: (_ints(r, 0, 12, 10),), ([],))
    return CodeProblem(
        "pairs_with_sum",
        "numbers: list[int]",
        "int",
        f"Return how many pairs of positions i < j have numbers[i] + numbers[j] == {total}.",
        "return sum(\n"
        f"    1 for i in range(len(numbers)) for j in range(i + 1, len(numbers))\n"
        f"    if numbers[i] + numbers[j] == {total}\n"
        ")",
        inputs,
    )


def _count_words_seen(rng: random.Random) -> CodeProblem:
    least, separator = rng.randint(2, 3), rng.choice((",", ";", " ", "|"))

    def make(r: random.Random) -> tuple[Any, ...]:
        return (separator.join(r.choice(_WORDS[:6]) for _ in range(r.randint(0, 10))),)

    inputs = _cases(rng, make, ("",))
    return CodeProblem(
        "count_words_seen",
        "text: str",
        "dict[str, int]",
        f"The text holds words separated by {separator!r}. Return a dict from each word that "
        f"occurs at least {least} times to its number of occurrences (ignore empty words).",
        "counts: dict[str, int] = {}\n"
        f"for word in text.split({separator!r}):\n"
        "    if word:\n"
        "        counts[word] = counts.get(word, 0) + 1\n"
        f"return {{w: c for w, c in counts.items() if c >= {least}}}",
        inputs,
    )


CODE_TEMPLATES: tuple[ProblemMaker, ...] = (
    _count_above,
    _join_long_words,
    _sum_with_remainder,
    _shift_letters,
    _longest_divisible_run,
    _sort_by_letter,
    _chunk_sums,
    _rotate_left,
    _word_game,
    _mask_digits,
    _division_steps,
    _pairs_with_sum,
    _count_words_seen,
)


def reference_function(problem: CodeProblem) -> Callable[..., Any]:
    """The reference implementation as a callable (our own template code, never model output)."""
    source = f"def {problem.entry_point}({problem.signature}):\n"
    source += textwrap.indent(problem.reference, "    ")
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<code_gen {problem.entry_point}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[problem.entry_point]
    return function


def _call(problem: CodeProblem, args: Sequence[Any]) -> str:
    return f"{problem.entry_point}({', '.join(repr(a) for a in args)})"


def split_cases(
    problem: CodeProblem, reference: Callable[..., Any]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Docstring examples (distinct, with non-empty distinct answers, so they say something)
    and hidden tests (the edge case first), each input used once."""
    examples: list[tuple[Any, ...]] = []
    hidden: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for index, args in enumerate(problem.inputs):
        if repr(args) in seen:
            continue
        seen.add(repr(args))
        answer = reference(*args)
        informative = index > 0 and bool(answer) and all(answer != reference(*e) for e in examples)
        if len(examples) < _EXAMPLES and informative:
            examples.append(args)
        elif len(hidden) < _HIDDEN_TESTS:
            hidden.append(args)
    return examples, hidden


def code_sample(problem: CodeProblem, template: str) -> Sample:
    reference = reference_function(problem)
    examples, hidden = split_cases(problem, reference)
    shown = "".join(
        f"    >>> {_call(problem, args)}\n    {reference(*args)!r}\n" for args in examples
    )
    description = textwrap.fill(problem.description, 88, subsequent_indent="    ")
    prompt = (
        f"def {problem.entry_point}({problem.signature}) -> {problem.returns}:\n"
        f'    """{description}\n{shown}    """\n'
    )
    checks = "".join(
        f"    assert candidate({', '.join(repr(a) for a in args)}) == {reference(*args)!r}\n"
        for args in (*examples, *hidden)
    )
    return Sample(
        input=prompt,
        target=textwrap.indent(problem.reference, "    ") + "\n",
        metadata={
            "template": template,
            "entry_point": problem.entry_point,
            "test": f"def check(candidate):\n{checks}",
        },
    )


def code_gen_samples(seed: int, count: int = 130) -> list[Sample]:
    """`count` distinct problems, the templates in turn, all parameters drawn from `seed`."""
    rng = random.Random(f"code_gen:{seed}")

    def make(index: int) -> Sample:
        maker = CODE_TEMPLATES[index % len(CODE_TEMPLATES)]
        return code_sample(maker(rng), maker.__name__.lstrip("_"))

    return distinct_samples(count, make, tries=20)


@register_task("code_gen")
def code_gen() -> Task:
    return Task(
        name="code_gen",
        dimension="code",
        description=(
            f"Function-writing problems written for assay: {len(CODE_TEMPLATES)} templates "
            "(HumanEval-style signature + docstring with two examples) with fresh parameters "
            "per seed; hidden tests computed by each template's reference on random inputs. "
            "Prompt and grading as for humaneval (raw prompt with the Codex stops, or the whole "
            "function in a ```python block in chat). Greedy decoding; pass@1."
        ),
        dataset=lambda ctx: code_gen_samples(ctx.seed),
        solvers=(code_prompt(),),
        scorer=code_execution(),
        metric="pass@1",
        config=GenerateConfig(max_tokens=384, stop=CODEX_STOPS),
    )
