"""Solvers: `async (state, generate) -> state` steps that build prompts and call the target."""

from assay.solvers._solvers import generate_step, multiple_choice, prompt_template
from assay.solvers._tools import Tool, tool_loop

__all__ = ["Tool", "generate_step", "multiple_choice", "prompt_template", "tool_loop"]
