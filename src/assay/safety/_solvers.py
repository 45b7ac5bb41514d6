"""The safety pipeline's solver: the request as the user turn (after the sample's system prompt,
when it has one), the sample's attack applied to it, and for a raw-completion target (a base
model) the conversation framed as a transcript that ends where the assistant answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assay.core import Generate, Message, Solver, State, solver
from assay.safety._attacks import attack_solvers, with_request, with_system

PLAIN = "plain"
# The transcript roles a base model continues; generation stops at the next user turn.
_SPEAKERS = {"system": "System", "user": "User", "assistant": "Assistant"}
STOP = ("\nUser:",)


def transcript(messages: Sequence[Message]) -> str:
    """'System: ..\\n\\nUser: ..\\nAssistant:' for a completion target."""
    lines = [f"{_SPEAKERS.get(m.role, m.role.title())}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


@solver()
def attacked_request() -> Solver:
    """Asks the sample's request carried by its attack (`metadata["attack"]`, a registered
    attack or a composition; a set whose prompts are already attacked says `pre_attacked`)."""

    async def solve(state: State, generate: Generate) -> State:
        metadata = state.sample.metadata
        state = with_request(state, state.sample.input)
        if metadata.get("system"):
            state = with_system(state, str(metadata["system"]))
        if not metadata.get("pre_attacked"):
            for step in attack_solvers(str(metadata.get("attack", PLAIN))):
                state = await step(state, generate)
        if state.mode == "completion":
            state = replace(state, prompt=transcript(state.messages))
            state = state.with_config(stop=tuple(dict.fromkeys((*state.config.stop, *STOP))))
        return await generate(state)

    return solve
