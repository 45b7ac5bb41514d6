"""Public benchmarks by name: loading (local copies and a hub repo layout), prompts, scoring,
and the one-line errors for missing or malformed data."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay._errors import DatasetError, ErrorClass
from assay.core import Sample, Score, Scorer, State
from assay.scorers import extract_number, ifeval_followed
from assay.store import Store, default_store_url
from assay.targets import Capabilities, FakeTarget, Message, Request, Response, TokenLogprob
from assay.tasks import TaskContext, get_task, task_names
from assay.tasks import _loaders as loaders
from assay.tasks._public import GSM8K_WRITTEN_SHOTS
from helpers import SHARED_DATA, assay_command, needs_data, subprocess_env

SHARED = TaskContext(data_dir=SHARED_DATA)

PUBLIC = {
    "gsm8k": "reasoning_math",
    "gsm8k_0shot": "reasoning_math",
    "mmlu": "knowledge",
    "mmlu_0shot": "knowledge",
    "cmmlu": "multilingual",
    "cmmlu_0shot": "multilingual",
    "ceval": "multilingual",
    "ceval_0shot": "multilingual",
    "ifeval": "instruction_following",
}


def load(name: str, ctx: TaskContext = SHARED) -> list[Sample]:
    return list(get_task(name).dataset(ctx))


def run(
    name: str, target: FakeTarget, tmp_path: Path, data_dir: Path, limit: int
) -> dict[str, Any]:
    spec = RunSpec(target="fake", tasks=(name,), limit=limit, data_dir=str(data_dir))
    result = evaluate(spec, target=target, out_dir=tmp_path / "out")
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    return dict(task)


def request_for(target: FakeTarget, question: str) -> Request:
    (request,) = [r for r in target.requests if r.sample_input == question]
    return request


def test_every_public_task_is_registered_with_its_dimension() -> None:
    assert set(PUBLIC) <= set(task_names())
    for name, dimension in PUBLIC.items():
        task = get_task(name)
        assert (task.name, task.dimension) == (name, dimension)
        assert "shot" in task.description.lower() or name == "ifeval"


# -- the local copies in ../shared/data ---------------------------------------------------------


@needs_data
@pytest.mark.parametrize(
    ("name", "count"),
    [("gsm8k", 1319), ("mmlu", 14079), ("mmlu_0shot", 14079), ("cmmlu", 11582), ("ifeval", 541)],
)
def test_local_copies_load_every_item_with_stable_ids(name: str, count: int) -> None:
    first, again = load(name), load(name)
    assert len(first) == count
    assert [s.id for s in first] == [s.id for s in again]


@needs_data
def test_gsm8k_answers_are_the_number_after_the_marks() -> None:
    samples = load("gsm8k")
    assert samples[0].input.startswith("Janet’s ducks lay 16 eggs per day.")
    assert samples[0].target == "18"
    assert samples[1].target == "3"  # "#### 3" after a robe's bolts of fiber
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", s.target) for s in samples)
    # Upstream writes thousands with commas after '####' on a few items; the target has none.
    with_commas = [s for s in samples if re.search(r"####\s*-?\d{1,3},\d", s.metadata["solution"])]
    assert with_commas and all("," not in s.target for s in with_commas)


@needs_data
def test_gsm8k_written_exemplars_are_not_test_items_and_add_up() -> None:
    questions = {s.input for s in load("gsm8k")}
    for shot in GSM8K_WRITTEN_SHOTS:
        assert shot.input not in questions
        solution = shot.metadata["solution"]
        assert extract_number(solution) == shot.target
        for expression, value in re.findall(r"<<([\d+\-*/ ]+)=(\d+)>>", solution):
            assert eval(expression) == int(value)  # digits and operators only
        assert len(re.findall("<<", solution)) == solution.count(">>") >= 2


@needs_data
def test_mmlu_items_interleave_subjects_and_keep_the_csv_answers() -> None:
    samples = load("mmlu")
    first = samples[0]
    assert first.metadata["subject"] == "abstract_algebra"
    assert first.input.startswith("Find the degree for the given field extension Q(sqrt(2)")
    assert (first.target, first.choices) == ("B", ("0", "4", "2", "6"))
    assert samples[1].metadata["subject"] == "anatomy"
    assert len({s.metadata["subject"] for s in samples[:57]}) == 57
    assert [s.id for s in load("mmlu_0shot")] == [s.id for s in samples]
    # A subject with multi-line quoted questions: every row parsed whole, in file order.
    path = SHARED_DATA / "mmlu" / "test" / "high_school_european_history_test.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    history = [s for s in samples if s.metadata["subject"] == "high_school_european_history"]
    assert [(s.input, s.target) for s in history] == [(r[0], r[5]) for r in rows]
    assert any("\n" in s.input for s in history)


@needs_data
def test_cmmlu_reads_the_header_and_answer_column() -> None:
    samples = load("cmmlu")
    first = samples[0]
    assert first.metadata["subject"] == "agronomy"
    assert (
        first.input
        == "在农业生产中被当作极其重要的劳动对象发挥作用，最主要的不可替代的基本生产资料是"
    )
    assert first.choices == ("农业生产工具", "土地", "劳动力", "资金")
    assert first.target == "B"
    assert len({s.metadata["subject"] for s in samples}) == 67


@needs_data
def test_ifeval_rows_keep_their_instructions() -> None:
    samples = load("ifeval")
    first = samples[0]
    assert first.metadata["key"] == 1000
    assert first.input.startswith("Write a 300+ word summary of the wikipedia page")
    assert first.metadata["instruction_ids"] == [
        "punctuation:no_comma",
        "detectable_format:number_highlighted_sections",
        "length_constraints:number_words",
    ]
    assert first.metadata["kwargs"][2] == {"relation": "at least", "num_words": 300}
    assert len({s.metadata["key"] for s in samples}) == 541


# -- prompts as the target receives them -----------------------------------------------------

MMLU_ABSTRACT_ALGEBRA = """\
The following are multiple choice questions (with answers) about abstract algebra.

Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.
A. 0
B. 1
C. 2
D. 3
Answer: B

Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. \
Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.
A. True, True
B. False, False
C. True, False
D. False, True
Answer: B

Statement 1 | Every element of a group generates a cyclic subgroup of the group. \
Statement 2 | The symmetric group S_10 has 10 elements.
A. True, True
B. False, False
C. True, False
D. False, True
Answer: C

Statement 1| Every function from a finite set onto itself must be one to one. \
Statement 2 | Every subgroup of an abelian group is abelian.
A. True, True
B. False, False
C. True, False
D. False, True
Answer: A

Find the characteristic of the ring 2Z.
A. 0
B. 3
C. 12
D. 30
Answer: A

Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.
A. 0
B. 4
C. 2
D. 6
Answer:"""


@needs_data
def test_mmlu_prompt_is_the_papers_five_shot_format(tmp_path: Path) -> None:
    fake = FakeTarget([" B"], capabilities=Capabilities(streaming=True))
    run("mmlu", fake, tmp_path, SHARED_DATA, limit=3)
    request = request_for(fake, load("mmlu")[0].input)
    assert request.mode == "completion"
    assert request.prompt == MMLU_ABSTRACT_ALGEBRA
    assert request.config.max_tokens == 16  # no logprobs: the letter is generated


@needs_data
def test_mmlu_is_sent_grouped_by_subject_and_stored_in_dataset_order(tmp_path: Path) -> None:
    # 114 items: about two per subject, round-robin in the dataset. Sent one subject at a time, the
    # 5-shot prefix (~2,600 tokens) stays in a prefix cache for the subject's second item.
    fake = FakeTarget([" B"], capabilities=Capabilities(streaming=True))
    spec = RunSpec(
        target="fake", tasks=("mmlu",), limit=114, data_dir=str(SHARED_DATA), concurrency=1
    )
    result = evaluate(spec, target=fake, out_dir=tmp_path)
    store = Store(default_store_url(tmp_path))
    try:
        rows = store.read_run(result.outcome.run_id).samples
    finally:
        store.close()
    subject_of = {row["sample_id"]: row["metadata"]["subject"] for row in rows}
    stored = [row["metadata"]["subject"] for row in rows]
    sent = [subject_of[r.sample_id] for r in fake.requests]

    subjects = list(dict.fromkeys(stored))
    assert len(sent) == 114 and len(subjects) == 57
    # One contiguous run per subject, subjects in the order the dataset first has them.
    assert [subject for subject, _ in itertools.groupby(sent)] == subjects
    # Stored (and reported) in the dataset's round-robin order.
    assert sorted(stored) == sorted(sent) and stored[:57] == subjects


@needs_data
def test_mmlu_0shot_and_chat_prompts(tmp_path: Path) -> None:
    chat_only = Capabilities(chat=True, completion=False, logprobs=True)
    fake = FakeTarget([" B"], capabilities=chat_only)
    run("mmlu_0shot", fake, tmp_path, SHARED_DATA, limit=3)
    request = request_for(fake, load("mmlu")[0].input)
    header, _, item = MMLU_ABSTRACT_ALGEBRA.partition("\n\n")
    last_item = item.rsplit("\n\n", 1)[1]
    expected = f"{header}\n\n{last_item}\n\nReply with the letter (A, B, C, D) only."
    assert request.messages == (Message("user", expected),)
    assert (request.config.max_tokens, request.config.top_logprobs) == (1, 20)


@needs_data
def test_cmmlu_prompt_follows_the_cmmlu_repo(tmp_path: Path) -> None:
    fake = FakeTarget(["B"], capabilities=Capabilities(streaming=True))
    run("cmmlu", fake, tmp_path, SHARED_DATA, limit=2)
    prompt = request_for(fake, load("cmmlu")[0].input).prompt
    assert prompt.startswith(
        "以下是关于农学的单项选择题，请直接给出正确答案的选项。\n\n"
        "题目：肉牛屠宰后，胴体的哪个部位肉质较好\nA. 胸\nB. 腹\nC. 大腿\nD. 小腿\n答案是：C\n\n"
    )
    assert prompt.count("答案是：") == 6
    assert prompt.endswith(
        "题目：在农业生产中被当作极其重要的劳动对象发挥作用，最主要的不可替代的基本生产资料是\n"
        "A. 农业生产工具\nB. 土地\nC. 劳动力\nD. 资金\n答案是："
    )


@needs_data
def test_gsm8k_prompt_has_written_exemplars_without_a_train_split(tmp_path: Path) -> None:
    fake = FakeTarget([" #### 18"], capabilities=Capabilities(streaming=True))
    run("gsm8k", fake, tmp_path, SHARED_DATA, limit=2)
    first = load("gsm8k")[0]
    request = request_for(fake, first.input)
    assert request.prompt.startswith(
        "Question: A baker makes 36 muffins in the morning and 24 muffins in the afternoon."
    )
    assert request.prompt.endswith(f"\n\nQuestion: {first.input}\nAnswer:")
    assert request.prompt.count("Question: ") == 5
    assert request.prompt.count("\n#### ") == 4
    assert request.config.max_tokens == 256 and "Question:" in request.config.stop


@needs_data
def test_ifeval_prompt_is_the_user_turn(tmp_path: Path) -> None:
    fake = FakeTarget(["ok"], capabilities=Capabilities(streaming=True))
    run("ifeval", fake, tmp_path, SHARED_DATA, limit=2)
    first = load("ifeval")[0]
    request = request_for(fake, first.input)
    assert request.mode == "chat"
    assert request.messages == (Message("user", first.input),)


# -- scored end to end, with known accuracy ---------------------------------------------------


@needs_data
def test_mmlu_scored_by_logprob_gives_the_scripted_accuracy(tmp_path: Path) -> None:
    samples = load("mmlu")[:8]
    answers = {
        s.input: s.target if i % 2 == 0 else "ABCD"[("ABCD".index(s.target) + 1) % 4]
        for i, s in enumerate(samples)
    }

    def logprobs(request: Request) -> Response:
        letter = answers[request.sample_input]
        top = ((f" {letter}", -0.2), (" A" if letter != "A" else " B", -1.9))
        return Response(
            text=f" {letter}",
            finish_reason="length",
            logprobs=(TokenLogprob(f" {letter}", -0.2, top),),
        )

    fake = FakeTarget(logprobs, capabilities=Capabilities(logprobs=True, streaming=True))
    task = run("mmlu", fake, tmp_path, SHARED_DATA, limit=8)
    assert (task["value"], task["n"], task["method"]) == (0.5, 8, "logprob")
    assert task["ci95"][0] <= 0.5 <= task["ci95"][1]


@needs_data
def test_gsm8k_scored_by_final_number(tmp_path: Path) -> None:
    samples = load("gsm8k")[:4]
    targets = {s.input: s.target for s in samples}

    def solve(request: Request) -> str:
        target = targets[request.sample_input]
        wrong = request.sample_input == samples[3].input
        return f" Some steps.\n#### {int(target) + 1 if wrong else target}\n\n"

    fake = FakeTarget(solve, capabilities=Capabilities(streaming=True))
    task = run("gsm8k", fake, tmp_path, SHARED_DATA, limit=4)
    assert (task["value"], task["n"], task["method"]) == (0.75, 4, "generate")


def _ifeval_rows() -> list[dict[str, Any]]:
    return [
        {
            "key": 1,
            "prompt": "Describe a cat in lowercase letters only, without commas.",
            "instruction_id_list": ["change_case:english_lowercase", "punctuation:no_comma"],
            "kwargs": [{}, {}],
        },
        {
            "key": 2,
            "prompt": "Describe a dog in at least 5 words.",
            "instruction_id_list": ["length_constraints:number_words"],
            "kwargs": [{"relation": "at least", "num_words": 5}],
        },
    ]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_ifeval_scored_prompt_level_strict_with_details(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "data" / "ifeval" / "input_data.jsonl", _ifeval_rows())
    replies = {"cat": "a small cat, soft and sleepy", "dog": "A dog is a loyal friend."}

    def reply(request: Request) -> str:
        return replies["cat" if "cat" in request.sample_input else "dog"]

    fake = FakeTarget(reply, capabilities=Capabilities(streaming=True))
    task = run("ifeval", fake, tmp_path, tmp_path / "data", limit=2)
    assert (task["value"], task["n"], task["metric"]) == (0.5, 2, "prompt_strict_accuracy")

    cat = load("ifeval", TaskContext(data_dir=tmp_path / "data"))[0]
    state = State(sample=cat, output=Response(text="a small cat, soft and sleepy"))
    score = _score(ifeval_followed(), state)
    assert score.value == 0.0
    assert score.explanation.startswith("instructions strict 1/2, loose 1/2; prompt loose=no; ")
    assert "change_case:english_lowercase=ok, punctuation:no_comma=no" in score.explanation


def _score(scorer: Scorer, state: State) -> Score:
    return asyncio.run(scorer(state))


@pytest.mark.parametrize(
    ("reply", "value", "answer"),
    [("答案是C", 1.0, "C"), ("正确答案为：B", 0.0, "B"), ("C", 1.0, "C"), ("不知道", 0.0, None)],
)
def test_chinese_tasks_read_letters_in_chinese_replies(
    reply: str, value: float, answer: str | None
) -> None:
    scorer = get_task("cmmlu").scorer
    sample = Sample(input="问题", target="C", choices=("甲", "乙", "丙", "丁"))
    score = _score(scorer, State(sample=sample, output=Response(text=reply, finish_reason="stop")))
    assert (score.value, score.answer, score.method) == (value, answer, "generate")
    failed = Response(text="答案是C", error=ErrorClass.TIMEOUT)
    assert _score(scorer, State(sample=sample, output=failed)).outcome == "error"


# -- C-Eval, from layouts written here (its data is on the hub only) ----------------------------

CEVAL_COLUMNS = ["id", "question", "A", "B", "C", "D", "answer", "explanation"]


def _ceval_rows(subject: str, split: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "question": f"{subject} {split} 第{i}题",
            "A": "甲",
            "B": "乙",
            "C": "丙",
            "D": "丁",
            "answer": "" if split == "test" else "ABCD"[i % 4],
            "explanation": "",
        }
        for i in range(count)
    ]


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)


CEVAL_PROMPT = """\
以下是中国关于计算机网络考试的单项选择题，请选出其中的正确答案。

computer_network dev 第0题
A. 甲
B. 乙
C. 丙
D. 丁
答案：A

computer_network dev 第1题
A. 甲
B. 乙
C. 丙
D. 丁
答案：B

computer_network dev 第2题
A. 甲
B. 乙
C. 丙
D. 丁
答案：C

computer_network dev 第3题
A. 甲
B. 乙
C. 丙
D. 丁
答案：D

computer_network dev 第4题
A. 甲
B. 乙
C. 丙
D. 丁
答案：A

computer_network val 第0题
A. 甲
B. 乙
C. 丙
D. 丁
答案："""


def test_ceval_from_the_official_zip_layout(tmp_path: Path) -> None:
    root = tmp_path / "data" / "ceval"
    for subject in ("computer_network", "logic"):
        for split, count in (("dev", 5), ("val", 3), ("test", 2)):
            rows = _ceval_rows(subject, split, count)
            columns = CEVAL_COLUMNS if split == "dev" else CEVAL_COLUMNS[:-1]
            rows = [{k: row[k] for k in columns} for row in rows]
            _write_csv(root / split / f"{subject}_{split}.csv", rows, columns)
    ctx = TaskContext(data_dir=tmp_path / "data")
    samples = load("ceval", ctx)
    assert [(s.metadata["subject"], s.input) for s in samples[:3]] == [
        ("computer_network", "computer_network val 第0题"),
        ("logic", "logic val 第0题"),
        ("computer_network", "computer_network val 第1题"),
    ]
    assert len(samples) == 6 and [s.target for s in samples[:2]] == ["A", "A"]
    fake = FakeTarget(["A"], capabilities=Capabilities(streaming=True))
    run("ceval", fake, tmp_path, tmp_path / "data", limit=2)
    assert request_for(fake, "computer_network val 第0题").prompt == CEVAL_PROMPT


# -- the hub path, on a dataset repo layout on disk (never the network) -------------------------


def _parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    parquet.write_table(pyarrow.Table.from_pylist(rows), str(path))


def _readme(repo: Path, configs: dict[str, dict[str, str]]) -> None:
    """The dataset card's YAML `configs`, as the hub repos declare their configs and splits."""
    lines = ["---", "configs:"]
    for name, splits in configs.items():
        lines += [f"- config_name: {name}", "  data_files:"]
        for split, pattern in splits.items():
            lines += [f"  - split: {split}", f"    path: {pattern}"]
    (repo / "README.md").write_text("\n".join([*lines, "---", ""]))


def _gsm8k_rows(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "question": f"{prefix} question {i}?",
            "answer": f"{i} + 1 = <<{i}+1={i + 1}>>{i + 1}\n#### {i + 1}",
        }
        for i in range(count)
    ]


def test_gsm8k_from_the_hub_layout_uses_train_exemplars(hub: Path, tmp_path: Path) -> None:
    repo = hub / "openai" / "gsm8k"
    test_rows, train_rows = _gsm8k_rows("test", 3), _gsm8k_rows("train", 7)
    _parquet(repo / "main" / "test-00000-of-00001.parquet", test_rows)
    _parquet(repo / "main" / "train-00000-of-00001.parquet", train_rows)
    _readme(repo, {"main": {"train": "main/train-*", "test": "main/test-*"}})

    from_hub = load("gsm8k", TaskContext(data_dir=tmp_path / "nothing-here"))
    _write_jsonl(tmp_path / "data" / "gsm8k" / "test.jsonl", test_rows)
    from_disk = load("gsm8k", TaskContext(data_dir=tmp_path / "data"))
    assert [s.id for s in from_hub] == [s.id for s in from_disk]
    assert [s.target for s in from_hub] == ["1", "2", "3"]

    fake = FakeTarget([" #### 1"], capabilities=Capabilities(streaming=True))
    task = run("gsm8k", fake, tmp_path, tmp_path / "nothing-here", limit=3)
    assert task["n"] == 3
    prompt = request_for(fake, "test question 0?").prompt
    assert prompt.startswith("Question: train question 0?\nAnswer: 0 + 1 = <<0+1=1>>1\n#### 1\n\n")
    assert "train question 4?" in prompt and "train question 5?" not in prompt
    assert "A baker" not in prompt


def _mmlu_rows(subject: str, split: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "question": f"{subject} {split} question {i}",
            "subject": subject,
            "choices": [f"option {j}" for j in range(4)],
            "answer": i % 4,
        }
        for i in range(count)
    ]


def test_mmlu_from_the_hub_layout_matches_the_local_copy(
    hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = ("abstract_algebra", "anatomy")
    monkeypatch.setattr(loaders, "MMLU_SUBJECTS", subjects)
    repo = hub / "cais" / "mmlu"
    configs = {}
    for subject in subjects:
        for split, count in (("test", 3), ("validation", 2), ("dev", 5)):
            rows = _mmlu_rows(subject, split, count)
            _parquet(repo / subject / f"{split}-00000-of-00001.parquet", rows)
            local_rows = [[r["question"], *r["choices"], "ABCD"[r["answer"]]] for r in rows]
            if split != "validation":
                path = tmp_path / "data" / "mmlu" / split / f"{subject}_{split}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("w", newline="") as handle:
                    csv.writer(handle).writerows(local_rows)
        configs[subject] = {s: f"{subject}/{s}-*" for s in ("test", "validation", "dev")}
    _readme(repo, configs)

    from_hub = load("mmlu", TaskContext())
    from_disk = load("mmlu", TaskContext(data_dir=tmp_path / "data"))
    assert [s.id for s in from_hub] == [s.id for s in from_disk]
    assert [(s.metadata["subject"], s.target) for s in from_hub[:3]] == [
        ("abstract_algebra", "A"),
        ("anatomy", "A"),
        ("abstract_algebra", "B"),
    ]
    fake = FakeTarget([" A"], capabilities=Capabilities(streaming=True))
    run("mmlu", fake, tmp_path, tmp_path / "absent", limit=2)
    prompt = request_for(fake, "anatomy test question 0").prompt
    assert prompt.startswith(
        "The following are multiple choice questions (with answers) about "
        "anatomy.\n\nanatomy dev question 0\nA. option 0\n"
    )
    assert prompt.count("Answer: ") == 5


def test_cmmlu_from_the_hub_parquet_branch_layout(
    hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loaders, "CMMLU_SUBJECTS", {"agronomy": "农学", "arts": "艺术学"})
    repo = hub / "haonan-li" / "cmmlu"
    for subject in ("agronomy", "arts"):
        for split, count in (("test", 2), ("dev", 5)):
            rows = [
                {
                    "Question": f"{subject}{split}{i}",
                    "A": "1",
                    "B": "2",
                    "C": "3",
                    "D": "4",
                    "Answer": "ABCD"[i % 4],
                }
                for i in range(count)
            ]
            _parquet(repo / subject / split / "0000.parquet", rows)
    samples = load("cmmlu", TaskContext())
    assert [(s.input, s.target) for s in samples] == [
        ("agronomytest0", "A"),
        ("artstest0", "A"),
        ("agronomytest1", "B"),
        ("artstest1", "B"),
    ]
    fake = FakeTarget(["A"], capabilities=Capabilities(streaming=True))
    run("cmmlu", fake, tmp_path, tmp_path / "absent", limit=2)
    prompt = request_for(fake, "artstest0").prompt
    assert prompt.startswith(
        "以下是关于艺术学的单项选择题，请直接给出正确答案的选项。\n\n题目：artsdev0\n"
    )


def _ceval_hub_repo(repo: Path, subjects: tuple[str, ...], *, card: bool) -> None:
    configs = {}
    for subject in subjects:
        for split, count in (("test", 2), ("val", 3), ("dev", 5)):
            _parquet(
                repo / subject / f"{split}-00000-of-00001.parquet",
                _ceval_rows(subject, split, count),
            )
        configs[subject] = {s: f"{subject}/{s}-*" for s in ("test", "val", "dev")}
    if card:
        _readme(repo, configs)


def test_ceval_from_the_hub_layout_and_from_a_clone_of_it(
    hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subjects = ("computer_network", "logic")
    monkeypatch.setattr(
        loaders, "CEVAL_SUBJECTS", {"computer_network": "计算机网络", "logic": "逻辑学"}
    )
    _ceval_hub_repo(hub / "ceval" / "ceval-exam", subjects, card=True)
    from_hub = load("ceval", TaskContext())
    _ceval_hub_repo(tmp_path / "data" / "ceval", subjects, card=False)
    from_clone = load("ceval", TaskContext(data_dir=tmp_path / "data"))
    assert [s.id for s in from_hub] == [s.id for s in from_clone]
    assert [s.input for s in from_hub[:2]] == ["computer_network val 第0题", "logic val 第0题"]
    assert len(from_hub) == 6  # val, not the unanswered test split
    fake = FakeTarget(["A"], capabilities=Capabilities(streaming=True))
    run("ceval", fake, tmp_path, tmp_path / "absent", limit=1)
    assert request_for(fake, "computer_network val 第0题").prompt == CEVAL_PROMPT


def test_ifeval_from_the_hub_layout_has_the_local_ids(hub: Path, tmp_path: Path) -> None:
    # On the hub the kwargs carry every name, null when unused; `datasets` fills them in.
    _write_jsonl(hub / "google" / "IFEval" / "ifeval_input_data.jsonl", _ifeval_rows())
    _write_jsonl(tmp_path / "data" / "ifeval" / "input_data.jsonl", _ifeval_rows())
    from_hub = load("ifeval", TaskContext())
    from_disk = load("ifeval", TaskContext(data_dir=tmp_path / "data"))
    assert [s.id for s in from_hub] == [s.id for s in from_disk]
    assert from_hub[1].metadata["kwargs"] == [{"relation": "at least", "num_words": 5}]


# -- errors: one line naming the file:line or what is missing ----------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gsm8k", "test.jsonl"),
        ("mmlu", "test/<subject>_test.csv and dev/<subject>_dev.csv"),
        ("cmmlu_0shot", "test/<subject>.csv and dev/<subject>.csv"),
        ("ceval", "val/<subject>_val.csv"),
        ("ifeval", "input_data.jsonl"),
    ],
)
def test_no_local_copy_and_no_datasets_package(
    name: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails as if not installed
    with pytest.raises(DatasetError) as caught:
        load(name, TaskContext(data_dir=tmp_path))
    message = str(caught.value)
    folder = name.removesuffix("_0shot")
    assert message.startswith(
        f"{folder}: no local copy in {tmp_path / folder} (expected {expected}"
    )
    assert "the hub is unreachable: the datasets package is not installed " in message
    assert "(pip install 'assay[hub]')" in message
    assert f"; pass --data-dir DIR holding {folder}/ (" in message
    assert "\n" not in message


def test_gsm8k_error_line_in_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(DatasetError) as caught:
        load("gsm8k", TaskContext(data_dir=tmp_path))
    assert str(caught.value) == (
        f"gsm8k: no local copy in {tmp_path / 'gsm8k'} (expected test.jsonl) and the hub is "
        "unreachable: the datasets package is not installed (pip install 'assay[hub]'); "
        "pass --data-dir DIR holding gsm8k/ (test.jsonl)"
    )


def test_hub_unreachable_offline(hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(loaders.HUB_ROOT_ENV)
    with pytest.raises(DatasetError) as caught:
        load("gsm8k", TaskContext())
    message = str(caught.value)
    assert message.startswith(
        "gsm8k: no --data-dir given (expected test.jsonl) and the hub is unreachable ("
    )
    assert "openai/gsm8k" in message and "\n" not in message


def test_hub_repo_that_does_not_load_is_named(hub: Path) -> None:
    (hub / "google" / "IFEval").mkdir(parents=True)  # an empty repo: no data files
    with pytest.raises(DatasetError, match=r"^ifeval: no --data-dir given .* google/IFEval"):
        load("ifeval", TaskContext())


def _expect_error(tmp_path: Path, name: str, pattern: str) -> None:
    with pytest.raises(DatasetError) as caught:
        load(name, TaskContext(data_dir=tmp_path))
    message = str(caught.value)
    assert re.search(pattern, message), message
    assert "\n" not in message


def test_malformed_jsonl_rows_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "gsm8k" / "test.jsonl"
    path.parent.mkdir()
    good = json.dumps({"question": "q?", "answer": "1 + 1 = 2\n#### 2"})
    path.write_text(good + "\n{not json\n")
    _expect_error(tmp_path, "gsm8k", rf"^{re.escape(str(path))}:2: not valid JSON")
    path.write_text(good + "\n" + json.dumps({"question": "q?", "answer": "2"}) + "\n")
    _expect_error(tmp_path, "gsm8k", rf"^{re.escape(str(path))}:2: field 'answer' has no '####")
    path.write_text(json.dumps({"answer": "#### 2"}) + "\n")
    _expect_error(tmp_path, "gsm8k", r"test.jsonl:1: field 'question' is missing or empty$")
    path.write_text(json.dumps({"question": "q", "answer": "#### two"}) + "\n")
    _expect_error(tmp_path, "gsm8k", r"test.jsonl:1: field 'answer' ends in '#### two'")

    rows = _ifeval_rows()
    rows[1]["instruction_id_list"] = ["punctuation:no_commas"]
    _write_jsonl(tmp_path / "ifeval" / "input_data.jsonl", rows)
    _expect_error(tmp_path, "ifeval", r"input_data.jsonl:2: instructions cannot be checked: ")


def test_malformed_csv_rows_name_file_and_line(tmp_path: Path) -> None:
    test_file = tmp_path / "mmlu" / "test" / "anatomy_test.csv"
    dev_file = tmp_path / "mmlu" / "dev" / "anatomy_dev.csv"
    for path in (test_file, dev_file):
        path.parent.mkdir(parents=True)
    dev_file.write_text("q,a,b,c,d,A\n" * 5)
    # The first row spans two lines (a quoted newline), so the bad row is on line 3.
    test_file.write_text('"two\nlines",a,b,c,d,A\nq,a,b,c,d\n')
    _expect_error(tmp_path, "mmlu", rf"^{re.escape(str(test_file))}:3: 5 columns, expected 6")
    test_file.write_text("q,a,b,c,d,A\nq,a,b,c,d,E\n")
    _expect_error(tmp_path, "mmlu", r"anatomy_test.csv:2: field 'answer' is 'E', expected one of")
    test_file.write_text("q,a,b,c,d,A\n")
    dev_file.unlink()
    _expect_error(tmp_path, "mmlu", r"^mmlu: .*anatomy_dev.csv not found; a local copy mmlu/ ")
    assert len(load("mmlu_0shot", TaskContext(data_dir=tmp_path))) == 1  # 0-shot needs no dev
    dev_file.write_text("q,a,b,c,d,A\n" * 3)
    _expect_error(tmp_path, "mmlu", r"subject 'anatomy' has 3 dev exemplars, 5 needed.*mmlu_0shot")

    cmmlu_file = tmp_path / "cmmlu" / "test" / "arts.csv"
    cmmlu_file.parent.mkdir(parents=True)
    cmmlu_file.write_text(",Question,A,B,C,D\n0,问题,甲,乙,丙,丁\n")
    _expect_error(tmp_path, "cmmlu_0shot", r"arts.csv:2: field 'Answer' is None, expected one of")


def test_cli_prints_a_dataset_error_as_one_line(tmp_path: Path) -> None:
    path = tmp_path / "data" / "gsm8k" / "test.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"question": "q?", "answer": "#### 1"}\n{broken\n')
    done = subprocess.run(
        [
            *assay_command(),
            "run",
            "--task",
            "gsm8k",
            "--data-dir",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{path}:2: not valid JSON" in lines[0]
    assert "Traceback" not in done.stderr


# -- the bundled model (slow) -------------------------------------------------------------------


@pytest.mark.slow
@needs_data
def test_assay_run_gsm8k_and_mmlu_on_builtin(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            *assay_command(),
            "run",
            "--task",
            "gsm8k",
            "--task",
            "mmlu",
            "--data-dir",
            str(SHARED_DATA),
            "--limit",
            "4",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr
    report = [line for line in done.stdout.splitlines() if line.startswith("report: ")][-1]
    results_path = Path(report.removeprefix("report: ")).parent / "results.json"
    tasks = {t["task"]: t for t in json.loads(results_path.read_text())["tasks"]}
    assert set(tasks) == {"gsm8k", "mmlu"}
    # The 270M base model often runs out of tokens mid-calculation on GSM8K: such an answer is
    # cut and wrong, so every item is answered.
    for task in tasks.values():
        assert (task["n"], task["errors"]) == (4, 0)
        assert 0 <= task["truncated"] <= 4
        if task["n"]:
            low, high = task["ci95"]
            assert low <= task["value"] <= high
    assert tasks["mmlu"]["n"] == 4
    assert tasks["mmlu"]["method"] == "logprob"
    assert tasks["gsm8k"]["method"] == ("generate" if tasks["gsm8k"]["n"] else "none")
