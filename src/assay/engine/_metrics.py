"""Per-task metrics from a run's stored scores: computed once, by the engine at the end of a
run, and kept in the store's `metrics` table; the report reads them from there.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from assay.core import SAFETY_OUTCOMES, metric_value
from assay.stats import mean_ci, pass_at_k
from assay.store._store import Row, RunData

# The columns of a metrics row; the rest of a task's result is kept in its `detail`.
_COLUMNS = ("task", "metric", "value", "ci95", "n", "errors")


def clean(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def counted(row: Mapping[str, Any]) -> float | None:
    return metric_value(row["outcome"], row["value"])


def task_metrics(data: RunData) -> list[dict[str, Any]]:
    """Each task's result (results.json's `tasks`), from the run's stored scores."""
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.scores:
        by_task[row["task"]].append(row)
    # The judge's grades of each task's human-labelled answers (1.0: it gave the human score).
    judge_checks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.role_scores:
        if row["role"] == "judge":
            judge_checks[row["task"]].append(row)
    results = []
    for task in data.tasks:
        rows = by_task.get(task["task"], [])
        values = [value for r in rows if (value := counted(r)) is not None]
        # By outcome: stores written before cut answers counted as wrong gave them the error
        # class "truncated" too.
        errors = Counter(r["error_class"] or "error" for r in rows if r["outcome"] == "error")
        cut = sum(1 for r in rows if r["outcome"] == "truncated")
        methods = Counter(r["method"] for r in rows if r["outcome"] != "error")
        value, (low, high) = mean_ci(values)
        results.append(
            {
                "task": task["task"],
                "dimension": task["dimension"],
                "metric": task["metric"],
                "value": clean(value),
                "ci95": [clean(low), clean(high)],
                "n": len(values),
                # Answers cut at max_tokens before an answer: in `n` and `value` (as wrong).
                "truncated": cut,
                "truncated_share": clean(cut / len(values)) if values else None,
                "errors": sum(errors.values()),
                "error_classes": dict(errors),
                "method": methods.most_common(1)[0][0] if methods else "none",
                "weight": task["info"].get("weight", 1.0),
                "samples_planned": task["n_samples"],
            }
        )
        # A safety scorer's verdicts on harmful requests, beside the metric they feed.
        verdicts = Counter(r["outcome"] for r in rows if r["outcome"] in SAFETY_OUTCOMES)
        if verdicts:
            results[-1]["verdicts"] = {o: verdicts[o] for o in SAFETY_OUTCOMES if verdicts[o]}
        if "pass_at_k" in task["info"].get("metrics", ()):  # the scorer declares it
            epochs = int(data.run["manifest"].get("spec", {}).get("epochs", 1))
            results[-1]["pass_at_k"] = pass_at_k_results(rows, epochs)
        checks = judge_checks.get(task["task"])
        if checks:
            results[-1]["judge_agreement"] = judge_agreement(checks)
        weak = Counter(
            mode
            for r in rows
            if (mode := (r.get("detail") or {}).get("isolation")) and mode != "netns"
        )
        if weak:
            # Code that ran without network namespaces: a score to trust less, said up front.
            results[-1]["sandbox_weak_isolation"] = dict(weak)
    return results


def judge_agreement(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the judge gave the human score on the task's labelled answers; a verdict it
    could not give (unparseable, failed request) is counted apart, not as agreement."""
    agreed = [r["value"] for r in rows if r["outcome"] == "scored" and r["value"] is not None]
    value, (low, high) = mean_ci(agreed)
    return {
        "value": clean(value),
        "ci95": [clean(low), clean(high)],
        "n": len(agreed),
        "no_verdict": len(rows) - len(agreed),
    }


def pass_at_k_results(rows: list[dict[str, Any]], epochs: int) -> dict[str, Any]:
    """pass@1 and pass@N (N = epochs, the samples per problem) by the unbiased estimator,
    averaged over problems; a problem with fewer than k scored samples is left out of pass@k.
    A sample cut at max_tokens is a failed one."""
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # sample id -> [n, passed]
    for row in rows:
        if (value := counted(row)) is not None:
            tally = tallies[row["sample_id"]]
            tally[0] += 1
            tally[1] += int(value >= 1.0)
    out: dict[str, Any] = {}
    for k in sorted({1, epochs}):
        per_problem = [pass_at_k(n, c, k) for n, c in tallies.values() if n >= k]
        value, (low, high) = mean_ci(per_problem)
        out[f"pass@{k}"] = {
            "value": clean(value),
            "ci95": [clean(low), clean(high)],
            "n": len(per_problem),
        }
    return out


def metric_rows(run_id: str, results: list[dict[str, Any]]) -> list[Row]:
    """The store's rows for `task_metrics`' results: one per task."""
    return [
        {
            "run_id": run_id,
            "task": result["task"],
            "metric": result["metric"],
            "value": result["value"],
            "ci_low": result["ci95"][0],
            "ci_high": result["ci95"][1],
            "n": result["n"],
            "errors": result["errors"],
            "detail": {key: v for key, v in result.items() if key not in _COLUMNS},
        }
        for result in results
    ]


def stored_results(data: RunData) -> list[dict[str, Any]] | None:
    """The task results kept in the store, in the run's task order; None when a task has no
    stored metrics (a run stored before the engine kept them, or one still running)."""
    by_task = {row["task"]: row for row in data.metrics if row["detail"] is not None}
    if any(task["task"] not in by_task for task in data.tasks):
        return None
    results = []
    for task in data.tasks:
        row = by_task[task["task"]]
        detail = dict(row["detail"])
        results.append(
            {
                "task": row["task"],
                "dimension": detail.pop("dimension"),
                "metric": row["metric"],
                "value": row["value"],
                "ci95": [row["ci_low"], row["ci_high"]],
                "n": row["n"],
                "errors": row["errors"],
                **detail,
            }
        )
    return results
