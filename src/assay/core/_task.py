"""Task = dataset + solvers + scorer, and the registry that finds tasks by name.

The catalogue of built-in tasks is the package `assay.tasks`, above this core: the registry
finds its modules (and third-party packages' `assay.tasks` entry points) by discovery at first
use, importing them by name as it imports plugins, never by a static import upward."""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import pkgutil
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assay._errors import SpecError
from assay.core._pipeline import Sample, Scorer, Solver, TargetRole
from assay.core._registry import build_info, did_you_mean
from assay.core._target import GenerateConfig

Dimension = Literal[
    "knowledge",
    "reasoning_math",
    "code",
    "instruction_following",
    "truthfulness",
    "multilingual",
    "tool_use",
    "long_context",
    # Safety tasks: their verdicts feed the safety table (R and D per risk and attack level),
    # not the capability indicators or the overall number.
    "safety",
]
SAFETY_DIMENSION: Dimension = "safety"


@dataclass(frozen=True)
class TaskContext:
    seed: int = 0
    data_dir: Path | None = None


@dataclass(frozen=True)
class JudgeCheck:
    sample: Sample
    answer: str
    human_score: float


@dataclass(frozen=True)
class Task:
    name: str
    dimension: Dimension
    dataset: Callable[[TaskContext], Sequence[Sample]]
    solvers: tuple[Solver, ...]
    scorer: Scorer
    metric: str = "accuracy"
    description: str = ""
    config: GenerateConfig = field(default_factory=GenerateConfig)
    # "auto": raw completion when the target offers it (base models), else chat.
    mode: Literal["auto", "chat", "completion"] = "auto"
    # The scorer asks an LLM judge: the run must name a judge target (checked before starting).
    needs_judge: bool = False
    # The model is offered functions (`GenerateConfig.tools`): a target probes tool calling
    # only for runs that plan such a task.
    needs_tools: bool = False
    # The solver scores given continuations (answer likelihoods): a target probes that it
    # can (`Capabilities.continuation`) only for runs that plan such a task.
    needs_continuation: bool = False
    # The scorer runs generated code: the run checks up front that the namespace sandbox works
    # here (or that the user allowed the weak one). Set from a scorer registered with
    # `@scorer(runs_code=True)`; by hand only for an unregistered scorer that runs code.
    needs_sandbox: bool = False
    # Human-labelled answers the judge is checked on in every judged run: (sample, answer
    # text, the score a careful human gives); the judge's agreement is reported beside its
    # numbers.
    judge_checks: Callable[[], Sequence[JudgeCheck]] | None = None
    # Generated tasks: the same item from its template with other numbers and the answer
    # recomputed (None when it cannot be); used by the contamination probe.
    perturb: Callable[[Sample, random.Random], Sample | None] | None = None
    # Samples with the same key share a long prompt prefix (MMLU's 5-shot exemplars per
    # subject): the engine sends them one after another, so the prefix cache of llama.cpp or
    # a server keeps it instead of prefilling it again. Results keep the dataset order.
    prefix_group: Callable[[Sample], str] | None = None
    # The run's role targets besides the one under test that this task's solvers and scorer
    # ask through `state.ask` ("judge" is added by needs_judge; "attacker"...): the run must
    # name each (checked before starting).
    roles: tuple[TargetRole, ...] = ()

    def __post_init__(self) -> None:
        if self.needs_judge and "judge" not in self.roles:
            object.__setattr__(self, "roles", (*self.roles, "judge"))
        info = build_info(self.scorer)
        if info is not None and info.runs_code:
            object.__setattr__(self, "needs_sandbox", True)


def send_order(task: Task, samples: Sequence[Sample]) -> list[Sample]:
    """The order a task's samples are sent in: the dataset's, with each prefix group together
    (groups in order of first appearance, samples in dataset order within a group)."""
    group = task.prefix_group
    if group is None:
        return list(samples)
    first_seen: dict[str, int] = {}
    ranks = [first_seen.setdefault(group(sample), len(first_seen)) for sample in samples]
    return [sample for _, sample in sorted(zip(ranks, samples, strict=True), key=lambda p: p[0])]


def dataset_hash(samples: Sequence[Sample]) -> str:
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(sample.id.encode())
    return digest.hexdigest()[:16]


TaskFactory = Callable[[], Task]
_TASKS: dict[str, TaskFactory] = {}


def register_task(name: str) -> Callable[[TaskFactory], TaskFactory]:
    def decorate(factory: TaskFactory) -> TaskFactory:
        _TASKS[name] = factory
        return factory

    return decorate


TASK_ENTRY_POINTS = "assay.tasks"
CATALOGUE = "assay.tasks"


@functools.cache
def _load_builtin_tasks() -> None:
    """Import every module of the catalogue `assay.tasks` and of each installed package that
    declares an `assay.tasks` entry point, so their `@register_task` factories register: a new
    task module needs no list to be added to. On first use, not at import time of assay."""
    package = importlib.import_module(CATALOGUE)

    for module in pkgutil.iter_modules(package.__path__, prefix=f"{package.__name__}."):
        importlib.import_module(module.name)
    for entry_point in importlib.metadata.entry_points(group=TASK_ENTRY_POINTS):
        entry_point.load()


def task_names() -> list[str]:
    _load_builtin_tasks()
    return sorted(_TASKS)


def get_task(name: str) -> Task:
    _load_builtin_tasks()
    factory = _TASKS.get(name)
    if factory is None:
        raise SpecError(did_you_mean("task", name, sorted(_TASKS), "assay list tasks"))
    return factory()
