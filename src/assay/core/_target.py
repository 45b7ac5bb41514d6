"""Values that travel between the engine and a target, and the Target protocol.

Requests and responses are frozen records: the engine builds a request, a target turns it into
a response, the store keeps both. Times are seconds on the monotonic clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from assay._errors import ErrorClass

Role = Literal["system", "user", "assistant", "tool"]
Mode = Literal["chat", "completion"]
UsageSource = Literal["server", "client", "none"]


@dataclass(frozen=True)
class ToolDef:
    """A function the model may call: name, description and a JSON-schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The OpenAI `tools` entry (also the form kept in the cache key)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


@dataclass(frozen=True)
class ToolCall:
    """One call the model made; `arguments` is the JSON text exactly as the model wrote it."""

    id: str
    name: str
    arguments: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True)
class Message:
    role: Role
    content: str
    # An assistant turn that called tools; a `tool` turn names the call it answers.
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The OpenAI chat form; tool keys appear only when set, so plain turns hash as before."""
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [call.as_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            message["tool_call_id"] = self.tool_call_id
        return message


@dataclass(frozen=True)
class GenerateConfig:
    """Generation parameters; part of the cache key."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # Number of top alternatives per generated token to return (None: no logprobs).
    top_logprobs: int | None = None
    # Ask the server to ignore end-of-sequence and produce exactly max_tokens (perf workloads);
    # only sent when set, and recorded, never forced silently.
    ignore_eos: bool = False
    # Functions offered through the tools API. They sit with the generation parameters (the
    # OpenAI API sends them beside `temperature`) so solvers set them with `with_config`.
    tools: tuple[ToolDef, ...] = ()
    # Score this text as the continuation of the (completion-mode) prompt instead of generating:
    # the response's `logprobs` then hold one entry per continuation token (`Response.likelihood`).
    # A config field, not a request field, because solvers only reach the request through it.
    continuation: str | None = None
    # Penalise tokens already in the last 64 (llama.cpp's `repeat_penalty`). None: the target's
    # own default, which differs: 1.0 in-process, 1.1 on llama-cpp-python's server.
    repeat_penalty: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "stop": list(self.stop),
            "seed": self.seed,
            "top_logprobs": self.top_logprobs,
            **({"ignore_eos": True} if self.ignore_eos else {}),
            **({"tools": [tool.as_dict() for tool in self.tools]} if self.tools else {}),
            **({"continuation": self.continuation} if self.continuation is not None else {}),
            **({"repeat_penalty": self.repeat_penalty} if self.repeat_penalty is not None else {}),
        }


@dataclass(frozen=True)
class Request:
    """One call to a target: a raw prompt (completion) or a conversation (chat)."""

    mode: Mode
    config: GenerateConfig
    prompt: str = ""
    messages: tuple[Message, ...] = ()
    # Which sample asked; used by answer-file targets, not part of the payload.
    sample_id: str = ""
    sample_input: str = ""

    @property
    def tools(self) -> tuple[ToolDef, ...]:
        return self.config.tools

    def payload(self) -> dict[str, Any]:
        """The rendered request as it is cached and stored (no transport details)."""
        body: dict[str, Any] = {"mode": self.mode, **self.config.as_dict()}
        if self.mode == "chat":
            body["messages"] = [m.as_dict() for m in self.messages]
        else:
            body["prompt"] = self.prompt
        return body


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Timings:
    """Client-side timings of one request, relative to the moment it was sent.

    `token_times_s` holds the arrival time of every non-empty streamed delta of any kind
    (answer or reasoning; one per token on servers that stream token by token); `ttft_s` is
    the first of them and `ttfat_s` the first answer (non-reasoning) delta.
    """

    queue_s: float = 0.0
    ttft_s: float | None = None
    token_times_s: tuple[float, ...] = ()
    e2e_s: float = 0.0
    ttfat_s: float | None = None


@dataclass(frozen=True)
class Usage:
    """Token counts. `completion_tokens` is from `source`; `client_chunks` is always counted."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    source: UsageSource = "none"
    client_chunks: int | None = None


@dataclass(frozen=True)
class Response:
    text: str = ""
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    logprobs: tuple[TokenLogprob, ...] | None = None
    reasoning: str = ""
    error: ErrorClass | None = None
    error_detail: str | None = None
    http_status: int | None = None
    attempts: int = 1
    cached: bool = False
    # Calls made through the tools API, in the order the model made them.
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def likelihood(self) -> Likelihood | None:
        """Summed log-probability of the response's tokens (for a continuation request: of the
        continuation). Derived from `logprobs`, the one part the response cache keeps."""
        if not self.logprobs:
            return None
        return Likelihood(
            logprob=sum(item.logprob for item in self.logprobs),
            tokens=len(self.logprobs),
            # Greedy when no token was beaten by an alternative (ties count as greedy); unknown
            # when a target returned no alternatives.
            is_greedy=all(
                item.logprob >= max(v for _, v in item.top) - 1e-6 for item in self.logprobs
            )
            if all(item.top for item in self.logprobs)
            else None,
        )


@dataclass(frozen=True)
class Likelihood:
    """How likely a target finds a continuation: natural-log probability and token count."""

    logprob: float
    tokens: int
    is_greedy: bool | None


class Capabilities(BaseModel):
    """What a target can do, probed once and recorded in the run manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chat: bool = True
    completion: bool = True
    logprobs: bool = False
    streaming: bool = False
    # None: not probed (no planned task calls tools, so the run did not ask).
    tools: bool | None = False
    # Scores a given continuation (the log-probabilities of text it is handed, as
    # `/completions` with `echo` does). None: not probed, so a task tries and counts failures.
    continuation: bool | None = None


@runtime_checkable
class Target(Protocol):
    """Anything that answers requests. `send` raises `TargetError` on failure."""

    @property
    def spec(self) -> str:
        """The target string a user would write (never contains a secret)."""
        ...

    @property
    def model(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def max_concurrency(self) -> int:
        """Upper bound on requests in flight that the target itself tolerates."""
        ...

    async def start(self) -> None:
        """Connect, load weights, probe capabilities. Raises TargetUnavailable."""
        ...

    async def send(self, request: Request) -> Response: ...

    async def close(self) -> None: ...
