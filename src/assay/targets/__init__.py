"""Targets: what is tested. Any object with the `Target` protocol works."""

from assay.core import (
    Capabilities,
    GenerateConfig,
    Likelihood,
    Message,
    Request,
    Response,
    Target,
    Timings,
    TokenLogprob,
    ToolCall,
    ToolDef,
    Usage,
)
from assay.targets._fake import FakeTarget
from assay.targets._file import FileTarget
from assay.targets._registry import register_target, resolve_target

__all__ = [
    "Capabilities",
    "FakeTarget",
    "FileTarget",
    "GenerateConfig",
    "Likelihood",
    "Message",
    "Request",
    "Response",
    "Target",
    "Timings",
    "TokenLogprob",
    "ToolCall",
    "ToolDef",
    "Usage",
    "register_target",
    "resolve_target",
]
