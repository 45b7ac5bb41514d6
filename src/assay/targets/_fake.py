"""A scriptable target for deterministic tests: answers from a list, a function or a constant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from itertools import cycle

from assay._errors import ErrorClass, TargetError
from assay.core import Capabilities, Request, Response, Timings, Usage

Script = Sequence[str] | Callable[[Request], str | Response]


class FakeTarget:
    """Replies with scripted outputs; counts the requests it received."""

    def __init__(
        self,
        script: Script = ("",),
        *,
        name: str = "fake",
        latency_s: float = 0.0,
        capabilities: Capabilities | None = None,
        max_concurrency: int = 64,
    ) -> None:
        self._script = script
        self._outputs = cycle(script) if not callable(script) else None
        self._name = name
        self._latency_s = latency_s
        self._capabilities = capabilities or Capabilities(streaming=True)
        self._max_concurrency = max_concurrency
        self.requests: list[Request] = []

    @property
    def spec(self) -> str:
        return self._name

    @property
    def model(self) -> str:
        return "fake"

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, request: Request) -> Response:
        started = time.perf_counter()
        self.requests.append(request)
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        if callable(self._script):
            produced = self._script(request)
        else:
            assert self._outputs is not None
            produced = next(self._outputs)
        if isinstance(produced, Response):
            return produced
        if request.config.continuation is not None:
            # Text is not a likelihood; scripts for likelihood tasks return Responses.
            raise TargetError(
                "fake target: the script answered a continuation request with text; "
                "return a Response whose logprobs score the continuation",
                error_class=ErrorClass.MALFORMED,
            )
        elapsed = time.perf_counter() - started
        tokens = len(produced.split())
        return Response(
            text=produced,
            finish_reason="stop",
            usage=Usage(completion_tokens=tokens, source="client"),
            timings=Timings(ttft_s=elapsed, token_times_s=(elapsed,), e2e_s=elapsed),
        )
