"""Sandboxed execution of generated code, and pass@k for scoring it."""

from assay.sandbox._passk import pass_at_k
from assay.sandbox._sandbox import (
    NetworkIsolation,
    SandboxError,
    SandboxLimits,
    SandboxResult,
    run_python,
)

__all__ = [
    "NetworkIsolation",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "pass_at_k",
    "run_python",
]
