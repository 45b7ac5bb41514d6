"""Scorers for numeric answers and multiple choice (by logprob or by generated letter)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from assay.solvers._solvers import LETTERS
from assay.targets._types import TokenLogprob
from assay.tasks._types import Score, Scorer, State, error_score

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
# Explicit answer markers beat "last number in the text", so chain of thought is not misread.
_ANSWER_MARKERS = (
    re.compile(r"####\s*\$?(" + _NUMBER + ")"),
    re.compile(r"answer is[:\s]*\$?\s*(" + _NUMBER + ")", re.IGNORECASE),
    re.compile(r"answer:\s*\$?\s*(" + _NUMBER + ")", re.IGNORECASE),
)


def extract_number(text: str) -> str | None:
    for marker in _ANSWER_MARKERS:
        found = marker.findall(text)
        if found:
            return _normalise_number(found[-1])
    numbers = re.findall(_NUMBER, text)
    return _normalise_number(numbers[-1]) if numbers else None


def _normalise_number(raw: str) -> str:
    value = raw.replace(",", "").rstrip(".")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value or "0"


def _unanswered(state: State, method: str) -> Score:
    """No answer found: a truncated output is its own outcome, not a wrong answer."""
    output = state.output
    if output is not None and output.finish_reason == "length":
        return Score(
            None,
            outcome="truncated",
            error_class="truncated",
            explanation="output cut at max_tokens before an answer",
            method=method,
        )
    return Score(0.0, answer=None, explanation="no answer found", method=method)


def numeric_match() -> Scorer:
    async def score(state: State) -> Score:
        failed = error_score(state, "generate")
        if failed is not None:
            return failed
        assert state.output is not None
        answer = extract_number(state.output.text)
        if answer is None:
            return _unanswered(state, "generate")
        expected = _normalise_number(state.sample.target)
        return Score(float(answer == expected), answer=answer, method="generate")

    return score


def choice() -> Scorer:
    """Multiple choice: compares letter logprobs when present, else parses the generated letter."""

    async def score(state: State) -> Score:
        output = state.output
        method = "logprob" if output is not None and output.logprobs else "generate"
        failed = error_score(state, method)
        if failed is not None:
            return failed
        assert output is not None
        letters = LETTERS[: len(state.sample.choices)]
        explanation = ""
        if output.logprobs:
            answer, explanation = letter_by_logprob(output.logprobs[0], letters)
        else:
            extracted = extract_letter(output.text, letters)
            if extracted is None:
                return _unanswered(state, method)
            answer = extracted
        return Score(
            float(answer == state.sample.target),
            answer=answer,
            explanation=explanation,
            method=method,
        )

    return score


def letter_by_logprob(first: TokenLogprob, letters: str) -> tuple[str, str]:
    """The letter with the highest probability among the first token's alternatives.

    " A" and "A" are the same answer, so their probabilities are summed. A letter absent from the
    top-k alternatives gets probability 0 (it is below all listed ones).
    """
    mass = dict.fromkeys(letters, 0.0)
    for token, logprob in first.top or ((first.token, first.logprob),):
        key = token.strip().rstrip(".)")
        if key in mass:
            mass[key] += math.exp(logprob)
    best = max(letters, key=lambda letter: mass[letter])
    explanation = " ".join(f"{k}={v:.3f}" for k, v in mass.items())
    return best, explanation


def extract_letter(text: str, letters: Sequence[str] | str) -> str | None:
    allowed = "".join(letters)
    patterns = (
        rf"(?i:answer is)\s*\(?([{allowed}])\b",
        rf"^\s*\(?([{allowed}])\s*[\).:]",
        rf"^\s*\(?([{allowed}])\b",
        rf"\b([{allowed}])\b",
    )
    for pattern in patterns:
        found = re.search(pattern, text, flags=re.MULTILINE)
        if found:
            return found.group(1)
    return None
