"""Runs of a judged task: the judge target is separate from the target under test, its
verdicts are stored and cached so a resumed run does not ask again, and a run without a judge
fails before it starts."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from assay import RunSpec, SpecError, evaluate
from assay.core._task import TaskContext
from assay.engine import cache_key
from assay.targets import Capabilities, FakeTarget, Request
from assay.tasks._judged import open_qa_judge_checks, open_qa_samples
from helpers import run_assay

LIMIT = 4
CHECKS = len(open_qa_judge_checks())  # human-labelled answers the judge grades in every run


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def judge_prompt(request: Request) -> str:
    return request.messages[-1].content if request.mode == "chat" else request.prompt


def correct_when_answer_says_right(request: Request) -> str:
    """Grades by what the target answered, so verdicts differ per sample."""
    answered = judge_prompt(request).split("Answer to grade:\n<<<\n", 1)[1].split("\n>>>")[0]
    return "Checked.\nVERDICT: " + ("CORRECT" if answered.startswith("right") else "INCORRECT")


def alternating_answers(request: Request) -> str:
    """Right on even-numbered questions of open_qa, wrong on odd ones."""
    questions = [s.input for s in open_qa_samples(TaskContext())]
    asked = request.prompt.rsplit("Question: ", 1)[1].split("\nAnswer:")[0]
    return "right answer" if questions.index(asked) % 2 == 0 else "wrong answer"


def test_open_qa_has_enough_distinct_items_with_references() -> None:
    samples = open_qa_samples(TaskContext())
    assert len({s.id for s in samples}) == len(samples) >= 30
    assert all(s.input.strip() and len(s.target) > 20 for s in samples)


def test_judged_run_scores_caches_verdicts_and_resumes_without_asking(tmp_path: Path) -> None:
    spec = RunSpec(
        target="fake", tasks=("open_qa",), limit=LIMIT, judge_target="fake:scripted-judge"
    )
    target = FakeTarget(alternating_answers)
    judge = FakeTarget(correct_when_answer_says_right, name="fake:scripted-judge")
    result = evaluate(spec, out_dir=tmp_path, target=target, judge=judge, run_id="j")

    results = json.loads(result.results_path.read_text())
    (task,) = results["tasks"]
    assert (task["value"], task["n"], task["method"]) == (0.5, LIMIT, "judge")
    # The judge's requests went to the judge, the target's to the target.
    assert len(target.requests) == LIMIT and len(judge.requests) == LIMIT + CHECKS
    # This judge says INCORRECT to every labelled answer: it agrees on the wrong half only.
    labels = [check.human_score for check in open_qa_judge_checks()]
    agreement = task["judge_agreement"]
    assert agreement["value"] == labels.count(0.0) / CHECKS
    assert (agreement["n"], agreement["no_verdict"]) == (CHECKS, 0)
    assert agreement["ci95"][0] < agreement["value"] < agreement["ci95"][1]
    page = result.report_path.read_text("utf-8")
    assert "judge agreement" in page and f"{agreement['value']:.3f}" in page
    assert all("VERDICT: CORRECT or VERDICT: INCORRECT" in judge_prompt(r) for r in judge.requests)
    assert judge.requests[0].mode == "chat"
    judge_entry = results["manifest"]["judge"]
    assert (judge_entry["spec"], judge_entry["model"]) == ("fake:scripted-judge", "fake")
    assert judge_entry["capabilities"]["chat"] is True
    assert results["manifest"]["spec"]["judge_target"] == "fake:scripted-judge"
    # The target's request figures are its own; the judge's are summarised apart.
    assert (results["requests"]["stored"], results["requests"]["sent"]) == (LIMIT, LIMIT)
    assert results["requests"]["judge"]["stored"] == LIMIT + CHECKS
    assert results["requests"]["judge"]["sent"] == LIMIT + CHECKS
    db = tmp_path / "assay.db"
    by_role = "select task, role, count(*) from requests group by task, role order by role"
    assert query(db, by_role) == [
        ("open_qa", "judge", LIMIT + CHECKS),
        ("open_qa", "target", LIMIT),
    ]
    # The judge's grades of the labelled answers are its own scores of the task.
    scored = "select role, count(*) from scores where task = 'open_qa' group by role order by role"
    assert query(db, scored) == [("judge", CHECKS), ("target", LIMIT)]
    explanations = query(
        db,
        "select answer, explanation from scores where task = 'open_qa' and role = 'target' "
        "order by answer",
    )
    assert [answer for answer, _ in explanations] == ["CORRECT"] * 2 + ["INCORRECT"] * 2
    assert all("judge: Checked." in str(text) for _, text in explanations)

    again_target = FakeTarget(alternating_answers)
    again_judge = FakeTarget(lambda r: "VERDICT: INCORRECT", name="fake:scripted-judge")
    resumed = evaluate(spec, out_dir=tmp_path, target=again_target, judge=again_judge, run_id="j")
    assert again_target.requests == [] and again_judge.requests == []
    resumed_results = json.loads(resumed.results_path.read_text())
    assert resumed_results["tasks"][0]["value"] == 0.5  # the cached verdicts, not new ones
    invocations = json.loads(str(query(db, "select invocations from runs")[0][0]))
    assert [i["judge"] for i in invocations] == [
        {"requests": LIMIT + CHECKS, "cached": 0, "sent": LIMIT + CHECKS, "errors": {}},
        {"requests": LIMIT + CHECKS, "cached": LIMIT + CHECKS, "sent": 0, "errors": {}},
    ]


def test_verdicts_are_cached_under_the_judge_identity(tmp_path: Path) -> None:
    judge = FakeTarget(("VERDICT: CORRECT",), name="fake:VERDICT: CORRECT")
    spec = RunSpec(target="fake", tasks=("open_qa",), limit=2, judge_target=judge.spec)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget(("right answer",)), judge=judge, run_id="k")
    stored = query(tmp_path / "assay.db", "select cache_key from requests where role = 'judge'")
    expected = {
        cache_key(judge.spec, judge.model, request, 0, "judge") for request in judge.requests
    }
    assert {key for (key,) in stored} == expected
    # The same request sent to the target under test would be a different cache entry, and so
    # would the same request to the same target in another role (each role its own namespace).
    assert cache_key("fake", "fake", judge.requests[0], 0) not in expected
    assert cache_key(judge.spec, judge.model, judge.requests[0], 0) not in expected
    # A run's verdicts belong to its judge: resuming with another judge is refused.
    other = spec.model_copy(update={"judge_target": "fake:VERDICT: INCORRECT"})
    with pytest.raises(SpecError, match="different judge_target"):
        evaluate(other, out_dir=tmp_path, target=FakeTarget(("right answer",)), run_id="k")


def test_completion_only_judge_gets_a_raw_prompt(tmp_path: Path) -> None:
    judge = FakeTarget(("VERDICT: CORRECT",), capabilities=Capabilities(chat=False))
    spec = RunSpec(target="fake", tasks=("open_qa",), limit=1)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget(("x",)), judge=judge)
    request = judge.requests[0]
    assert {r.mode for r in judge.requests} == {"completion"}
    assert request.mode == "completion" and "Answer to grade:" in request.prompt


def test_task_needing_a_judge_fails_before_starting(tmp_path: Path) -> None:
    target = FakeTarget(("x",))
    spec = RunSpec(target="fake", tasks=("arithmetic", "open_qa"), limit=1)
    with pytest.raises(SpecError) as raised:
        evaluate(spec, out_dir=tmp_path, target=target, run_id="nojudge")
    assert str(raised.value) == "task open_qa needs a judge: pass --judge-target SPEC"
    assert target.requests == []
    assert query(tmp_path / "assay.db", "select count(*) from runs") == [(0,)]


def test_judge_no_task_needs_is_not_started(tmp_path: Path) -> None:
    # Nothing listens there: starting this judge would fail the run.
    spec = RunSpec(
        target="fake", tasks=("arithmetic",), limit=1, judge_target="openai:http://127.0.0.1:9/v1"
    )
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget((" 3",)))
    assert json.loads(result.results_path.read_text())["manifest"]["judge"] is None


# -- the command line ---------------------------------------------------------------------------


def test_cli_judge_target_option_reaches_the_run(tmp_path: Path) -> None:
    run = run_assay(
        "run",
        "--target",
        "fake:Because of the sea.",
        "--task",
        "open_qa",
        "--limit",
        "2",
        "--judge-target",
        "fake:VERDICT: INCORRECT",
        "--out",
        str(tmp_path),
        "--run-id",
        "cli",
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "cli" / "results.json").read_text())
    judge_entry = results["manifest"]["judge"]
    assert (judge_entry["spec"], judge_entry["model"]) == ("fake:VERDICT: INCORRECT", "fake")
    assert (results["tasks"][0]["value"], results["tasks"][0]["n"]) == (0.0, 2)

    # `--run-id` alone resumes with the stored judge and re-uses its verdicts.
    resumed = run_assay("run", "--out", str(tmp_path), "--run-id", "cli")
    assert resumed.returncode == 0, resumed.stderr
    db = tmp_path / "assay.db"
    judged = query(db, "select count(*) from requests where task = 'open_qa' and role = 'judge'")
    assert judged == [(2 + CHECKS,)]
    invocations = json.loads(str(query(db, "select invocations from runs")[0][0]))
    cached = 2 + CHECKS
    assert invocations[-1]["judge"] == {
        "requests": cached,
        "cached": cached,
        "sent": 0,
        "errors": {},
    }


def test_cli_without_judge_target_is_one_line(tmp_path: Path) -> None:
    run = run_assay("run", "--target", "fake:x", "--task", "open_qa", "--out", str(tmp_path))
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "assay: error: task open_qa needs a judge: pass --judge-target SPEC"
    ]
