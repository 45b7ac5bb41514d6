"""Scorers for numeric answers, short text answers and multiple choice (logprob or letter)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

from assay.core import Score, Scorer, State, TokenLogprob, error_score, scorer
from assay.solvers._solvers import LETTERS

# A comma groups thousands only before exactly three digits, so "1,2,3" is three numbers.
_NUMBER = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
# Explicit answer markers beat "last number in the text", so chain of thought is not misread.
_ANSWER_MARKERS = (
    re.compile(r"####\s*\$?\s*(" + _NUMBER + ")"),
    re.compile(r"answer is[:\s]*\$?\s*(" + _NUMBER + ")", re.IGNORECASE),
    re.compile(r"answer:\s*\$?\s*(" + _NUMBER + ")", re.IGNORECASE),
    # Chinese: "答案是 12", "答案：12", "答案为12", "最终答案是：12".
    re.compile(r"答案\s*(?:是|为)?\s*[:：]?\s*[$￥¥]?\s*(" + _NUMBER + ")"),
)
# Full-width digits and signs (common in Chinese text) read as their ASCII forms.
_FULL_WIDTH = str.maketrans(
    {**{chr(0xFF10 + i): str(i) for i in range(10)}, "，": ",", "．": ".", "－": "-", "＄": "$"}
)


def normalise_text(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def marked_number(text: str) -> str | None:
    """The number after the last explicit answer marker of the first kind found, if any."""
    text = normalise_text(text)
    for marker in _ANSWER_MARKERS:
        found = marker.findall(text)
        if found:
            return _normalise_number(found[-1])
    return None


def extract_number(text: str) -> str | None:
    marked = marked_number(text)
    if marked is not None:
        return marked
    numbers = re.findall(_NUMBER, normalise_text(text))
    return _normalise_number(numbers[-1]) if numbers else None


def _normalise_number(raw: str) -> str:
    value = normalise_text(raw).replace(",", "").rstrip(".")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    if value in ("", "-", "-0"):
        return "0"
    return value


def truncated(method: str, *, before: str = "an answer") -> Score:
    """The score of an output cut at max_tokens before `before`: wrong (0.0), and marked cut so
    the cut share is reported beside the metric. Scoring only what finished would flatter a
    model that rambles."""
    return Score(
        0.0,
        outcome="truncated",
        explanation=f"output cut at max_tokens before {before}",
        method=method,
    )


def unanswered(state: State, method: str, *, explanation: str = "no answer found") -> Score:
    """No answer found: wrong either way; a cut output is marked "truncated"."""
    output = state.output
    if output is not None and output.finish_reason == "length":
        return truncated(method)
    return Score(0.0, answer=None, explanation=explanation, method=method)


@scorer()
def numeric_match() -> Scorer:
    """Exact match on the answer number; an output cut short without an answer marker is
    "truncated" (wrong), because the last number of an unfinished chain of thought is not an
    answer."""

    async def score(state: State) -> Score:
        failed = error_score(state, "generate")
        if failed is not None:
            return failed
        assert state.output is not None
        if state.output.finish_reason == "length":
            answer = marked_number(state.output.text)
        else:
            answer = extract_number(state.output.text)
        if answer is None:
            return unanswered(state, "generate")
        expected = _normalise_number(state.sample.target)
        return Score(float(answer == expected), answer=answer, method="generate")

    return score


@scorer()
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
                return unanswered(state, method)
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


# -- short text answers (names, weekdays, dates) ----------------------------------------------

_TEXT_MARKERS = (
    re.compile(r"answer is[:\s]*([^\n]+)", re.IGNORECASE),
    re.compile(r"answer:[ \t]*([^\n]+)", re.IGNORECASE),
    re.compile(r"答案\s*(?:是|为)?\s*[:：]?[ \t]*([^\n]+)"),
)
# Where a stated answer ends: a sentence or clause mark followed by a space or the end; not
# the comma of a date ("March 5, 2024").
_ANSWER_END = re.compile(r"[.!?;](?:\s|$)|,(?!\s*\d)(?:\s|$)|[。，；！？]")
_DATE_FORMATS = ("%Y-%m-%d", "%B %d, %Y", "%B %d %Y", "%d %B %Y", "%b %d, %Y", "%d %b %Y")


def marked_answer(text: str) -> str | None:
    """The text after the last explicit answer marker of the first kind found, to the clause end."""
    for marker in _TEXT_MARKERS:
        found = marker.findall(text)
        if found:
            return _ANSWER_END.split(found[-1], maxsplit=1)[0].strip()
    return None


def normalise_answer(text: str) -> str:
    """Lower case, no markdown, quotes, trailing punctuation or leading article; ISO dates."""
    value = normalise_text(text).strip().strip("*_`\"'“”‘’「」《》()（）").strip()
    value = value.rstrip(".。!！?？,，;；:：").strip().lower()
    value = re.sub(r"^(?:the|a|an)\s+", "", value)
    value = re.sub(r"\s+", " ", value)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return value


@scorer()
def answer_match() -> Scorer:
    """Exact match after normalisation for short answers; numeric targets match as numbers.

    The stated answer is the text after the last answer marker ("The answer is X."); without
    one, the first line of the output. A cut output without a marker is "truncated" (wrong).
    """
    numbers = numeric_match()

    async def score(state: State) -> Score:
        if re.fullmatch(_NUMBER, normalise_text(state.sample.target.strip())):
            return await numbers(state)
        failed = error_score(state, "generate")
        if failed is not None:
            return failed
        assert state.output is not None
        text = state.output.text
        stated = marked_answer(text)
        if stated is None and state.output.finish_reason != "length":
            lines = [line for line in text.splitlines() if line.strip()]
            stated = _ANSWER_END.split(lines[0], maxsplit=1)[0] if lines else None
        if not stated:
            return unanswered(state, "generate")
        answer = normalise_answer(stated)
        expected = normalise_answer(state.sample.target)
        return Score(float(answer == expected), answer=answer, method="generate")

    return score


# How Chinese replies state the letter ("答案是A", "正确答案为：B", "选C"); CJK characters are
# word characters, so the generic extraction's \b misses a letter glued to them.
_ZH_LETTER = re.compile(
    r"(?:答案|选项|选择|选)\s*(?:应该|应)?\s*(?:是|为)?\s*[:：]?\s*[(（]?([A-D])(?![A-Za-z])"
)


@scorer()
def zh_choice() -> Scorer:
    """The choice scorer, with Chinese answer phrases read when no letter was found."""
    base = choice()

    async def score(state: State) -> Score:
        result = await base(state)
        if result.outcome == "error" or result.method != "generate" or result.answer:
            return result
        assert state.output is not None
        found = _ZH_LETTER.search(state.output.text)
        if found is None:
            return result
        answer = found.group(1)
        return Score(float(answer == state.sample.target), answer=answer, method="generate")

    return score
