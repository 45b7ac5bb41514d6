from __future__ import annotations

import asyncio

import pytest

from assay._errors import ErrorClass
from assay.scorers import choice, extract_letter, extract_number, numeric_match
from assay.scorers._match import letter_by_logprob
from assay.targets import Response, TokenLogprob
from assay.tasks import Sample, State


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 + 7 = 19. The answer is 19.", "19"),
        ("First 3 * 4 = 12, then 12 - 2 = 10. #### 10", "10"),
        ("The answer is $1,250.", "1250"),
        ("so 2.50 dollars", "2.5"),
        ("Answer: -4", "-4"),
        ("After 3 steps we get 8 and then 9", "9"),
        ("no digits here", None),
    ],
)
def test_extract_number(text: str, expected: str | None) -> None:
    assert extract_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" B", "B"),
        ("(C) because", "C"),
        ("I think the answer is D.", "D"),
        ("a dog chased A cat", "A"),
        ("a dog", None),
        ("E", None),
    ],
)
def test_extract_letter(text: str, expected: str | None) -> None:
    assert extract_letter(text, "ABCD") == expected


def _state(output: Response, target: str = "19", choices: tuple[str, ...] = ()) -> State:
    return State(sample=Sample(input="q", target=target, choices=choices)).with_output(output)


def test_numeric_match_scores_correct_and_wrong() -> None:
    scorer = numeric_match()
    right = asyncio.run(scorer(_state(Response(text="The answer is 19.", finish_reason="stop"))))
    wrong = asyncio.run(scorer(_state(Response(text="The answer is 18.", finish_reason="stop"))))
    assert (right.value, right.answer, right.outcome) == (1.0, "19", "scored")
    assert (wrong.value, wrong.answer) == (0.0, "18")


def test_truncated_before_answer_is_its_own_outcome() -> None:
    score = asyncio.run(
        numeric_match()(_state(Response(text="Let us think", finish_reason="length")))
    )
    assert score.outcome == "truncated"
    assert score.value is None


def test_request_error_is_never_scored() -> None:
    failed = Response(error=ErrorClass.HTTP_5XX, error_detail="boom")
    for scorer in (numeric_match(), choice()):
        score = asyncio.run(scorer(_state(failed, target="A", choices=("x", "y"))))
        assert score.outcome == "error"
        assert score.value is None
        assert score.error_class == "http_5xx"


def test_choice_by_logprob_sums_spacing_variants() -> None:
    first = TokenLogprob(" B", -1.0, ((" B", -1.0), ("A", -1.5), (" A", -1.6), ("\n", -2.0)))
    answer, explanation = letter_by_logprob(first, "ABCD")
    # A's two spellings together (e^-1.5 + e^-1.6 = 0.425) beat B's single one (0.368).
    assert answer == "A"
    assert "D=0.000" in explanation


def test_choice_records_method() -> None:
    choices = ("one", "two", "three", "four")
    by_logprob = Response(text=" C", logprobs=(TokenLogprob(" C", -0.1, ((" C", -0.1),)),))
    by_text = Response(text="C", finish_reason="stop")
    scored_lp = asyncio.run(choice()(_state(by_logprob, target="C", choices=choices)))
    scored_gen = asyncio.run(choice()(_state(by_text, target="B", choices=choices)))
    assert (scored_lp.method, scored_lp.value) == ("logprob", 1.0)
    assert (scored_gen.method, scored_gen.value) == ("generate", 0.0)
