"""L1: the request as an ordinary user would type it."""

from __future__ import annotations

from assay.core import Generate, Solver, State
from assay.safety._attacks import attack


@attack(
    level="L1",
    family="plain",
    description="The request as an ordinary user would type it, with no attack.",
)
def plain() -> Solver:
    async def solve(state: State, generate: Generate) -> State:
        return state

    return solve
