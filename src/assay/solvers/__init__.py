"""Solvers: `async (state, generate) -> state` steps that build prompts and call the target."""

from assay.solvers._solvers import generate_step, multiple_choice, prompt_template

__all__ = ["generate_step", "multiple_choice", "prompt_template"]
