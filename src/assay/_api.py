"""The public entry points: evaluate a spec into a store, and re-render a run's report."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from assay.engine._executor import RetryPolicy
from assay.engine._run import Runner, RunOutcome, new_run_id
from assay.report._write import write_report
from assay.spec import RunSpec
from assay.store._store import Store, default_store_url
from assay.targets._types import Target


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
) -> EvalResult:
    """Run `spec` into the store and write the reports.

    `given` names the spec fields the user set explicitly: when `run_id` already exists, the
    other fields are taken from the stored run, so `--run-id X` alone resumes X as it was.
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
