"""The code-writing prompt: the function's signature and docstring, as raw completion or as a
request for the whole function in chat."""

from __future__ import annotations

from assay.core import Generate, Solver, State, solver
from assay.solvers._solvers import render

CHAT_TEMPLATE = (
    "Complete the following Python function. Reply with the complete function, including "
    "its signature and any imports it needs, in a single ```python code block.\n\n"
    "```python\n{prompt}\n```"
)
CHAT_MAX_TOKENS = 1024  # a chat reply restates the signature and often adds prose


@solver()
def code_prompt() -> Solver:
    """Raw completion: the prompt itself (signature + docstring), cut at the Codex stops.
    Chat: ask for the whole function in a fenced block; no stops, they would cut the reply."""

    async def solve(state: State, generate: Generate) -> State:
        if state.mode == "chat":
            text = CHAT_TEMPLATE.format(prompt=state.sample.input.strip())
            state = render(state, text).with_config(stop=(), max_tokens=CHAT_MAX_TOKENS)
        else:
            state = render(state, state.sample.input)
        return await generate(state)

    return solve
