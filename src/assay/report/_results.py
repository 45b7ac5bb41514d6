"""results.json, from the store alone (never from a run's in-memory state): the task metrics
as the engine stored them, and the roll-ups over the stored scores."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from assay.core import SAFETY_DIMENSION, TARGET_ROLES
from assay.engine._metrics import clean as _clean
from assay.engine._metrics import counted as _counted
from assay.engine._metrics import stored_results, task_metrics
from assay.perf._metrics import request_series
from assay.stats import paired_bootstrap_diff, percentiles, weighted_rollup
from assay.store._store import RunData


def task_results(data: RunData) -> list[dict[str, Any]]:
    """The task metrics the engine stored at the end of the run. A run stored before the engine
    kept them gets them computed here for display only: the report never writes to the store."""
    stored = stored_results(data)
    return stored if stored is not None else task_metrics(data)


OVERALL_WEIGHTING = "dimensions equal; tasks by weight within a dimension"


def _rollup_members(data: RunData) -> dict[str, tuple[str, list[float], float]]:
    """Per rolled-up task: its dimension, its metric's values (cut answers as 0) and weight."""
    weights = {t["task"]: t["info"].get("weight", 1.0) for t in data.tasks}
    values: dict[str, list[float]] = defaultdict(list)
    for row in data.scores:
        if (value := _counted(row)) is not None:
            values[row["task"]].append(value)
    return {
        task: (dimension, values.get(task, []), weights[task])
        for task, dimension in rolled_tasks(data.tasks).items()
    }


def _rollup_groups(data: RunData) -> dict[str, list[tuple[list[float], float]]]:
    """Per dimension, each task's scored values with its weight."""
    groups: dict[str, list[tuple[list[float], float]]] = defaultdict(list)
    for dimension, values, weight in _rollup_members(data).values():
        groups[dimension].append((values, weight))
    return groups


def rolled_tasks(tasks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Task -> dimension of the tasks that roll up. A probe's variant task measures the probe,
    not the dimension, so it is kept out; safety tasks have their own table (`safety`)."""
    return {
        t["task"]: t["dimension"]
        for t in tasks
        if not t["info"].get("probe_of") and t["dimension"] != SAFETY_DIMENSION
    }


def overall_shares(members: Mapping[str, tuple[str, float]]) -> dict[str, float]:
    """Each task's share of the overall number from task -> (dimension, weight) of the tasks
    with scores: every dimension counts equally, tasks within it by their weights. One
    definition for results.json and `assay compare`."""
    totals: dict[str, float] = defaultdict(float)
    for dimension, weight in members.values():
        totals[dimension] += weight
    return {
        task: weight / totals[dimension] / len(totals)
        for task, (dimension, weight) in members.items()
    }


def overall_result(data: RunData) -> dict[str, Any]:
    """The suite's one number (`overall_shares`); the CI resamples every task's samples, so
    uncertainty propagates."""
    members = {
        task: member for task, member in _rollup_members(data).items() if member[1] and member[2]
    }
    shares = overall_shares({task: (dim, weight) for task, (dim, _, weight) in members.items()})
    order = sorted(shares, key=lambda task: members[task][0])  # by dimension, stable within
    value, (low, high) = weighted_rollup([(members[task][1], shares[task]) for task in order])
    return {
        "value": _clean(value),
        "ci95": [_clean(low), _clean(high)],
        "dimensions": sorted({members[task][0] for task in shares}),
        "weighting": OVERALL_WEIGHTING,
    }


def dimension_results(data: RunData) -> list[dict[str, Any]]:
    groups = _rollup_groups(data)
    dims = rolled_tasks(data.tasks)
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


def _paired_drop(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Original minus perturbed accuracy over (original, perturbed) pairs, paired bootstrap CI."""
    original = [first for first, _ in pairs]
    perturbed = [second for _, second in pairs]
    diff = paired_bootstrap_diff(perturbed, original)
    return {
        "original": _clean(float(np.mean(original))) if pairs else None,
        "perturbed": _clean(float(np.mean(perturbed))) if pairs else None,
        "drop": _clean(diff.diff),
        "ci95": [_clean(diff.ci[0]), _clean(diff.ci[1])],
        "p_value": _clean(diff.p_value),
        "n": len(pairs),
    }


def contamination_results(data: RunData) -> dict[str, Any]:
    """Per probed task: accuracy on the originals and on their perturbed variants, paired.

    A sample's value is its mean over epochs; an original with several variants is paired with
    their mean, so it counts once in the task's drop (each kind pairs variant by variant).
    """
    probes = {t["task"]: t["info"]["probe_of"] for t in data.tasks if t["info"].get("probe_of")}
    scored: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in data.scores:
        if (counted := _counted(row)) is not None:
            scored[(row["task"], row["sample_id"])].append(counted)
    value = {key: float(np.mean(values)) for key, values in scored.items()}
    out: dict[str, Any] = {}
    for variant_task, original_task in probes.items():
        by_original: dict[str, list[float]] = defaultdict(list)
        by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for sample in data.samples:
            if sample["task"] != variant_task:
                continue
            original_id = sample["metadata"]["original_id"]
            first = value.get((original_task, original_id))
            second = value.get((variant_task, sample["sample_id"]))
            if first is None or second is None:
                continue  # a side that failed (an error) leaves no pair
            by_original[original_id].append(second)
            by_kind[sample["metadata"]["perturbation"]].append((first, second))
        pairs = [(value[(original_task, oid)], float(np.mean(v))) for oid, v in by_original.items()]
        out[original_task] = {
            **_paired_drop(pairs),
            "variant_task": variant_task,
            "kinds": {kind: _paired_drop(found) for kind, found in sorted(by_kind.items())},
        }
    return out


def _request_counts(rows: list[dict[str, Any]], counters: dict[str, Any]) -> dict[str, Any]:
    succeeded = {r["cache_key"] for r in rows if not r["error_class"]}
    errors = Counter(
        r["error_class"] for r in rows if r["error_class"] and r["cache_key"] not in succeeded
    )
    retried: Counter[str] = Counter()
    for row in rows:
        retried.update(row["attempt_errors"] or {})
    return {
        "total": int(counters.get("requests", 0)),
        "cached": int(counters.get("cached", 0)),
        "sent": int(counters.get("sent", 0)),
        "errors": dict(errors),
        "retried": dict(retried),
        "stored": len(rows),
    }


def request_summary(data: RunData) -> dict[str, Any]:
    """The target's requests; each other role's (a judge's...) are summarised apart under the
    role's name."""
    invocations = data.run["invocations"] or [{}]
    last = invocations[-1]
    by_role: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.requests:
        by_role[row["role"]].append(row)
    summary = _request_counts(by_role["target"], last)
    summary["invocations"] = len(data.run["invocations"] or [])
    for role in TARGET_ROLES[1:]:
        if by_role.get(role) or last.get(role):
            summary[role] = _request_counts(by_role[role], last.get(role) or {})
    return summary


def serving_summary(data: RunData) -> dict[str, Any]:
    """Latency of the target under test only (judge calls go to another service)."""
    series = request_series([r for r in data.requests if r["role"] == "target"])
    return {name: percentiles(values) for name, values in series.items()}


def build_results(data: RunData) -> dict[str, Any]:
    from assay.perf._perf import perf_results
    from assay.report._safety import safety_results

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
        "overall": overall_result(data),
        "requests": request_summary(data),
        "serving": serving_summary(data),
    }
    perf = perf_results(data)
    if perf is not None:
        results["perf"] = perf
    safety = safety_results(data)
    if safety is not None:
        results.update(safety)
    contamination = contamination_results(data)
    if contamination:
        results["contamination"] = contamination
    return results
