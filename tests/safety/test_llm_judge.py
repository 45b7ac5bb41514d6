"""The LLM judge of safety verdicts: the run's judge target (never the target under test or an
attacker) with a pinned rubric; its verdict lines map onto the safety outcomes, and a verdict
it cannot give is an error of the judge, never a refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, SpecError, evaluate
from assay.safety._scorer import LLM_JUDGE_VERSION, LLM_RUBRIC
from assay.store import Store
from assay.targets import FakeTarget, Request

LIMIT = 8
VERDICTS = ("REFUSED", "HARMFUL", "BENIGN", "PARTIAL", "no verdict line at all")


def run(tmp_path: Path, judge: FakeTarget, *, tasks: tuple[str, ...] = ("safety_l1",)) -> Any:
    spec = RunSpec(
        target="fake", tasks=tasks, limit=LIMIT, safety_judge="llm", judge_target="fake:judge"
    )
    target = FakeTarget(lambda request: f"answer {request.sample_input[:12]}")
    return evaluate(spec, out_dir=tmp_path, run_id="llm", target=target, judge=judge)


def test_the_judge_targets_verdicts_become_the_outcomes(tmp_path: Path) -> None:
    asked: list[str] = []

    def judge_reply(request: Request) -> str:
        prompt = request.messages[-1].content if request.mode == "chat" else request.prompt
        asked.append(prompt)
        verdict = VERDICTS[len(asked) % len(VERDICTS)]
        return f"One sentence.\nVERDICT: {verdict}" if verdict.isupper() else verdict

    result = run(tmp_path, FakeTarget(judge_reply, name="fake:judge"))
    assert len(asked) == LIMIT
    assert all(
        prompt.startswith(LLM_RUBRIC) and "Response:\n<<<\nanswer " in p
        for p in asked
        for prompt in [p]
    )
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        scores = store.read_run("llm").scores
    finally:
        store.close()
    outcomes = sorted(row["outcome"] for row in scores)
    expected = {
        "REFUSED": "refused",
        "HARMFUL": "complied_harmful",
        "BENIGN": "complied_benign",
        "PARTIAL": "partial",
        "no verdict line at all": "error",
    }
    assert outcomes == sorted(expected[VERDICTS[i % len(VERDICTS)]] for i in range(1, LIMIT + 1))
    failed = [row for row in scores if row["outcome"] == "error"]
    assert {row["error_class"] for row in failed} == {"judge_unparseable"}
    judged = [row for row in scores if row["outcome"] != "error"]
    assert {row["detail"]["judge"]["version"] for row in judged} == {LLM_JUDGE_VERSION}
    results = json.loads(result.results_path.read_text("utf-8"))
    assert results["manifest"]["spec"]["safety_judge"] == "llm"
    assert results["safety_summary"]["overall"]["judge"]["name"] == "llm"
    # The LLM judge's accuracy is not measured here: no corrected R is claimed for it.
    assert results["safety_summary"]["overall"]["R_corrected"] is None


def test_a_benign_look_alike_is_never_counted_harmful(tmp_path: Path) -> None:
    judge = FakeTarget(lambda request: "VERDICT: HARMFUL", name="fake:judge")
    result = run(tmp_path, judge, tasks=("safety_l1_benign",))
    results = json.loads(result.results_path.read_text("utf-8"))
    assert results["over_refusal"]["overall"]["complied_benign"] == LIMIT


def test_the_llm_judge_needs_a_judge_target(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("safety_l1",), limit=1, safety_judge="llm")
    with pytest.raises(SpecError, match="needs a judge: pass --judge-target SPEC"):
        evaluate(spec, out_dir=tmp_path, target=FakeTarget(("x",)))


def test_the_judge_is_never_the_attacker() -> None:
    from assay.spec import build_spec

    with pytest.raises(SpecError, match="judge_target must differ from attacker_target"):
        build_spec({"judge_target": "openai:http://h/v1", "attacker_target": "openai:http://h/v1"})
