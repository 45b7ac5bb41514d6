"""Solvers: prompt rendering, few-shot, multiple choice and the generate step.

A solver is `async (state, generate) -> state`. Rendering writes both a raw prompt (for
completion targets, e.g. base models) and a chat message (for chat-only targets); the engine
has already decided which one the request will use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assay.targets._types import Message
from assay.tasks._types import Generate, Solver, State

LETTERS = "ABCDEFGHIJ"


def render(state: State, text: str) -> State:
    return replace(state, prompt=text, messages=(*state.messages, Message("user", text)))


def prompt_template(template: str, *, prefix: str = "") -> Solver:
    """Render `template` with `{input}` (and sample metadata fields); `prefix` is few-shot text."""

    async def solve(state: State, generate: Generate) -> State:
        body = template.format(input=state.sample.input, **state.sample.metadata)
        if state.mode == "chat":
            return render(state, (prefix + body).strip())
        return render(state, prefix + body)

    return solve


def format_choices(question: str, choices: Sequence[str]) -> str:
    lines = [question.strip()]
    lines += [f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices)]
    return "\n".join(lines)


def multiple_choice(*, prefix: str = "", top_logprobs: int = 20) -> Solver:
    """Ask for the letter. With logprobs, one token is enough to read the model's preference."""

    async def solve(state: State, generate: Generate) -> State:
        body = format_choices(state.sample.input, state.sample.choices) + "\nAnswer:"
        if state.mode == "chat":
            letters = ", ".join(LETTERS[: len(state.sample.choices)])
            state = render(
                state, f"{prefix}{body}".strip() + f"\n\nReply with the letter ({letters}) only."
            )
        else:
            state = render(state, prefix + body)
        if state.capabilities.logprobs:
            state = state.with_config(max_tokens=1, top_logprobs=top_logprobs, temperature=0.0)
        else:
            state = state.with_config(max_tokens=16)
        return await generate(state)

    return solve


def generate_step() -> Solver:
    async def solve(state: State, generate: Generate) -> State:
        return await generate(state)

    return solve
