"""Generated reasoning tasks: fresh per seed, answers re-derived here a second way."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay.core import Sample
from assay.targets import Capabilities, FakeTarget, Request, Response
from assay.tasks import TaskContext, get_task
from assay.tasks._generated import (
    DATE_MAKERS,
    GRID_MAKERS,
    UNIT_MAKERS,
    decimal_text,
    few_shot,
    generate_items,
)

TASKS = {"unit_conversion": UNIT_MAKERS, "date_reasoning": DATE_MAKERS, "logic_grid": GRID_MAKERS}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_items_are_fresh_per_seed_and_reproducible(name: str) -> None:
    makers = TASKS[name]
    first, again = generate_items(name, makers, 1, 60), generate_items(name, makers, 1, 60)
    other = generate_items(name, makers, 2, 60)
    assert [s.id for s in first] == [s.id for s in again]
    assert len({s.id for s in first}) == 60
    assert len({s.input for s in first}) == 60
    assert len({s.id for s in first} & {s.id for s in other}) < 5
    # The worked examples come from a fixed seed, never from the items of a run.
    assert not any(s.input in few_shot(name, makers) for s in first + other)


def test_registered_tasks() -> None:
    for name in TASKS:
        task = get_task(name)
        assert task.dimension == "reasoning_math"
        assert len(task.dataset(TaskContext(seed=5))) >= 200


# -- unit conversion: an independent table of factors ------------------------------------

FACTORS = {
    ("kilometres", "metres"): "1000",
    ("metres", "centimetres"): "100",
    ("millimetres", "centimetres"): "0.1",
    ("inches", "centimetres"): "2.54",
    ("feet", "inches"): "12",
    ("miles", "kilometres"): "1.609344",
    ("kilograms", "grams"): "1000",
    ("grams", "kilograms"): "0.001",
    ("pounds", "ounces"): "16",
    ("pounds", "kilograms"): "0.45359237",
    ("litres", "millilitres"): "1000",
    ("millilitres", "litres"): "0.001",
    ("gallons", "quarts"): "4",
    ("gallons", "litres"): "3.785411784",
    ("hours", "minutes"): "60",
    ("minutes", "seconds"): "60",
    ("days", "hours"): "24",
    ("metres per second", "kilometres per hour"): "3.6",
}


def _rounded(value: Decimal, question: str) -> Decimal:
    found = re.search(r"Round to (\d) decimal|nearest whole", question)
    if found is None:
        return value
    places = int(found.group(1)) if found.group(1) else 0
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _expected_conversion(question: str) -> Decimal:
    found = re.match(r"Convert (-?[\d.]+) (.+?) to (?:degrees )?(.+?)\.", question)
    if found is not None:
        value, src, dst = Decimal(found.group(1)), found.group(2), found.group(3)
        if src == "degrees Celsius":
            return value * 9 / 5 + 32
        if src == "degrees Fahrenheit":
            return _rounded((value - 32) * 5 / 9, question)
        if (src, dst) == ("minutes", "hours"):
            return value / 60
        if (src, dst) == ("kilometres per hour", "metres per second"):
            return _rounded(value * 1000 / 3600, question)
        if (src, dst) == ("miles per hour", "kilometres per hour"):
            return _rounded(value * Decimal("1.609344"), question)
        return _rounded(value * Decimal(FACTORS[(src, dst)]), question)
    hours, minutes = map(int, re.findall(r"\d+", question))
    return Decimal(hours * 60 + minutes)


def test_unit_answers_are_right() -> None:
    samples = generate_items("unit_conversion", UNIT_MAKERS, 7, 400)
    kinds = {s.metadata["kind"] for s in samples}
    assert kinds == {"length", "mass", "volume", "time", "temperature", "speed"}
    for sample in samples:
        expected = _expected_conversion(sample.input)
        assert Decimal(sample.target) == expected, sample.input
        # The answer is written plainly, as a model would write it: no exponent, no padding.
        assert re.fullmatch(r"-?\d+(\.\d*[1-9])?", sample.target), sample.target


def test_decimal_text() -> None:
    from fractions import Fraction

    assert decimal_text(Fraction(5, 2)) == "2.5"
    assert decimal_text(Fraction(-1, 3), 1) == "-0.3"
    assert decimal_text(Fraction(1, 20), 1) == "0.1"  # half up, not to even
    assert decimal_text(Fraction(-1, 100), 1) == "0"
    with pytest.raises(ValueError, match="no finite decimal"):
        decimal_text(Fraction(1, 3))


# -- dates: Julian day numbers instead of datetime ------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _jdn(year: int, month: int, day: int) -> int:
    """Julian day number (Fliegel and Van Flandern), integer arithmetic only."""
    a = (14 - month) // 12
    y, m = year + 4800 - a, month + 12 * a - 3
    return day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045


def _from_jdn(jdn: int) -> str:
    a = jdn + 32044
    b = (4 * a + 3) // 146097
    c = a - 146097 * b // 4
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    day, month = e - (153 * m + 2) // 5 + 1, m + 3 - 12 * (m // 10)
    return f"{100 * b + d - 4800 + m // 10:04d}-{month:02d}-{day:02d}"


def _dates(text: str) -> list[tuple[int, int, int]]:
    found = re.findall(r"([A-Z][a-z]+) (\d{1,2}), (\d{4})", text)
    parsed = [datetime.strptime(f"{m} {d} {y}", "%B %d %Y") for m, d, y in found]
    return [(p.year, p.month, p.day) for p in parsed]


def _expected_date_answer(sample: Sample) -> str:
    question, template = sample.input, sample.metadata["template"]
    dates = _dates(question)
    numbers = [int(n) for n in re.findall(r"\b(\d+) (?:days|weeks)", question)]
    if template == "weekday_after":
        today = _jdn(*dates[0])
        assert question.startswith(f"Today is {WEEKDAYS[today % 7]},")  # JDN 0 was a Monday
        return WEEKDAYS[(today + numbers[0]) % 7]
    if template == "days_between":
        return str(_jdn(*dates[1]) - _jdn(*dates[0]))
    if template in ("date_after", "date_before"):
        days = numbers[0] * (7 if " weeks " in question else 1)
        sign = 1 if template == "date_after" else -1
        return _from_jdn(_jdn(*dates[0]) + sign * days)
    assert template == "age"
    (by, bm, bd), (oy, om, od) = dates
    # Count the birthdays that have come by the day asked about.
    return str(sum(1 for year in range(by + 1, oy + 1) if (year, bm, bd) <= (oy, om, od)))


def test_date_answers_are_right() -> None:
    samples = generate_items("date_reasoning", DATE_MAKERS, 11, 400)
    templates = {s.metadata["template"] for s in samples}
    assert templates == {"weekday_after", "days_between", "date_after", "date_before", "age"}
    for sample in samples:
        assert sample.target == _expected_date_answer(sample), sample.input


def test_julian_day_helpers_agree_with_known_dates() -> None:
    assert _jdn(2000, 1, 1) == 2451545
    assert _from_jdn(2451545) == "2000-01-01"
    assert WEEKDAYS[_jdn(2024, 2, 29) % 7] == "Thursday"


# -- logic grids: an independent brute-force solver over the recorded clues -------------------


def _grid_solutions(metadata: dict[str, Any]) -> list[dict[str, dict[str, str]]]:
    names: list[str] = metadata["names"]
    categories: dict[str, list[str]] = metadata["categories"]
    found = []
    for perms in itertools.product(*(itertools.permutations(v) for v in categories.values())):
        # holds[category][name] = value
        holds = {
            c: dict(zip(names, p, strict=True)) for c, p in zip(categories, perms, strict=True)
        }
        if all(_clue_holds(clue, holds) for clue in metadata["clues"]):
            found.append(holds)
    return found


def _clue_holds(clue: list[str], holds: dict[str, dict[str, str]]) -> bool:
    if clue[0] in ("is", "not"):
        _, name, category, value = clue
        return (holds[category][name] == value) == (clue[0] == "is")
    kind, c1, v1, c2, v2 = clue
    (person,) = [n for n, v in holds[c1].items() if v == v1]
    return (holds[c2][person] == v2) == (kind == "same")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_logic_grids_have_one_solution_that_gives_the_answer(seed: int) -> None:
    samples = generate_items("logic_grid", GRID_MAKERS, seed, 50)
    assert {s.metadata["template"] for s in samples} == {"logic_grid_2x3", "logic_grid_3x3"}
    for sample in samples:
        (solution,) = _grid_solutions(dict(sample.metadata))
        asked = sample.input.rsplit(". ", 1)[1]
        names = sample.metadata["names"]
        if sample.target in names:  # "Who has the dog?": the one holding the asked value
            pairs = [(c, v) for c in solution for v in solution[c].values() if v in asked]
            assert [solution[c][sample.target] for c, _ in pairs] == [v for _, v in pairs]
        else:  # "What does Alma drink?"
            (name,) = [n for n in names if n in asked]
            assert sample.target in {solution[c][name] for c in solution}
        # The answer is never handed over by a clue: it must be reasoned out.
        for clue in sample.metadata["clues"]:
            if clue[0] == "is":
                assert not {clue[1], clue[3]} <= {sample.target, *re.findall(r"\w+", asked)}
        # Minimal: dropping any clue leaves more than one solution.
        clues = sample.metadata["clues"]
        for index in range(len(clues)):
            fewer = {**sample.metadata, "clues": clues[:index] + clues[index + 1 :]}
            assert len(_grid_solutions(fewer)) > 1


# -- a scripted target through the whole pipeline --------------------------------------------


def _scripted(samples: list[Sample]) -> FakeTarget:
    """Right on even-numbered items, a wrong answer on odd ones, worded like the few-shot."""
    index = {s.input: (i, s) for i, s in enumerate(samples)}

    def reply(request: Request) -> str:
        position, sample = index[request.sample_input]
        answer = sample.target if position % 2 == 0 else f"{sample.target}9"
        return f" Some working 12 and 7. The answer is {answer}."

    return FakeTarget(reply, capabilities=Capabilities(streaming=True))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_run_on_scripted_target(name: str, tmp_path: Path) -> None:
    samples = list(get_task(name).dataset(TaskContext(seed=0)))[:12]
    target = _scripted(samples)
    spec = RunSpec(target="fake", tasks=(name,), limit=12)
    result = evaluate(spec, out_dir=tmp_path, target=target, run_id="g")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert (task["value"], task["n"]) == (0.5, 12)
    prompt = target.requests[0].prompt
    assert prompt.startswith("Question: ") and prompt.endswith("\nAnswer:")
    assert prompt.count("The answer is") == 3  # the worked few-shot examples


def test_cut_chain_of_thought_is_truncated_and_wrong(tmp_path: Path) -> None:
    def reply(request: Request) -> Response:
        return Response(text=" 1 kilometre = 1000 metres, so 4 x", finish_reason="length")

    spec = RunSpec(target="fake", tasks=("unit_conversion",), limit=4)
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(reply), run_id="t")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert (task["n"], task["value"], task["truncated"]) == (4, 0.0, 4)
    assert task["errors"] == 0
