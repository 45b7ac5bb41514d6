"""The contamination probe end to end: variant tasks planned, scored, paired and reported."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from assay import RunSpec, evaluate
from assay._api import evaluate_async
from assay.core import Sample
from assay.engine._run import plan_tasks
from assay.targets import FakeTarget, Request
from helpers import assay_command, subprocess_env

LIMIT = 30
SPEC = RunSpec(
    target="fake",
    tasks=("arithmetic", "knowledge_mcq"),
    limit=LIMIT,
    probes=("contamination",),
)


def planned_samples(spec: RunSpec) -> tuple[dict[str, Sample], set[str]]:
    """Every planned sample by id, and the ids of the original (unperturbed) ones."""
    planned = plan_tasks(spec)
    samples = {s.id: s for item in planned for s in item.samples}
    originals = {s.id for item in planned if item.probe_of is None for s in item.samples}
    return samples, originals


def reply(sample: Sample, answer: str) -> str:
    return f" {answer}" if sample.choices else f" The answer is {answer}."


class Memoriser:
    """Knows the original items by heart (their question text) and nothing else.

    A shuffled question reads the same, so it gets the memorised letter: right only where the
    shuffle left the right option in place. Renamed or renumbered questions are unknown.
    """

    def __init__(self, spec: RunSpec) -> None:
        samples, originals = planned_samples(spec)
        self.samples = samples
        self.known = {samples[i].input: samples[i].target for i in originals}

    def __call__(self, request: Request) -> str:
        sample = self.samples[request.sample_id]
        remembered = self.known.get(request.sample_input)
        if remembered is None:
            numbers = re.findall(r"\d+", sample.input)
            remembered = "D" if sample.choices else str(int(numbers[0]) + 1000)
        return reply(sample, remembered)


def oracle(spec: RunSpec) -> Any:
    samples, _ = planned_samples(spec)
    return lambda request: reply(samples[request.sample_id], samples[request.sample_id].target)


def results_of(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def test_memorised_originals_show_a_significant_drop(tmp_path: Path) -> None:
    target = FakeTarget(Memoriser(SPEC))
    result = evaluate(SPEC, out_dir=tmp_path, target=target, run_id="memo")
    results = results_of(result.results_path)
    probe = results["contamination"]
    assert set(probe) == {"arithmetic", "knowledge_mcq"}

    arithmetic = probe["arithmetic"]
    assert arithmetic["variant_task"] == "arithmetic~perturbed"
    assert arithmetic["n"] == LIMIT
    assert arithmetic["original"] == 1.0 and arithmetic["perturbed"] == 0.0
    assert arithmetic["drop"] == 1.0 and arithmetic["ci95"] == [1.0, 1.0]
    assert arithmetic["p_value"] < 0.001
    assert set(arithmetic["kinds"]) == {"rename", "numbers"}
    assert arithmetic["kinds"]["numbers"]["n"] == LIMIT

    # Shuffling alone: the memorised letter is right only where the option did not move.
    mcq = probe["knowledge_mcq"]
    assert set(mcq["kinds"]) == {"shuffle"}
    assert mcq["original"] == 1.0
    assert 0.0 <= mcq["perturbed"] < 0.5
    assert mcq["drop"] == 1.0 - mcq["perturbed"]
    low, high = mcq["ci95"]
    assert 0.3 < low <= mcq["drop"] <= high <= 1.0
    assert mcq["p_value"] < 0.01

    # The variant tasks are listed and scored, but kept out of the dimension roll-ups.
    names = {task["task"] for task in results["tasks"]}
    assert names == {
        "arithmetic",
        "knowledge_mcq",
        "arithmetic~perturbed",
        "knowledge_mcq~perturbed",
    }
    by_dimension = {d["dimension"]: d for d in results["dimensions"]}
    assert by_dimension["reasoning_math"]["tasks"] == ["arithmetic"]
    assert by_dimension["reasoning_math"]["value"] == 1.0
    assert results["manifest"]["spec"]["probes"] == ["contamination"]
    assert "arithmetic~perturbed" in results["manifest"]["tasks"]

    html = result.report_path.read_text()
    assert "Contamination probe" in html and "numbers" in html


def test_a_model_that_generalises_shows_no_drop(tmp_path: Path) -> None:
    result = evaluate(SPEC, out_dir=tmp_path, target=FakeTarget(oracle(SPEC)), run_id="clean")
    for probe in results_of(result.results_path)["contamination"].values():
        assert probe["original"] == probe["perturbed"] == 1.0
        assert probe["drop"] == 0.0
        assert probe["ci95"] == [0.0, 0.0]
        assert probe["p_value"] == 1.0


def test_without_the_probe_nothing_is_perturbed(tmp_path: Path) -> None:
    spec = SPEC.model_copy(update={"probes": ()})
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(oracle(spec)), run_id="plain")
    results = results_of(result.results_path)
    assert "contamination" not in results
    assert [t["task"] for t in results["tasks"]] == ["arithmetic", "knowledge_mcq"]
    assert "Contamination probe" not in result.report_path.read_text()


def test_resume_sends_nothing_and_keeps_the_probe(tmp_path: Path) -> None:
    first_target = FakeTarget(Memoriser(SPEC))
    first = evaluate(SPEC, out_dir=tmp_path, target=first_target, run_id="again")
    assert first.outcome.requests_sent == len(first_target.requests) > 2 * LIMIT
    # Resumed by id alone: the probe comes from the stored spec, every answer from the cache.
    bare = RunSpec(target="fake")
    second_target = FakeTarget(Memoriser(SPEC))
    second = asyncio.run(
        evaluate_async(
            bare, out_dir=tmp_path, target=second_target, run_id="again", given=frozenset()
        )
    )
    assert second_target.requests == []
    assert second.outcome.requests_sent == 0
    assert second.outcome.requests_cached == first.outcome.requests_sent
    before = results_of(first.results_path)["contamination"]
    assert results_of(second.results_path)["contamination"] == before


def test_cli_probe_option_with_an_answers_file(tmp_path: Path) -> None:
    spec = RunSpec(target="file", tasks=("arithmetic",), limit=12, probes=("contamination",))
    samples, originals = planned_samples(spec)
    answers = tmp_path / "answers.jsonl"
    lines = []
    for sample_id, sample in samples.items():
        right = sample_id in originals
        answer = sample.target if right else str(int(sample.target) + 1)
        lines.append(json.dumps({"sample_id": sample_id, "output": reply(sample, answer)}))
    answers.write_text("\n".join(lines) + "\n")
    command = [*assay_command(), "run", "--target", f"file:{answers}", "--task", "arithmetic"]
    command += ["--limit", "12", "--probe", "contamination", "--out", str(tmp_path)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=subprocess_env()
    )
    assert done.returncode == 0, done.stderr
    (results_path,) = tmp_path.glob("*/results.json")
    probe = results_of(results_path)["contamination"]["arithmetic"]
    assert probe["drop"] == 1.0 and probe["n"] == 12

    bad = subprocess.run(
        [*command[:-4], "--probe", "bogus", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
    )
    assert bad.returncode == 2
    (line,) = bad.stderr.strip().splitlines()
    assert "probes" in line and "contamination" in line
