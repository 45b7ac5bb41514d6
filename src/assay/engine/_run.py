"""Runs a spec: plans tasks, pushes every sample through solvers and scorer, stores everything.

Resume is the response cache: answers already in the store for this run id are reused, so a
re-run sends only what is missing and re-scoring sends nothing.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any

from assay._errors import SpecError
from assay._redact import redact, redacted
from assay._version import __version__
from assay.core import (
    GenerateConfig,
    Judge,
    Message,
    Mode,
    Request,
    Response,
    Sample,
    Score,
    State,
    Target,
    Timings,
    TokenLogprob,
    ToolCall,
    Usage,
    content_id,
)
from assay.engine._cache import cache_key
from assay.engine._executor import Executor, RetryPolicy
from assay.engine._metrics import JUDGE_CHECK_SUFFIX, JUDGE_SUFFIX, metric_rows, task_metrics
from assay.engine._progress import RunProgress
from assay.engine._writer import BatchWriter
from assay.sandbox import namespaces_refused, weak_sandbox_refusal
from assay.spec import RunSpec
from assay.store._store import Store, utcnow
from assay.suites._suites import get_suite
from assay.targets._registry import plan_probes, resolve_target
from assay.tasks._perturb import perturbed_task
from assay.tasks._task import (
    JudgeCheck,
    Task,
    TaskContext,
    dataset_hash,
    get_task,
    send_order,
)


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


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    requests_total: int
    requests_cached: int
    requests_sent: int


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def plan_tasks(spec: RunSpec) -> list[PlannedTask]:
    entries: list[tuple[str, float, int | None]] = []
    if spec.tasks:
        entries = [(name, 1.0, None) for name in spec.tasks]
    elif spec.suite:
        suite = get_suite(spec.suite)
        entries = [(item.task, item.weight, item.limit) for item in suite.tasks]
    if not entries:
        raise SpecError("nothing to run: give --suite NAME or --task NAME")
    context = TaskContext(seed=spec.seed, data_dir=Path(spec.data_dir) if spec.data_dir else None)
    planned = []
    for name, weight, suite_limit in entries:
        task = get_task(name)
        limit = spec.limit or suite_limit
        samples = _distinct(task.dataset(context))[: limit if limit else None]
        planned.append(PlannedTask(task, samples, weight))
    if "contamination" in spec.probes:
        planned += contamination_tasks(planned, spec.seed)
    return planned


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


def _unredacted(target: str, option: str) -> str:
    """A target string to connect with; a resumed run's stored one lost its credentials."""
    if redacted(target):
        raise SpecError(
            f"{option} {target}: its credentials were redacted when the run was stored; "
            f"pass {option} again with them to resume the run"
        )
    return target


class Runner:
    """One invocation of one run against one target."""

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
        judge: Target | None = None,
    ) -> None:
        self.spec = spec
        self.store = store
        self.run_id = run_id
        self._target = target
        # Grades answers for tasks with needs_judge; never the target under test's object.
        self._judge = judge
        self._judge_executor: Executor | None = None
        # Spec fields the user set; when resuming, the others come from the stored run.
        self._given = given
        self.show_progress = progress
        self.retry = retry
        self.counters = Counters()
        # Requests to the judge, counted apart so the target's own figures stay its own.
        self.judge_counters = Counters()
        self._cache: dict[str, dict[str, Any]] = {}
        # How generated code runs in this invocation (None: no task runs code).
        self._sandbox: dict[str, Any] | None = None

    @property
    def target(self) -> Target:
        assert self._target is not None, "resolved at the start of run()"
        return self._target

    async def run(self) -> RunOutcome:
        existing = await asyncio.to_thread(self.store.get_run, self.run_id)
        if existing is not None:
            if self._given is not None:
                stored = RunSpec.model_validate(existing["manifest"]["spec"])
                self.spec = stored.model_copy(
                    update={name: getattr(self.spec, name) for name in self._given}
                )
            self._check_resumable(existing)
        if self._target is None:
            self._target = resolve_target(_unredacted(self.spec.target, "--target"))
        planned = plan_tasks(self.spec)
        self._resolve_judge(planned)
        await self._check_sandbox(planned)
        plan_probes(
            self.target,
            tools=any(item.task.needs_tools for item in planned),
            continuation=any(item.task.needs_continuation for item in planned),
        )
        if self._judge is not None:  # a judge generates verdicts: it is offered no tools
            plan_probes(self._judge, tools=False, continuation=False)
        try:
            # Inside the try: a target that fails to start still releases what it opened.
            await self.target.start()
            if self._judge is not None:
                await self._judge.start()
            await asyncio.to_thread(self._record_plan, planned, existing)
            self._cache = await asyncio.to_thread(self.store.load_cache, self.run_id)
            await self._execute(planned)
        finally:
            try:
                await self.target.close()
            finally:
                if self._judge is not None:
                    await self._judge.close()
        return RunOutcome(
            self.run_id, self.counters.needed, self.counters.cached, self.counters.sent
        )

    def _resolve_judge(self, planned: Sequence[PlannedTask]) -> None:
        """Fails before anything starts when a task needs a judge and the run names none."""
        judged = [item.task.name for item in planned if item.task.needs_judge]
        if not judged:
            self._judge = None  # a judge no task asks would only cost a start-up
            return
        if self._judge is None:
            if self.spec.judge_target is None:
                raise SpecError(f"task {judged[0]} needs a judge: pass --judge-target SPEC")
            self._judge = resolve_target(_unredacted(self.spec.judge_target, "--judge-target"))
        self._judge_executor = Executor(self._judge, self.spec.concurrency, self.retry)

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
            "judge": {"spec": redact(self._judge.spec), "model": self._judge.model}
            if self._judge is not None
            else None,
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
        executor = Executor(self.target, self.spec.concurrency, self.retry)
        writer = BatchWriter(self.store)
        writer.start()
        work = [
            (item.task, sample, epoch)
            for item in planned
            for sample in send_order(item.task, item.samples)
            for epoch in range(self.spec.epochs)
        ]
        # Enough coroutines in flight to keep the target busy, not one per sample.
        slots = asyncio.Semaphore(max(1, executor.limit.maximum * 2))
        status = "interrupted"
        started = utcnow()
        try:
            with RunProgress(len(work), enabled=self.show_progress) as progress:

                async def one(task: Task, sample: Sample, epoch: int) -> None:
                    async with slots:
                        score = await self._sample(task, sample, epoch, executor, writer)
                    progress.advance(error=score.outcome == "error")

                await asyncio.gather(*(one(*item) for item in work))
                await self._check_judge(planned, writer)
            status = "complete"
        finally:
            await writer.close()
            counters = self.counters
            invocation = {
                "started": started.isoformat(),
                "finished": utcnow().isoformat(),
                "status": status,
                "requests": counters.needed,
                "cached": counters.cached,
                "sent": counters.sent,
                "attempts": executor.sent,
                "failed_attempts": dict(executor.failed_attempts),
                **({"sandbox": self._sandbox} if self._sandbox else {}),
            }
            if self._judge_executor is not None:
                judged = self.judge_counters
                invocation["judge"] = {
                    "requests": judged.needed,
                    "cached": judged.cached,
                    "sent": judged.sent,
                    "errors": dict(judged.errors),
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

    async def _sample(
        self, task: Task, sample: Sample, epoch: int, executor: Executor, writer: BatchWriter
    ) -> Score:
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
            judge=self._judge_for(task, sample.id, epoch, writer) if task.needs_judge else None,
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
            response = await self._respond(request, task.name, sample.id, epoch, executor, writer)
            return current.with_output(response)

        for solver in task.solvers:
            state = await solver(state, generate)
        score = await task.scorer(state)
        writer.add_score(
            {
                "run_id": self.run_id,
                "task": task.name,
                "sample_id": sample.id,
                "epoch": epoch,
                "value": score.value,
                "answer": score.answer,
                "outcome": score.outcome,
                "error_class": score.error_class,
                "explanation": score.explanation,
                "method": score.method,
                "output": state.output.text if state.output else "",
            }
        )
        return score

    async def _check_judge(self, planned: Sequence[PlannedTask], writer: BatchWriter) -> None:
        """The judge grades each judged task's human-labelled answers with the task's own
        scorer; agreement with the human score is stored like scores, under
        `<task>:judge-check`, and reported beside the task (requests cached like any other)."""
        if self._judge is None:
            return

        async def one(task: Task, check: JudgeCheck) -> None:
            check_id = content_id(check.sample.id, check.answer)
            state = State(
                sample=check.sample, judge=self._judge_for(task, check_id, 0, writer)
            ).with_output(Response(text=check.answer))
            score = await task.scorer(state)
            agreed = score.value == check.human_score if score.outcome == "scored" else None
            writer.add_score(
                {
                    "run_id": self.run_id,
                    "task": task.name + JUDGE_CHECK_SUFFIX,
                    "sample_id": check_id,
                    "epoch": 0,
                    "value": None if agreed is None else float(agreed),
                    "answer": score.answer,
                    "outcome": score.outcome,
                    "error_class": score.error_class,
                    "explanation": f"human score {check.human_score}; {score.explanation}",
                    "method": score.method,
                    "output": check.answer,
                }
            )

        checks = [
            (item.task, check)
            for item in planned
            if item.task.judge_checks is not None and item.probe_of is None
            for check in item.task.judge_checks()
        ]
        await asyncio.gather(*(one(task, check) for task, check in checks))

    def _judge_for(self, task: Task, sample_id: str, epoch: int, writer: BatchWriter) -> Judge:
        judge, executor = self._judge, self._judge_executor
        assert judge is not None and executor is not None, "resolved in run()"

        async def ask(prompt: str, config: GenerateConfig) -> Response:
            mode: Mode = "chat" if judge.capabilities.chat else "completion"
            messages = (Message("user", prompt),) if mode == "chat" else ()
            request = Request(mode=mode, config=config, prompt=prompt, messages=messages)
            # Stored under "<task>:judge" and cached under the judge's identity, so a resumed
            # run re-uses verdicts instead of asking again.
            return await self._respond(
                request, task.name + JUDGE_SUFFIX, sample_id, epoch, executor, writer, judge=judge
            )

        return ask

    async def _respond(
        self,
        request: Request,
        task: str,
        sample_id: str,
        epoch: int,
        executor: Executor,
        writer: BatchWriter,
        *,
        judge: Target | None = None,
    ) -> Response:
        target = judge if judge is not None else self.target
        counters = self.counters if judge is None else self.judge_counters
        key = cache_key(target.spec, target.model, request, epoch)
        counters.needed += 1
        hit = self._cache.get(key)
        if hit is not None:
            counters.cached += 1
            return response_from_row(hit)
        response, attempt_errors = await executor.submit(request)
        counters.sent += 1  # counted once answered, so an interrupt does not overcount
        if response.error is not None:
            counters.errors[str(response.error)] += 1
        row = request_row(
            self.run_id, task, sample_id, epoch, key, request, response, dict(attempt_errors)
        )
        writer.add_request(row)
        if response.error is None:
            self._cache[key] = row
        return response


def request_row(
    run_id: str,
    task: str,
    sample_id: str,
    epoch: int,
    key: str,
    request: Request,
    response: Response,
    attempt_errors: dict[str, int],
) -> dict[str, Any]:
    timings = response.timings
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": epoch,
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
    )


def _load_settings(target: Target) -> dict[str, Any] | None:
    """A local model's load settings as loaded (LlamaCppTarget.load_settings); None otherwise."""
    settings = getattr(target, "load_settings", None)
    return asdict(settings) if is_dataclass(settings) and not isinstance(settings, type) else None
