"""Solvers: `async (state, generate) -> state` steps that build prompts and call the target."""

from assay.solvers._choice import ChoiceFormat, subject_choice, zh_multiple_choice
from assay.solvers._code import code_prompt
from assay.solvers._likelihood import likelihood_choices
from assay.solvers._prompts import instruction_prompt, question_prompt
from assay.solvers._solvers import (
    Prefixes,
    generate_step,
    multiple_choice,
    prompt_template,
    sampling,
)
from assay.solvers._tools import Tool, tool_loop

__all__ = [
    "ChoiceFormat",
    "Prefixes",
    "Tool",
    "code_prompt",
    "generate_step",
    "instruction_prompt",
    "likelihood_choices",
    "multiple_choice",
    "prompt_template",
    "question_prompt",
    "sampling",
    "subject_choice",
    "tool_loop",
    "zh_multiple_choice",
]
