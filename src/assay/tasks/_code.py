"""Code tasks: HumanEval and generated function-writing problems, graded in the sandbox."""

from __future__ import annotations
