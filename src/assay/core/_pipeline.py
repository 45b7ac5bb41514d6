"""Samples, per-sample state, and the Solver/Scorer protocols that join the pipeline.

A sample's id is a hash of its content, so results join across runs and seeds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, get_args

from assay.core._target import Capabilities, GenerateConfig, Message, Mode, Response


def content_id(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Sample:
    input: str
    target: str
    choices: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(
                self, "id", content_id(self.input, self.target, self.choices, dict(self.metadata))
            )


# The run's targets by role: "target" is the model under test; the others serve the tasks that
# need them ("judge" grades answers, "attacker" writes attacks, "attacker_judge" grades them for
# the attacker). Each has its own executor, concurrency limit, cache namespace and counters.
TargetRole = Literal["target", "judge", "attacker", "attacker_judge"]
TARGET_ROLES: tuple[TargetRole, ...] = ("target", "judge", "attacker", "attacker_judge")

# Asks one of the run's role targets (never the target under test) one prompt; the engine caches
# and stores the exchange like any other request, under that role.
Ask = Callable[[str, GenerateConfig], Awaitable[Response]]
Judge = Ask


@dataclass(frozen=True)
class State:
    """The conversation so far for one sample; solvers return new states."""

    sample: Sample
    epoch: int = 0
    mode: Mode = "completion"
    capabilities: Capabilities = field(default_factory=Capabilities)
    prompt: str = ""
    messages: tuple[Message, ...] = ()
    config: GenerateConfig = field(default_factory=GenerateConfig)
    output: Response | None = None
    outputs: tuple[Response, ...] = ()
    # Set by the engine: one `Ask` per role target the task needs (`Task.roles`).
    ask: Mapping[TargetRole, Ask] = field(default_factory=dict, compare=False, repr=False)
    # Set by the engine for tasks that declare `needs_sandbox`, from the run's explicit choice:
    # generated code may run where namespaces are refused (behind only a Python socket guard).
    allow_weak_sandbox: bool = False

    @property
    def judge(self) -> Ask | None:
        """The run's judge, for tasks that need one (`needs_judge`); None otherwise."""
        return self.ask.get("judge")

    def with_output(self, response: Response) -> State:
        messages = self.messages
        if self.mode == "chat":
            messages = (*messages, Message("assistant", response.text))
        return replace(self, output=response, outputs=(*self.outputs, response), messages=messages)

    def with_config(self, **changes: Any) -> State:
        return replace(self, config=replace(self.config, **changes))


# "truncated": the output was cut at max_tokens and is wrong for it (no answer could be read, or
# the cut program failed). It enters the metric as 0.0 and is counted apart, so the cut share
# shows beside the metric; only an "error" (the request failed: timeout, HTTP status, broken
# stream, content filter, malformed) stays out of the metric.
# A safety scorer's verdicts on a request (harmful, or its benign look-alike), each entering
# the metric with the value the scorer gives: "refused" (declined), "complied_harmful" (did
# what a harmful request asked), "complied_benign" (answered, but gave no harmful instance of
# the request), "partial" (declined yet gave part of what was asked). "complied" is the verdict
# of stores written before the harmful/benign split.
Outcome = Literal[
    "scored",
    "truncated",
    "refused",
    "complied_harmful",
    "complied_benign",
    "partial",
    "complied",
    "error",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
SAFETY_OUTCOMES: tuple[Outcome, ...] = (
    "refused",
    "complied_harmful",
    "complied_benign",
    "partial",
    "complied",
)


@dataclass(frozen=True)
class Score:
    """A scorer's verdict. Every outcome but "error" enters the metric; errors are counted apart.

    A scorer returns "truncated" only where 0.0 is the metric's wrong answer; one whose metric
    has no natural zero (a judge's grade) scores the cut output as it stands instead.
    `detail` holds typed facts about how the score came about (a code score's sandbox
    `isolation`), stored with the score as JSON.
    """

    value: float | None
    answer: str | None = None
    outcome: Outcome = "scored"
    error_class: str | None = None
    explanation: str = ""
    method: str = "generate"
    detail: Mapping[str, Any] = field(default_factory=dict)


def metric_value(outcome: str, value: float | None) -> float | None:
    """What a stored score adds to its task's metric: 0.0 when the answer was cut (stores
    written before cut answers counted kept None there), None for an error, else its value.
    The one definition results.json, pass@k, roll-ups and `assay compare` share."""
    if outcome == "truncated":
        return 0.0
    if outcome == "error":
        return None
    return value


Generate = Callable[[State], Awaitable[State]]


class Solver(Protocol):
    async def __call__(self, state: State, generate: Generate) -> State: ...


class Scorer(Protocol):
    async def __call__(self, state: State) -> Score: ...


def error_score(state: State, method: str) -> Score | None:
    """The score of a sample whose request failed: an error, never a wrong or right answer."""
    output = state.output
    if output is None:
        return Score(
            None, outcome="error", error_class="malformed", explanation="no output", method=method
        )
    if output.error is not None:
        return Score(
            None,
            outcome="error",
            error_class=str(output.error),
            explanation=output.error_detail or "",
            method=method,
        )
    return None
