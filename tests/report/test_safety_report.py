"""The safety half of results.json, the report and `assay rejudge`, from a scripted target:
refusals of harmful requests, answers to benign look-alikes, and one target that answers
everything, so R, D and over-refusal are known before the judges run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay._api import rejudge
from assay._errors import SpecError
from assay.core import Request
from assay.store import Store
from assay.targets import FakeTarget

REFUSAL = "I'm sorry, but I can't help with that. It could hurt people."
ANSWER = (
    "Sure, here is a clear answer. First, open the settings menu and choose the option you "
    "need. Then follow the prompts on the screen, and save your changes when you are done."
)
LIMIT = 14


def run_safety(tmp_path: Path, reply: Any, run_id: str) -> dict[str, Any]:
    spec = RunSpec(target="fake", tasks=("safety_l1", "safety_l1_benign"), limit=LIMIT)
    result = evaluate(spec, out_dir=tmp_path, run_id=run_id, target=FakeTarget(reply))
    results: dict[str, Any] = json.loads(result.results_path.read_text("utf-8"))
    return results


def refuse_harmful_answer_benign(request: Request) -> str:
    from assay.tasks._safety import seed_rows

    look_alikes = {str(row.get("benign")) for row in seed_rows()}
    return ANSWER if request.sample_input in look_alikes else REFUSAL


def test_a_target_that_refuses_harm_and_answers_look_alikes(tmp_path: Path) -> None:
    results = run_safety(tmp_path, refuse_harmful_answer_benign, "good")
    overall = results["safety_summary"]["overall"]
    assert (overall["n"], overall["R"], overall["D"], overall["errors"]) == (LIMIT, 0.0, 1.0, 0)
    assert results["over_refusal"]["overall"]["D"] == 0.0
    # No harmful compliance seen: corrected for the harm judge's false positives it stays 0,
    # its interval wider than zero by the judge's own uncertainty.
    corrected = overall["R_corrected"]
    assert corrected["value"] == 0.0 and 0.0 < corrected["ci95"][1] < 1.0
    assert results["over_refusal"]["overall"]["n"] == LIMIT
    assert results["over_refusal"]["overall"]["judge"]["name"] == "refusal"
    # One row per domain x category x level x attack, each with the look-alikes' D beside R.
    table = results["safety"]
    assert sum(row["n"] for row in table) == LIMIT
    assert {row["level"] for row in table} == {"L1"}
    assert {row["attack"] for row in table} == {"plain"}
    for row in table:
        assert set(row) >= {"domain", "category", "level", "attack", "R", "ci95_R", "D", "ci95_D"}
        assert row["judge"]["name"] == "harm"  # the judge of R, refusals included
        assert row["ci95_R"][0] == 0.0 and 0.0 < row["ci95_R"][1] < 1.0  # Wilson, not [0, 0]
    by_task = {row["task"]: row for row in results["tasks"]}
    assert by_task["safety_l1"]["metric"] == "attack_success_rate"
    assert by_task["safety_l1_benign"]["metric"] == "over_refusal_rate"
    assert by_task["safety_l1_benign"]["value"] == 0.0
    # Safety tasks stay out of the capability roll-up.
    assert results["dimensions"] == []


def test_the_report_hides_responses_behind_a_reveal_toggle(tmp_path: Path) -> None:
    run_safety(tmp_path, refuse_harmful_answer_benign, "shown")
    html = (tmp_path / "shown" / "report.html").read_text("utf-8")
    assert 'id="safety-heatmap"' in html
    assert "Attack leaderboard" in html and "Over-refusal" in html
    shown = html.split("<details>")
    # Every stored response appears only inside a <details> element, after its summary.
    assert REFUSAL.replace("'", "&#39;") not in shown[0]
    assert all("reveal response" in part for part in shown[1:])
    assert len(shown) - 1 == 2 * min(LIMIT, 10)


def test_a_target_that_complies_with_everything_has_no_refusals(tmp_path: Path) -> None:
    results = run_safety(tmp_path, lambda request: ANSWER, "complies")
    overall = results["safety_summary"]["overall"]
    assert overall["D"] == 0.0 and overall["n"] == LIMIT
    # Answered: each harmful request is complied_harmful or complied_benign by the harm judge.
    assert overall["complied_benign"] + round(overall["R"] * LIMIT) == LIMIT
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        scores = store.read_run("complies").scores
    finally:
        store.close()
    harm = [row for row in scores if row["task"] == "safety_l1"]
    for row in harm:
        judges = row["detail"]["judges"]
        assert judges["refusal"]["label"] == "complied"
        if row["outcome"] != "complied_harmful" or "canary" not in row["explanation"]:
            assert "harm" in judges or "refusal-only" in row["explanation"]


def test_rejudge_makes_a_new_run_from_the_stored_responses(tmp_path: Path) -> None:
    run_safety(tmp_path, refuse_harmful_answer_benign, "first")
    result = rejudge("first", judge="offline", out_dir=tmp_path)
    assert result.outcome.run_id != "first"
    assert result.outcome.requests_sent == 0  # the target under test is not asked again
    assert result.outcome.requests_cached == 2 * LIMIT
    again = json.loads(result.results_path.read_text("utf-8"))
    first = json.loads((tmp_path / "first" / "results.json").read_text("utf-8"))
    assert again["safety"] == first["safety"]
    assert again["manifest"]["rejudged"]["from"] == "first"
    with pytest.raises(SpecError, match="needs --judge-target"):
        rejudge("first", judge="llm", out_dir=tmp_path)


def test_capability_and_safety_suites_compose_into_one_run(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", suite="quick,safety-quick", limit=3)
    result = evaluate(spec, out_dir=tmp_path, run_id="both", target=FakeTarget((ANSWER,)))
    results = json.loads(result.results_path.read_text("utf-8"))
    tasks = {row["task"] for row in results["tasks"]}
    assert tasks == {
        "arithmetic",
        "knowledge_mcq",
        "instructions",
        "safety_l1",
        "safety_l1_benign",
        "safety_l2",
    }
    # The capability roll-up has the capability dimensions only; safety has its own table.
    assert {d["dimension"] for d in results["dimensions"]} == {
        "reasoning_math",
        "knowledge",
        "instruction_following",
    }
    assert results["safety_summary"]["overall"]["n"] == 6
    assert results["over_refusal"]["overall"]["n"] == 3
    html = (tmp_path / "both" / "report.html").read_text("utf-8")
    assert 'id="safety-heatmap"' in html and "Scores by dimension" in html
