"""Generated reasoning tasks: unit conversions, date reasoning, logic grids (fresh per seed).

Every item is drawn from a template with fresh random parameters and its answer is computed by
code (exact fractions, `datetime`, brute force over all assignments), so it cannot have leaked.
"""

from __future__ import annotations

import functools
import itertools
import operator
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from assay.core import GenerateConfig, Sample
from assay.core._task import Task, register_task
from assay.scorers._match import answer_match, numeric_match
from assay.solvers._solvers import generate_step, prompt_template
from assay.tasks._items import distinct_samples

# A generated item: question, answer, worked solution (for few-shot), metadata.
Item = tuple[str, str, str, dict[str, Any]]
ItemMaker = Callable[[random.Random], Item]


def generate_items(task: str, makers: Sequence[ItemMaker], seed: int, count: int) -> list[Sample]:
    """`count` distinct samples, templates in turn; bounded if a template space runs out."""
    rng = random.Random(f"{task}:{seed}")

    def make(index: int) -> Sample:
        question, answer, _, metadata = makers[index % len(makers)](rng)
        return Sample(input=question, target=answer, metadata=metadata)

    return distinct_samples(count, make)


def few_shot(task: str, makers: Sequence[ItemMaker], count: int = 3) -> str:
    # A fixed seed: the same worked examples in every run, whatever the run's seed.
    rng = random.Random(f"{task}:few-shot")
    shots = [maker(rng) for maker in rng.sample(list(makers), count)]
    return "".join(
        f"Question: {q}\nAnswer: {work} The answer is {a}.\n\n" for q, a, work, _ in shots
    )


def _task(
    name: str,
    makers: Sequence[ItemMaker],
    count: int,
    description: str,
    *,
    numeric: bool,
    max_tokens: int = 96,
) -> Task:
    return Task(
        name=name,
        dimension="reasoning_math",
        description=description,
        dataset=lambda ctx: generate_items(name, makers, ctx.seed, count),
        solvers=(
            prompt_template("Question: {input}\nAnswer:", prefix=few_shot(name, makers)),
            generate_step(),
        ),
        scorer=numeric_match() if numeric else answer_match(),
        config=GenerateConfig(max_tokens=max_tokens, stop=("\n\n", "\nQuestion:")),
    )


# -- unit conversion ----------------------------------------------------------------------


def decimal_text(value: Fraction, places: int | None = None) -> str:
    """`value` as plain decimal text: exact, or rounded half up to `places` decimals."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    if places is None:
        if Fraction(exact) != value:
            raise ValueError(f"{value} has no finite decimal form; give places")
        shown = exact
    else:
        shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = format(shown.normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Conversion:
    """value [src] x factor = value [dst]; inputs are `step` times an integer in [low, high]."""

    kind: str
    src: str
    dst: str
    factor: Fraction
    low: int
    high: int
    step: Fraction = Fraction(1)
    places: int | None = None  # None: the answer is exact


def _rounding(places: int | None) -> str:
    if places is None:
        return ""
    if places == 0:
        return " Round to the nearest whole number."
    unit = "decimal place" if places == 1 else "decimal places"
    return f" Round to {places} {unit}."


def _linear(conversion: Conversion) -> ItemMaker:
    def make(rng: random.Random) -> Item:
        value = rng.randint(conversion.low, conversion.high) * conversion.step
        result = value * conversion.factor
        answer = decimal_text(result, conversion.places)
        shown = decimal_text(value)
        question = (
            f"Convert {shown} {conversion.src} to {conversion.dst}.{_rounding(conversion.places)}"
        )
        factor, exact = conversion.factor, decimal_text(result, 6)
        if factor.numerator == 1:
            work = f"1 {_singular(conversion.dst)} = {factor.denominator} {conversion.src}, "
            work += f"so {shown} / {factor.denominator} = {exact}."
        else:
            work = f"1 {_singular(conversion.src)} = {decimal_text(factor, 6)} {conversion.dst}, "
            work += f"so {shown} x {decimal_text(factor, 6)} = {exact}."
        template = f"{conversion.kind}:{conversion.src}->{conversion.dst}"
        return question, answer, work, {"template": template, "kind": conversion.kind}

    make.__name__ = f"convert_{conversion.src}_{conversion.dst}".replace(" ", "_")
    return make


def _singular(unit: str) -> str:
    irregular = {"feet": "foot", "inches": "inch", "kilometres per hour": "kilometre per hour"}
    if unit in irregular:
        return irregular[unit]
    if unit.endswith(" per hour") or unit.endswith(" per second"):
        head, _, tail = unit.partition(" per ")
        return f"{head.removesuffix('s')} per {tail}"
    return unit.removesuffix("s")


_TENTH = Fraction(1, 10)
CONVERSIONS: tuple[Conversion, ...] = (
    Conversion("length", "kilometres", "metres", Fraction(1000), 1, 95, _TENTH),
    Conversion("length", "metres", "centimetres", Fraction(100), 1, 500, _TENTH),
    Conversion("length", "millimetres", "centimetres", Fraction(1, 10), 1, 999),
    Conversion("length", "inches", "centimetres", Fraction("2.54"), 1, 120),
    Conversion("length", "feet", "inches", Fraction(12), 1, 40),
    Conversion("length", "miles", "kilometres", Fraction("1.609344"), 1, 300, places=1),
    Conversion("mass", "kilograms", "grams", Fraction(1000), 1, 250, _TENTH),
    Conversion("mass", "grams", "kilograms", Fraction(1, 1000), 10, 9000),
    Conversion("mass", "pounds", "ounces", Fraction(16), 1, 50),
    Conversion("mass", "pounds", "kilograms", Fraction("0.45359237"), 1, 400, places=2),
    Conversion("volume", "litres", "millilitres", Fraction(1000), 1, 80, _TENTH),
    Conversion("volume", "millilitres", "litres", Fraction(1, 1000), 50, 9000),
    Conversion("volume", "gallons", "quarts", Fraction(4), 1, 60),
    Conversion("volume", "gallons", "litres", Fraction("3.785411784"), 1, 100, places=1),
    Conversion("time", "hours", "minutes", Fraction(60), 1, 48, Fraction(1, 4)),
    Conversion("time", "minutes", "seconds", Fraction(60), 1, 180),
    Conversion("time", "days", "hours", Fraction(24), 1, 60),
    Conversion("time", "minutes", "hours", Fraction(1, 60), 1, 40, Fraction(15)),
    Conversion("speed", "metres per second", "kilometres per hour", Fraction(18, 5), 1, 90),
    Conversion(
        "speed", "kilometres per hour", "metres per second", Fraction(5, 18), 5, 300, places=1
    ),
    Conversion(
        "speed", "miles per hour", "kilometres per hour", Fraction("1.609344"), 5, 90, places=0
    ),
)


def _celsius_to_fahrenheit(rng: random.Random) -> Item:
    celsius = 5 * rng.randint(-8, 40)  # a multiple of 5 gives a whole Fahrenheit answer
    fahrenheit = Fraction(celsius) * Fraction(9, 5) + 32
    answer = decimal_text(fahrenheit)
    question = f"Convert {celsius} degrees Celsius to degrees Fahrenheit."
    work = f"F = C x 9/5 + 32 = {celsius} x 9/5 + 32 = {answer}."
    return question, answer, work, {"template": "temperature:C->F", "kind": "temperature"}


def _fahrenheit_to_celsius(rng: random.Random) -> Item:
    fahrenheit = rng.randint(-20, 220)
    celsius = (Fraction(fahrenheit) - 32) * Fraction(5, 9)
    answer = decimal_text(celsius, 1)
    question = f"Convert {fahrenheit} degrees Fahrenheit to degrees Celsius.{_rounding(1)}"
    work = f"C = (F - 32) x 5/9 = ({fahrenheit} - 32) x 5/9 = {decimal_text(celsius, 4)}."
    return question, answer, work, {"template": "temperature:F->C", "kind": "temperature"}


def _hours_and_minutes(rng: random.Random) -> Item:
    hours, minutes = rng.randint(1, 30), rng.randint(1, 59)
    answer = str(hours * 60 + minutes)
    question = f"How many minutes are there in {hours} hours and {minutes} minutes?"
    work = f"{hours} x 60 + {minutes} = {answer}."
    return question, answer, work, {"template": "time:h+min->min", "kind": "time"}


UNIT_MAKERS: tuple[ItemMaker, ...] = (
    *(_linear(conversion) for conversion in CONVERSIONS),
    _celsius_to_fahrenheit,
    _fahrenheit_to_celsius,
    _hours_and_minutes,
)


@register_task("unit_conversion")
def unit_conversion() -> Task:
    return _task(
        "unit_conversion",
        UNIT_MAKERS,
        500,
        "Unit conversions (length, mass, volume, time, temperature, speed) generated per seed; "
        "exact answers or rounded as the question says; numeric match.",
        numeric=True,
    )


# -- date reasoning -----------------------------------------------------------------------

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PEOPLE = ("Ana", "Ben", "Chen", "Dara", "Eli", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kemi")


def spoken_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _random_date(rng: random.Random, first_year: int = 1990, last_year: int = 2030) -> date:
    start = date(first_year, 1, 1)
    return start + timedelta(days=rng.randrange((date(last_year, 12, 31) - start).days))


def _weekday_after(rng: random.Random) -> Item:
    today, days = _random_date(rng), rng.randint(2, 400)
    later = today + timedelta(days=days)
    answer = _WEEKDAYS[later.weekday()]
    question = (
        f"Today is {_WEEKDAYS[today.weekday()]}, {spoken_date(today)}. "
        f"What day of the week will it be in {days} days?"
    )
    work = f"{days} = 7 x {days // 7} + {days % 7}, so the weekday moves on by {days % 7}."
    return question, answer, work, {"template": "weekday_after"}


def _days_between(rng: random.Random) -> Item:
    first = _random_date(rng)
    second = first + timedelta(days=rng.randint(3, 900))
    answer = str((second - first).days)
    question = f"How many days after {spoken_date(first)} is {spoken_date(second)}?"
    work = f"Counting from {first.isoformat()} to {second.isoformat()} gives {answer} days."
    return question, answer, work, {"template": "days_between"}


def _date_after(rng: random.Random) -> Item:
    start = _random_date(rng)
    if rng.random() < 0.5:
        amount, unit = rng.randint(2, 30), "weeks"
        days = amount * 7
    else:
        amount, unit = rng.randint(2, 200), "days"
        days = amount
    forward = rng.random() < 0.6
    result = start + timedelta(days=days if forward else -days)
    direction = "after" if forward else "before"
    question = (
        f"What date is {amount} {unit} {direction} {spoken_date(start)}? "
        "Give the date as YYYY-MM-DD."
    )
    work = f"{amount} weeks is {days} days; " if unit == "weeks" else ""
    work += f"{start.isoformat()} {'+' if forward else '-'} "
    work += f"{days} days = {result.isoformat()}."
    return question, result.isoformat(), work, {"template": f"date_{direction}"}


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _age(rng: random.Random) -> Item:
    birth = _random_date(rng, 1940, 2010)
    birth = birth.replace(day=min(birth.day, 28))  # no February 29 birthdays
    on = _random_date(rng, birth.year + 1, birth.year + 80)
    name = rng.choice(_PEOPLE)
    answer = str(age_on(birth, on))
    question = (
        f"{name} was born on {spoken_date(birth)}. How old, in whole years, was {name} on "
        f"{spoken_date(on)}?"
    )
    passed = "had" if (on.month, on.day) >= (birth.month, birth.day) else "had not yet"
    work = f"{on.year} - {birth.year} = {on.year - birth.year}, and the birthday {passed} come."
    return question, answer, work, {"template": "age"}


DATE_MAKERS: tuple[ItemMaker, ...] = (_weekday_after, _days_between, _date_after, _age)


@register_task("date_reasoning")
def date_reasoning() -> Task:
    return _task(
        "date_reasoning",
        DATE_MAKERS,
        500,
        "Calendar questions generated per seed (weekday after N days, days between dates, "
        "date N days/weeks before or after, age on a date); exact match after normalisation.",
        numeric=False,
    )


# -- logic grid puzzles -------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    name: str
    plural: str
    values: tuple[str, ...]
    has: str  # "{who} has the {value}" ... phrased as a verb phrase with {value}
    has_not: str
    ask_value: str  # question about a person's value, with {person}
    ask_who: str  # question about who holds a value, with {value}


CATEGORIES: tuple[Category, ...] = (
    Category(
        "pet",
        "pets",
        ("cat", "dog", "parrot", "rabbit", "hamster", "turtle"),
        "has the {value}",
        "does not have the {value}",
        "Which pet does {person} have?",
        "Who has the {value}?",
    ),
    Category(
        "drink",
        "drinks",
        ("tea", "coffee", "milk", "juice", "cocoa", "lemonade"),
        "drinks {value}",
        "does not drink {value}",
        "What does {person} drink?",
        "Who drinks {value}?",
    ),
    Category(
        "colour",
        "colours",
        ("red", "blue", "green", "yellow", "white", "black"),
        "wears {value}",
        "does not wear {value}",
        "Which colour does {person} wear?",
        "Who wears {value}?",
    ),
    Category(
        "sport",
        "sports",
        ("tennis", "chess", "football", "golf", "hockey", "rowing"),
        "plays {value}",
        "does not play {value}",
        "Which game does {person} play?",
        "Who plays {value}?",
    ),
    Category(
        "city",
        "cities",
        ("Lima", "Oslo", "Cairo", "Hanoi", "Quito", "Perth"),
        "lives in {value}",
        "does not live in {value}",
        "In which city does {person} live?",
        "Who lives in {value}?",
    ),
)
_GRID_NAMES = ("Alma", "Bruno", "Cleo", "Dev", "Edith", "Farid", "Greta", "Hugo", "Iris", "Jonas")

# assignment[c][p] = index of the value person p holds in category c
Assignment = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Clue:
    kind: str  # "is", "not": person p's value in c; "same", "differ": links two categories
    first: tuple[int, int]  # (category, person) for is/not; (category, value) for same/differ
    second: tuple[int, int]  # (category, value)

    def holds(self, assignment: Assignment) -> bool:
        if self.kind in ("is", "not"):
            category, person = self.first
            value_category, value = self.second
            assert value_category == category
            return (assignment[category][person] == value) == (self.kind == "is")
        (c1, v1), (c2, v2) = self.first, self.second
        person = assignment[c1].index(v1)
        return (assignment[c2][person] == v2) == (self.kind == "same")


def all_assignments(categories: int, people: int = 3) -> list[Assignment]:
    perms = list(itertools.permutations(range(people)))
    return [tuple(combo) for combo in itertools.product(perms, repeat=categories)]


def solutions(clues: Sequence[Clue], space: Sequence[Assignment]) -> list[Assignment]:
    return [a for a in space if all(clue.holds(a) for clue in clues)]


def _true_clues(solution: Assignment) -> list[Clue]:
    clues: list[Clue] = []
    people = len(solution[0])
    for category, values in enumerate(solution):
        for person in range(people):
            for value in range(people):
                kind = "is" if values[person] == value else "not"
                clues.append(Clue(kind, (category, person), (category, value)))
    for c1, c2 in itertools.combinations(range(len(solution)), 2):
        for v1 in range(people):
            person = solution[c1].index(v1)
            for v2 in range(people):
                kind = "same" if solution[c2][person] == v2 else "differ"
                clues.append(Clue(kind, (c1, v1), (c2, v2)))
    return clues


def _minimal_unique_clues(
    rng: random.Random, solution: Assignment, space: Sequence[Assignment]
) -> list[Clue]:
    candidates = _true_clues(solution)
    positives = [c for c in candidates if c.kind == "is"]
    others = [c for c in candidates if c.kind != "is"]
    rng.shuffle(others)
    # At most one direct statement up front; the rest must be reasoned out.
    chosen = [rng.choice(positives)] if rng.random() < 0.5 else []
    remaining = solutions(chosen, space)
    for clue in others + positives:
        if len(remaining) == 1:
            break
        narrowed = [a for a in remaining if clue.holds(a)]
        if len(narrowed) < len(remaining):  # a clue that rules nothing out is not added
            chosen.append(clue)
            remaining = narrowed
    # Drop clues the others already imply, in random order, keeping the solution unique. Each
    # clue's set of consistent assignments is a bit mask, so a check is a few integer ANDs.
    masks = {clue: _mask(clue, space) for clue in chosen}
    everything = (1 << len(space)) - 1
    for clue in rng.sample(chosen, len(chosen)):
        rest = [c for c in chosen if c != clue]
        if functools.reduce(operator.and_, (masks[c] for c in rest), everything).bit_count() == 1:
            chosen = rest
    return chosen


def _mask(clue: Clue, space: Sequence[Assignment]) -> int:
    return sum(1 << index for index, assignment in enumerate(space) if clue.holds(assignment))


@dataclass(frozen=True)
class Grid:
    names: tuple[str, ...]
    categories: tuple[Category, ...]
    values: tuple[tuple[str, ...], ...]  # per category, the 3 values in play

    def value(self, category: int, index: int) -> str:
        return self.values[category][index]

    def clue_text(self, clue: Clue) -> str:
        if clue.kind in ("is", "not"):
            category, person = clue.first
            kind = self.categories[category]
            phrase = kind.has if clue.kind == "is" else kind.has_not
            return f"{self.names[person]} {phrase.format(value=self.value(*clue.second))}."
        (c1, v1), (c2, v2) = clue.first, clue.second
        subject = self.categories[c1].has.format(value=self.value(c1, v1))
        verb = self.categories[c2].has if clue.kind == "same" else self.categories[c2].has_not
        return f"The person who {subject} {verb.format(value=self.value(c2, v2))}."

    def clue_record(self, clue: Clue) -> list[str]:
        """A clue in names and values, for checking a puzzle without this module's code."""
        if clue.kind in ("is", "not"):
            category, person = clue.first
            return [
                clue.kind,
                self.names[person],
                self.categories[category].name,
                self.value(*clue.second),
            ]
        (c1, v1), (c2, v2) = clue.first, clue.second
        return [
            clue.kind,
            self.categories[c1].name,
            self.value(c1, v1),
            self.categories[c2].name,
            self.value(c2, v2),
        ]


def _logic_grid(rng: random.Random, categories: int) -> Item:
    names = tuple(rng.sample(_GRID_NAMES, 3))
    chosen = tuple(rng.sample(CATEGORIES, categories))
    grid = Grid(names, chosen, tuple(tuple(rng.sample(c.values, 3)) for c in chosen))
    space = all_assignments(categories)
    solution = rng.choice(space)
    clues = _minimal_unique_clues(rng, solution, space)
    stated = {(c.first, c.second) for c in clues if c.kind == "is"}
    cells = [
        (category, person)
        for category in range(categories)
        for person in range(3)
        if ((category, person), (category, solution[category][person])) not in stated
    ]
    category, person = rng.choice(cells)
    held = grid.value(category, solution[category][person])
    if rng.random() < 0.5:
        question, answer = chosen[category].ask_value.format(person=names[person]), held
    else:
        question, answer = chosen[category].ask_who.format(value=held), names[person]
    lists = "; ".join(
        f"{c.plural}: {', '.join(values)}" for c, values in zip(chosen, grid.values, strict=True)
    )
    intro = (
        f"{names[0]}, {names[1]} and {names[2]} each have a different one of every item "
        f"listed ({lists})."
    )
    body = " ".join(grid.clue_text(clue) for clue in clues)
    # The worked example states the one arrangement that fits, person by person.
    work = "; ".join(
        f"{names[p]} "
        + " and ".join(
            c.has.format(value=grid.value(i, solution[i][p])) for i, c in enumerate(chosen)
        )
        for p in range(3)
    )
    work = f"Only one arrangement fits the clues: {work}."
    metadata = {
        "template": f"logic_grid_{categories}x3",
        "names": list(names),
        "categories": {c.name: list(v) for c, v in zip(chosen, grid.values, strict=True)},
        "clues": [grid.clue_record(clue) for clue in clues],
    }
    return f"{intro} {body} {question}", answer, work, metadata


def _grid_two(rng: random.Random) -> Item:
    return _logic_grid(rng, 2)


def _grid_three(rng: random.Random) -> Item:
    return _logic_grid(rng, 3)


GRID_MAKERS: tuple[ItemMaker, ...] = (_grid_two, _grid_three, _grid_three)


@register_task("logic_grid")
def logic_grid() -> Task:
    return _task(
        "logic_grid",
        GRID_MAKERS,
        200,
        "Zebra-style puzzles (3 people x 2-3 attributes) generated per seed, clues checked by "
        "brute force to have one solution; the answer is a name or a value, exact match.",
        numeric=False,
        max_tokens=128,  # the worked examples spell out the whole arrangement first
    )
