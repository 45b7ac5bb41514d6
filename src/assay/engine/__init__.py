"""The async executor: concurrency, retries, response cache and resume, batched writes."""

from assay.engine._cache import cache_key
from assay.engine._executor import Executor, RetryPolicy
from assay.engine._run import Runner, RunOutcome, new_run_id, plan_tasks

__all__ = [
    "Executor",
    "RetryPolicy",
    "RunOutcome",
    "Runner",
    "cache_key",
    "new_run_id",
    "plan_tasks",
]
