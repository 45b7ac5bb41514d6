"""Sandboxed execution of generated code, and pass@k for scoring it."""

from assay.sandbox._passk import pass_at_k
from assay.sandbox._sandbox import (
    NetworkIsolation,
    SandboxError,
    SandboxLimits,
    SandboxResult,
    WeakSandboxWarning,
    namespaces_refused,
    run_python,
    weak_sandbox_refusal,
)

__all__ = [
    "NetworkIsolation",
    "SandboxError",
    "SandboxLimits",
    "SandboxResult",
    "WeakSandboxWarning",
    "namespaces_refused",
    "pass_at_k",
    "run_python",
    "weak_sandbox_refusal",
]
