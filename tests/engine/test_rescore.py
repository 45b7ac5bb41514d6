"""`assay rescore`: a stored run scored again from its stored answers, sending nothing; the
tasks' current scorers decide, and the store's scores and metrics are replaced."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assay import RunSpec, evaluate
from assay._api import rescore
from assay._errors import ErrorClass, SpecError, TargetError
from assay.core import Score, State, _task
from assay.targets import FakeTarget, Request
from assay.tasks._quick import arithmetic
from helpers import QUESTION, run_assay

LIMIT = 8


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(sql).fetchall()
        conn.commit()
        return rows


def execute(db: Path, sql: str) -> None:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute(sql)
        conn.commit()


def some_right(request: Request) -> str:
    """Right on questions of even length, " 0" on the others; a 4xx for some with a 7."""
    question = QUESTION.findall(request.prompt)[-1]
    if "7" in question and len(question) % 3 == 0:
        raise TargetError("refused by policy", error_class=ErrorClass.HTTP_4XX, status=400)
    return " 0" if len(question) % 2 else " " + str(right_answer(question))


def right_answer(question: str) -> str:
    from assay.tasks._quick import arithmetic_samples

    return next(s.target for s in arithmetic_samples(0) if s.input == question)


def task_results(path: Path) -> list[dict[str, object]]:
    return [
        {k: t[k] for k in ("task", "value", "ci95", "n", "errors", "error_classes")}
        for t in json.loads(path.read_text())["tasks"]
    ]


def test_rescore_reproduces_a_run_from_the_store_alone(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=LIMIT)
    first = evaluate(spec, out_dir=tmp_path, target=FakeTarget(some_right), run_id="r")
    before = task_results(first.results_path)
    db = tmp_path / "assay.db"
    requests = rows(db, "select count(*) from requests")
    execute(db, "delete from metrics")
    execute(db, "update scores set value = null, outcome = 'error', error_class = 'x'")

    again = rescore("r", out_dir=tmp_path)

    assert task_results(again.results_path) == before
    assert before[0]["n"] > 0 and 0 < float(str(before[0]["value"])) < 1
    assert rows(db, "select count(*) from requests") == requests  # nothing was sent
    assert (again.outcome.requests_sent, again.outcome.requests_cached) == (0, LIMIT)
    invocations = json.loads(str(rows(db, "select invocations from runs")[0][0]))
    assert invocations[-1]["rescore"] is True and invocations[-1]["sent"] == 0
    # A failed request is replayed as the same failure, not as a missing answer.
    errors = rows(db, "select error_class from scores where outcome = 'error'")
    assert errors and {e for (e,) in errors} == {"http_4xx"}


def test_rescore_applies_the_current_scorer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=LIMIT)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget((" 0",)), run_id="r")

    async def lenient(state: State) -> Score:
        return Score(1.0, answer="anything")

    monkeypatch.setitem(_task._TASKS, "arithmetic", lambda: replace(arithmetic(), scorer=lenient))
    again = rescore("r", out_dir=tmp_path)
    (task,) = task_results(again.results_path)
    assert (task["value"], task["n"]) == (1.0, LIMIT)
    db = tmp_path / "assay.db"
    assert rows(db, "select value, n from metrics") == [(1.0, LIMIT)]


def test_an_answer_missing_from_the_store_is_a_not_stored_error(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=LIMIT)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget((" 0",)), run_id="r")
    db = tmp_path / "assay.db"
    execute(db, "delete from requests where id = (select min(id) from requests)")

    again = rescore("r", out_dir=tmp_path)
    (task,) = task_results(again.results_path)
    assert (task["n"], task["errors"], task["error_classes"]) == (
        LIMIT - 1,
        1,
        {"not_stored": 1},
    )


def test_rescore_of_an_unknown_run_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="run 'nope' is not in the store: nothing to rescore"):
        rescore("nope", out_dir=tmp_path)


def test_cli_rescore(tmp_path: Path) -> None:
    made = run_assay(
        "run", "--target", "fake: 3", "--task", "arithmetic", "--limit", "3",
        "--out", str(tmp_path), "--run-id", "c",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    again = run_assay("rescore", "c", "--out", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "arithmetic" in again.stdout and "report:" in again.stdout
    missing = run_assay("rescore", "nope", "--out", str(tmp_path))
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "assay: error: run 'nope' is not in the store: nothing to rescore"
    ]


def test_rescore_replays_the_judge_from_its_own_namespace(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("open_qa",), limit=4, judge_target="fake:judge")
    judge = FakeTarget(
        lambda r: "VERDICT: " + ("CORRECT" if len(r.messages[-1].content) % 2 else "INCORRECT"),
        name="fake:judge",
    )
    first = evaluate(spec, out_dir=tmp_path, target=FakeTarget(("an answer",)), judge=judge)
    run_id = first.outcome.run_id
    before = json.loads(first.results_path.read_text())["tasks"][0]

    again = rescore(run_id, out_dir=tmp_path)
    after = json.loads(again.results_path.read_text())["tasks"][0]
    assert (after["value"], after["judge_agreement"]) == (
        before["value"],
        before["judge_agreement"],
    )
    invocations = json.loads(str(rows(tmp_path / "assay.db", "select invocations from runs")[0][0]))
    assert invocations[-1]["judge"]["sent"] == 0
    assert invocations[-1]["judge"]["cached"] == invocations[0]["judge"]["requests"]
