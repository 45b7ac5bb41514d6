"""The pipeline with a scripted target: deterministic scores, caching, error handling."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from assay import RunSpec, evaluate
from assay._errors import ErrorClass
from assay.core import Sample, _task, scorer_metrics
from assay.core._task import TaskContext, get_task, send_order
from assay.engine import cache_key
from assay.engine._run import Runner, plan_tasks
from assay.store import Store
from assay.targets import Capabilities, FakeTarget, GenerateConfig, Request, Response
from assay.tasks._quick import arithmetic, arithmetic_samples
from helpers import SHARED_DATA, needs_data


def _answers_every_other(request: Request) -> str:
    """Right on even-numbered items of the task, wrong on odd ones."""
    samples = {s.input: s for s in arithmetic_samples(0, 40)}
    question = request.prompt.rsplit("Question: ", 1)[1].split("\nAnswer:")[0]
    sample = samples[question]
    index = list(samples).index(question)
    return f" The answer is {sample.target if index % 2 == 0 else int(sample.target) + 1}."


def test_scores_are_exact_and_stored(tmp_path: Path) -> None:
    target = FakeTarget(_answers_every_other, capabilities=Capabilities(streaming=True))
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=40)
    result = evaluate(spec, out_dir=tmp_path, target=target, run_id="r1")
    results = json.loads(result.results_path.read_text())
    (task,) = results["tasks"]
    assert task["value"] == 0.5
    assert task["n"] == 40
    assert task["ci95"][0] < 0.5 < task["ci95"][1]
    assert task["method"] == "generate"
    assert results["requests"] == {
        "total": 40,
        "cached": 0,
        "sent": 40,
        "errors": {},
        "retried": {},
        "stored": 40,
        "invocations": 1,
    }
    assert set(results["serving"]) == {"ttft_s", "itl_s", "output_tokens_per_s", "e2e_s"}
    assert result.report_path.read_text().count("arithmetic") >= 1
    # Completion mode was chosen (the target offers it) with the task's generation config.
    assert target.requests[0].mode == "completion"
    assert target.requests[0].config.max_tokens == 48


def test_chat_only_target_gets_messages(tmp_path: Path) -> None:
    target = FakeTarget((" B",), capabilities=Capabilities(completion=False))
    spec = RunSpec(target="fake", tasks=("knowledge_mcq",), limit=5)
    results = json.loads(evaluate(spec, out_dir=tmp_path, target=target).results_path.read_text())
    assert target.requests[0].mode == "chat"
    assert target.requests[0].messages[-1].role == "user"
    assert "Reply with the letter" in target.requests[0].messages[-1].content
    assert results["tasks"][0]["method"] == "generate"


def test_rerun_uses_the_store_and_rescoring_sends_nothing(tmp_path: Path) -> None:
    target = FakeTarget((" The answer is 3.",))
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=10)
    evaluate(spec, out_dir=tmp_path, target=target, run_id="again")
    again = FakeTarget((" The answer is 3.",))
    result = evaluate(spec, out_dir=tmp_path, target=again, run_id="again")
    assert again.requests == []
    requests = json.loads(result.results_path.read_text())["requests"]
    assert (requests["total"], requests["cached"], requests["sent"]) == (10, 10, 0)
    assert requests["invocations"] == 2


def test_errors_are_counted_not_scored(tmp_path: Path) -> None:
    def flaky(request: Request) -> str | Response:
        if "marbles" in request.prompt.rsplit("Question:", 1)[1]:
            return Response(error=ErrorClass.CONTENT_FILTER, error_detail="filtered")
        return " The answer is 1."

    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=60)
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(flaky), run_id="e")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    scores = store.read_run("e").scores
    store.close()
    errored = [s for s in scores if s["outcome"] == "error"]
    assert errored and all(s["value"] is None for s in errored)
    assert task["errors"] == len(errored)
    assert task["n"] == 60 - len(errored)
    assert task["error_classes"] == {"content_filter": len(errored)}


def right_cut_or_filtered(request: Request) -> str | Response:
    """By item index mod 3: the right answer; an output cut at max_tokens before any answer;
    a request refused by a content filter."""
    samples = {s.input: s for s in arithmetic_samples(0, 40)}
    question = request.prompt.rsplit("Question: ", 1)[1].split("\nAnswer:")[0]
    index = list(samples).index(question)
    if index % 3 == 1:
        return Response(text=" Let me add the first two numbers and then", finish_reason="length")
    if index % 3 == 2:
        return Response(error=ErrorClass.CONTENT_FILTER, error_detail="filtered")
    return f" The answer is {samples[question].target}."


def test_a_cut_answer_is_wrong_and_counted_apart_from_errors(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=30)
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(right_cut_or_filtered), run_id="c")
    results = json.loads(result.results_path.read_text())
    (task,) = results["tasks"]

    # 10 right, 10 cut, 10 filtered: n counts the 20 answered, cut ones as wrong.
    assert (task["n"], task["value"]) == (20, 0.5)
    assert (task["truncated"], task["truncated_share"]) == (10, 0.5)
    assert (task["errors"], task["error_classes"]) == (10, {"content_filter": 10})
    assert task["method"] == "generate"
    assert results["dimensions"][0]["value"] == 0.5 and results["overall"]["value"] == 0.5
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    cut = [s for s in store.read_run("c").scores if s["outcome"] == "truncated"]
    store.close()
    assert len(cut) == 10 and {(s["value"], s["error_class"]) for s in cut} == {(0.0, None)}
    html = result.report_path.read_text()
    assert ">Cut</th>" in html and "10 (50.0%)" in html and "0.000 (cut at max_tokens)" in html


def test_cache_key_covers_what_changes_the_answer() -> None:
    base = Request("completion", GenerateConfig(seed=1), prompt="p")
    key = cache_key("t", "m", base, 0)
    assert key == cache_key(
        "t", "m", Request("completion", GenerateConfig(seed=1), prompt="p", sample_id="other"), 0
    )
    variants = [
        cache_key("t2", "m", base, 0),
        cache_key("t", "m2", base, 0),
        cache_key("t", "m", base, 1),
        cache_key("t", "m", Request("completion", GenerateConfig(seed=2), prompt="p"), 0),
        cache_key(
            "t", "m", Request("completion", GenerateConfig(seed=1, temperature=1.0), prompt="p"), 0
        ),
        cache_key("t", "m", Request("completion", GenerateConfig(seed=1), prompt="q"), 0),
    ]
    assert len({key, *variants}) == len(variants) + 1


def test_samples_sharing_a_prefix_are_sent_together_in_dataset_order() -> None:
    samples = [Sample(f"q{i}", "1", metadata={"subject": s}) for i, s in enumerate("abcabca")]
    grouped = replace(arithmetic(), prefix_group=lambda sample: sample.metadata["subject"])

    assert [s.input for s in send_order(grouped, samples)] == [
        "q0", "q3", "q6", "q1", "q4", "q2", "q5"
    ]  # fmt: skip
    assert send_order(arithmetic(), samples) == samples


def test_a_repeated_item_runs_once_at_its_first_position(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = arithmetic_samples(0)[:3]
    repeated = (first, second, first, third, second)
    task = replace(arithmetic(), name="repeats", dataset=lambda ctx: repeated)
    monkeypatch.setitem(_task._TASKS, "repeats", lambda: task)
    [whole] = plan_tasks(RunSpec(target="fake", tasks=("repeats",)))
    assert whole.samples == (first, second, third)
    [limited] = plan_tasks(RunSpec(target="fake", tasks=("repeats",), limit=2))
    assert limited.samples == (first, second)


@needs_data
def test_limit_takes_the_first_distinct_items_of_a_file_with_repeats() -> None:
    ids = [s.id for s in get_task("mmlu").dataset(TaskContext(data_dir=SHARED_DATA))]
    assert len(set(ids)) < len(ids)  # the MMLU test files repeat some questions
    spec = RunSpec(target="fake", tasks=("mmlu",), limit=200, data_dir=str(SHARED_DATA))
    [planned] = plan_tasks(spec)
    assert [s.id for s in planned.samples] == list(dict.fromkeys(ids))[:200]


def test_a_finished_run_has_its_metrics_in_the_store_before_any_report(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        target = FakeTarget(_answers_every_other)
        spec = RunSpec(target="fake", tasks=("arithmetic",), limit=40, epochs=2)
        asyncio.run(Runner(spec, store, "m", target=target, progress=False).run())
        (row,) = store.read_run("m").metrics
    finally:
        store.close()
    assert not [path for path in tmp_path.rglob("*") if path.suffix in (".json", ".html")]
    assert (row["task"], row["metric"], row["value"], row["n"], row["errors"]) == (
        "arithmetic",
        "accuracy",
        0.5,
        80,
        0,
    )
    assert row["ci_low"] < 0.5 < row["ci_high"]
    assert row["detail"]["truncated"] == 0 and row["detail"]["samples_planned"] == 40


def test_each_task_records_how_its_solvers_and_scorer_were_built(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        spec = RunSpec(target="fake", tasks=("arithmetic",), limit=2)
        asyncio.run(Runner(spec, store, "b", target=FakeTarget((" 3",)), progress=False).run())
        (task,) = store.read_run("b").tasks
    finally:
        store.close()
    info = task["info"]
    assert info["scorer"] == {"name": "numeric_match", "args": {}}
    assert [step["name"] for step in info["solvers"]] == ["prompt_template", "generate_step"]
    assert info["solvers"][0]["args"]["template"] == "Question: {input}\nAnswer:"
    assert info["metrics"] == ["mean"]
    assert scorer_metrics(get_task("code_gen").scorer) == ("mean", "pass_at_k")
    # A scorer that runs code makes its task need the sandbox; the task does not repeat it.
    assert get_task("code_gen").needs_sandbox and not get_task("arithmetic").needs_sandbox
