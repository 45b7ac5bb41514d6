"""Long-context tasks: needle-in-a-haystack retrieval at chosen context lengths.

Haystacks are filler prose generated per seed from templates written for this project; a needle
(an office access code) is inserted at a recorded depth and the question asks for it back.
Lengths are estimated without a tokenizer (see `estimate_tokens`); stored usage gives the truth.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from assay.core import GenerateConfig, Sample
from assay.core._task import Task, register_task
from assay.scorers._match import numeric_match
from assay.solvers._solvers import generate_step, prompt_template

DEPTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
_PIECES = re.compile(r"[A-Za-z]+|\d|[^\sA-Za-z0-9]|\n")


def estimate_tokens(text: str) -> int:
    """Prompt tokens without a tokenizer: one per word, digit, punctuation mark and line break,
    plus one per number (the space before it).

    Gemma 3's tokenizer splits numbers into single digits and keeps plain English words whole
    (the words of these templates were chosen so); on them the estimate is within 1% of the
    bundled model's count, and tests/tasks/test_long.py holds it to 15%.
    """
    return len(_PIECES.findall(text)) + len(re.findall(r"\d+", text))


# -- filler prose ---------------------------------------------------------------------------

_TEAMS = (
    "design", "facilities", "finance", "logistics", "support", "research", "catering",
    "security", "training", "procurement", "marketing", "maintenance",
)  # fmt: skip
_PLACES = (
    "the north stairwell", "the main lobby", "the loading bay", "the rooftop terrace",
    "the second-floor kitchen", "the quiet room", "the bicycle shed", "the east car park",
    "the print room", "the small meeting room", "the courtyard", "the reception desk",
)  # fmt: skip
_THINGS = (
    "the coffee machine", "the new shelving", "the visitor badges", "the window blinds",
    "the recycling bins", "the projector", "the heating schedule", "the parcel lockers",
    "the notice board", "the plant pots", "the spare chairs", "the wall calendar",
)  # fmt: skip
_TIMES = (
    "On Monday morning", "Late last week", "Shortly after lunch", "Earlier this month",
    "Before the holidays", "At the end of the quarter", "During the spring clean",
    "On a rainy afternoon", "Early on Thursday", "Over the weekend",
)  # fmt: skip
_VERBS = (
    "repaired", "replaced", "cleaned", "rearranged", "inspected", "painted", "labelled",
    "moved", "tested", "reorganised",
)  # fmt: skip
_ADJECTIVES = (
    "careful", "urgent", "patient", "gentle", "thorough", "quick", "steady", "friendly",
)  # fmt: skip
_PEOPLE = (
    "new starters", "visitors", "volunteers", "interns", "night staff", "team leads",
    "contractors", "regular cyclists",
)  # fmt: skip
_WEATHER = ("windy", "foggy", "humid", "bright", "chilly", "stormy", "mild")
_EVENTS = (
    "the annual picnic", "the fire drill", "the board visit", "the summer fair",
    "the office move", "the charity run", "the book swap", "the quiz night",
)  # fmt: skip

_FILLER_TEMPLATES = (
    "{Time}, the {team} team {verb} {thing} near {place}.",
    "Most of the {people} agreed that {thing} needed {adj} attention before {event}.",
    "A short note pinned by {place} reminded everyone to leave {thing} as they found it.",
    "The {weather} weather made the walk to {place} feel longer than usual.",
    "Several {people} asked whether {event} would still go ahead if it turned {weather}.",
    "Nobody could remember who had last {verb} {thing}, so the {team} team took charge.",
    "{Time}, a {adj} reminder went out about keeping {place} tidy.",
    "The {team} team thanked the {people} for their {adj} help with {event}.",
    "Plans for {event} were shared with the {people}, who suggested moving it to {place}.",
    "It took most of the afternoon to decide where {thing} should go after {event}.",
    "{Time}, someone left a tray of biscuits by {place} with a note saying help yourself.",
    "The {people} found {thing} in {place} and returned it to the {team} team.",
    "A survey of the {people} showed a clear preference for a {adj} approach to {event}.",
    "After a {weather} start to the day, the {team} team {verb} {thing} in record time.",
)


def _filler_sentence(rng: random.Random) -> str:
    template = rng.choice(_FILLER_TEMPLATES)
    text = template.format(
        Time=rng.choice(_TIMES),
        team=rng.choice(_TEAMS),
        verb=rng.choice(_VERBS),
        thing=rng.choice(_THINGS),
        place=rng.choice(_PLACES),
        people=rng.choice(_PEOPLE),
        adj=rng.choice(_ADJECTIVES),
        weather=rng.choice(_WEATHER),
        event=rng.choice(_EVENTS),
    )
    return text[0].upper() + text[1:]


# -- needles --------------------------------------------------------------------------------

_CITIES = (
    "Lisbon", "Nairobi", "Osaka", "Lima", "Tallinn", "Auckland", "Montreal", "Seville",
    "Hanoi", "Bergen", "Cordoba", "Dakar", "Perth", "Krakow", "Tbilisi", "Valparaiso",
)  # fmt: skip
_KEY_WORDS_A = (
    "amber", "brisk", "copper", "dusty", "eager", "frosty", "golden", "hollow", "ivory",
    "jolly", "lunar", "mellow", "nimble", "olive", "plain", "quiet", "rusty", "silver",
)  # fmt: skip
_KEY_WORDS_B = (
    "anchor", "badger", "candle", "dolphin", "ember", "falcon", "garden", "harbor", "island",
    "jacket", "kettle", "lantern", "meadow", "needle", "orchard", "pebble", "quarry", "ribbon",
)  # fmt: skip

NEEDLE_INTRO = (
    "Below are notes from an office newsletter. Somewhere in them is an access code. "
    "Read the notes, then answer the question at the end with the number only.\n\n"
)
KV_INTRO = (
    "Below is a list of storage lockers and their six-digit codes. "
    "Read the list, then answer the question at the end with the code only.\n\n"
)
TEMPLATE = "{input}\nAnswer:"
ANSWER_TOKENS = 16


def _code(rng: random.Random) -> str:
    return str(rng.randint(100_000, 999_999))


@dataclass(frozen=True)
class Haystack:
    """A prompt body with one needle at `needle_index` of `pieces`."""

    pieces: list[str]
    needle_index: int
    separator: str


def _place_needle(pieces: list[str], needle: str, depth: float) -> int:
    index = round(depth * len(pieces))
    pieces.insert(index, needle)
    return index


def _render(
    intro: str, haystack: Haystack, question: str, depth: float, target_tokens: int, kind: str
) -> tuple[str, dict[str, object]]:
    body = haystack.separator.join(haystack.pieces)
    text = f"{intro}{body}\n\nQuestion: {question}"
    needle = haystack.pieces[haystack.needle_index]
    before = haystack.separator.join(haystack.pieces[: haystack.needle_index])
    offset = len(intro) + len(before) + (len(haystack.separator) if haystack.needle_index else 0)
    metadata: dict[str, object] = {
        "kind": kind,
        "target_tokens": target_tokens,
        "estimated_tokens": estimate_tokens(TEMPLATE.format(input=text)),
        "depth": depth,
        "needle_index": haystack.needle_index,
        "pieces": len(haystack.pieces),
        "needle_char_offset": offset,
        "needle_char_depth": round((offset - len(intro)) / max(1, len(body) - len(needle)), 4),
    }
    return text, metadata


def _fill(
    rng: random.Random, make: Callable[[random.Random], str], budget_tokens: int, separator: str
) -> list[str]:
    """Pieces from `make` until their estimated tokens would exceed the budget."""
    pieces: list[str] = []
    used = 0
    while True:
        piece = make(rng)
        cost = estimate_tokens(piece + separator)
        if used + cost > budget_tokens:
            return pieces
        pieces.append(piece)
        used += cost


@dataclass(frozen=True)
class NeedleItem:
    """What a haystack is made of: intro, filler maker and separator, the needle, the question."""

    kind: str
    intro: str
    make: Callable[[random.Random], str]
    separator: str
    needle: str
    question: str


def _haystack_prompt(
    rng: random.Random, item: NeedleItem, target_tokens: int, depth: float
) -> tuple[str, dict[str, object]]:
    """Filler up to `target_tokens` with the needle at `depth`, then the question."""
    overhead = estimate_tokens(TEMPLATE.format(input=f"{item.intro}\n\nQuestion: {item.question}"))
    budget = target_tokens - overhead - estimate_tokens(item.needle + item.separator)
    pieces = _fill(rng, item.make, budget, item.separator)
    index = _place_needle(pieces, item.needle, depth)
    haystack = Haystack(pieces, index, item.separator)
    return _render(item.intro, haystack, item.question, depth, target_tokens, item.kind)


def needle_sample(rng: random.Random, target_tokens: int, depth: float) -> Sample:
    city, code = rng.choice(_CITIES), _code(rng)
    needle = f"The access code for the {city} office is {code}."
    question = f"What is the access code for the {city} office?"
    item = NeedleItem("needle", NEEDLE_INTRO, _filler_sentence, " ", needle, question)
    text, metadata = _haystack_prompt(rng, item, target_tokens, depth)
    return Sample(input=text, target=code, metadata={**metadata, "city": city})


def kv_sample(rng: random.Random, target_tokens: int, depth: float) -> Sample:
    """Many locker/code pairs, all alike: only the queried key tells the needle apart."""
    keys = [f"{a} {b}" for a in _KEY_WORDS_A for b in _KEY_WORDS_B]
    rng.shuffle(keys)
    remaining = iter(keys)

    def pair(rng: random.Random) -> str:
        return f"The locker {next(remaining)} has code {_code(rng)}."

    question_key = next(remaining)
    code = _code(rng)
    needle = f"The locker {question_key} has code {code}."
    question = f"What is the code of the locker {question_key}?"
    item = NeedleItem("kv", KV_INTRO, pair, "\n", needle, question)
    text, metadata = _haystack_prompt(rng, item, target_tokens, depth)
    return Sample(input=text, target=code, metadata={**metadata, "key": question_key})


SampleMaker = Callable[[random.Random, int, float], Sample]


def long_samples(
    name: str, make: SampleMaker, target_tokens: int, seed: int, count: int
) -> list[Sample]:
    """Depths cycle 0 → 100%, so any prefix (a --limit) stays balanced across depths."""
    rng = random.Random(f"{name}:{seed}")
    return [make(rng, target_tokens, DEPTHS[index % len(DEPTHS)]) for index in range(count)]


def _long_task(name: str, make: SampleMaker, target_tokens: int, count: int, what: str) -> Task:
    return Task(
        name=name,
        dimension="long_context",
        description=(
            f"{what}, about {target_tokens} prompt tokens, depths 0-100%, generated per seed; "
            "exact match on the six-digit code."
        ),
        dataset=lambda ctx: long_samples(name, make, target_tokens, ctx.seed, count),
        solvers=(prompt_template(TEMPLATE), generate_step()),
        scorer=numeric_match(),
        config=GenerateConfig(max_tokens=ANSWER_TOKENS, stop=("\n",)),
    )


# Prompt-token targets. needle_4k stays under the bundled model's 4096-token context with room
# for the answer and a chat template.
LENGTHS = {"needle_1k": 1000, "needle_2k": 2000, "needle_4k": 3500}
KV_TOKENS = 2000
SAMPLES_PER_TASK = 50
_NIAH = "One office access code hidden in newsletter filler"


@register_task("needle_1k")
def needle_1k() -> Task:
    return _long_task("needle_1k", needle_sample, LENGTHS["needle_1k"], SAMPLES_PER_TASK, _NIAH)


@register_task("needle_2k")
def needle_2k() -> Task:
    return _long_task("needle_2k", needle_sample, LENGTHS["needle_2k"], SAMPLES_PER_TASK, _NIAH)


@register_task("needle_4k")
def needle_4k() -> Task:
    return _long_task("needle_4k", needle_sample, LENGTHS["needle_4k"], SAMPLES_PER_TASK, _NIAH)


@register_task("kv_retrieval")
def kv_retrieval() -> Task:
    return _long_task(
        "kv_retrieval",
        kv_sample,
        KV_TOKENS,
        SAMPLES_PER_TASK,
        "One locker code among many look-alike key/value pairs",
    )
