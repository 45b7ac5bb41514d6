"""results.json, computed from the store alone (never from a run's in-memory state)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

from assay.perf._metrics import request_series
from assay.stats import mean_ci, percentiles, weighted_rollup
from assay.store._store import RunData


def _clean(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


def task_results(data: RunData) -> list[dict[str, Any]]:
    by_task: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.scores:
        by_task[row["task"]].append(row)
    results = []
    for task in data.tasks:
        rows = by_task.get(task["task"], [])
        values = [r["value"] for r in rows if r["outcome"] == "scored" and r["value"] is not None]
        errors = Counter(r["error_class"] or r["outcome"] for r in rows if r["outcome"] != "scored")
        methods = Counter(r["method"] for r in rows if r["outcome"] == "scored")
        value, (low, high) = mean_ci(values)
        results.append(
            {
                "task": task["task"],
                "dimension": task["dimension"],
                "metric": task["metric"],
                "value": _clean(value),
                "ci95": [_clean(low), _clean(high)],
                "n": len(values),
                "errors": sum(errors.values()),
                "error_classes": dict(errors),
                "method": methods.most_common(1)[0][0] if methods else "none",
                "weight": task["info"].get("weight", 1.0),
                "samples_planned": task["n_samples"],
            }
        )
    return results


def dimension_results(data: RunData) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[list[float], float]]] = defaultdict(list)
    weights = {t["task"]: t["info"].get("weight", 1.0) for t in data.tasks}
    dims = {t["task"]: t["dimension"] for t in data.tasks}
    values: dict[str, list[float]] = defaultdict(list)
    for row in data.scores:
        if row["outcome"] == "scored" and row["value"] is not None:
            values[row["task"]].append(row["value"])
    for task, dimension in dims.items():
        groups[dimension].append((values.get(task, []), weights[task]))
    rolled = []
    for dimension, members in sorted(groups.items()):
        value, (low, high) = weighted_rollup(members)
        rolled.append(
            {
                "dimension": dimension,
                "value": _clean(value),
                "ci95": [_clean(low), _clean(high)],
                "tasks": [t for t, d in dims.items() if d == dimension],
            }
        )
    return rolled


def request_summary(data: RunData) -> dict[str, Any]:
    invocations = data.run["invocations"] or [{}]
    last = invocations[-1]
    succeeded = {r["cache_key"] for r in data.requests if not r["error_class"]}
    errors = Counter(
        r["error_class"]
        for r in data.requests
        if r["error_class"] and r["cache_key"] not in succeeded
    )
    retried: Counter[str] = Counter()
    for row in data.requests:
        retried.update(row["attempt_errors"] or {})
    return {
        "total": int(last.get("requests", 0)),
        "cached": int(last.get("cached", 0)),
        "sent": int(last.get("sent", 0)),
        "errors": dict(errors),
        "retried": dict(retried),
        "stored": len(data.requests),
        "invocations": len(data.run["invocations"] or []),
    }


def serving_summary(data: RunData) -> dict[str, Any]:
    series = request_series(data.requests)
    return {name: percentiles(values) for name, values in series.items()}


def build_results(data: RunData) -> dict[str, Any]:
    from assay.perf._perf import perf_results

    run = data.run
    results = {
        "run_id": run["run_id"],
        "assay_version": run["assay_version"],
        "created": run["created"].isoformat(),
        "status": run["status"],
        "target": {
            "spec": run["target_spec"],
            "model": run["model"],
            "capabilities": run["capabilities"],
        },
        "manifest": run["manifest"],
        "tasks": task_results(data),
        "dimensions": dimension_results(data),
        "requests": request_summary(data),
        "serving": serving_summary(data),
    }
    perf = perf_results(data)
    if perf is not None:
        results["perf"] = perf
    return results
