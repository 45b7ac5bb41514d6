from __future__ import annotations

import asyncio

import pytest

from assay._errors import ErrorClass
from assay.core import Sample, State
from assay.scorers import choice, extract_letter, extract_number, numeric_match
from assay.scorers._match import answer_match, letter_by_logprob, normalise_answer
from assay.targets import Response, TokenLogprob


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
        # Chinese answer markers beat later numbers of the explanation.
        ("答案是12，因为一共有3组", "12"),
        ("所以答案为：-7。验算：3-10=-7，共2步", "-7"),
        ("最终答案：$45。", "45"),
        # Full-width digits, comma and point read as ASCII.
        ("答案：１２", "12"),
        ("一共是３，４５６元", "3456"),
        ("约为１２．５０米", "12.5"),
        # A comma groups thousands only before three digits: a list is not one number.
        ("the numbers 1,2,3", "3"),
        ("#### 1,000,000", "1000000"),
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


def test_cut_before_an_answer_is_wrong_and_marked_cut() -> None:
    score = asyncio.run(
        numeric_match()(_state(Response(text="Let us think", finish_reason="length")))
    )
    assert score.outcome == "truncated"
    assert score.value == 0.0
    assert score.error_class is None


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


def _numeric(text: str, finish_reason: str, target: str = "19") -> tuple[float | None, str]:
    score = asyncio.run(
        numeric_match()(_state(Response(text=text, finish_reason=finish_reason), target=target))
    )
    return score.value, score.outcome


@pytest.mark.parametrize(
    "text",
    [
        "First 12 + 7 = 19, then we need to subtract 4 from",
        "Let us compute 10 + 9 = 19 and",
        "先算 12 + 7 = 19，再",
    ],
)
def test_cut_chain_of_thought_is_truncated_and_wrong(text: str) -> None:
    # The last number of an unfinished chain of thought (19, right here) is not the model's
    # answer: the cut output is wrong.
    assert _numeric(text, "length") == (0.0, "truncated")
    # The same text that ended on its own is scored (its last number is its answer).
    assert _numeric(text, "stop")[1] == "scored"


@pytest.mark.parametrize(
    "text",
    [
        "12 + 7 = 19. The answer is 19. Next question: 3 +",
        "12 + 7 = 19\n#### 19\nQuestion: how many",
        "12 + 7 = 19，所以答案是19。下一题：5 +",
        "答案：１９。接下来",
    ],
)
def test_cut_output_with_answer_marker_is_scored(text: str) -> None:
    assert _numeric(text, "length") == (1.0, "scored")


def test_full_width_target_and_output_agree() -> None:
    assert _numeric("答案是１，２５０", "stop", target="1250") == (1.0, "scored")
    assert _numeric("The answer is 1250", "stop", target="１２５０") == (1.0, "scored")


def _text_answer(text: str, target: str, finish_reason: str = "stop") -> tuple[float | None, str]:
    state = _state(Response(text=text, finish_reason=finish_reason), target=target)
    score = asyncio.run(answer_match()(state))
    return score.value, score.outcome


@pytest.mark.parametrize(
    ("text", "target", "value"),
    [
        ("It moves on by 3, so the answer is Friday.", "Friday", 1.0),
        ("The answer is **the parrot**. Next question", "parrot", 1.0),
        ("Answer: Bruno, because Alma has the cat", "Bruno", 1.0),
        ("The answer is 2024-03-05.", "2024-03-05", 1.0),
        ("The answer is March 5, 2024.", "2024-03-05", 1.0),
        ("The answer is 5 March 2024.", "2024-03-05", 1.0),
        ("答案是：小明。", "小明", 1.0),
        (" Friday\n\nQuestion: what", "Friday", 1.0),
        ("The answer is Thursday.", "Friday", 0.0),
        ("Friday or Saturday, the answer is Saturday.", "Friday", 0.0),
        # A numeric target is matched as a number.
        ("From 3 to 7 there are 4 days. The answer is 4.", "4", 1.0),
    ],
)
def test_answer_match(text: str, target: str, value: float) -> None:
    assert _text_answer(text, target) == (value, "scored")


def test_answer_match_truncated_without_marker() -> None:
    assert _text_answer("Alma does not have the cat, so Bruno", "Bruno", "length") == (
        0.0,
        "truncated",
    )
    assert _text_answer("The answer is Bruno. Now the next", "Bruno", "length") == (1.0, "scored")


def test_normalise_answer() -> None:
    assert normalise_answer("  The Cat. ") == "cat"
    assert normalise_answer("《春晓》") == "春晓"
    assert normalise_answer("December 1, 2018") == "2018-12-01"
    assert normalise_answer("New  York") == "new york"
