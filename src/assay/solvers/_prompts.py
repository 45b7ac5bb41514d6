"""Question prompts of public benchmarks: GSM8K's 'Question: ...\\nAnswer:' and IFEval's prompt
as the user turn."""

from __future__ import annotations

from assay.core import Generate, Sample, Solver, State, solver
from assay.solvers._solvers import Prefixes, render


def gsm8k_item(sample: Sample, *, answered: bool) -> str:
    text = f"Question: {sample.input}\nAnswer:"
    return f"{text} {sample.metadata['solution']}\n\n" if answered else text


@solver()
def question_prompt(prefixes: Prefixes) -> Solver:
    async def solve(state: State, generate: Generate) -> State:
        text = prefixes[""] + gsm8k_item(state.sample, answered=False)
        return render(state, text.strip() if state.mode == "chat" else text)

    return solve


@solver()
def instruction_prompt() -> Solver:
    """The IFEval prompt as the user turn; a raw-completion target gets a minimal frame."""

    async def solve(state: State, generate: Generate) -> State:
        prompt = state.sample.input
        if state.mode == "chat":
            return render(state, prompt)
        return render(state, f"Instruction: {prompt}\nResponse:")

    return solve
