"""Truthfulness tasks: TruthfulQA loading (local copy and hub layout), MC1/MC2 scoring from
likelihoods, the lettered fallback, and the hand-written misconception items."""

from __future__ import annotations

import json
import math
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay._errors import DatasetError, SpecError
from assay.core import TokenLogprob
from assay.solvers._likelihood import QA_PRIMER, shuffled_order
from assay.targets import Capabilities, FakeTarget, Request, Response
from assay.tasks import TaskContext, get_task
from helpers import SHARED_DATA, have_data, needs_data

LOGPROBS = Capabilities(logprobs=True, streaming=True)

# Two questions in the upstream mc_task.json layout; the second lists a true answer last.
QUESTIONS = [
    {
        "question": "What colour is the sky on a clear day?",
        "mc1_targets": {"Blue.": 1, "Green.": 0, "Red.": 0},
        "mc2_targets": {"Blue.": 1, "Light blue.": 1, "Green.": 0, "Red.": 0},
    },
    {
        "question": "How many legs does a spider have?",
        "mc1_targets": {"Eight.": 1, "Six.": 0},
        "mc2_targets": {"Six.": 0, "Ten.": 0, "Eight.": 1},
    },
]


def write_local(root: Path, questions: list[dict[str, Any]]) -> Path:
    path = root / "truthfulqa" / "v1_817" / "mc_task.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(questions))
    return root


def run(
    name: str, target: FakeTarget, tmp_path: Path, data_dir: Path, limit: int | None = None
) -> dict[str, Any]:
    spec = RunSpec(target="fake", tasks=(name,), limit=limit, data_dir=str(data_dir))
    result = evaluate(spec, target=target, out_dir=tmp_path / "out")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    return dict(task)


def scripted(logprob_of: dict[str, float]) -> FakeTarget:
    """Answers each likelihood request with the scripted log-probability of its continuation."""

    def answer(request: Request) -> Response:
        continuation = request.config.continuation
        assert continuation is not None and continuation.startswith(" ")
        assert request.prompt.startswith(QA_PRIMER) and request.prompt.endswith("\nA:")
        value = logprob_of[continuation[1:]]
        # Split over two tokens: the scorer must sum them.
        halves = (TokenLogprob("a", value / 2), TokenLogprob("b", value / 2))
        return Response(finish_reason="stop", logprobs=halves)

    return FakeTarget(answer, capabilities=LOGPROBS)


# -- the data ------------------------------------------------------------------------------------


@needs_data
def test_the_classic_817_questions_load_with_one_true_answer_in_mc1() -> None:
    context = TaskContext(data_dir=SHARED_DATA)
    mc1 = list(get_task("truthfulqa_mc1").dataset(context))
    mc2 = list(get_task("truthfulqa_mc2").dataset(context))
    assert len(mc1) == len(mc2) == 817
    assert mc1[0].input == "What happens if you eat a pomegranate?"
    for sample in mc1:
        labels = sample.metadata["labels"]
        assert labels.count(1) == 1 and len(labels) == len(sample.choices) >= 2
        assert sample.target == sample.choices[labels.index(1)]
    assert all(1 in s.metadata["labels"] and 0 in s.metadata["labels"] for s in mc2)
    assert max(len(s.choices) for s in mc1) == 13
    again = get_task("truthfulqa_mc1").dataset(context)
    assert [s.id for s in again] == [s.id for s in mc1]
    for name in ("truthfulqa_mc1", "truthfulqa_mc2", "truthful_mcq"):
        task = get_task(name)
        assert task.dimension == "truthfulness"
    assert "QA primer" in get_task("truthfulqa_mc1").description


def test_hub_layout_gives_the_same_samples_as_the_local_copy(hub: Path, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    rows = [
        {
            "question": q["question"],
            **{
                field: {"choices": list(q[field]), "labels": list(q[field].values())}
                for field in ("mc1_targets", "mc2_targets")
            },
        }
        for q in QUESTIONS
    ]
    repo = hub / "truthfulqa" / "truthful_qa"
    (repo / "multiple_choice").mkdir(parents=True)
    parquet.write_table(
        pyarrow.Table.from_pylist(rows),
        str(repo / "multiple_choice" / "validation-00000-of-00001.parquet"),
    )
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: multiple_choice\n  data_files:\n"
        "  - split: validation\n    path: multiple_choice/validation-*\n---\n"
    )
    local = TaskContext(data_dir=write_local(tmp_path / "data", QUESTIONS))
    remote = TaskContext(data_dir=tmp_path / "nothing-here")
    for name in ("truthfulqa_mc1", "truthfulqa_mc2"):
        from_hub = get_task(name).dataset(remote)
        from_disk = get_task(name).dataset(local)
        assert [s.id for s in from_hub] == [s.id for s in from_disk]
        assert len(from_hub) == 2


def test_malformed_rows_are_named(tmp_path: Path) -> None:
    two_true = [{**QUESTIONS[0], "mc1_targets": {"Blue.": 1, "Azure.": 1}}]
    root = write_local(tmp_path / "a", two_true)
    with pytest.raises(DatasetError, match=r"mc_task.json item 1: .*exactly one answer"):
        get_task("truthfulqa_mc1").dataset(TaskContext(data_dir=root))
    no_question = [{"mc1_targets": {"Blue.": 1, "Red.": 0}}]
    root = write_local(tmp_path / "b", no_question)
    with pytest.raises(DatasetError, match="item 1: field 'question' is missing"):
        get_task("truthfulqa_mc1").dataset(TaskContext(data_dir=root))
    (tmp_path / "c" / "truthfulqa").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"truthfulqa: .*v1_817/mc_task.json not found"):
        get_task("truthfulqa_mc1").dataset(TaskContext(data_dir=tmp_path / "c"))


# -- scoring ----------------------------------------------------------------------------------


def test_mc2_run_scores_the_true_mass_from_scripted_likelihoods(tmp_path: Path) -> None:
    likelihood = {"Blue.": -1.0, "Light blue.": -2.0, "Green.": -3.0, "Red.": -4.0}
    likelihood |= {"Six.": -0.5, "Ten.": -3.0, "Eight.": -1.5}
    target = scripted(likelihood)
    task = run("truthfulqa_mc2", target, tmp_path, write_local(tmp_path / "data", QUESTIONS))
    sky = sum(math.exp(v) for v in (-1.0, -2.0)) / sum(
        math.exp(v) for v in (-1.0, -2.0, -3.0, -4.0)
    )
    spider = math.exp(-1.5) / sum(math.exp(v) for v in (-0.5, -3.0, -1.5))
    assert task["method"] == "logprob"
    assert task["n"] == 2 and task["errors"] == 0
    assert task["value"] == pytest.approx((sky + spider) / 2)
    assert len(target.requests) == 7  # one likelihood request per answer


def test_mc1_run_is_right_only_when_the_true_answer_is_most_likely(tmp_path: Path) -> None:
    likelihood = {"Blue.": -1.0, "Green.": -3.0, "Red.": -4.0, "Eight.": -2.0, "Six.": -1.0}
    task = run(
        "truthfulqa_mc1", scripted(likelihood), tmp_path, write_local(tmp_path / "d", QUESTIONS)
    )
    assert (task["method"], task["n"], task["value"]) == ("logprob", 2, 0.5)


def test_mc2_without_logprobs_says_which_capability_is_missing(tmp_path: Path) -> None:
    target = FakeTarget(["A"], capabilities=Capabilities(streaming=True))
    with pytest.raises(SpecError, match=r"truthfulqa_mc2 needs answer likelihoods.*logprobs=False"):
        run("truthfulqa_mc2", target, tmp_path, write_local(tmp_path / "data", QUESTIONS))


def test_mc1_without_logprobs_asks_for_a_letter_in_shuffled_order(tmp_path: Path) -> None:
    data = write_local(tmp_path / "data", QUESTIONS)
    samples = get_task("truthfulqa_mc1").dataset(TaskContext(data_dir=data))
    truth = {}
    for sample in samples:
        order = shuffled_order(sample)
        assert sorted(order) == list(range(len(sample.choices)))
        truth[sample.input] = "ABC"[order.index(0)]  # upstream lists the true answer first

    def answer(request: Request) -> str:
        assert request.config.continuation is None
        question = next(q for q in truth if f"Q: {q}\n" in request.prompt)
        return f" {truth[question]}"

    target = FakeTarget(answer, capabilities=Capabilities(streaming=True))
    task = run("truthfulqa_mc1", target, tmp_path, data)
    assert (task["method"], task["n"], task["value"]) == ("generate", 2, 1.0)
    prompt = target.requests[0].prompt
    assert prompt.endswith("\nAnswer:") and "\nA. " in prompt and "\nC. " in prompt
    # Across the 817 real questions the true answer is not parked on one letter.
    if have_data():
        real = get_task("truthfulqa_mc1").dataset(TaskContext(data_dir=SHARED_DATA))
        first = Counter(shuffled_order(s).index(0) for s in real)
        assert max(first.values()) < 0.4 * len(real)


# -- the hand-written items -------------------------------------------------------------------


def test_truthful_mcq_items_are_well_formed_and_balanced() -> None:
    lines = files("assay.suites").joinpath("data/truthful_mcq.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in lines.splitlines()]
    assert len(rows) >= 40
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"id", "subject", "question", "choices", "answer"}
        assert len(row["choices"]) == len(set(row["choices"])) == 4
        assert row["answer"] in "ABCD" and row["question"].endswith("?")
    letters = Counter(r["answer"] for r in rows)
    assert set(letters) == set("ABCD") and max(letters.values()) - min(letters.values()) <= 1
    knowledge = files("assay.suites").joinpath("data/knowledge_mcq.jsonl").read_text("utf-8")
    assert not {r["question"] for r in rows} & {
        json.loads(line)["question"] for line in knowledge.splitlines()
    }
    samples = get_task("truthful_mcq").dataset(TaskContext())
    assert [s.id for s in samples] == [r["id"] for r in rows]


def test_truthful_mcq_runs_like_knowledge_mcq(tmp_path: Path) -> None:
    target = FakeTarget(["B"], capabilities=Capabilities(streaming=True))
    task = run("truthful_mcq", target, tmp_path, tmp_path, limit=8)
    assert task["method"] == "generate" and task["n"] == 8
    rows = get_task("truthful_mcq").dataset(TaskContext())[:8]
    assert task["value"] == pytest.approx(sum(r.target == "B" for r in rows) / 8)


# -- on the bundled model -----------------------------------------------------------------------


@pytest.mark.slow
@needs_data
def test_truthfulqa_mc1_on_builtin_scores_by_logprob(tmp_path: Path) -> None:
    spec = RunSpec(target="builtin", tasks=("truthfulqa_mc1",), limit=3, data_dir=str(SHARED_DATA))
    result = evaluate(spec, out_dir=tmp_path)
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert task["method"] == "logprob"
    assert (task["n"], task["errors"]) == (3, 0)
    assert 0.0 <= task["value"] <= 1.0
