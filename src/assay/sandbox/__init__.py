"""Sandboxed execution of generated code."""

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
    "run_python",
    "weak_sandbox_refusal",
]
