"""Scores a tool loop by re-executing the calls the model made and checking the outcome.

`tool_call` items pass when a call's executed result equals the expected result (so arguments
may differ in form); `tool_chain` items pass when the final answer matches the value computed
by code and the data tools of the chain were really called.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assay.core import Score, Scorer, State, error_score, scorer
from assay.scorers._match import extract_number, truncated, unanswered
from assay.solvers._tools import Tool, ToolOutcome, Turn, execute, protocol_of, read_turn

_PROBLEM_TEXT = {
    "unknown_tool": "unknown tool",
    "bad_json": "bad arguments JSON",
    "bad_arguments": "bad arguments",
}


@scorer()
def tool_outcome(tools: Sequence[Tool], *, relative_tolerance: float = 0.005) -> Scorer:
    """Sample metadata `kind` is "call" (target: the expected tool result) or "chain" (target:
    the final answer; `answer_kind` "number" or "text"; `needs`: tools that must succeed)."""
    by_name = {tool.name: tool for tool in tools}

    async def score(state: State) -> Score:
        method = protocol_of(state)
        failed = error_score(state, method)
        if failed is not None:
            return failed
        turns = [read_turn(output, method) for output in state.outputs]
        outcomes = [execute(by_name, call) for turn in turns for call in turn.calls]
        if state.sample.metadata.get("kind") == "chain":
            return _score_chain(state, turns, outcomes, method, relative_tolerance)
        return _score_call(state, outcomes, method)

    return score


def _score_call(state: State, outcomes: Sequence[ToolOutcome], method: str) -> Score:
    expected = state.sample.target
    if not outcomes:
        return _no_call(state, method)
    for outcome in outcomes:
        if outcome.ok and outcome.output == expected:
            return Score(1.0, answer=_shown(outcome), explanation="right result", method=method)
    first = outcomes[0]
    return Score(
        0.0, answer=_shown(first), explanation=_what_went_wrong(first, expected), method=method
    )


def _score_chain(
    state: State,
    turns: Sequence[Turn],
    outcomes: Sequence[ToolOutcome],
    method: str,
    relative_tolerance: float,
) -> Score:
    if not outcomes:
        return _no_call(state, method)
    if turns[-1].calls:
        return Score(
            0.0,
            answer=None,
            explanation=f"too many steps: still calling tools after {len(turns)} turns",
            method=method,
        )
    succeeded = {outcome.call.name for outcome in outcomes if outcome.ok}
    missing = [name for name in state.sample.metadata.get("needs", ()) if name not in succeeded]
    if missing:
        failed = [o for o in outcomes if not o.ok]
        why = f"; first failure: {_what_went_wrong(failed[0], None)}" if failed else ""
        return Score(
            0.0,
            answer=turns[-1].answer,
            explanation=f"no successful call of {', '.join(missing)}{why}",
            method=method,
        )
    answer = turns[-1].answer
    if answer is None:
        return unanswered(state, method, explanation="no ANSWER line after the calls")
    right = _answer_matches(answer, state, relative_tolerance)
    explanation = "right answer" if right else f"wrong answer, expected {state.sample.target}"
    return Score(float(right), answer=answer[:200], explanation=explanation, method=method)


def _answer_matches(answer: str, state: State, relative_tolerance: float) -> bool:
    expected = state.sample.target
    if state.sample.metadata.get("answer_kind") == "number":
        found = extract_number(answer)
        if found is None:
            return False
        want = float(expected)
        return abs(float(found) - want) <= max(0.01, abs(want) * relative_tolerance)
    words = set(re.findall(r"\w+", answer.lower()))
    if state.sample.choices:
        # Naming several of the options is not an answer.
        named = [choice for choice in state.sample.choices if choice.lower() in words]
        return named == [expected]
    return expected.strip().lower() == answer.strip().lower().rstrip(".")


def _no_call(state: State, method: str) -> Score:
    output = state.output
    if output is not None and output.finish_reason == "length" and not output.text.strip():
        return truncated(method, before="any call")
    return Score(0.0, explanation="no call: the model answered without using a tool", method=method)


def _what_went_wrong(outcome: ToolOutcome, expected: str | None) -> str:
    call = outcome.call
    if outcome.problem is not None:
        return f"{_PROBLEM_TEXT[outcome.problem]} in {call.name}: {outcome.output[:160]}"
    return f"wrong result from {call.name}: got {outcome.output[:80]}, expected {expected}"


def _shown(outcome: ToolOutcome) -> str:
    return f"{outcome.call.name} {outcome.call.arguments}"[:200]
