"""Tests for assay.report._compare: paired and unpaired comparisons of runs read from a store."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import plotly.offline
import pytest

from assay import RunSpec, compare, evaluate
from assay.report._compare import build_comparison, render_comparison
from assay.report._results import build_results
from assay.stats import mcnemar_exact
from assay.store import Store
from assay.targets import FakeTarget, Request
from assay.targets._registry import OverridingTarget
from assay.tasks._quick import arithmetic_samples
from helpers import assay_command, subprocess_env

CREATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
CONFIG = {"max_tokens": 48, "temperature": 0.0, "top_p": None, "stop": [], "seed": 0}
# A sample's value in `_add_run`: a score, None (the request timed out) or CUT (the output was
# cut at max_tokens before an answer: wrong).
CUT = "cut"
Value = float | Literal["cut"] | None


def _score_row(
    run_id: str, task: str, sample_id: str, value: Value, method: str, old_cut: bool
) -> dict[str, Any]:
    outcome = "error" if value is None else "truncated" if value == CUT else "scored"
    row = {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": 0,
        "value": 0.0 if value == CUT else value,
        "answer": None,
        "outcome": outcome,
        "error_class": "timeout" if value is None else None,
        "explanation": "",
        "method": method,
        "output": "",
    }
    if value == CUT and old_cut:
        # As assay stored a cut answer before it counted as wrong.
        row.update(value=None, error_class="truncated")
    return row


def _add_run(
    store: Store,
    run_id: str,
    scores: dict[str, list[Value]],
    *,
    target: str = "fake:a",
    prompt: str = "Q: {}",
    dataset_hash: str = "hash-1",
    method: str = "exact",
    sample_prefix: str = "s",
    old_cut: bool = False,
) -> None:
    """A run with one sample per listed value (see `Value`); `old_cut`: cut answers stored as
    assay stored them before they counted as wrong."""
    store.create_run(
        {
            "run_id": run_id,
            "created": CREATED,
            "updated": CREATED,
            "status": "complete",
            "assay_version": "0.1.0",
            "target_spec": target,
            "model": "fake",
            "capabilities": {"chat": True},
            "manifest": {
                "spec": {"target": target, "tasks": sorted(scores), "limit": None, "epochs": 1},
                "seed": 0,
                "assay_version": "0.1.0",
                "backends": {},
                "tasks": {
                    task: {"dataset_hash": dataset_hash, "config": CONFIG} for task in scores
                },
            },
            "invocations": [],
        }
    )
    for task, values in scores.items():
        ids = [f"{sample_prefix}{i}" for i in range(len(values))]
        store.save_task(
            {
                "run_id": run_id,
                "task": task,
                "dimension": "math" if task.startswith("m") else "knowledge",
                "metric": "accuracy",
                "dataset_hash": dataset_hash,
                "n_samples": len(values),
                "info": {"weight": 1.0},
            },
            [
                {
                    "run_id": run_id,
                    "task": task,
                    "sample_id": sample_id,
                    "position": i,
                    "input": f"item {sample_id}",
                    "target": "1",
                    "choices": [],
                    "metadata": {},
                }
                for i, sample_id in enumerate(ids)
            ],
        )
        requests = [
            _request(run_id, task, sample_id, prompt.format(sample_id), value)
            for sample_id, value in zip(ids, values, strict=True)
        ]
        score_rows = [
            _score_row(run_id, task, sample_id, value, method, old_cut)
            for sample_id, value in zip(ids, values, strict=True)
        ]
        store.write_batch(requests, score_rows)


def _request(run_id: str, task: str, sample_id: str, prompt: str, value: Value) -> dict[str, Any]:
    payload = {"mode": "completion", "prompt": prompt, **CONFIG}
    failed = value is None
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": 0,
        "cache_key": hashlib.sha256(f"{run_id}{task}{sample_id}".encode()).hexdigest(),
        "payload": payload,
        "text": "",
        "finish_reason": "length" if value == CUT else "stop",
        "logprobs": None,
        "error_class": "timeout" if failed else None,
        "error_detail": None,
        "http_status": None,
        "attempts": 1,
        "attempt_errors": {},
        "queue_s": 0.0,
        "ttft_s": 0.01,
        "e2e_s": 0.02,
        "token_times_s": [0.01],
        "prompt_tokens": 3,
        "completion_tokens": 1,
        "usage_source": "client",
        "created": CREATED,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path}/assay.db")
    yield opened
    opened.close()


def _task(comparison: dict[str, Any], name: str) -> dict[str, Any]:
    return next(row for row in comparison["tasks"] if row["task"] == name)


def test_binary_scores_get_an_exact_mcnemar_test_on_the_shared_samples(store: Store) -> None:
    # 40 pairs: 20 right in both, 8 wrong in both, 11 right in B only, 1 right in A only; the
    # last sample failed in A, so it is left out of the pairing.
    a = [1.0] * 20 + [0.0] * 8 + [0.0] * 11 + [1.0] + [None]
    b = [1.0] * 20 + [0.0] * 8 + [1.0] * 11 + [0.0] + [1.0]
    _add_run(store, "a", {"math": a})
    _add_run(store, "b", {"math": b})
    comparison = build_comparison(store.read_run("a"), store.read_run("b"))
    row = _task(comparison, "math")

    assert row["paired"] is True
    assert row["n_paired"] == 40
    assert row["a"]["not_scored"] == {"timeout": 1} and row["b"]["not_scored"] == {}
    assert "math: 1 samples of run A have no score (timeout ×1)" in comparison["notes"][0]
    # A failed request is no cut answer: nothing cut, no share to test.
    assert row["a"]["truncated"] == row["b"]["truncated"] == 0
    assert row["truncated_share"] is None
    assert row["discordant"] == {"a_only": 1, "b_only": 11}
    assert row["test"] == "exact McNemar"
    # Binomial(12, 1/2): P(X <= 1) = 13/4096, doubled.
    assert row["p_value"] == pytest.approx(26 / 4096)
    assert row["significant"] is True
    assert row["diff"] == pytest.approx(10 / 40)
    low, high = row["ci95"]
    assert 0 < low < 10 / 40 < high
    assert row["a"]["n"] == 40 and row["b"]["n"] == 41
    assert "0 of A and 1 of B are in one run only" in row["why"]


def test_cut_answers_count_as_wrong_and_their_share_is_tested(store: Store) -> None:
    # B is cut before its answer on 14 of 20 items (as a model sampled hot is) and right on the
    # 6 it finishes: cut answers are wrong, so B is worse on all 20, and the share cut says why.
    _add_run(store, "a", {"math": [1.0] * 20, "kq": [1.0] * 20})
    _add_run(store, "b", {"math": [1.0] * 6 + [CUT] * 14, "kq": [1.0] * 20})
    comparison = build_comparison(store.read_run("a"), store.read_run("b"))
    row = _task(comparison, "math")

    assert row["n_paired"] == 20 and row["b"]["value"] == pytest.approx(0.3)
    assert row["diff"] == pytest.approx(-0.7) and row["significant"]
    assert row["discordant"] == {"a_only": 14, "b_only": 0}
    assert (row["a"]["truncated"], row["b"]["truncated"]) == (0, 14)
    assert row["a"]["not_scored"] == row["b"]["not_scored"] == {}
    share = row["truncated_share"]
    assert share["a"]["value"] == 0.0 and share["b"]["value"] == pytest.approx(0.7)
    assert share["paired"] and share["n_paired"] == 20
    assert share["test"] == "exact McNemar" and share["discordant"] == {"a_only": 0, "b_only": 14}
    assert share["p_value"] == pytest.approx(2 / 2**14)
    assert share["significant"] and share["diff"] == pytest.approx(0.7)
    assert share["why"].startswith("20 samples answered in both runs (joined on sample_id and")
    # Nothing cut in either run: nothing to test.
    assert _task(comparison, "kq")["truncated_share"] is None
    page = render_comparison(comparison)
    assert "share cut" in page and "14 cut" in page


def test_cut_shares_of_different_items_compare_as_proportions(store: Store) -> None:
    # A's cut answers are stored as an older assay stored them: they count the same.
    _add_run(store, "a", {"math": [1.0] * 30 + [CUT] * 10}, old_cut=True)
    _add_run(store, "b", {"math": [1.0] * 10 + [CUT] * 30}, sample_prefix="t")
    row = _task(build_comparison(store.read_run("a"), store.read_run("b")), "math")
    share = row["truncated_share"]

    assert (row["a"]["n"], row["a"]["value"], row["a"]["truncated"]) == (40, 0.75, 10)
    assert row["a"]["not_scored"] == {}
    assert not share["paired"] and share["n_paired"] == 0
    assert share["interval"] == "Newcombe (independent proportions)"
    assert share["diff"] == pytest.approx(0.5) and share["significant"]
    assert "compared as independent proportions" in share["why"]


def test_pairing_finds_a_gap_an_unpaired_comparison_would_miss(store: Store) -> None:
    # B is right wherever A is, plus on 8 more of 100 items: 0.40 vs 0.48 is no significant
    # gap between independent samples, but 8 discordant pairs all one way is.
    a = [1.0] * 40 + [0.0] * 60
    b = [1.0] * 48 + [0.0] * 52
    _add_run(store, "a", {"math": a})
    _add_run(store, "b", {"math": b})
    _add_run(store, "b-new-items", {"math": b}, sample_prefix="other")
    paired = _task(build_comparison(store.read_run("a"), store.read_run("b")), "math")
    unpaired = _task(build_comparison(store.read_run("a"), store.read_run("b-new-items")), "math")

    assert paired["paired"] and paired["significant"]
    assert paired["p_value"] == pytest.approx(mcnemar_exact(0, 8)) == pytest.approx(2 / 256)
    assert not unpaired["paired"] and not unpaired["significant"]
    assert unpaired["n_paired"] == 0 and "share no scored samples" in unpaired["why"]
    assert unpaired["p_value"] > 0.2
    assert unpaired["interval"].startswith("Newcombe")
    assert unpaired["diff"] == pytest.approx(paired["diff"]) == pytest.approx(0.08)
    assert unpaired["ci95"][0] < 0 < unpaired["ci95"][1]


def test_a_few_shared_samples_are_not_enough_to_pair(store: Store) -> None:
    # 2 of 20 items in common (as two seeds of a generated task may have): all 20 are compared
    # as independent samples rather than testing the 2 shared ones alone.
    _add_run(store, "a", {"math": [1.0, 0.0] * 10})
    _add_run(store, "b", {"math": [1.0, 1.0]}, sample_prefix="s")
    _add_run(store, "c", {"math": [0.0, 1.0] * 9}, sample_prefix="t")
    with store.engine.begin() as conn:  # merge c's items into b: 2 shared with a, 18 not
        conn.exec_driver_sql("UPDATE scores SET run_id = 'b' WHERE run_id = 'c'")
    row = _task(build_comparison(store.read_run("a"), store.read_run("b")), "math")

    assert row["n_paired"] == 2 and row["b"]["n"] == 20
    assert row["paired"] is False
    assert "only 2 samples are scored in both runs" in row["why"]


def test_continuous_scores_use_a_sign_flip_test(store: Store) -> None:
    a = [0.1 * (i % 10) for i in range(30)]
    b = [value + 0.05 for value in a]
    _add_run(store, "a", {"math": a})
    _add_run(store, "b", {"math": b})
    row = _task(build_comparison(store.read_run("a"), store.read_run("b")), "math")

    assert row["scores"] == "continuous"
    assert row["test"] == "sign-flip permutation"
    assert row["discordant"] is None
    assert row["significant"] and row["p_value"] < 0.001
    assert row["diff"] == pytest.approx(0.05)


def test_rollups_and_tasks_in_one_run_only(store: Store) -> None:
    _add_run(store, "a", {"math": [1.0, 0.0] * 20, "mental": [1.0] * 40, "kq": [0.0] * 40})
    _add_run(store, "b", {"math": [1.0] * 40, "mental": [1.0] * 40, "extra": [1.0]})
    comparison = build_comparison(store.read_run("a"), store.read_run("b"))

    assert [row["task"] for row in comparison["tasks"]] == ["math", "mental"]
    assert comparison["only_in_a"] == ["kq"] and comparison["only_in_b"] == ["extra"]
    (math_dimension,) = comparison["dimensions"]
    assert math_dimension["name"] == "math" and math_dimension["paired"] == "all"
    # Equal weights: (+0.5 + 0) / 2.
    assert math_dimension["diff"] == pytest.approx(0.25)
    assert math_dimension["significant"]
    assert math_dimension["ci95"][0] < 0.25 < math_dimension["ci95"][1]
    assert comparison["overall"]["diff"] == pytest.approx(0.25)


def test_manifest_differences_name_what_changed(store: Store) -> None:
    _add_run(store, "a", {"math": [1.0, 0.0, 1.0]})
    _add_run(
        store,
        "b",
        {"math": [1.0, 0.0, 1.0]},
        target="fake:a?temperature=1.5",
        prompt="Question: {}",
        dataset_hash="hash-2",
        method="logprob",
    )
    comparison = build_comparison(store.read_run("a"), store.read_run("b"))
    found = {(d["field"], d["task"]): d for d in comparison["manifest_differences"]}

    assert found[("target spec", None)]["b"] == "fake:a?temperature=1.5"
    assert (
        found[("generation: temperature", "math")]["a"],
        found[("generation: temperature", "math")]["b"],
    ) == ("0.0", "1.5")
    assert found[("dataset hash", "math")]["b"] == "hash-2"
    assert found[("method", "math")]["b"] == "logprob"
    assert "3 of 3 shared samples rendered differently" in found[("prompt template", "math")]["b"]
    assert ("model", None) not in found

    same = build_comparison(store.read_run("a"), store.read_run("a"))
    assert same["manifest_differences"] == []
    assert _task(same, "math")["p_value"] == 1.0 and not _task(same, "math")["significant"]


def test_page_is_offline_and_escaped(store: Store) -> None:
    _add_run(store, "a", {"math": [1.0, 0.0] * 10, "kq": [0.5] * 20})
    _add_run(store, "b", {"math": [1.0] * 20, "kq": [0.5] * 20}, target="<script>x</script>")
    page = render_comparison(build_comparison(store.read_run("a"), store.read_run("b")))

    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1
    page = page.replace(bundle, "")
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert "https://" not in page and "http://" not in page
    assert "&lt;script&gt;x" in page and "<script>x</script>" not in page
    assert 'id="fig-compare-tasks"' in page and 'id="fig-compare-rollups"' in page
    assert "exact McNemar" in page and "significant" in page


# -- through the pipeline ---------------------------------------------------------------------


def _questions(*seeds: int) -> dict[str, str]:
    return {s.input: s.target for seed in seeds for s in arithmetic_samples(seed, count=60)}


def _half_right(answers: dict[str, str]) -> FakeTarget:
    """Right on a fixed half of the items (chosen by a hash of the question), at any seed."""

    def reply(request: Request) -> str:
        right = hashlib.sha256(request.sample_input.encode()).digest()[0] % 2 == 0
        degraded = request.config.temperature > 1.0
        answer = answers[request.sample_input]
        return f" The answer is {answer if right and not degraded else int(answer) + 1}."

    return FakeTarget(reply, name="fake:half-right")


def test_two_seeds_of_a_generated_task_compare_unpaired(tmp_path: Path) -> None:
    answers = _questions(1, 2)
    for seed in (1, 2):
        spec = RunSpec(tasks=["arithmetic"], limit=60, seed=seed)
        evaluate(spec, out_dir=tmp_path, target=_half_right(answers), run_id=f"seed{seed}")
    json_path, html_path = compare("seed1", "seed2", out=tmp_path)
    row = _task(json.loads(json_path.read_text()), "arithmetic")

    assert json_path.parent == html_path.parent == tmp_path / "compare-seed1-vs-seed2"
    # Small generated item spaces: another seed may repeat an item, too few to pair on.
    assert row["paired"] is False and row["n_paired"] < 60 / 2
    assert "compared as independent samples" in row["why"]
    assert not row["significant"]
    assert row["ci95"][0] < 0 < row["ci95"][1]
    fields = {d["field"] for d in json.loads(json_path.read_text())["manifest_differences"]}
    assert {"seed", "dataset hash"} <= fields


def test_a_degraded_target_is_significantly_worse_and_explained(tmp_path: Path) -> None:
    answers = _questions(3)
    spec = RunSpec(tasks=["arithmetic"], limit=60, seed=3)
    evaluate(spec, out_dir=tmp_path, target=_half_right(answers), run_id="good")
    degraded = OverridingTarget(_half_right(answers), {"temperature": 1.5})
    evaluate(spec, out_dir=tmp_path, target=degraded, run_id="hot")
    comparison = json.loads(compare("good", "hot", out=tmp_path)[0].read_text())
    row = _task(comparison, "arithmetic")

    assert row["paired"] and row["n_paired"] == 60
    assert row["discordant"]["b_only"] == 0 and row["discordant"]["a_only"] > 20
    assert row["significant"] and row["diff"] < 0
    assert comparison["b"]["target"] == "fake:half-right?temperature=1.5"
    found = {(d["field"], d["task"]): (d["a"], d["b"]) for d in comparison["manifest_differences"]}
    assert found[("generation: temperature", "arithmetic")] == ("0.0", "1.5")
    assert ("prompt template", "arithmetic") not in found


@pytest.mark.slow
def test_builtin_model_sampled_hot_is_significantly_worse(tmp_path: Path) -> None:
    """The bundled model, greedy vs sampled hot: a real gap the paired test must find.

    top_p keeps the hot outputs short enough to be answered (hotter still, most are cut at
    max_tokens: wrong, and the share cut is tested too).
    """
    hot = "builtin?temperature=1.5&top_p=0.9"
    for run_id, target in (("greedy", "builtin"), ("hot", hot)):
        spec = RunSpec(tasks=["arithmetic"], limit=32, seed=0, target=target)
        evaluate(spec, out_dir=tmp_path, run_id=run_id)
    comparison = json.loads(compare("greedy", "hot", out=tmp_path)[0].read_text())
    row = _task(comparison, "arithmetic")

    assert row["paired"] and row["n_paired"] >= 16, row
    assert row["diff"] < 0 and row["significant"], row
    assert row["discordant"]["a_only"] > row["discordant"]["b_only"]
    assert comparison["b"]["target"] == "builtin?temperature=1.5&top_p=0.9"
    fields = {(d["field"], d["task"]) for d in comparison["manifest_differences"]}
    assert ("generation: temperature", "arithmetic") in fields
    assert ("generation: top_p", "arithmetic") in fields


# -- the command line -------------------------------------------------------------------------


def test_cli_compares_and_names_the_store_for_an_unknown_run(tmp_path: Path) -> None:
    opened = Store(f"sqlite:///{tmp_path}/assay.db")
    _add_run(opened, "a", {"math": [1.0] * 10 + [0.0] * 10, "kq": [1.0] * 20})
    _add_run(opened, "b", {"math": [1.0] * 20, "kq": [1.0] * 4 + [CUT] * 16})
    opened.close()
    command = [*assay_command(), "compare", "a", "b", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, env=subprocess_env())

    assert done.returncode == 0, done.stderr
    assert "math: B - A = +0.500 (paired n=20, p=0.00195, significant)\n" in done.stdout
    assert (
        "kq: B - A = -0.800 (paired n=20, p=3.05e-05, significant); "
        "cut 0/20 vs 16/20: +0.800 (paired n=20, p=3.05e-05, significant)"
    ) in done.stdout
    assert (tmp_path / "compare-a-vs-b" / "compare.html").is_file()

    missing = [*assay_command(), "compare", "a", "nope", "--out", str(tmp_path)]
    failed = subprocess.run(missing, capture_output=True, text=True, env=subprocess_env())
    assert failed.returncode == 2
    (line,) = failed.stderr.strip().splitlines()
    assert "'nope'" in line and "assay.db" in line and "assay list runs" in line


def test_overall_weighs_dimensions_equally_as_results_json_does(store: Store) -> None:
    # math has two tasks (+0.5 and 0), knowledge one (+1): per task the mean would be 0.5, with
    # dimensions equal it is (0.25 + 1) / 2, the definition results.json's overall uses.
    _add_run(store, "a", {"math": [1.0, 0.0] * 20, "mental": [1.0] * 40, "kq": [0.0] * 40})
    _add_run(store, "b", {"math": [1.0] * 40, "mental": [1.0] * 40, "kq": [1.0] * 40})
    a, b = store.read_run("a"), store.read_run("b")
    overall = build_comparison(a, b)["overall"]

    assert overall["diff"] == pytest.approx(0.625)
    assert overall["a"]["value"] == pytest.approx(build_results(a)["overall"]["value"])
    assert overall["b"]["value"] == pytest.approx(build_results(b)["overall"]["value"])
    assert overall["weighting"] == build_results(a)["overall"]["weighting"]
    assert sorted(overall["tasks"]) == ["kq", "math", "mental"]


def test_probe_variants_are_compared_but_roll_up_nowhere(store: Store) -> None:
    _add_run(store, "a", {"math": [1.0] * 20, "math~perturbed": [0.0] * 20})
    _add_run(store, "b", {"math": [1.0] * 20, "math~perturbed": [1.0] * 20})
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            """UPDATE tasks SET info = '{"weight": 1.0, "probe_of": "math"}'"""
            " WHERE task = 'math~perturbed'"
        )
    comparison = build_comparison(store.read_run("a"), store.read_run("b"))

    assert _task(comparison, "math~perturbed")["diff"] == pytest.approx(1.0)
    (math_dimension,) = comparison["dimensions"]
    assert math_dimension["tasks"] == ["math"] and math_dimension["diff"] == 0.0
    assert comparison["overall"]["tasks"] == ["math"]
