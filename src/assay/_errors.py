"""The exception family of assay.

Everything a user can cause derives from `AssayError`; the CLI prints such errors as one line
naming the file/line/field or URL and what to do, and exits 2. Catch by family.
"""

from __future__ import annotations

from enum import StrEnum


class AssayError(Exception):
    """Base of every error a user can cause or fix."""


class SpecError(AssayError):
    """A run spec, option or name is wrong (unknown task, bad target string, bad field)."""


class DatasetError(AssayError):
    """A dataset or answers file cannot be read (names the file and line)."""


class ScorerError(AssayError):
    """A scorer was misconfigured."""


class StoreError(AssayError):
    """The results store cannot be opened or written."""


class ErrorClass(StrEnum):
    """How a request failed. Counted per class; never scored as an answer."""

    TIMEOUT = "timeout"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    RATE_LIMITED = "rate_limited"
    CONNECTION = "connection"
    STREAM_BROKEN = "stream_broken"
    CONTENT_FILTER = "content_filter"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    # `assay rescore`: the store holds no answer for the request (the run stopped before it).
    NOT_STORED = "not_stored"

    @property
    def retryable(self) -> bool:
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        ErrorClass.TIMEOUT,
        ErrorClass.HTTP_5XX,
        ErrorClass.RATE_LIMITED,
        ErrorClass.CONNECTION,
        ErrorClass.STREAM_BROKEN,
    }
)


class TargetError(AssayError):
    """A request to a target failed; `error_class` says how."""

    error_class: ErrorClass = ErrorClass.MALFORMED

    def __init__(
        self,
        message: str,
        *,
        error_class: ErrorClass | None = None,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class
        self.status = status
        self.retry_after_s = retry_after_s


class TargetUnavailable(TargetError):
    """The target cannot be reached or set up at all (bad URL, wrong key, missing model)."""

    error_class = ErrorClass.CONNECTION


class RateLimited(TargetError):
    error_class = ErrorClass.RATE_LIMITED


class Timeout(TargetError):
    error_class = ErrorClass.TIMEOUT


class Refused(TargetError):
    """The provider refused by content filter (distinct from a model's own refusal)."""

    error_class = ErrorClass.CONTENT_FILTER
