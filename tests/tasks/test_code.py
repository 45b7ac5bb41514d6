"""Code tasks: HumanEval loading (local copy and hub layout) and prompts, the generated
`code_gen` problems graded by their own references, and pass@k in a run's results."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay._errors import DatasetError
from assay.core import Sample, Score, State
from assay.scorers import code_execution
from assay.targets import Capabilities, FakeTarget, Request, Response
from assay.tasks import TaskContext, get_task, task_names
from assay.tasks._code import CODE_TEMPLATES, code_gen_samples
from helpers import SHARED_DATA, needs_data

CODEX_STOPS = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#"]


def humaneval_rows(count: int) -> list[dict[str, Any]]:
    path = SHARED_DATA / "humaneval" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line, _ in zip(lines, range(count), strict=False)]


def write_humaneval(folder: Path, rows: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(row) + "\n" for row in rows)
    return path


def run_task(spec: RunSpec, target: FakeTarget, tmp_path: Path) -> dict[str, Any]:
    result = evaluate(spec, target=target, out_dir=tmp_path / "out")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    return dict(task)


def grade(samples: list[Sample], code: list[str]) -> list[Score]:
    scorer = code_execution()

    async def all_scores() -> list[Score]:
        states = [
            State(sample=s).with_output(Response(text=c))
            for s, c in zip(samples, code, strict=True)
        ]
        return await asyncio.gather(*(scorer(state) for state in states))

    return asyncio.run(all_scores())


def test_code_tasks_are_registered_in_the_code_dimension() -> None:
    for name, metric in (("humaneval", "pass@1"), ("humaneval_sampled", "pass@k")):
        task = get_task(name)
        assert (task.dimension, task.metric) in {("code", metric)}
        assert list(task.config.stop) == CODEX_STOPS
        assert "'\\ndef ', '\\nclass '" in task.description  # the stops are stated
    assert get_task("code_gen").metric == "pass@1"
    assert {"humaneval", "humaneval_sampled", "code_gen"} <= set(task_names())


# -- HumanEval ---------------------------------------------------------------------------------


@needs_data
def test_humaneval_local_copy_in_file_order() -> None:
    samples = list(get_task("humaneval").dataset(TaskContext(data_dir=SHARED_DATA)))
    assert len(samples) == 164 and len({s.id for s in samples}) == 164
    first = samples[0]
    assert first.metadata["task_id"] == "HumanEval/0"
    assert first.metadata["entry_point"] == "has_close_elements"
    assert first.input.startswith("from typing import List\n\n\ndef has_close_elements(")
    assert "def check(candidate):" in first.metadata["test"]
    assert samples[-1].metadata["task_id"] == "HumanEval/163"


@needs_data
def test_humaneval_prompts_in_completion_and_chat_mode(tmp_path: Path) -> None:
    rows = humaneval_rows(2)
    spec = RunSpec(target="fake", tasks=("humaneval",), limit=2, data_dir=str(SHARED_DATA))
    completion = FakeTarget([row["canonical_solution"] for row in rows])
    task = run_task(spec, completion, tmp_path / "completion")
    by_input = {r.sample_input: r for r in completion.requests}
    request = by_input[rows[0]["prompt"]]
    assert (request.mode, request.prompt) == ("completion", rows[0]["prompt"])
    assert list(request.config.stop) == CODEX_STOPS and request.config.temperature == 0.0
    assert (task["n"], task["method"]) == (2, "execution")

    chat_only = Capabilities(completion=False)
    reply = f"```python\n{rows[0]['prompt']}{rows[0]['canonical_solution']}```"
    chat = FakeTarget([reply], capabilities=chat_only)
    task = run_task(spec.model_copy(update={"limit": 1}), chat, tmp_path / "chat")
    (request,) = chat.requests
    (message,) = request.messages
    assert request.mode == "chat" and request.config.stop == ()
    assert message.content.startswith("Complete the following Python function.")
    assert message.content.endswith(f"```python\n{rows[0]['prompt'].strip()}\n```")
    assert task["value"] == 1.0


@needs_data
def test_humaneval_from_the_hub_layout_matches_the_local_copy(hub: Path, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    rows = humaneval_rows(3)
    # The hub repo's layout: openai/openai_humaneval/openai_humaneval/test-*.parquet
    folder = hub / "openai" / "openai_humaneval" / "openai_humaneval"
    folder.mkdir(parents=True)
    parquet.write_table(
        pyarrow.Table.from_pylist(rows), str(folder / "test-00000-of-00001.parquet")
    )
    write_humaneval(tmp_path / "data" / "humaneval", rows)
    task = get_task("humaneval")
    from_hub = list(task.dataset(TaskContext(data_dir=tmp_path / "nothing-here")))
    from_disk = list(task.dataset(TaskContext(data_dir=tmp_path / "data")))
    assert [s.id for s in from_hub] == [s.id for s in from_disk]
    assert [s.metadata["task_id"] for s in from_hub] == [
        "HumanEval/0",
        "HumanEval/1",
        "HumanEval/2",
    ]


def test_humaneval_data_errors_are_one_line(tmp_path: Path) -> None:
    task = get_task("humaneval")
    folder = tmp_path / "humaneval"
    bad = {"task_id": "X/0", "prompt": "def f():\n", "canonical_solution": "    pass\n"}
    path = write_humaneval(folder, [{**bad, "entry_point": "f(x)", "test": "def check(c): pass"}])
    with pytest.raises(DatasetError) as caught:
        task.dataset(TaskContext(data_dir=tmp_path))
    assert str(caught.value) == (
        f"{path}:1: field 'entry_point' is 'f(x)', not a Python function name"
    )
    write_humaneval(folder, [{**bad, "entry_point": "f", "test": "assert True"}])
    with pytest.raises(DatasetError, match=r":1: field 'test' has no check\(candidate\)"):
        task.dataset(TaskContext(data_dir=tmp_path))
    path.write_bytes(gzip.compress(b'{"task_id": "X/0"}\n')[:20])  # cut short
    with pytest.raises(DatasetError) as caught:
        task.dataset(TaskContext(data_dir=tmp_path))
    assert str(caught.value) == f"{path}: not a complete gzip file; use the upstream file"
    path.unlink()
    with pytest.raises(DatasetError) as caught:
        task.dataset(TaskContext(data_dir=tmp_path))
    assert str(caught.value) == (
        f"humaneval: {path} not found; a local copy humaneval/ holds HumanEval.jsonl.gz "
        "as published upstream"
    )


# -- code_gen ----------------------------------------------------------------------------------


def one_per_template(seed: int) -> dict[str, Sample]:
    samples: dict[str, Sample] = {}
    for sample in code_gen_samples(seed):
        samples.setdefault(sample.metadata["template"], sample)
    return samples


def test_code_gen_has_fresh_items_per_seed_from_every_template() -> None:
    assert len(CODE_TEMPLATES) >= 10
    first, again, other = code_gen_samples(0), code_gen_samples(0), code_gen_samples(1)
    assert [s.id for s in first] == [s.id for s in again]
    assert not {s.id for s in first} & {s.id for s in other}
    counts = Counter(s.metadata["template"] for s in first)
    assert len(counts) == len(CODE_TEMPLATES) and min(counts.values()) >= 5
    for sample in one_per_template(0).values():
        entry = sample.metadata["entry_point"]
        assert sample.input.startswith(f"def {entry}(") and sample.input.endswith('    """\n')
        assert sample.input.count(">>> ") == 2  # two worked examples
        assert sample.metadata["test"].count("assert candidate(") == 12


def test_code_gen_references_pass_their_hidden_tests_and_wrong_code_fails() -> None:
    by_seed = {seed: one_per_template(seed) for seed in (0, 1, 2)}
    samples = [s for seed in by_seed.values() for s in seed.values()]
    scores = grade(samples, [s.target for s in samples])
    failed = [(s.metadata["template"], c.explanation) for s, c in zip(samples, scores, strict=True)]
    assert [c.value for c in scores] == [1.0] * len(samples), failed

    # Another seed's reference has other parameters: the hidden tests must catch it.
    mismatched = [
        (sample, by_seed[1][template].target)
        for template, sample in by_seed[0].items()
        if by_seed[1][template].target != sample.target
    ]
    assert len(mismatched) >= len(CODE_TEMPLATES) - 2
    wrong = grade([s for s, _ in mismatched], [code for _, code in mismatched])
    assert [c.value for c in wrong] == [0.0] * len(mismatched), [c.explanation for c in wrong]


def test_code_gen_end_to_end_with_pass_at_k(tmp_path: Path) -> None:
    samples = code_gen_samples(0)[:3]
    reference = {s.input: s.target for s in samples}
    calls: Counter[str] = Counter()

    def answer(request: Request) -> str:
        # Problem 0: always right; problem 1: right on its first request only; problem 2: wrong.
        calls[request.sample_input] += 1
        position = list(reference).index(request.sample_input)
        right = position == 0 or (position == 1 and calls[request.sample_input] == 1)
        return reference[request.sample_input] if right else "    return None\n"

    spec = RunSpec(target="fake", tasks=("code_gen",), limit=3)
    task = run_task(spec, FakeTarget(answer), tmp_path / "once")
    assert (task["metric"], task["n"], task["method"]) == ("pass@1", 3, "execution")
    assert task["value"] == pytest.approx(2 / 3)
    assert set(task["pass_at_k"]) == {"pass@1"}  # one epoch: pass@1 only
    assert task["pass_at_k"]["pass@1"]["value"] == pytest.approx(2 / 3)

    calls.clear()
    twice = run_task(spec.model_copy(update={"epochs": 2}), FakeTarget(answer), tmp_path / "two")
    assert twice["n"] == 6
    pass_at = twice["pass_at_k"]
    assert set(pass_at) == {"pass@1", "pass@2"}
    assert pass_at["pass@1"]["value"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert pass_at["pass@2"]["value"] == pytest.approx((1 + 1 + 0) / 3)
    assert pass_at["pass@2"]["n"] == 3
    page = next((tmp_path / "two" / "out").glob("*/report.html")).read_text("utf-8")
    assert "pass@2" in page and f"{pass_at['pass@2']['value']:.3f}" in page


@needs_data
def test_humaneval_sampled_draws_a_different_sample_per_epoch(tmp_path: Path) -> None:
    (row,) = humaneval_rows(1)
    spec = RunSpec(
        target="fake", tasks=("humaneval_sampled",), limit=1, epochs=3, data_dir=str(SHARED_DATA)
    )
    fake = FakeTarget([row["canonical_solution"]])
    task = run_task(spec, fake, tmp_path)
    configs = [request.config for request in fake.requests]
    assert len(configs) == 3 and len({c.seed for c in configs}) == 3
    assert {(c.temperature, c.top_p) for c in configs} == {(0.8, 0.95)}
    pass_at_3 = task["pass_at_k"]["pass@3"]
    assert (pass_at_3["value"], pass_at_3["n"], pass_at_3["ci95"][1]) == (1.0, 1, 1.0)
    assert pass_at_3["ci95"][0] == pytest.approx(0.2065, abs=1e-3)  # Wilson, one problem
