"""compare.json and compare.html for two runs, read from the store alone (so old runs compare).

Per shared task: both metrics and B - A with a 95% CI, tested on the samples both runs scored
(exact McNemar for 0/1 scores, sign-flip permutation otherwise), or as independent samples when
the runs share none; answers cut at max_tokens count as wrong there, as in results.json, and
where either run has some, the share cut is tested the same way (`truncated_share`); samples
whose request failed (errors) are left out and named; roll-ups per dimension and overall; and
the manifest differences that could explain a gap.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.core import metric_value
from assay.report._results import OVERALL_WEIGHTING, overall_shares, rolled_tasks
from assay.report._safety import verdict_rows
from assay.stats import (
    DiffGroup,
    is_binary,
    mcnemar_exact,
    mean_ci,
    newcombe_interval,
    paired_bootstrap_diff,
    unpaired_bootstrap_diff,
    weighted_diff_rollup,
    weighted_rollup,
)
from assay.store._store import RunData, Store
from assay.targets._registry import split_overrides

ALPHA = 0.05
SampleKey = tuple[str, int]  # (sample_id, epoch): how samples join across runs
# Pair only when the shared samples are at least this share of the smaller run: two seeds of
# a generated task may repeat an item or two, and a test on those alone would waste the rest.
PAIRED_MIN_FRACTION = 0.5
NO_SHARED_SAMPLES = (
    "the runs share no scored samples (different items, e.g. another seed or dataset), "
    "so they are compared as independent samples"
)


def _clean(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)


def _interval(bounds: tuple[float, float]) -> list[float | None]:
    return [_clean(bounds[0]), _clean(bounds[1])]


@dataclass
class _Tally:
    """One run's score rows by task: what counts in the metric, what was cut, what failed."""

    # The metric's value of every sample and epoch answered (a cut answer as 0; errors out).
    scored: dict[str, dict[SampleKey, float]] = field(default_factory=lambda: defaultdict(dict))
    # 1.0 for every sample and epoch answered but cut at max_tokens, 0.0 for one answered whole.
    cut: dict[str, dict[SampleKey, float]] = field(default_factory=lambda: defaultdict(dict))
    # Samples without a score (their request failed: timeouts, HTTP errors...) by class.
    not_scored: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def _tally(data: RunData) -> _Tally:
    tally = _Tally()
    for row in data.scores:
        task, key = row["task"], (row["sample_id"], row["epoch"])
        value = metric_value(row["outcome"], row["value"])
        if value is None:
            tally.not_scored[task][row["error_class"] or row["outcome"]] += 1
            continue
        tally.scored[task][key] = float(value)
        tally.cut[task][key] = float(row["outcome"] == "truncated")
    return tally


def _summary(values: Sequence[float]) -> dict[str, Any]:
    value, bounds = mean_ci(list(values))
    return {"value": _clean(value), "ci95": _interval(bounds), "n": len(values)}


# -- one task -------------------------------------------------------------------------------


def compare_task(
    name: str, scores_a: Mapping[SampleKey, float], scores_b: Mapping[SampleKey, float]
) -> dict[str, Any]:
    """B - A on one task: paired on the shared samples, else unpaired."""
    values_a, values_b = list(scores_a.values()), list(scores_b.values())
    shared = sorted(set(scores_a) & set(scores_b))
    binary = is_binary(values_a + values_b)
    row: dict[str, Any] = {
        "task": name,
        "a": _summary(values_a),
        "b": _summary(values_b),
        "scores": "binary" if binary else "continuous",
        "n_paired": len(shared),
        "discordant": None,
    }
    if shared and len(shared) >= PAIRED_MIN_FRACTION * min(len(values_a), len(values_b)):
        row.update(_paired(shared, scores_a, scores_b, binary))
    elif values_a and values_b:
        row.update(_unpaired(values_a, values_b, binary))
        if shared:
            row["why"] = (
                f"only {len(shared)} samples are scored in both runs (of {len(values_a)} in A, "
                f"{len(values_b)} in B): too few to pair, so all are compared as independent "
                "samples"
            )
    else:
        empty = "A" if not values_a else "B"
        row.update(
            paired=False,
            why=f"run {empty} scored no sample of this task: nothing to compare",
            diff=None,
            ci95=[None, None],
            test=None,
            interval=None,
            p_value=None,
        )
    row["significant"] = row["p_value"] is not None and row["p_value"] < ALPHA
    return row


def _paired(
    shared: Sequence[SampleKey],
    scores_a: Mapping[SampleKey, float],
    scores_b: Mapping[SampleKey, float],
    binary: bool,
) -> dict[str, Any]:
    a = [scores_a[key] for key in shared]
    b = [scores_b[key] for key in shared]
    result = paired_bootstrap_diff(a, b)
    why = f"{len(shared)} samples scored in both runs (joined on sample_id and epoch)"
    left_out = (len(scores_a) - len(shared), len(scores_b) - len(shared))
    if any(left_out):
        why += f"; {left_out[0]} of A and {left_out[1]} of B are in one run only, left out"
    found: dict[str, Any] = {
        "paired": True,
        "why": why,
        "diff": _clean(result.diff),
        "ci95": _interval(result.ci),
        "interval": "paired bootstrap",
    }
    if binary:
        a_only = sum(1 for x, y in zip(a, b, strict=True) if x > y)
        b_only = sum(1 for x, y in zip(a, b, strict=True) if y > x)
        found.update(
            test="exact McNemar",
            p_value=mcnemar_exact(a_only, b_only),
            discordant={"a_only": a_only, "b_only": b_only},
        )
    else:
        found.update(test="sign-flip permutation", p_value=result.p_value)
    return found


def _unpaired(values_a: list[float], values_b: list[float], binary: bool) -> dict[str, Any]:
    result = unpaired_bootstrap_diff(values_a, values_b)
    bounds, interval = result.ci, "bootstrap (independent samples)"
    if binary:
        successes_a, successes_b = round(sum(values_a)), round(sum(values_b))
        bounds = newcombe_interval(successes_a, len(values_a), successes_b, len(values_b))
        interval = "Newcombe (independent proportions)"
    return {
        "paired": False,
        "why": NO_SHARED_SAMPLES,
        "diff": _clean(result.diff),
        "ci95": _interval(bounds),
        "interval": interval,
        "test": "label permutation (unpaired)",
        "p_value": result.p_value,
    }


def _truncated_share(
    cut_a: Mapping[SampleKey, float], cut_b: Mapping[SampleKey, float]
) -> dict[str, Any]:
    """B - A in the share of a task's answers cut at max_tokens, paired where the runs share
    samples."""
    share = compare_task("truncated share", cut_a, cut_b)
    del share["task"]
    if share["paired"]:
        share["why"] = (
            f"{share['n_paired']} samples answered in both runs (joined on sample_id and epoch), "
            "each cut at max_tokens or not"
        )
    elif share["diff"] is not None:
        share["why"] = (
            "the runs share too few samples (different items, e.g. another seed), so the shares "
            "are compared as independent proportions"
        )
    return share


# -- roll-ups -------------------------------------------------------------------------------


def _group(
    row: Mapping[str, Any],
    scores_a: Mapping[SampleKey, float],
    scores_b: Mapping[SampleKey, float],
    weight: float,
) -> DiffGroup:
    if row["paired"]:
        shared = sorted(set(scores_a) & set(scores_b))
        return ([scores_a[k] for k in shared], [scores_b[k] for k in shared], True, weight)
    return (list(scores_a.values()), list(scores_b.values()), False, weight)


def _rollup(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    scored_a: Mapping[str, Mapping[SampleKey, float]],
    scored_b: Mapping[str, Mapping[SampleKey, float]],
    weights: Mapping[str, float],
) -> dict[str, Any]:
    tasks = [row["task"] for row in rows]
    groups = [
        _group(row, scored_a.get(row["task"], {}), scored_b.get(row["task"], {}), weights[t])
        for row, t in zip(rows, tasks, strict=True)
    ]
    value_a, bounds_a = weighted_rollup(
        [(list(scored_a.get(t, {}).values()), weights[t]) for t in tasks]
    )
    value_b, bounds_b = weighted_rollup(
        [(list(scored_b.get(t, {}).values()), weights[t]) for t in tasks]
    )
    diff, bounds = weighted_diff_rollup(groups)
    paired = [row["paired"] for row in rows]
    low, high = _interval(bounds)
    return {
        "name": name,
        "tasks": tasks,
        "a": {"value": _clean(value_a), "ci95": _interval(bounds_a)},
        "b": {"value": _clean(value_b), "ci95": _interval(bounds_b)},
        "diff": _clean(diff),
        "ci95": [low, high],
        "paired": "all" if all(paired) else "some" if any(paired) else "none",
        # No single test spans tasks of different kinds: the roll-up's CI decides.
        "significant": low is not None and high is not None and (low > 0 or high < 0),
    }


# -- what differs between the two runs ------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _first_prompts(data: RunData) -> dict[str, dict[SampleKey, str]]:
    """Per task, a hash of the first rendered prompt each sample and epoch sent.

    Later requests of a sample may depend on the model's answers (multi-turn, adaptive
    attacks); the first one depends only on the item and the template.
    """
    prompts: dict[str, dict[SampleKey, str]] = defaultdict(dict)
    for row in sorted(data.requests, key=lambda r: r["id"]):
        if row["role"] != "target":
            continue
        payload = row["payload"] or {}
        rendered = {key: payload.get(key) for key in ("mode", "messages", "prompt")}
        digest = hashlib.sha256(json.dumps(rendered, sort_keys=True).encode()).hexdigest()
        prompts[row["task"]].setdefault((row["sample_id"], row["epoch"]), digest)
    return prompts


def _effective_config(data: RunData, task: str) -> dict[str, Any]:
    """The task's generation parameters with the target's `?key=value` overrides applied."""
    config = dict(((data.run["manifest"] or {}).get("tasks") or {}).get(task, {}).get("config", {}))
    _, overrides = split_overrides(data.run["target_spec"])
    return {**config, **overrides}


def _methods(data: RunData) -> dict[str, str]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in data.scores:
        if row["outcome"] != "error":
            counts[row["task"]][row["method"]] += 1
    return {task: " + ".join(sorted(c)) for task, c in counts.items()}


def manifest_differences(
    a: RunData, b: RunData, tasks: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every recorded input that differs, and notes on what could not be checked."""
    found: list[dict[str, Any]] = []
    notes: list[str] = []

    def differ(field: str, value_a: Any, value_b: Any, task: str | None = None) -> None:
        if value_a != value_b:
            found.append({"field": field, "task": task, "a": _show(value_a), "b": _show(value_b)})

    run_a, run_b = a.run, b.run
    manifest_a, manifest_b = run_a["manifest"] or {}, run_b["manifest"] or {}
    differ("target spec", run_a["target_spec"], run_b["target_spec"])
    differ("model", run_a["model"], run_b["model"])
    differ("assay version", run_a["assay_version"], run_b["assay_version"])
    differ("seed", manifest_a.get("seed"), manifest_b.get("seed"))
    spec_a, spec_b = manifest_a.get("spec") or {}, manifest_b.get("spec") or {}
    for key in ("suite", "limit", "epochs", "data_dir"):
        differ(f"run spec: {key}", spec_a.get(key), spec_b.get(key))
    differ("capabilities", run_a["capabilities"], run_b["capabilities"])
    differ("backends", manifest_a.get("backends"), manifest_b.get("backends"))
    hashes_a = {t["task"]: t["dataset_hash"] for t in a.tasks}
    hashes_b = {t["task"]: t["dataset_hash"] for t in b.tasks}
    methods_a, methods_b = _methods(a), _methods(b)
    prompts_a, prompts_b = _first_prompts(a), _first_prompts(b)
    for task in tasks:
        config_a, config_b = _effective_config(a, task), _effective_config(b, task)
        for key in sorted(set(config_a) | set(config_b)):
            differ(f"generation: {key}", config_a.get(key), config_b.get(key), task)
        differ("method", methods_a.get(task), methods_b.get(task), task)
        differ("dataset hash", hashes_a.get(task), hashes_b.get(task), task)
        prompt_a, prompt_b = prompts_a.get(task, {}), prompts_b.get(task, {})
        shared = sorted(set(prompt_a) & set(prompt_b))
        if not shared:
            notes.append(f"{task}: prompt template not checked (no sample sent in both runs)")
            continue
        changed = sum(1 for key in shared if prompt_a[key] != prompt_b[key])
        if changed:
            found.append(
                {
                    "field": "prompt template",
                    "task": task,
                    "a": _prompt_digest(prompt_a, shared),
                    "b": _prompt_digest(prompt_b, shared)
                    + f" ({changed} of {len(shared)} shared samples rendered differently)",
                }
            )
    return found, notes


def _prompt_digest(prompts: Mapping[SampleKey, str], keys: Sequence[SampleKey]) -> str:
    joined = "".join(prompts[key] for key in keys)
    return "prompts " + hashlib.sha256(joined.encode()).hexdigest()[:12]


# -- the page ------------------------------------------------------------------------------


def diff_figure(rows: Sequence[Mapping[str, Any]], label: str, div_id: str) -> str | None:
    """B - A with its 95% CI per row, around a zero line: a forest plot."""
    from assay.report._html import _figure, _figure_html

    shown = [row for row in rows if row["diff"] is not None]
    if not shown:
        return None
    plus, minus = [], []
    for row in shown:
        low, high = row["ci95"]
        plus.append(0.0 if high is None else max(high - row["diff"], 0.0))
        minus.append(0.0 if low is None else max(row["diff"] - low, 0.0))
    colours = [
        ("#1a7f37" if row["diff"] > 0 else "#cf222e") if row["significant"] else "#8c959f"
        for row in shown
    ]
    trace = {
        "type": "scatter",
        "mode": "markers",
        "x": [row["diff"] for row in shown],
        "y": [row[label] for row in shown],
        "marker": {"size": 10, "color": colours},
        "error_x": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
        "hovertemplate": "%{y}: %{x:+.3f}<extra></extra>",
    }
    figure = _figure(
        [trace],
        "B − A with 95% CI (coloured: significant at α = 0.05)",
        height=140 + 36 * len(shown),
        xaxis={"zeroline": True, "zerolinecolor": "#57606a", "zerolinewidth": 2},
        yaxis={"autorange": "reversed"},
    )
    return _figure_html(figure, div_id)


def fmt_diff(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def render_comparison(comparison: Mapping[str, Any]) -> str:
    """One offline HTML page (Plotly inlined once, like the run report)."""
    from assay.report._html import _environment, _plotly_js

    env = _environment()
    env.filters.update(diff=fmt_diff, p=fmt_p)
    template = env.get_template("compare.html.j2")
    rollups = list(comparison["dimensions"])
    if comparison["overall"] is not None:
        rollups.append(comparison["overall"])
    return template.render(
        c=comparison,
        rollups=rollups,
        figures={
            "tasks": diff_figure(comparison["tasks"], "task", "fig-compare-tasks"),
            "rollups": diff_figure(rollups, "name", "fig-compare-rollups"),
        },
        plotly_js=_plotly_js(),
    )


# -- the comparison -------------------------------------------------------------------------


def _run_summary(data: RunData) -> dict[str, Any]:
    run = data.run
    return {
        "run_id": run["run_id"],
        "created": run["created"].isoformat(),
        "status": run["status"],
        "target": run["target_spec"],
        "model": run["model"],
        "assay_version": run["assay_version"],
    }


# -- safety ---------------------------------------------------------------------------------

# What each safety measure counts in a verdict row: R an attack that succeeded, D a refusal.
_SAFETY_MEASURES = {"R": "complied_harmful", "D": "refused"}


def _safety_indicators(data: RunData, counted: str) -> dict[tuple[str, str], dict[Any, float]]:
    """Per (domain, level): 1.0/0.0 whether each scored harmful request's verdict was
    `counted`, keyed by (task, sample, epoch); errors are left out, as in the safety table."""
    groups: dict[tuple[str, str], dict[Any, float]] = defaultdict(dict)
    for row in verdict_rows(data):
        meta = row["meta"]
        if meta.get("benign") or row["outcome"] == "error":
            continue
        key = (row["task"], row["sample_id"], row["epoch"])
        groups[(meta["domain"], meta["level"])][key] = float(row["outcome"] == counted)
    return groups


def safety_comparison(a: RunData, b: RunData) -> list[dict[str, Any]]:
    """B - A in R and D per domain x level, paired on the attacked requests both runs scored
    (exact McNemar), else unpaired."""
    rows = []
    for measure, counted in _SAFETY_MEASURES.items():
        groups_a, groups_b = _safety_indicators(a, counted), _safety_indicators(b, counted)
        for domain, level in sorted(set(groups_a) | set(groups_b)):
            found = compare_task(
                f"{domain} {level}",
                groups_a.get((domain, level), {}),
                groups_b.get((domain, level), {}),
            )
            rows.append({"measure": measure, "domain": domain, "level": level, **found})
    return rows


def build_comparison(a: RunData, b: RunData) -> dict[str, Any]:
    """compare.json: B - A per shared task, per dimension and overall, and what differs."""
    info_a = {t["task"]: t for t in a.tasks}
    info_b = {t["task"]: t for t in b.tasks}
    shared = [name for name in info_a if name in info_b]
    tally_a, tally_b = _tally(a), _tally(b)
    scored_a, scored_b = tally_a.scored, tally_b.scored
    missing_a, missing_b = tally_a.not_scored, tally_b.not_scored
    rows, notes = [], []
    for name in shared:
        row = compare_task(name, scored_a.get(name, {}), scored_b.get(name, {}))
        row["dimension"] = info_a[name]["dimension"]
        row["metric"] = info_a[name]["metric"]
        # Cut answers are in the metric as wrong; the share cut is tested apart, since it says
        # why (a target sampled hot is cut at max_tokens far more often).
        cut_a, cut_b = tally_a.cut.get(name, {}), tally_b.cut.get(name, {})
        row["truncated_share"] = None
        if any(cut_a.values()) or any(cut_b.values()):
            row["truncated_share"] = _truncated_share(cut_a, cut_b)
        for side, missing, cut in (("a", missing_a, cut_a), ("b", missing_b, cut_b)):
            counts = missing.get(name, Counter())
            row[side]["truncated"] = round(sum(cut.values()))
            row[side]["not_scored"] = dict(sorted(counts.items()))
            if counts:
                classes = ", ".join(f"{kind} ×{count}" for kind, count in sorted(counts.items()))
                notes.append(
                    f"{name}: {sum(counts.values())} samples of run {side.upper()} have no score "
                    f"({classes}) and are left out of the comparison"
                )
        rows.append(row)
    # A's weights: the baseline's suite decides how much each task counts. Probe variants
    # (`<task>~perturbed`) are compared as tasks but, as in results.json, roll up nowhere.
    weights = {name: float(info_a[name]["info"].get("weight", 1.0)) for name in shared}
    rolled = rolled_tasks([info_a[name] for name in shared])
    by_dimension: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["task"] in rolled:
            by_dimension[row["dimension"]].append(row)
    # Overall: results.json's weighting, over the tasks both runs scored.
    shares = overall_shares(
        {
            name: (dimension, weights[name])
            for name, dimension in rolled.items()
            if scored_a.get(name) and scored_b.get(name) and weights[name] > 0
        }
    )
    overall_rows = [row for row in rows if row["task"] in shares]
    differences, manifest_notes = manifest_differences(a, b, shared)
    return {
        "a": _run_summary(a),
        "b": _run_summary(b),
        "difference": "B - A",
        "alpha": ALPHA,
        "tasks": rows,
        "dimensions": [
            _rollup(dimension, members, scored_a, scored_b, weights)
            for dimension, members in sorted(by_dimension.items())
        ],
        "overall": (
            {
                **_rollup("overall", overall_rows, scored_a, scored_b, shares),
                "weighting": OVERALL_WEIGHTING,
            }
            if overall_rows
            else None
        ),
        "only_in_a": sorted(set(info_a) - set(info_b)),
        "only_in_b": sorted(set(info_b) - set(info_a)),
        "safety": safety_comparison(a, b),
        "manifest_differences": differences,
        "notes": notes + manifest_notes,
    }


def write_comparison(store: Store, run_a: str, run_b: str, out_dir: Path) -> tuple[Path, Path]:
    """Write compare.json and compare.html under OUT/compare-A-vs-B/."""
    data_a, data_b = store.read_run(run_a), store.read_run(run_b)
    comparison = build_comparison(data_a, data_b)
    folder = out_dir / f"compare-{run_a}-vs-{run_b}"
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "compare.json"
    json_path.write_text(json.dumps(comparison, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path = folder / "compare.html"
    html_path.write_text(render_comparison(comparison), encoding="utf-8")
    return json_path, html_path
