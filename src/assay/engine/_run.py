"""Runs a spec: plans tasks, pushes every sample through solvers and scorer, stores everything.

Resume is the response cache: answers already in the store for this run id are reused, so a
re-run sends only what is missing and re-scoring sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

from assay._errors import ErrorClass, SpecError
from assay._redact import redact, redacted
from assay._version import __version__
from assay.core import (
    TARGET_ROLES,
    Ask,
    GenerateConfig,
    Message,
    Mode,
    Request,
    Response,
    Sample,
    Score,
    State,
    Target,
    TargetRole,
    Timings,
    TokenLogprob,
    ToolCall,
    Usage,
    build_info,
    content_id,
    scorer_metrics,
)
from assay.core._task import (
    JudgeCheck,
    Task,
    TaskContext,
    dataset_hash,
    get_task,
    send_order,
)
from assay.engine._cache import cache_key
from assay.engine._executor import Executor, RetryPolicy
from assay.engine._metrics import metric_rows, task_metrics
from assay.engine._progress import RunProgress
from assay.engine._rescore import stored_target
from assay.engine._writer import BatchWriter
from assay.safety._scorer import JudgeName as SafetyJudge
from assay.safety._scorer import safety_verdict
from assay.sandbox import namespaces_refused, weak_sandbox_refusal
from assay.spec import RunSpec
from assay.store._store import Store, utcnow
from assay.suites._suites import get_suite
from assay.targets._registry import plan_probes, resolve_target
from assay.tasks._perturb import perturbed_task


@dataclass(frozen=True)
class PlannedTask:
    task: Task
    samples: tuple[Sample, ...]
    weight: float
    # Set on a probe's variant task: the task it perturbs (kept out of the roll-ups).
    probe_of: str | None = None


@dataclass
class Counters:
    needed: int = 0
    cached: int = 0
    sent: int = 0
    errors: Counter[str] = field(default_factory=Counter)


@dataclass
class RoleTarget:
    """One of the run's targets in its role: its own executor (so its own concurrency limit and
    retries), cache namespace and counters; its requests are stored with the role."""

    role: TargetRole
    target: Target
    executor: Executor
    counters: Counters = field(default_factory=Counters)

    def cache_key(self, request: Request, epoch: int) -> str:
        return cache_key(self.target.spec, self.target.model, request, epoch, self.role)

    def summary(self) -> dict[str, Any]:
        """An invocation's figures for a role besides the target under test."""
        counters = self.counters
        return {
            "requests": counters.needed,
            "cached": counters.cached,
            "sent": counters.sent,
            "errors": dict(counters.errors),
        }


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    requests_total: int
    requests_cached: int
    requests_sent: int


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


SUITE_SEPARATOR = ","


def plan_tasks(spec: RunSpec) -> list[PlannedTask]:
    entries: list[tuple[str, float, int | None]] = []
    if spec.tasks:
        entries = [(name, 1.0, None) for name in spec.tasks]
    elif spec.suite:
        # Suites compose: "quick,safety-quick" runs both in one run (a task in two, once).
        seen: set[str] = set()
        for name in spec.suite.split(SUITE_SEPARATOR):
            for item in get_suite(name.strip()).tasks:
                if item.task not in seen:
                    seen.add(item.task)
                    entries.append((item.task, item.weight, item.limit))
    if not entries:
        raise SpecError("nothing to run: give --suite NAME or --task NAME")
    context = TaskContext(seed=spec.seed, data_dir=Path(spec.data_dir) if spec.data_dir else None)
    planned = []
    for name, weight, suite_limit in entries:
        task = with_safety_judge(get_task(name), spec.safety_judge)
        limit = spec.limit or suite_limit
        samples = _distinct(task.dataset(context))[: limit if limit else None]
        planned.append(PlannedTask(task, samples, weight))
    if "contamination" in spec.probes:
        planned += contamination_tasks(planned, spec.seed)
    return planned


def with_safety_judge(task: Task, judge: SafetyJudge) -> Task:
    """A safety task with its verdicts given by `judge` ("llm" asks the run's judge target)."""
    info = build_info(task.scorer)
    if info is None or info.name != "safety_verdict" or info.args.get("judge") == judge:
        return task
    return replace(task, scorer=safety_verdict(judge=judge), needs_judge=judge == "llm")


def _distinct(samples: Sequence[Sample]) -> tuple[Sample, ...]:
    """Each id once, at its first position: an item a dataset repeats (MMLU's test files
    repeat some questions) runs once, and `--limit N` takes the first N distinct items."""
    unique: dict[str, Sample] = {}
    for sample in samples:
        unique.setdefault(sample.id, sample)
    return tuple(unique.values())


def contamination_tasks(planned: Sequence[PlannedTask], seed: int) -> list[PlannedTask]:
    variants = []
    for item in planned:
        found = perturbed_task(item.task, item.samples, seed)
        if found is not None:
            variants.append(PlannedTask(found[0], found[1], item.weight, probe_of=item.task.name))
    return variants


def _needs(tasks: Sequence[str], role: TargetRole) -> str:
    """ "task X needs a judge" / "... an attacker judge": the start of a missing-role error."""
    described = role.replace("_", " ")
    article = "an" if described[0] in "aeiou" else "a"
    return f"task {tasks[0]} needs {article} {described}"


def _unredacted(target: str, option: str) -> str:
    """A target string to connect with; a resumed run's stored one lost its credentials."""
    if redacted(target):
        raise SpecError(
            f"{option} {target}: its credentials were redacted when the run was stored; "
            f"pass {option} again with them to resume the run"
        )
    return target


class Runner:
    """One invocation of one run against its targets: the one under test and the role targets
    (judge, attacker...) its tasks need."""

    def __init__(
        self,
        spec: RunSpec,
        store: Store,
        run_id: str,
        *,
        target: Target | None = None,
        progress: bool = True,
        retry: RetryPolicy | None = None,
        given: frozenset[str] | None = None,
        roles: Mapping[TargetRole, Target] | None = None,
        rescore: bool = False,
        live_roles: frozenset[TargetRole] = frozenset(),
    ) -> None:
        self.spec = spec
        self.store = store
        self.run_id = run_id
        # Target objects given in place of the spec's strings, by role.
        self._given_targets: dict[TargetRole, Target] = dict(roles or {})
        if target is not None:
            self._given_targets["target"] = target
        # Spec fields the user set; when resuming, the others come from the stored run.
        self._given = given
        self.show_progress = progress
        self.retry = retry
        # Score the stored run again from its stored answers (engine/_rescore), sending nothing.
        self.rescore = rescore
        # When rescoring, the roles asked afresh instead of answered from the store (the new
        # judge of `assay rejudge`).
        self.live_roles = live_roles
        # The roles this invocation uses, resolved in run(): "target" always, others as needed.
        self.roles: dict[TargetRole, RoleTarget] = {}
        self._cache: dict[str, dict[str, Any]] = {}
        # How generated code runs in this invocation (None: no task runs code).
        self._sandbox: dict[str, Any] | None = None

    @property
    def target(self) -> Target:
        return self.roles["target"].target

    @property
    def counters(self) -> Counters:
        return self.roles["target"].counters

    async def run(self) -> RunOutcome:
        existing = await asyncio.to_thread(self.store.get_run, self.run_id)
        if existing is None and self.rescore:
            raise SpecError(f"run {self.run_id!r} is not in the store: nothing to rescore")
        if existing is not None:
            if self._given is not None:
                stored = RunSpec.model_validate(existing["manifest"]["spec"])
                self.spec = stored.model_copy(
                    update={name: getattr(self.spec, name) for name in self._given}
                )
            self._check_resumable(existing)
        planned = plan_tasks(self.spec)
        self._resolve_roles(planned, existing)
        await self._check_sandbox(planned)
        for role in self.roles.values():
            is_target = role.role == "target"  # other roles generate text: no tools offered
            plan_probes(
                role.target,
                tools=is_target and any(item.task.needs_tools for item in planned),
                continuation=is_target and any(item.task.needs_continuation for item in planned),
            )
        async with contextlib.AsyncExitStack() as started:
            for role in self.roles.values():
                # Registered before starting: a target that fails to start still releases
                # what it opened, and every started one is closed.
                started.push_async_callback(role.target.close)
                await role.target.start()
            await asyncio.to_thread(self._record_plan, planned, existing)
            self._cache = await asyncio.to_thread(
                self.store.load_cache, self.run_id, failed=self.rescore
            )
            await self._execute(planned)
        counters = self.counters
        return RunOutcome(self.run_id, counters.needed, counters.cached, counters.sent)

    def _resolve_roles(
        self, planned: Sequence[PlannedTask], existing: dict[str, Any] | None
    ) -> None:
        """The target under test, and each role target a planned task needs; fails before
        anything starts when a task needs a role the run names no target for. A role no task
        needs is not resolved (it would only cost a start-up)."""
        for name in TARGET_ROLES:
            needing = [item.task.name for item in planned if name in item.task.roles]
            if name == "target" or needing:
                target = self._role_target(name, needing, existing)
                executor = Executor(target, self.spec.concurrency, self.retry)
                self.roles[name] = RoleTarget(name, target, executor)

    def _role_target(
        self, name: TargetRole, needing: Sequence[str], existing: dict[str, Any] | None
    ) -> Target:
        """A role's target: the stored run's when rescoring, else the object given, else the
        one the spec names (the target under test always has one)."""
        if self.rescore and name not in self.live_roles:
            assert existing is not None, "checked in run()"
            stored = stored_target(existing, name)
            if stored is None:
                raise SpecError(f"{_needs(needing, name)}; run {self.run_id} had none")
            return stored
        given = self._given_targets.get(name)
        if given is not None:
            return given
        option = "--target" if name == "target" else f"--{name.replace('_', '-')}-target"
        spec = self.spec.role_target(name)
        if spec is None:
            raise SpecError(f"{_needs(needing, name)}: pass {option} SPEC")
        return resolve_target(_unredacted(spec, option))

    async def _check_sandbox(self, planned: Sequence[PlannedTask]) -> None:
        """Before any request: a task that runs generated code needs the namespace sandbox,
        or the user's explicit consent to the weak one (`allow_weak_sandbox`)."""
        coded = [item.task.name for item in planned if item.task.needs_sandbox]
        if not coded:
            return
        refused = await asyncio.to_thread(namespaces_refused)
        allowed = self.spec.allow_weak_sandbox
        if refused is not None and not allowed:
            raise SpecError(f"task {coded[0]} runs generated code: {weak_sandbox_refusal(refused)}")
        self._sandbox = {
            "isolation": "netns" if refused is None else "python-guard",
            "weak_allowed": allowed,
            **({"namespaces_refused": refused} if refused else {}),
        }

    def _check_resumable(self, existing: dict[str, Any]) -> None:
        stored = RunSpec.model_validate(existing["manifest"]["spec"])
        if stored.identity() != self.spec.identity():
            differing = sorted(
                k for k, v in stored.identity().items() if self.spec.identity().get(k) != v
            )
            raise SpecError(
                f"run {self.run_id!r} exists with different {', '.join(differing)}; "
                "drop those options to resume it, or pick a new --run-id"
            )

    def _record_plan(self, planned: Sequence[PlannedTask], existing: dict[str, Any] | None) -> None:
        if existing is None:
            now = utcnow()
            self.store.create_run(
                {
                    "run_id": self.run_id,
                    "created": now,
                    "updated": now,
                    "status": "running",
                    "assay_version": __version__,
                    "target_spec": redact(self.target.spec),
                    "model": self.target.model,
                    "capabilities": self.target.capabilities.model_dump(),
                    "manifest": self._manifest(planned),
                    "invocations": [],
                }
            )
        else:
            self.store.update_run(self.run_id, status="running")
        for item in planned:
            task = item.task
            self.store.save_task(
                {
                    "run_id": self.run_id,
                    "task": task.name,
                    "dimension": task.dimension,
                    "metric": task.metric,
                    "dataset_hash": dataset_hash(item.samples),
                    "n_samples": len(item.samples),
                    "info": {
                        "weight": item.weight,
                        "description": task.description,
                        "config": task.config.as_dict(),
                        # How the task prompts and scores, as their factories were called, and
                        # the metrics its scores feed.
                        "solvers": [_built(solver) for solver in task.solvers],
                        "scorer": _built(task.scorer),
                        "metrics": list(scorer_metrics(task.scorer)),
                        **({"probe_of": item.probe_of} if item.probe_of else {}),
                    },
                },
                [
                    {
                        "run_id": self.run_id,
                        "task": task.name,
                        "sample_id": sample.id,
                        "position": position,
                        "input": sample.input,
                        "target": sample.target,
                        "choices": list(sample.choices),
                        "metadata": dict(sample.metadata),
                    }
                    for position, sample in enumerate(item.samples)
                ],
            )

    def _manifest(self, planned: Sequence[PlannedTask]) -> dict[str, Any]:
        from importlib.metadata import PackageNotFoundError, version

        backends = {}
        for package in ("llama-cpp-python", "aiohttp", "sqlalchemy"):
            try:
                backends[package] = version(package)
            except PackageNotFoundError:
                continue
        return {
            # Keys come from the environment; credentials in a target's URL are redacted.
            "spec": self.spec.without_secrets().model_dump(mode="json"),
            # The role targets besides the one under test (None: not used by this run).
            **{
                name: {
                    "spec": redact(role.target.spec),
                    "model": role.target.model,
                    "capabilities": role.target.capabilities.model_dump(),
                }
                if (role := self.roles.get(name)) is not None
                else None
                for name in TARGET_ROLES
                if name != "target"
            },
            "sandbox": self._sandbox,
            "seed": self.spec.seed,
            "assay_version": __version__,
            "backends": backends,
            # How a local model was loaded (the extra-buffer-types choice `auto` made, threads):
            # speed and, on some CPUs, whether it runs at all depend on it.
            "load": _load_settings(self.target),
            "tasks": {
                item.task.name: {
                    "dataset_hash": dataset_hash(item.samples),
                    "n": len(item.samples),
                    "config": item.task.config.as_dict(),
                }
                for item in planned
            },
        }

    # -- the pipeline ------------------------------------------------------------------------

    async def _execute(self, planned: Sequence[PlannedTask]) -> None:
        target = self.roles["target"]
        writer = BatchWriter(self.store)
        writer.start()
        work = [
            (item.task, sample, epoch)
            for item in planned
            for sample in send_order(item.task, item.samples)
            for epoch in range(self.spec.epochs)
        ]
        # Enough coroutines in flight to keep the target busy, not one per sample.
        slots = asyncio.Semaphore(max(1, target.executor.limit.maximum * 2))
        status = "interrupted"
        started = utcnow()
        try:
            with RunProgress(len(work), enabled=self.show_progress) as progress:

                async def one(task: Task, sample: Sample, epoch: int) -> None:
                    async with slots:
                        score = await self._sample(task, sample, epoch, writer)
                    progress.advance(error=score.outcome == "error")

                await asyncio.gather(*(one(*item) for item in work))
                await self._check_judge(planned, writer)
            status = "complete"
        finally:
            await writer.close()
            counters = target.counters
            invocation: dict[str, Any] = {
                "started": started.isoformat(),
                "finished": utcnow().isoformat(),
                "status": status,
                "requests": counters.needed,
                "cached": counters.cached,
                "sent": counters.sent,
                "attempts": target.executor.sent,
                "failed_attempts": dict(target.executor.failed_attempts),
                **({"rescore": True} if self.rescore else {}),
                **({"sandbox": self._sandbox} if self._sandbox else {}),
                # The other roles' figures apart, so the target's own stay its own.
                **{name: role.summary() for name, role in self.roles.items() if name != "target"},
            }
            existing = await asyncio.to_thread(self.store.get_run, self.run_id)
            history = list(existing["invocations"]) if existing else []
            await asyncio.to_thread(
                self.store.update_run,
                self.run_id,
                status=status,
                invocations=[*history, invocation],
            )
            await asyncio.to_thread(self._save_metrics)

    def _save_metrics(self) -> None:
        """Computed once here, from what the store holds; the report only reads them."""
        results = task_metrics(self.store.read_run(self.run_id, scores_only=True))
        self.store.save_metrics(metric_rows(self.run_id, results))

    async def _sample(self, task: Task, sample: Sample, epoch: int, writer: BatchWriter) -> Score:
        capabilities = self.target.capabilities
        mode = task.mode
        if mode == "auto":
            mode = "completion" if capabilities.completion else "chat"
        state = State(
            sample=sample,
            epoch=epoch,
            mode=mode,
            capabilities=capabilities,
            config=replace(task.config, seed=task.config.seed or self.spec.seed),
            ask={role: self._ask(role, task.name, sample.id, epoch, writer) for role in task.roles},
            allow_weak_sandbox=task.needs_sandbox and self.spec.allow_weak_sandbox,
        )

        async def generate(current: State) -> State:
            request = Request(
                mode=current.mode,
                config=current.config,
                prompt=current.prompt,
                messages=current.messages,
                sample_id=sample.id,
                sample_input=sample.input,
            )
            response = await self._respond("target", request, task.name, sample.id, epoch, writer)
            return current.with_output(response)

        for solver in task.solvers:
            state = await solver(state, generate)
        score = await task.scorer(state)
        writer.add_score(
            score_row(self.run_id, task.name, sample.id, epoch, score, state.output, "target")
        )
        return score

    async def _check_judge(self, planned: Sequence[PlannedTask], writer: BatchWriter) -> None:
        """The judge grades each judged task's human-labelled answers with the task's own
        scorer; its agreement with the human score is stored as the judge's scores of the task
        (role "judge"), and reported beside the task (requests cached like any other)."""
        if "judge" not in self.roles:
            return

        async def one(task: Task, check: JudgeCheck) -> None:
            check_id = content_id(check.sample.id, check.answer)
            answered = Response(text=check.answer)
            state = State(
                sample=check.sample,
                ask={"judge": self._ask("judge", task.name, check_id, 0, writer)},
            ).with_output(answered)
            score = await task.scorer(state)
            agreed = score.value == check.human_score if score.outcome == "scored" else None
            graded = replace(
                score,
                value=None if agreed is None else float(agreed),
                explanation=f"human score {check.human_score}; {score.explanation}",
            )
            writer.add_score(
                score_row(self.run_id, task.name, check_id, 0, graded, answered, "judge")
            )

        checks = [
            (item.task, check)
            for item in planned
            if item.task.judge_checks is not None and item.probe_of is None
            for check in item.task.judge_checks()
        ]
        await asyncio.gather(*(one(task, check) for task, check in checks))

    def _ask(
        self, role: TargetRole, task: str, sample_id: str, epoch: int, writer: BatchWriter
    ) -> Ask:
        """One prompt to a role target, as chat when it offers chat; stored under the task with
        the role and cached in the role's namespace, so a resumed run re-uses the answers."""
        target = self.roles[role].target

        async def ask(prompt: str, config: GenerateConfig) -> Response:
            mode: Mode = "chat" if target.capabilities.chat else "completion"
            messages = (Message("user", prompt),) if mode == "chat" else ()
            request = Request(mode=mode, config=config, prompt=prompt, messages=messages)
            return await self._respond(role, request, task, sample_id, epoch, writer)

        return ask

    async def _respond(
        self,
        role: TargetRole,
        request: Request,
        task: str,
        sample_id: str,
        epoch: int,
        writer: BatchWriter,
    ) -> Response:
        asked = self.roles[role]
        key = asked.cache_key(request, epoch)
        counters = asked.counters
        counters.needed += 1
        hit = self._cache.get(key)
        if hit is not None:
            counters.cached += 1
            return response_from_row(hit)
        response, attempt_errors = await asked.executor.submit(request)
        counters.sent += 1  # counted once answered, so an interrupt does not overcount
        if response.error is not None:
            counters.errors[str(response.error)] += 1
        row = request_row(
            self.run_id, task, sample_id, epoch, key, request, response, dict(attempt_errors), role
        )
        writer.add_request(row)
        if response.error is None:
            self._cache[key] = row
        return response


def _row_key(
    run_id: str, task: str, sample_id: str, epoch: int, role: TargetRole
) -> dict[str, Any]:
    """What a request or score row is of: the run's task, sample and epoch, and whose it is."""
    return {"run_id": run_id, "task": task, "sample_id": sample_id, "epoch": epoch, "role": role}


def score_row(
    run_id: str,
    task: str,
    sample_id: str,
    epoch: int,
    score: Score,
    output: Response | None,
    role: TargetRole,
) -> dict[str, Any]:
    """The store's row for one score: whose it is (`role`), the verdict and the output scored."""
    return {
        **_row_key(run_id, task, sample_id, epoch, role),
        "value": score.value,
        "answer": score.answer,
        "outcome": score.outcome,
        "error_class": score.error_class,
        "explanation": score.explanation,
        "method": score.method,
        "output": output.text if output else "",
        "detail": dict(score.detail) or None,
    }


def request_row(
    run_id: str,
    task: str,
    sample_id: str,
    epoch: int,
    key: str,
    request: Request,
    response: Response,
    attempt_errors: dict[str, int],
    role: TargetRole,
) -> dict[str, Any]:
    timings = response.timings
    return {
        **_row_key(run_id, task, sample_id, epoch, role),
        "cache_key": key,
        "payload": request.payload(),
        "text": response.text,
        "finish_reason": response.finish_reason,
        "logprobs": [[lp.token, lp.logprob, [list(t) for t in lp.top]] for lp in response.logprobs]
        if response.logprobs is not None
        else None,
        "tool_calls": [
            {"id": call.id, "name": call.name, "arguments": call.arguments}
            for call in response.tool_calls
        ]
        or None,
        "error_class": str(response.error) if response.error else None,
        "error_detail": response.error_detail,
        "http_status": response.http_status,
        "attempts": response.attempts,
        "attempt_errors": attempt_errors,
        "queue_s": timings.queue_s,
        "ttft_s": timings.ttft_s,
        "e2e_s": timings.e2e_s,
        "token_times_s": list(timings.token_times_s),
        "prompt_tokens": response.usage.prompt_tokens,
        "completion_tokens": response.usage.completion_tokens,
        "usage_source": response.usage.source,
        "created": utcnow(),
    }


def response_from_row(row: dict[str, Any]) -> Response:
    logprobs = row.get("logprobs")
    return Response(
        text=row["text"],
        finish_reason=row["finish_reason"],
        usage=Usage(row["prompt_tokens"], row["completion_tokens"], row["usage_source"]),
        timings=Timings(row["queue_s"], row["ttft_s"], tuple(row["token_times_s"]), row["e2e_s"]),
        logprobs=tuple(
            TokenLogprob(token, value, tuple((t, v) for t, v in top))
            for token, value, top in logprobs
        )
        if logprobs is not None
        else None,
        tool_calls=tuple(
            ToolCall(call["id"], call["name"], call["arguments"])
            for call in row.get("tool_calls") or ()
        ),
        http_status=row["http_status"],
        attempts=row["attempts"],
        cached=True,
        # A failed response is replayed only by `assay rescore` (the cache skips them).
        error=_error_class(row["error_class"]),
        error_detail=row["error_detail"],
    )


def _error_class(stored: str | None) -> ErrorClass | None:
    if stored is None:
        return None
    try:
        return ErrorClass(stored)
    except ValueError:  # a class a later assay wrote
        return ErrorClass.MALFORMED


def _built(part: object) -> dict[str, Any] | None:
    info = build_info(part)
    return info.as_dict() if info is not None else None


def _load_settings(target: Target) -> dict[str, Any] | None:
    """A local model's load settings as loaded (LlamaCppTarget.load_settings); None otherwise."""
    settings = getattr(target, "load_settings", None)
    return asdict(settings) if is_dataclass(settings) and not isinstance(settings, type) else None
