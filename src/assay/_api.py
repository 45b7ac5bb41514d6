"""The public entry points: evaluate a spec into a store, and re-render a run's report."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay._errors import SpecError
from assay._redact import redact
from assay.core import Target, TargetRole, did_you_mean
from assay.engine._executor import RetryPolicy
from assay.engine._run import Runner, RunOutcome, new_run_id
from assay.perf._perf import PerfOptions
from assay.report._write import write_report
from assay.safety._items import LabelledItem
from assay.safety._judge_eval import NO_VERDICT
from assay.safety._scorer import JudgeName as SafetyJudge
from assay.spec import RunSpec
from assay.store._store import Store, default_store_url, utcnow


@dataclass(frozen=True)
class EvalResult:
    outcome: RunOutcome
    results_path: Path
    report_path: Path


async def evaluate_async(
    spec: RunSpec,
    *,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    run_id: str | None = None,
    target: Target | None = None,
    progress: bool = False,
    retry: RetryPolicy | None = None,
    given: frozenset[str] | None = None,
    judge: Target | None = None,
    rescore: bool = False,
    live_roles: frozenset[TargetRole] = frozenset(),
) -> EvalResult:
    """Run `spec` into the store and write the reports.

    `given` names the spec fields the user set explicitly: when `run_id` already exists, the
    other fields are taken from the stored run, so `--run-id X` alone resumes X as it was.
    `judge` grades tasks scored by an LLM judge, in place of `spec.judge_target`.
    `rescore`: score the stored run `run_id` again from its stored answers (see `rescore`).
    """
    store = Store(store_url or default_store_url(out_dir))
    try:
        runner = Runner(
            spec,
            store,
            run_id or new_run_id(),
            target=target,
            progress=progress,
            retry=retry,
            given=given,
            roles={"judge": judge} if judge is not None else None,
            rescore=rescore,
            live_roles=live_roles,
        )
        outcome = await runner.run()
        results_path, report_path = await asyncio.to_thread(
            write_report, store, outcome.run_id, out_dir
        )
        return EvalResult(outcome, results_path, report_path)
    finally:
        store.close()


def evaluate(
    spec: RunSpec,
    *,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    run_id: str | None = None,
    target: Target | None = None,
    progress: bool = False,
    retry: RetryPolicy | None = None,
    judge: Target | None = None,
) -> EvalResult:
    """Synchronous wrapper of `evaluate_async`."""
    return asyncio.run(
        evaluate_async(
            spec,
            out_dir=out_dir,
            store_url=store_url,
            run_id=run_id,
            target=target,
            progress=progress,
            retry=retry,
            judge=judge,
        )
    )


def rescore(
    run_id: str,
    *,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    allow_weak_sandbox: bool = False,
    progress: bool = False,
) -> EvalResult:
    """Score the stored run `run_id` again with the tasks' current solvers and scorers over the
    answers the store holds (sending nothing), replace its scores and metrics, and write the
    reports. `allow_weak_sandbox` as for `assay run` (consent is given per invocation)."""
    spec = RunSpec(allow_weak_sandbox=allow_weak_sandbox)
    return asyncio.run(
        evaluate_async(
            spec,
            out_dir=out_dir,
            store_url=store_url,
            run_id=run_id,
            progress=progress,
            given=frozenset({"allow_weak_sandbox"}),
            rescore=True,
        )
    )


def rejudge(
    run_id: str,
    *,
    judge: SafetyJudge,
    judge_target: str | None = None,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    progress: bool = False,
) -> EvalResult:
    """Judge the safety verdicts of stored run `run_id` again with `judge` ("offline", or "llm"
    asking `judge_target`), under a new run id, from the answers the store holds: the target
    under test is not asked again, and `run_id` is left as it was."""
    if judge == "llm" and judge_target is None:
        raise SpecError("assay rejudge --judge llm needs --judge-target SPEC (the LLM judge)")
    store = Store(store_url or default_store_url(out_dir))
    try:
        source = store.get_run(run_id)
        if source is None:
            raise SpecError(f"run {run_id!r} is not in the store: nothing to rejudge")
        new_id = new_run_id()
        manifest = dict(source["manifest"])
        redacted_judge = redact(judge_target) if judge_target else None
        manifest["spec"] = {
            **manifest["spec"],
            "safety_judge": judge,
            "judge_target": redacted_judge,
        }
        manifest["rejudged"] = {"from": run_id, "judge": judge, "judge_target": redacted_judge}
        now = utcnow()
        run = {**source, "run_id": new_id, "created": now, "updated": now}
        run.update(status="running", manifest=manifest, invocations=[])
        # The old judge's requests stay with the old run: the new judge is asked afresh.
        store.copy_run(run_id, run, skip_roles=("judge",))
    finally:
        store.close()
    spec = RunSpec(safety_judge=judge, judge_target=judge_target)
    return asyncio.run(
        evaluate_async(
            spec,
            out_dir=out_dir,
            store_url=store_url,
            run_id=new_id,
            progress=progress,
            given=frozenset({"safety_judge", "judge_target"}),
            rescore=True,
            live_roles=frozenset({"judge"}),
        )
    )


def report(
    run_id: str, *, out_dir: Path = Path("assay-results"), store_url: str | None = None
) -> tuple[Path, Path]:
    store = Store(store_url or default_store_url(out_dir))
    try:
        return write_report(store, run_id, out_dir)
    finally:
        store.close()


def compare(
    run_a: str, run_b: str, *, store: str | None = None, out: Path = Path("assay-results")
) -> tuple[Path, Path]:
    """Compare run B with baseline A from the store; write compare.json and compare.html
    under OUT/compare-A-vs-B/ and return their paths."""
    from assay.report._compare import write_comparison

    opened = Store(store or default_store_url(out))
    try:
        return write_comparison(opened, run_a, run_b, out)
    finally:
        opened.close()


async def perf_async(
    target: str | Target,
    options: PerfOptions,
    *,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    run_id: str | None = None,
) -> EvalResult:
    """Run a perf probe (workload × load profile) into the store and write the reports."""
    from assay.perf._perf import run_perf

    if isinstance(target, str):
        target = perf_target(target, options)
    store = Store(store_url or default_store_url(out_dir))
    try:
        run_id = run_id or new_run_id()
        sent = await run_perf(target, options, store, run_id, log=_stderr)
        results_path, report_path = await asyncio.to_thread(write_report, store, run_id, out_dir)
        outcome = RunOutcome(run_id, requests_total=sent, requests_cached=0, requests_sent=sent)
        return EvalResult(outcome, results_path, report_path)
    finally:
        store.close()


def perf_target(spec: str, options: PerfOptions) -> Target:
    """Like resolve_target, but an HTTP client sized so it never queues requests itself."""
    from assay.perf._runner import MAX_IN_FLIGHT
    from assay.targets._openai import OpenAITarget
    from assay.targets._registry import generation_overrides, resolve_target

    if generation_overrides(spec):
        raise SpecError(
            f"target {redact(spec)!r}: generation overrides (?temperature=...) are for assay run; "
            "assay perf sets its own parameters (--output-tokens, --ignore-eos)"
        )
    if not spec.startswith("openai:"):
        return resolve_target(spec)
    url, _, model = spec.removeprefix("openai:").partition("#")
    profile = options.profile
    in_flight = MAX_IN_FLIGHT if profile.rates_per_s else max(profile.concurrency)
    return OpenAITarget(url, model or None, max_concurrency=in_flight, tools=False)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


JUDGE_DATASETS = ("xstest_human_labels",)


def evaluate_safety_judge(
    name: str,
    *,
    dataset: str | None = None,
    data_dir: Path | None = None,
    labels: Path | None = None,
    judge_target: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """A judge's accuracy, precision, recall, specificity and confusion matrix with 95%
    intervals against human labels: a public labelled set by name (from `data_dir`, in its
    upstream layout) or a JSONL file of labelled responses. An offline judge's trained items
    are left out and counted; "llm" asks `judge_target` with the pinned rubric about every
    item, its verdicts read as `kind`'s labels (refusal, the default, or harm)."""
    from assay.core._task import TaskContext
    from assay.safety._judge_eval import (
        LABELS,
        AnsweredJudge,
        evaluate_judge,
        read_labels,
        xstest_harm_labels,
    )
    from assay.safety._judges import offline_judge
    from assay.safety._scorer import LLM_JUDGE_VERSION
    from assay.tasks._safety_data import xstest_human_labels

    if (dataset is None) == (labels is None):
        raise SpecError(
            "assay judges evaluate: give --dataset NAME --data-dir DIR or --labels FILE"
        )
    if name == "llm":
        if judge_target is None:
            raise SpecError("assay judges evaluate llm needs --judge-target SPEC (the LLM judge)")
        if (kind or "refusal") not in LABELS:
            raise SpecError(f"--kind {kind!r}: use refusal or harm")
        kind = kind or "refusal"
        labelled: Any = AnsweredJudge("llm", LLM_JUDGE_VERSION, *LABELS[kind], verdicts={})
    else:
        if kind is not None:
            raise SpecError(f"--kind is for the llm judge; the {name} judge has its own labels")
        labelled = offline_judge(name)
        kind = "harm" if labelled.positive == "harmful" else "refusal"
    if labels is not None:
        items = read_labels(labels, labelled)
    else:
        if dataset not in JUDGE_DATASETS:
            raise SpecError(
                did_you_mean("labelled dataset", str(dataset), JUDGE_DATASETS, "--labels FILE")
            )
        if data_dir is None:
            raise SpecError(f"--dataset {dataset} needs --data-dir DIR (its local copy)")
        folder = data_dir / "xstest_human_labels"
        if not folder.is_dir():
            raise SpecError(
                f"{folder}: no such folder; --data-dir must hold xstest_human_labels/ with the "
                "upstream xstest_v2_completions_*.csv files"
            )
        items = xstest_human_labels(TaskContext(data_dir=data_dir))
        if kind == "harm":
            items = xstest_harm_labels(items)
    judge = labelled
    if name == "llm":
        assert judge_target is not None
        judge = asyncio.run(_asked_llm_judge(judge_target, items, kind))
    result = evaluate_judge(judge, items)
    result["labels"] = str(labels) if labels is not None else dataset
    if name == "llm":
        result["judge"]["target"] = redact(judge_target or "")
        result["no_verdict"] = sum(1 for v in judge.verdicts.values() if v == NO_VERDICT)
    return result


async def _asked_llm_judge(spec: str, items: Sequence[LabelledItem], kind: str) -> Any:
    from assay.safety._judge_eval import ask_llm_judge
    from assay.targets._registry import resolve_target

    target = resolve_target(spec)
    await target.start()
    try:
        return await ask_llm_judge(target, items, kind)
    finally:
        await target.close()
