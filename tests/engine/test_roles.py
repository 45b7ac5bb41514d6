"""Role targets: a task that needs a role besides the target under test (here an attacker, as
safety tasks will) gets that role's own target, executor, cache namespace, counters and stored
requests, by the same engine path the judge takes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from assay import RunSpec, SpecError
from assay.core import Generate, Score, State, _task
from assay.engine import cache_key
from assay.engine._run import Runner
from assay.store import Store
from assay.targets import FakeTarget, GenerateConfig, Request
from assay.tasks._quick import arithmetic

LIMIT = 5


async def attacked(state: State, generate: Generate) -> State:
    """Asks the attacker to rewrite the question, then sends the rewrite to the target."""
    attack = await state.ask["attacker"](f"Rewrite: {state.sample.input}", GenerateConfig())
    return await generate(replace(state, prompt=f"{attack.text}\nAnswer:"))


async def echoed(state: State) -> Score:
    assert state.output is not None
    return Score(float(state.output.text.startswith("ATTACK")), answer=state.output.text)


@pytest.fixture(autouse=True)
def attacked_task(monkeypatch: pytest.MonkeyPatch) -> None:
    task = replace(
        arithmetic(), name="attacked", solvers=(attacked,), scorer=echoed, roles=("attacker",)
    )
    monkeypatch.setitem(_task._TASKS, "attacked", lambda: task)


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def run(tmp_path: Path, target: FakeTarget, attacker: FakeTarget | None, spec: RunSpec) -> Runner:
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    roles = {"attacker": attacker} if attacker is not None else None
    runner = Runner(spec, store, "r", target=target, progress=False, roles=roles)
    try:
        asyncio.run(runner.run())
    finally:
        store.close()
    return runner


def reply_to_attack(request: Request) -> str:
    return request.prompt.split("\n", 1)[0]  # the attack, as the target "complies"


def test_an_attacker_role_has_its_own_target_counters_cache_and_rows(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("attacked",), limit=LIMIT, attacker_target="fake:atk")
    attacker = FakeTarget(lambda r: "ATTACK " + r.messages[-1].content[-12:], name="fake:atk")
    target = FakeTarget(reply_to_attack, max_concurrency=4)
    runner = run(tmp_path, target, attacker, spec)

    assert len(attacker.requests) == len(target.requests) == LIMIT
    assert all(r.prompt.startswith("ATTACK ") for r in target.requests)
    # Each role its own executor: the target's limit is its own, not shared with the attacker.
    assert runner.roles["target"].executor.limit.maximum == 4
    assert runner.roles["attacker"].executor.limit.maximum == spec.concurrency
    db = tmp_path / "assay.db"
    assert rows(db, "select role, count(*) from requests group by role order by role") == [
        ("attacker", LIMIT),
        ("target", LIMIT),
    ]
    assert rows(db, "select distinct task, role from scores") == [("attacked", "target")]
    assert rows(db, "select value from metrics") == [(1.0,)]
    keys = {key for (key,) in rows(db, "select cache_key from requests where role='attacker'")}
    assert keys == {cache_key("fake:atk", "fake", r, 0, "attacker") for r in attacker.requests}
    (invocations, manifest) = rows(db, "select invocations, manifest from runs")[0]
    last = json.loads(str(invocations))[-1]
    assert (last["requests"], last["sent"]) == (LIMIT, LIMIT)  # the target's own figures
    assert last["attacker"] == {"requests": LIMIT, "cached": 0, "sent": LIMIT, "errors": {}}
    assert "judge" not in last
    recorded = json.loads(str(manifest))
    assert (recorded["attacker"]["spec"], recorded["judge"]) == ("fake:atk", None)

    # Resumed: every role answers from its own cache namespace; nothing is sent again.
    again_attacker, again_target = FakeTarget(("x",), name="fake:atk"), FakeTarget(("y",))
    resumed = run(tmp_path, again_target, again_attacker, spec)
    assert again_attacker.requests == [] and again_target.requests == []
    assert resumed.roles["attacker"].counters.cached == LIMIT
    assert resumed.roles["target"].counters.cached == LIMIT


def test_a_task_needing_a_role_the_run_lacks_fails_before_starting(tmp_path: Path) -> None:
    target = FakeTarget(("x",))
    with pytest.raises(SpecError) as raised:
        run(tmp_path, target, None, RunSpec(target="fake", tasks=("attacked",), limit=1))
    assert str(raised.value) == "task attacked needs an attacker: pass --attacker-target SPEC"
    assert target.requests == []


def test_refused_and_complied_scores_enter_the_metric_and_are_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety outcomes: both are verdicts (in the metric, with the value the scorer gives),
    counted apart in the task's result; an error stays out of both."""

    async def verdict(state: State) -> Score:
        assert state.output is not None
        if state.output.text == "no":
            return Score(1.0, outcome="refused")
        if state.output.text == "ok":
            return Score(0.0, outcome="complied_harmful")
        return Score(None, outcome="error", error_class="judge_unparseable")

    task = replace(arithmetic(), name="verdicts", scorer=verdict)
    monkeypatch.setitem(_task._TASKS, "verdicts", lambda: task)
    spec = RunSpec(target="fake", tasks=("verdicts",), limit=6)
    run(tmp_path, FakeTarget(("no", "ok", "no", "??", "no", "ok")), None, spec)
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        (row,) = store.read_run("r").metrics
    finally:
        store.close()
    assert (row["value"], row["n"], row["errors"]) == (0.6, 5, 1)
    assert row["detail"]["verdicts"] == {"refused": 3, "complied_harmful": 2}
