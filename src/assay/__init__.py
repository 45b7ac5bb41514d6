"""assay: how capable, how safe and how well served a language model is."""

from assay._api import EvalResult, compare, evaluate, evaluate_async, report
from assay._errors import (
    AssayError,
    DatasetError,
    ErrorClass,
    RateLimited,
    Refused,
    ScorerError,
    SpecError,
    StoreError,
    TargetError,
    TargetUnavailable,
    Timeout,
)
from assay._version import __version__
from assay.spec import RunSpec

__all__ = [
    "AssayError",
    "DatasetError",
    "ErrorClass",
    "EvalResult",
    "RateLimited",
    "Refused",
    "RunSpec",
    "ScorerError",
    "SpecError",
    "StoreError",
    "TargetError",
    "TargetUnavailable",
    "Timeout",
    "__version__",
    "compare",
    "evaluate",
    "evaluate_async",
    "report",
]
