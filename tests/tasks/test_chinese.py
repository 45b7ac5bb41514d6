"""Chinese tasks: well-formed knowledge items, right math answers, Chinese-aware verifiers."""

from __future__ import annotations

import asyncio
import collections
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec, evaluate
from assay.core import Mode, Sample, State
from assay.scorers import check_all, check_instruction, extract_number
from assay.scorers._instructions import ZH_INSTRUCTION_IDS
from assay.solvers._choice import ZH_MCQ_SHOTS, zh_multiple_choice
from assay.targets import Capabilities, FakeTarget, Request, Response, TokenLogprob
from assay.tasks import TaskContext, get_task
from assay.tasks._chinese import (
    zh_instruction_samples,
    zh_knowledge_samples,
    zh_math_samples,
    zh_math_shots,
)

HAN = re.compile(r"[\u4e00-\u9fff]")

# -- knowledge -------------------------------------------------------------------------------


def test_knowledge_items_are_well_formed_and_balanced() -> None:
    samples = zh_knowledge_samples(TaskContext())
    assert len(samples) >= 60
    assert len({s.id for s in samples}) == len(samples)
    assert len({s.input for s in samples}) == len(samples)
    for sample in samples:
        assert HAN.search(sample.input) and sample.input.endswith("？"), sample.input
        assert len(sample.choices) == 4 and len(set(sample.choices)) == 4, sample.id
        assert all(choice.strip() == choice and choice for choice in sample.choices)
        assert sample.target in "ABCD" and len(sample.target) == 1
    letters = collections.Counter(s.target for s in samples)
    assert max(letters.values()) - min(letters.values()) <= 1, letters
    assert {s.metadata["subject"] for s in samples} == {
        "geography",
        "history",
        "language",
        "science",
        "daily_life",
    }


def test_knowledge_file_has_the_shared_format() -> None:
    path = Path(__file__).parents[2] / "src/assay/suites/data/zh_knowledge.jsonl"
    for line in path.read_text("utf-8").splitlines():
        assert set(json.loads(line)) == {"id", "subject", "question", "choices", "answer"}


def _render(sample: Sample, capabilities: Capabilities, mode: Mode) -> State:
    async def generate(state: State) -> State:
        return state

    state = State(sample=sample, mode=mode, capabilities=capabilities)
    return asyncio.run(zh_multiple_choice()(state, generate))


def test_knowledge_prompt_in_chinese() -> None:
    sample = zh_knowledge_samples(TaskContext())[0]
    raw = _render(sample, Capabilities(logprobs=True), "completion")
    assert raw.prompt.startswith(ZH_MCQ_SHOTS)
    assert raw.prompt.endswith(
        f"问题：{sample.input}\nA. {sample.choices[0]}\n"
        f"B. {sample.choices[1]}\nC. {sample.choices[2]}\n"
        f"D. {sample.choices[3]}\n答案："
    )
    assert (raw.config.max_tokens, raw.config.top_logprobs) == (1, 20)
    # The worked examples answer each letter once.
    assert re.findall(r"答案：([A-D])", ZH_MCQ_SHOTS) == ["A", "B", "C", "D"]
    chat = _render(sample, Capabilities(), "chat")
    assert chat.messages[-1].content.endswith("请只回答选项字母（A、B、C、D）。")
    assert chat.config.max_tokens == 16


def test_knowledge_prompt_is_exactly_the_zh_format() -> None:
    sample = Sample(input=" 水的化学式是什么？", target="A", choices=("H2O", "CO2", "NaCl"))
    body = "问题：水的化学式是什么？\nA. H2O\nB. CO2\nC. NaCl\n答案："
    raw = _render(sample, Capabilities(logprobs=True), "completion")
    assert raw.prompt == ZH_MCQ_SHOTS + body
    assert [m.content for m in raw.messages] == [ZH_MCQ_SHOTS + body]
    chat = _render(sample, Capabilities(), "chat")
    expected = ZH_MCQ_SHOTS + body + "\n\n请只回答选项字母（A、B、C）。"
    assert chat.prompt == expected
    assert [m.content for m in chat.messages] == [expected]
    assert (chat.config.max_tokens, chat.config.top_logprobs) == (16, None)


# -- math ------------------------------------------------------------------------------------


def test_math_items_are_fresh_per_seed_and_reproducible() -> None:
    first, again, other = zh_math_samples(1, 100), zh_math_samples(1, 100), zh_math_samples(2, 100)
    assert [s.id for s in first] == [s.id for s in again]
    assert len({s.id for s in first}) == 100
    assert len({s.id for s in first} & {s.id for s in other}) < 10
    assert not any(s.input in zh_math_shots() for s in first)


def _expected_math(template: str, n: list[int]) -> int:
    formulas = {
        "_buy_more": lambda: n[0] + n[1],
        "_give_away": lambda: n[0] - n[1],
        "_boxes": lambda: n[0] * n[1],
        "_share": lambda: n[0] // n[1] if n[0] % n[1] == 0 else -1,
        "_change": lambda: n[2] - n[0] * n[1],
        "_distance": lambda: n[0] * n[1],
        "_age_later": lambda: n[0] + n[1] + n[2],
        "_perimeter": lambda: 2 * (n[0] + n[1]),
    }
    return formulas[template]()


def test_math_answers_are_right() -> None:
    for sample in zh_math_samples(7, 400):
        numbers = [int(x) for x in re.findall(r"\d+", sample.input)]
        expected = _expected_math(sample.metadata["template"], numbers)
        assert int(sample.target) == expected > 0, sample.input
        assert HAN.search(sample.input) and sample.input.endswith("？")


def test_math_shots_are_worked_in_chinese() -> None:
    shots = zh_math_shots()
    assert shots.count("问题：") == 3 and shots.count("所以答案是") == 3
    for block in shots.strip().split("\n\n"):
        _, answer = block.split("\n答案：")
        assert extract_number(answer) is not None


# -- instruction verifiers on Chinese text ---------------------------------------------------

POEM = "《春晓》\n春天来了。小草从土里钻出来。河边的柳树发芽了。"


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "good", "bad"),
    [
        (
            "zh:number_characters",
            {"relation": "less than", "num_chars": 10},
            "春天来了。Spring is here, it is warm and bright.",  # 4 Han characters
            "春天来了小草从土里钻出来",  # 12, no spaces: one IFEval "word"
        ),
        (
            "zh:number_characters",
            {"relation": "at least", "num_chars": 12},
            "春天来了，小草从土里钻了出来。",  # 12 Han characters
            "春天 来了 a b c d e f g h i j k l",  # 4 Han characters in 16 words
        ),
        ("zh:forbidden_words", {"forbidden_words": ["美丽"]}, "花开得很好看。", "花开得很美丽。"),
        ("zh:no_comma", {}, "春天来了。小草绿了。", "春天来了、小草绿了。"),
        ("zh:no_comma", {}, "春天来了。小草绿了。", "春天来了，小草绿了。"),
        ("zh:no_comma", {}, "春天来了。小草绿了。", "春天来了, 小草绿了。"),
        ("zh:title", {}, POEM, "春晓\n春天来了。"),
        ("zh:title", {}, "题目是《春》。", "《 》春天来了。"),
        ("keywords:existence", {"keywords": ["阳光"]}, "窗外阳光明媚。", "窗外下着小雨。"),
        (
            "startend:end_checker",
            {"end_phrase": "谢谢阅读。"},
            "春天来了。谢谢阅读。",
            "谢谢阅读。春天",
        ),
        (
            "length_constraints:number_paragraphs",
            {"num_paragraphs": 2},
            "春天来了。\n***\n夏天也快到了。",
            "春天来了。\n\n夏天也快到了。",
        ),
        (
            "detectable_format:number_bullet_lists",
            {"num_bullets": 2},
            "* 春天来了\n* 小草绿了",
            "* 春天来了\n* 小草绿了\n* 花开了",
        ),
        ("detectable_format:json_format", {}, '{"标题": "春天"}', "标题：春天"),
    ],
)
def test_chinese_verifiers(
    instruction_id: str, kwargs: dict[str, Any], good: str, bad: str
) -> None:
    assert check_instruction(instruction_id, kwargs, good)
    assert not check_instruction(instruction_id, kwargs, bad)


def test_ifeval_word_rules_do_not_fit_chinese() -> None:
    # Why the zh: checks exist: a whole Chinese sentence is one IFEval word, and a forbidden word
    # inside a run of Han characters has no \b around it.
    long_text = "春天来了小草从土里钻出来河边的柳树发芽了"
    assert check_instruction(
        "length_constraints:number_words", {"relation": "less than", "num_words": 2}, long_text
    )
    assert check_instruction(
        "keywords:forbidden_words", {"forbidden_words": ["美丽"]}, "很美丽的花"
    )
    assert set(ZH_INSTRUCTION_IDS) == {
        "zh:forbidden_words",
        "zh:no_comma",
        "zh:number_characters",
        "zh:title",
    }


def compliant(ids: list[str], kwargs: list[Mapping[str, Any]]) -> str:
    """A Chinese reply built to follow every constraint of a prompt."""
    args = dict(zip(ids, kwargs, strict=True))
    sentences = ["清晨的风很轻", "小路旁开着花", "远处传来鸟叫声"]
    keyword = args.get("keywords:existence", {}).get("keywords", [""])[0]
    if keyword:
        sentences[0] += keyword
    count = args.get("zh:number_characters", {})
    if count.get("relation") == "at least":
        sentences[0] += "我慢慢走过小桥" * (count["num_chars"] // 7 + 1)
    if "detectable_format:json_format" in args:
        return json.dumps({"短文": "。".join(sentences) + "。"}, ensure_ascii=False)
    if "length_constraints:number_paragraphs" in args:
        paragraphs = args["length_constraints:number_paragraphs"]["num_paragraphs"]
        body = "\n***\n".join(f"{sentences[i % len(sentences)]}。" for i in range(paragraphs))
    elif "detectable_format:number_bullet_lists" in args:
        bullets = args["detectable_format:number_bullet_lists"]["num_bullets"]
        body = "\n".join(f"* {sentences[i % len(sentences)]}" for i in range(bullets))
    else:
        body = "。".join(sentences) + "。"
    if "zh:title" in args:
        body = "《清晨》\n" + body
    if "startend:end_checker" in args:
        body += "\n" + args["startend:end_checker"]["end_phrase"]
    return body


def test_instruction_items_are_fresh_and_checkable() -> None:
    first, again = zh_instruction_samples(1, 100), zh_instruction_samples(1, 100)
    other = zh_instruction_samples(2, 100)
    assert [s.id for s in first] == [s.id for s in again]
    assert len({s.id for s in first}) == 100
    assert len({s.id for s in first} & {s.id for s in other}) < 30
    used = {i for s in first for i in s.metadata["instruction_ids"]}
    assert set(ZH_INSTRUCTION_IDS) <= used
    assert {len(s.metadata["instruction_ids"]) for s in first} == {2, 3}
    for sample in first:
        ids, kwargs = sample.metadata["instruction_ids"], sample.metadata["kwargs"]
        assert sample.input.startswith("请用中文写一段关于")
        assert ids[0] == "language:response_language" and kwargs[0] == {"language": "zh"}
        reply = compliant(ids, kwargs)
        results = check_all(ids, kwargs, reply)
        assert all(r.strict for r in results), (sample.input, reply, results)
        # A reply in English never follows a Chinese prompt.
        english = "Spring, the season of rain, comes with many things to see and do outside."
        assert not all(r.strict for r in check_all(ids, kwargs, english)), sample.input


# -- scripted runs through the whole pipeline ------------------------------------------------


def _by_input(name: str, limit: int) -> dict[str, tuple[int, Sample]]:
    samples = list(get_task(name).dataset(TaskContext(seed=0)))[:limit]
    return {s.input: (i, s) for i, s in enumerate(samples)}


def _run(name: str, target: FakeTarget, tmp_path: Path, limit: int) -> dict[str, Any]:
    spec = RunSpec(target="fake", tasks=(name,), limit=limit)
    result = evaluate(spec, out_dir=tmp_path, target=target, run_id=name)
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert isinstance(task, dict)
    return task


def test_zh_knowledge_run_by_text_and_by_logprob(tmp_path: Path) -> None:
    items = _by_input("zh_knowledge", 16)

    def by_text(request: Request) -> str:
        index, sample = items[request.sample_input]
        wrong = "ABCD"[("ABCD".index(sample.target) + 1) % 4]
        return f"答案是{sample.target if index % 4 else wrong}"  # every fourth one wrong

    task = _run("zh_knowledge", FakeTarget(by_text), tmp_path / "text", 16)
    assert (task["value"], task["n"], task["method"]) == (0.75, 16, "generate")

    def by_logprob(request: Request) -> Response:
        _, sample = items[request.sample_input]
        top = ((sample.target, -0.2), ("A", -1.0), ("B", -1.2), ("C", -1.3), ("D", -1.4))
        return Response(text=sample.target, logprobs=(TokenLogprob(sample.target, -0.2, top),))

    target = FakeTarget(by_logprob, capabilities=Capabilities(logprobs=True))
    task = _run("zh_knowledge", target, tmp_path / "logprob", 16)
    assert (task["value"], task["method"]) == (1.0, "logprob")
    assert target.requests[0].prompt.endswith("答案：")


def test_zh_math_run(tmp_path: Path) -> None:
    items = _by_input("zh_math", 10)

    def reply(request: Request) -> str:
        index, sample = items[request.sample_input]
        answer = int(sample.target) + (index % 2)  # odd ones off by one
        return f"先算一步得到 3，所以答案是{answer}。"

    target = FakeTarget(reply)
    task = _run("zh_math", target, tmp_path, 10)
    assert (task["value"], task["n"]) == (0.5, 10)
    assert target.requests[0].prompt.endswith("\n答案：")
    assert target.requests[0].prompt.count("所以答案是") == 3


def test_zh_instructions_run(tmp_path: Path) -> None:
    items = _by_input("zh_instructions", 12)

    def reply(request: Request) -> str:
        index, sample = items[request.sample_input]
        text = compliant(sample.metadata["instruction_ids"], sample.metadata["kwargs"])
        return text if index < 9 else ""  # the last three replies are blank

    task = _run("zh_instructions", FakeTarget(reply), tmp_path, 12)
    assert (task["value"], task["n"], task["metric"]) == (0.75, 12, "prompt_strict_accuracy")
