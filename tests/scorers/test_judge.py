"""LLM-judge scorers with a scripted judge: strict verdict parsing, rubric grading, and
pairwise comparison whose position swap turns a position-biased judge's picks into ties."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest

from assay._errors import ErrorClass, ScorerError
from assay.core import Sample, Score, Scorer, State
from assay.scorers import pairwise_judge, parse_grade, parse_verdict, rubric_judge
from assay.targets import GenerateConfig, Response

QUESTION = "Why is the daytime sky blue?"
REFERENCE = "Air scatters blue light more than red light."


class ScriptedJudge:
    """A judge callable that answers each prompt with `reply(prompt)` and keeps the prompts."""

    def __init__(self, reply: Callable[[str], str | Response]) -> None:
        self.reply = reply
        self.prompts: list[str] = []

    async def __call__(self, prompt: str, config: GenerateConfig) -> Response:
        self.prompts.append(prompt)
        produced = self.reply(prompt)
        return produced if isinstance(produced, Response) else Response(text=produced)


def state_with(
    answer: str | Response,
    judge: ScriptedJudge | None,
    *,
    target: str = REFERENCE,
    metadata: dict[str, str] | None = None,
) -> State:
    output = answer if isinstance(answer, Response) else Response(text=answer)
    sample = Sample(input=QUESTION, target=target, metadata=metadata or {})
    return State(sample=sample, output=output, outputs=(output,), ask={"judge": judge})


def score(scorer: Scorer, state: State) -> Score:
    return asyncio.run(scorer(state))


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer names scattering.\nGRADE: 4", 4),
        ("**GRADE:** 5", 5),
        ("grade: 1.", 1),
        ("GRADE: 3\nGRADE: 3", 3),  # repeated, not contradictory
        ("GRADE: 6", None),  # out of the 1-5 scale
        ("GRADE: 0", None),
        ("GRADE: 4\nGRADE: 2", None),  # contradictory
        ("I would give it GRADE: 4 overall.", None),  # not a verdict line of its own
        ("GRADE: four", None),
        ("GRADE: 4 out of 5", None),
        ("", None),
    ],
)
def test_parse_grade_is_strict(text: str, expected: int | None) -> None:
    assert parse_grade(text, 1, 5) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It matches the reference.\nVERDICT: CORRECT", "CORRECT"),
        ("VERDICT: incorrect", "INCORRECT"),
        ("`VERDICT: CORRECT`.", "CORRECT"),
        ("VERDICT: CORRECT\nVERDICT: INCORRECT", None),
        ("VERDICT: MAYBE", None),
        ("The answer is correct.", None),
        ("My verdict: the answer is CORRECT", None),
    ],
)
def test_parse_verdict_is_strict(text: str, expected: str | None) -> None:
    assert parse_verdict(text, ("CORRECT", "INCORRECT")) == expected


# -- rubric_judge -------------------------------------------------------------------------------


def test_binary_verdict_scores_and_prompt_carries_question_reference_answer_rubric() -> None:
    judge = ScriptedJudge(lambda prompt: "Mentions scattering.\nVERDICT: CORRECT")
    scorer = rubric_judge("Correct if it names scattering.", scale="binary")
    result = score(scorer, state_with("Blue light is scattered most.", judge))
    assert (result.value, result.answer, result.outcome, result.method) == (
        1.0,
        "CORRECT",
        "scored",
        "judge",
    )
    assert "VERDICT: CORRECT" in result.explanation
    (prompt,) = judge.prompts
    for part in (QUESTION, REFERENCE, "Blue light is scattered most.", "names scattering"):
        assert part in prompt
    assert "VERDICT: CORRECT or VERDICT: INCORRECT" in prompt


def test_incorrect_verdict_is_zero_and_no_reference_is_left_out() -> None:
    judge = ScriptedJudge(lambda prompt: "VERDICT: INCORRECT")
    result = score(
        rubric_judge("r", scale="binary"), state_with("Because of the sea.", judge, target="")
    )
    assert (result.value, result.answer) == (0.0, "INCORRECT")
    assert "Reference answer" not in judge.prompts[0]


@pytest.mark.parametrize(("grade", "value"), [(1, 0.0), (3, 0.5), (5, 1.0)])
def test_grade_scale_is_normalised(grade: int, value: float) -> None:
    judge = ScriptedJudge(lambda prompt: f"Partly right.\nGRADE: {grade}")
    result = score(rubric_judge("r", scale=(1, 5)), state_with("Scattering.", judge))
    assert (result.value, result.answer) == (value, f"GRADE: {grade}")
    assert "from 1 (worst) to 5 (best)" in judge.prompts[0]


def test_unparseable_verdict_is_an_error_never_a_zero() -> None:
    judge = ScriptedJudge(lambda prompt: "I think it is mostly right, maybe a 4.")
    result = score(rubric_judge("r"), state_with("Scattering.", judge))
    assert result.value is None
    assert (result.outcome, result.error_class) == ("error", "judge_unparseable")
    assert "maybe a 4" in result.explanation


def test_failed_judge_request_is_a_judge_error() -> None:
    judge = ScriptedJudge(lambda prompt: Response(error=ErrorClass.TIMEOUT, error_detail="slow"))
    result = score(rubric_judge("r"), state_with("Scattering.", judge))
    assert (result.value, result.outcome, result.error_class) == (None, "error", "judge_timeout")


def test_failed_answer_is_not_sent_to_the_judge() -> None:
    judge = ScriptedJudge(lambda prompt: "VERDICT: CORRECT")
    failed = Response(error=ErrorClass.HTTP_5XX, error_detail="boom")
    result = score(rubric_judge("r", scale="binary"), state_with(failed, judge))
    assert (result.outcome, result.error_class) == ("error", "http_5xx")
    assert judge.prompts == []


def test_missing_judge_and_bad_scale_are_scorer_errors() -> None:
    with pytest.raises(ScorerError, match="needs_judge=True"):
        score(rubric_judge("r"), state_with("x", None))
    with pytest.raises(ScorerError, match="scale must be"):
        rubric_judge("r", scale=(5, 1))


# -- pairwise_judge -----------------------------------------------------------------------------

CANDIDATE = "Shorter blue wavelengths scatter more off air molecules."
BASELINE = "Because it reflects the ocean."


def prefers(text: str) -> Callable[[str], str]:
    """A fair judge: picks whichever position holds `text`."""

    def reply(prompt: str) -> str:
        first = re.search(r"Answer A:\n<<<\n(.*?)\n>>>", prompt, re.DOTALL)
        assert first is not None
        return "VERDICT: A" if first.group(1) == text else "VERDICT: B"

    return reply


def test_consistent_preference_for_the_answer_is_a_win() -> None:
    judge = ScriptedJudge(prefers(CANDIDATE))
    result = score(pairwise_judge(), state_with(CANDIDATE, judge, target=BASELINE))
    assert (result.value, result.answer) == (1.0, "win")
    assert result.explanation.startswith("consistent: win")
    # Asked twice, with the two answers swapped between positions A and B.
    assert len(judge.prompts) == 2
    positions = [p.index(CANDIDATE) < p.index(BASELINE) for p in judge.prompts]
    assert sorted(positions) == [False, True]


def test_consistent_preference_for_the_baseline_is_a_loss() -> None:
    judge = ScriptedJudge(prefers(BASELINE))
    result = score(pairwise_judge(), state_with(CANDIDATE, judge, target=BASELINE))
    assert (result.value, result.answer) == (0.0, "loss")


@pytest.mark.parametrize("always", ["A", "B"])
def test_position_biased_judge_yields_ties_not_wins(always: str) -> None:
    judge = ScriptedJudge(lambda prompt: f"VERDICT: {always}")
    result = score(pairwise_judge(), state_with(CANDIDATE, judge, target=BASELINE))
    assert (result.value, result.answer) == (0.5, "tie")
    assert result.explanation.startswith("inconsistent")
    assert "A/B: " in result.explanation and "B/A: " in result.explanation


def test_pairwise_baseline_from_metadata_and_missing_field() -> None:
    judge = ScriptedJudge(lambda prompt: "VERDICT: TIE")
    state = state_with(CANDIDATE, judge, metadata={"baseline_answer": BASELINE})
    result = score(pairwise_judge(baseline="baseline_answer"), state)
    assert (result.value, result.answer) == (0.5, "tie")
    assert result.explanation.startswith("consistent: tie")
    assert all(BASELINE in prompt and REFERENCE not in prompt for prompt in judge.prompts)
    with pytest.raises(ScorerError, match="no metadata field 'other'"):
        score(pairwise_judge(baseline="other"), state)


def test_pairwise_unparseable_verdict_is_an_error() -> None:
    judge = ScriptedJudge(
        lambda prompt: "Both are fine." if "Answer A:\n<<<\nS" in prompt else "VERDICT: A"
    )
    result = score(pairwise_judge(), state_with(CANDIDATE, judge, target=BASELINE))
    assert (result.value, result.error_class) == (None, "judge_unparseable")
