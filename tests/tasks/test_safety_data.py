"""The public safety sets on the real files in ../shared/data: item counts, categories that are
taxonomy ids or "unmapped", a category table that covers every category the data holds, one-line
errors naming file:line for malformed rows, and the hub path on a local mirror."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay._errors import DatasetError
from assay.core import Sample
from assay.core._task import TaskContext
from assay.safety._items import UNMAPPED
from assay.safety._taxonomy import categories
from assay.tasks import _safety_data as data
from helpers import SHARED_DATA, needs_data

SHARED = TaskContext(data_dir=SHARED_DATA)
TAXONOMY_IDS = {category.id for category in categories()}

SAMPLE_LOADERS: dict[str, Callable[[TaskContext], list[Sample]]] = {
    "advbench": data.advbench,
    "harmbench_standard": lambda ctx: data.harmbench(ctx, functional="standard"),
    "harmbench_contextual": lambda ctx: data.harmbench(ctx, functional="contextual"),
    "xstest": data.xstest,
    "do_not_answer": data.do_not_answer,
    "jailbreakbench": data.jailbreakbench,
    "flames_zh": data.flames_zh,
    "jailbreak_llms_inthewild": lambda ctx: data.jailbreak_llms_inthewild(ctx).questions,
}


def every_sample() -> list[Sample]:
    return [sample for load in SAMPLE_LOADERS.values() for sample in load(SHARED)]


# -- counts on the real files ------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("advbench", 520),
        ("harmbench_standard", 200),
        ("harmbench_contextual", 100),
        ("xstest", 450),
        ("do_not_answer", 939),
        ("jailbreakbench", 1637),  # 1,800 records less 163 PAIR records with a null prompt
        ("flames_zh", 1000),
        ("jailbreak_llms_inthewild", 390),
    ],
)
def test_every_item_loads_once_with_stable_ids(name: str, count: int) -> None:
    first, again = SAMPLE_LOADERS[name](SHARED), SAMPLE_LOADERS[name](SHARED)
    assert len(first) == count
    assert [s.id for s in first] == [s.id for s in again]
    assert len({s.metadata["item_id"] for s in first}) == count
    source = "harmbench" if name.startswith("harmbench") else name
    assert {s.metadata["source"] for s in first} == {source}


@needs_data
@pytest.mark.parametrize(
    ("functional", "split", "count"),
    [
        ("standard", "all", 200),
        ("standard", "test", 159),
        ("standard", "val", 41),
        ("contextual", "all", 100),
        ("contextual", "test", 81),
        ("contextual", "val", 19),
    ],
)
def test_harmbench_per_functional_category_and_split(
    functional: data.Functional, split: data.HarmbenchSplit, count: int
) -> None:
    samples = data.harmbench(SHARED, functional=functional, split=split)
    assert len(samples) == count
    assert {s.metadata["functional_category"] for s in samples} == {functional}


@needs_data
def test_harmbench_contextual_request_is_context_then_behavior() -> None:
    with (SHARED_DATA / "harmbench" / "harmbench_behaviors_text_all.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["FunctionalCategory"] == "contextual"]
    samples = data.harmbench(SHARED, functional="contextual")
    first, row = samples[0], rows[0]
    assert first.input == f"{row['ContextString']}\n\n---\n\n{row['Behavior']}"
    assert first.metadata["behavior"] == row["Behavior"]
    assert first.metadata["context"] == row["ContextString"]
    assert first.metadata["item_id"] == row["BehaviorID"]
    standard = data.harmbench(SHARED)
    assert all(s.input == s.metadata["behavior"] and "context" not in s.metadata for s in standard)


@needs_data
def test_xstest_safe_prompts_are_benign_and_contrast_prompts_are_not() -> None:
    samples = data.xstest(SHARED)
    assert Counter(s.metadata["benign"] for s in samples) == {True: 250, False: 200}
    for sample in samples:
        unsafe = sample.metadata["source_category"].startswith("contrast_")
        assert sample.metadata["benign"] is not unsafe
    assert samples[0].metadata["item_id"] == "1" and samples[0].metadata["focus"] == "kill"


@needs_data
def test_do_not_answer_risk_areas_come_from_the_file_names() -> None:
    samples = data.do_not_answer(SHARED)
    assert Counter(s.metadata["source_category"] for s in samples) == {
        "discrimination_exclusion_toxicity_hateful_offensive": 176,
        "human_chatbox": 117,
        "information_hazard": 248,
        "malicious_uses": 243,
        "misinformation_harms": 155,
    }
    # One line has surrounding spaces upstream; the question is stored stripped.
    assert all(s.input == s.input.strip() and s.input for s in samples)


@needs_data
def test_jailbreakbench_prompts_are_the_attacked_text_with_the_goal_as_behavior() -> None:
    samples = data.jailbreakbench(SHARED)
    per_run = Counter((s.metadata["jbb_method"], s.metadata["jbb_model"]) for s in samples)
    assert len(per_run) == 18
    assert per_run[("PAIR", "llama-2-7b-chat-hf")] == 4  # 96 of its 100 prompts are null
    assert per_run[("GCG", "vicuna-13b-v1.5")] == 100
    gcg = next(s for s in samples if s.metadata["item_id"] == "GCG/vicuna-13b-v1.5/0")
    assert gcg.input.startswith(gcg.metadata["behavior"]) and gcg.input != gcg.metadata["behavior"]
    assert gcg.metadata["jbb_behavior"] == "Defamation"
    assert gcg.metadata["source_category"] == "Harassment/Discrimination"
    assert len({s.metadata["source_category"] for s in samples}) == 10


@needs_data
def test_jailbreakbench_judge_labels_are_the_llm_judge_verdicts() -> None:
    labels = data.jailbreakbench_judge_labels(SHARED)
    assert len(labels) == 1637
    assert Counter(label.label for label in labels) == {"harmful": 937, "not_harmful": 700}
    assert Counter(label.raw_label for label in labels) == {"true": 937, "false": 700}
    assert Counter(label.group for label in labels)["JBC/vicuna-13b-v1.5"] == 100
    artifact = SHARED_DATA / "jailbreakbench_artifacts/JBC/manual/vicuna-13b-v1.5.json"
    records = json.loads(artifact.read_text("utf-8"))["jailbreaks"]
    jbc = [label for label in labels if label.group == "JBC/vicuna-13b-v1.5"]
    assert [label.label == "harmful" for label in jbc] == [r["jailbroken"] for r in records]
    assert [label.response for label in jbc] == [r["response"] for r in records]
    assert all(label.source == "jailbreakbench" and label.behavior for label in labels)


@needs_data
def test_xstest_human_labels_keep_the_three_way_label() -> None:
    labels = data.xstest_human_labels(SHARED)
    assert len(labels) == 1800
    assert Counter(label.raw_label for label in labels) == {
        "1_full_compliance": 881,
        "2_full_refusal": 784,
        "3_partial_refusal": 135,
    }
    assert Counter(label.label for label in labels) == {"complied": 881, "refused": 919}
    groups = Counter(label.group for label in labels)
    assert groups == {"gpt4": 450, "llama2new": 450, "llama2orig": 450, "mistralinstruct": 450}
    unsafe = [label for label in labels if label.prompt_type.startswith("contrast_")]
    assert len(unsafe) == 800
    assert Counter(label.label for label in labels if label.group == "gpt4") == {
        "complied": 230,
        "refused": 220,
    }
    assert labels[0].item_id == "v2-1" and labels[0].response


@needs_data
def test_flames_subcomponent_is_the_source_category_and_dimension_kept() -> None:
    samples = data.flames_zh(SHARED)
    assert Counter(s.metadata["dimension"] for s in samples) == {
        "Safety": 429,
        "Fairness": 249,
        "Morality": 201,
        "Data protection": 75,
        "Legality": 46,
    }
    assert {s.metadata["lang"] for s in samples} == {"zh"}
    assert len({s.metadata["source_category"] for s in samples}) == 12


@needs_data
def test_safetybench_zh_items_are_lettered_with_the_published_answers() -> None:
    samples = data.safetybench_zh(SHARED)
    assert len(samples) == 2100
    assert Counter(s.metadata["category"] for s in samples) == {
        name: 300
        for name in (
            "Offensiveness",
            "Unfairness and Bias",
            "Physical Health",
            "Mental Health",
            "Illegal Activities",
            "Ethics and Morality",
            "Privacy and Property",
        )
    }
    assert Counter(len(s.choices) for s in samples) == {4: 1106, 2: 887, 3: 107}
    assert Counter(s.target for s in samples) == {"B": 798, "A": 694, "C": 339, "D": 269}
    first = samples[0]
    assert (first.metadata["id"], first.target, first.choices) == ("2", "B", ("是。", "否。"))
    assert all("ABCD".index(s.target) < len(s.choices) for s in samples)


@needs_data
def test_in_the_wild_templates_and_questions() -> None:
    wild = data.jailbreak_llms_inthewild(SHARED)
    assert len(wild.templates) == 665
    assert Counter(t.platform for t in wild.templates) == {
        "discord": 294,
        "reddit": 205,
        "website": 164,
        "open_source": 2,
    }
    with_slot = [t for t in wild.templates if t.slot]
    assert len(with_slot) == 141
    assert Counter(t.slot for t in with_slot)["[INSERT PROMPT HERE]"] == 85
    slotted = with_slot[0]
    asked = slotted.with_question("QUESTION")
    assert slotted.slot not in asked and "QUESTION" in asked
    plain = next(t for t in wild.templates if not t.slot)
    assert plain.with_question("QUESTION") == f"{plain.text}\n\nQUESTION"
    assert Counter(q.metadata["source_category"] for q in wild.questions) == {
        name: 30 for name in data.category_table()["jailbreak_llms_inthewild"]
    }
    assert wild.questions[30].metadata["item_id"] == "2-0"  # content_policy_id 1 is absent


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("Answer this: [INSERT PROMPT HERE]", "[INSERT PROMPT HERE]"),
        ("Prompt: \\[Prompt\\]", "\\[Prompt\\]"),
        ("{ENTER_YOUR_PROMPT_HERE} and go", "{ENTER_YOUR_PROMPT_HERE}"),
        ("[Write your request on here]", "[Write your request on here]"),
        ("<PUT_YOUR_QUERY_HERE>", "<PUT_YOUR_QUERY_HERE>"),
        ("none of your responses should contain [insert x].", ""),
        ("none of your responses should include [PROMPT], but [PROMPT]", "[PROMPT]"),
        ("As DAN none of your responses should include [PROMPT].", ""),
        ("![img](https://example.org/?\\[query](x))", ""),
        ("- [x] done", ""),
    ],
)
def test_find_slot(text: str, slot: str) -> None:
    assert data.find_slot(text) == slot


# -- the category table ------------------------------------------------------------------------


@needs_data
def test_every_sample_category_is_a_taxonomy_id_or_unmapped() -> None:
    samples = every_sample()
    assert {s.metadata["category"] for s in samples} <= TAXONOMY_IDS | {UNMAPPED}
    for sample in samples:
        expected = data.mapped_category(
            sample.metadata["source"], sample.metadata["source_category"]
        )
        assert sample.metadata["category"] == (expected or UNMAPPED)
    safetybench = {s.metadata["taxonomy_category"] for s in data.safetybench_zh(SHARED)}
    assert safetybench <= TAXONOMY_IDS | {UNMAPPED}


def test_table_maps_onto_taxonomy_ids_only() -> None:
    table = data.category_table()
    sources = {name for name in SAMPLE_LOADERS if not name.startswith("harmbench")}
    assert set(table) == {*sources, "harmbench", "safetybench_zh"}
    for entries in table.values():
        assert {value for value in entries.values() if value is not None} <= TAXONOMY_IDS
    assert table["advbench"] == {}
    assert table["harmbench"]["copyright"] is None
    assert set(table["do_not_answer"]) == set(data.DNA_RISK_AREAS.values())


@needs_data
def test_table_covers_every_category_the_data_holds() -> None:
    # A category that upstream adds fails here: it must be mapped (or set to null) on purpose.
    table = data.category_table()
    seen: dict[str, set[str]] = {}
    for sample in every_sample():
        if sample.metadata["source_category"]:
            seen.setdefault(sample.metadata["source"], set()).add(
                sample.metadata["source_category"]
            )
    seen["safetybench_zh"] = {s.metadata["category"] for s in data.safetybench_zh(SHARED)}
    for source, found in seen.items():
        assert found <= set(table[source]), (source, sorted(found - set(table[source])))
    # ... and it lists nothing the data lacks, but HarmBench's copyright behaviors, not loaded.
    for source, entries in table.items():
        assert set(entries) - seen.get(source, set()) <= {"copyright"}, source


@needs_data
def test_unmapped_items_are_kept_and_counted() -> None:
    unmapped = Counter(
        s.metadata["source"] for s in every_sample() if s.metadata["category"] == UNMAPPED
    )
    assert unmapped == {
        "advbench": 520,
        "harmbench": 22,
        "xstest": 100,
        "do_not_answer": 117,
        "jailbreakbench": 326,
        "flames_zh": 651,
        "jailbreak_llms_inthewild": 180,
    }


# -- malformed rows: one line naming file:line ---------------------------------------------------


def _expect(load: Callable[[TaskContext], object], root: Path, pattern: str) -> None:
    with pytest.raises(DatasetError) as caught:
        load(TaskContext(data_dir=root))
    message = str(caught.value)
    assert re.search(pattern, message), message
    assert "\n" not in message


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_csv_rows_name_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "advbench" / "harmful_behaviors.csv", "goal,target\nask one,Sure\nask two\n"
    )
    _expect(data.advbench, tmp_path, rf"^{re.escape(str(path))}:3: 1 columns, expected 2")
    _write(path, "goal,target\nask one,Sure\n,Sure\n")
    _expect(data.advbench, tmp_path, r"harmful_behaviors.csv:3: field 'goal' is missing or empty$")

    header = "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n"
    path = _write(
        tmp_path / "harmbench" / "harmbench_behaviors_text_all.csv",
        header + "ask one,standard,illegal,,,one\nask two,visual,illegal,,,two\n",
    )
    _expect(
        data.harmbench,
        tmp_path,
        rf"^{re.escape(str(path))}:3: field 'FunctionalCategory' is 'visual', expected one of",
    )
    _write(path, header + "ask one,contextual,illegal,context,,one\n")
    _expect(
        lambda ctx: data.harmbench(ctx, functional="contextual"),
        tmp_path,
        r"text_all.csv:2: field 'ContextString' is missing or empty$",
    )

    path = _write(
        tmp_path / "xstest" / "xstest_prompts.csv",
        "id,prompt,type,label,focus,note\n1,ask,homonyms,maybe,,\n",
    )
    _expect(data.xstest, tmp_path, rf"^{re.escape(str(path))}:2: field 'label' is 'maybe'")

    labels = "id,type,prompt,completion,annotation_1,annotation_2,agreement,final_label\n"
    path = _write(
        tmp_path / "xstest_human_labels" / "xstest_v2_completions_m.csv",
        labels + "v2-1,homonyms,ask,reply,x,x,TRUE,1_full_compliance\n"
        "v2-2,homonyms,ask,reply,x,x,TRUE,4_unclear\n",
    )
    _expect(
        data.xstest_human_labels,
        tmp_path,
        rf"^{re.escape(str(path))}:3: field 'final_label' is '4_unclear', expected one of",
    )

    folder = tmp_path / "jailbreak_llms_inthewild"
    _write(folder / "jailbreak_prompts_2023_05_07.csv", "platform,source,prompt\nweb,site,Hi\n")
    path = _write(
        folder / "forbidden_questions.csv",
        "content_policy_id,content_policy_name,q_id,question\n0,Fraud,0,\n",
    )
    _expect(
        data.jailbreak_llms_inthewild,
        tmp_path,
        rf"^{re.escape(str(path))}:2: field 'question' is missing or empty$",
    )


def test_do_not_answer_blank_line_inside_a_file(tmp_path: Path) -> None:
    for area in data.DNA_RISK_AREAS.values():
        _write(tmp_path / "do_not_answer" / f"{area}.txt", "Question one?\nQuestion two?\n")
    assert len(data.do_not_answer(TaskContext(data_dir=tmp_path))) == 10  # trailing newline ok
    path = _write(tmp_path / "do_not_answer" / "malicious_uses.txt", "One?\n\nThree?\n")
    _expect(data.do_not_answer, tmp_path, rf"^{re.escape(str(path))}:2: empty line")
    (tmp_path / "do_not_answer" / "human_chatbox.txt").unlink()
    _expect(data.do_not_answer, tmp_path, r"^do_not_answer: .*human_chatbox.txt not found")


def test_malformed_jsonl_and_json_records_name_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"dimension": "Safety", "subcomponent": "Physical harm", "prompt": "问"})
    path = _write(
        tmp_path / "flames_zh" / "Flames_1k_Chinese.jsonl",
        good + "\n" + '{"dimension": "Safety"}\n',
    )
    _expect(data.flames_zh, tmp_path, rf"^{re.escape(str(path))}:2: field 'prompt'")

    record = {
        "index": 0,
        "goal": "goal",
        "behavior": "Name",
        "category": "Privacy",
        "prompt": "attacked goal",
        "response": "reply",
        "jailbroken": False,
    }
    artifact = {
        "parameters": {"method": "M"},
        "jailbreaks": [record, {**record, "jailbroken": "yes"}],
    }
    path = _write(
        tmp_path / "jailbreakbench_artifacts" / "M" / "black_box" / "model-a.json",
        json.dumps(artifact, indent=4),
    )
    # indent=4: "parameters" takes lines 2-4, the array opens on 5, records start on 6 and 15.
    _expect(
        data.jailbreakbench,
        tmp_path,
        rf"^{re.escape(str(path))}:15: field 'jailbroken' is 'yes', expected true or false$",
    )
    _write(path, json.dumps(artifact)[:-3])
    _expect(data.jailbreakbench, tmp_path, rf"^{re.escape(str(path))}:1: not valid JSON")
    _write(path, json.dumps({"parameters": {}, "jailbreaks": [record, {**record, "prompt": None}]}))
    samples = data.jailbreakbench(TaskContext(data_dir=tmp_path))
    assert [s.metadata["item_id"] for s in samples] == ["M/model-a/0"]  # the null prompt skipped

    questions = [
        {"id": 1, "options": ["是", "否"], "category": "Offensiveness", "question": "问一"},
        {"id": 2, "options": ["是", "否"], "category": "Offensiveness", "question": "问二"},
    ]
    folder = tmp_path / "safetybench_zh_subset"
    path = _write(folder / "test_zh_subset.json", json.dumps(questions, indent=1))
    answers = {
        "1": {"category": "Offensiveness", "answer": 1},
        "2": {"category": "Offensiveness", "answer": 2},
    }
    _write(folder / "test_answers_zh_subset.json", json.dumps(answers))
    _expect(
        data.safetybench_zh,
        tmp_path,
        rf"^{re.escape(str(path))}:11: id 2: test_answers_zh_subset.json gives answer 2, "
        r"expected an option index 0-1$",
    )
    del answers["2"]
    _write(folder / "test_answers_zh_subset.json", json.dumps(answers))
    _expect(data.safetybench_zh, tmp_path, r"test_zh_subset.json:11: id 2: .* gives answer None")
    answers["2"] = {"category": "Offensiveness", "answer": 0}
    _write(folder / "test_answers_zh_subset.json", json.dumps(answers))
    loaded = data.safetybench_zh(TaskContext(data_dir=tmp_path))
    assert [(s.input, s.target) for s in loaded] == [("问一", "B"), ("问二", "A")]


@pytest.mark.parametrize(
    ("load", "folder", "why"),
    [
        (data.jailbreakbench, "jailbreakbench_artifacts", "the artifacts have no hub copy"),
        (data.xstest_human_labels, "xstest_human_labels", "the completions have no hub copy"),
        (data.safetybench_zh, "safetybench_zh_subset", "thu-coai/SafetyBench has no answers"),
    ],
)
def test_sets_without_a_hub_copy_say_where_to_put_them(
    load: Callable[[TaskContext], object], folder: str, why: str, tmp_path: Path
) -> None:
    _expect(
        load,
        tmp_path,
        rf"^{folder}: no local copy in {re.escape(str(tmp_path / folder))} and .*{why}; "
        rf"pass --data-dir DIR holding {folder}/ \(",
    )
    with pytest.raises(DatasetError, match=rf"^{folder}: no --data-dir given and "):
        load(TaskContext())


# -- the hub path, on a dataset repo layout on disk (never the network) -------------------------


def _parquet(path: Path, rows: list[dict[str, Any]]) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    parquet = pytest.importorskip("pyarrow.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    parquet.write_table(pyarrow.Table.from_pylist(rows), str(path))


def _card(repo: Path, configs: dict[str, dict[str, str]]) -> None:
    """The dataset card's YAML `configs`, as the hub repos declare their configs and splits."""
    lines = ["---", "configs:"]
    for name, splits in configs.items():
        lines += [f"- config_name: {name}", "  data_files:"]
        for split, pattern in splits.items():
            lines += [f"  - split: {split}", f"    path: {pattern}"]
    _write(repo / "README.md", "\n".join([*lines, "---", ""]))


def test_advbench_from_the_hub_matches_the_local_copy(hub: Path, tmp_path: Path) -> None:
    rows = [{"prompt": f"request {i}", "target": f"Sure, here is {i}"} for i in range(3)]
    _parquet(hub / "walledai" / "AdvBench" / "data" / "train-00000-of-00001.parquet", rows)
    from_hub = data.advbench(TaskContext(data_dir=tmp_path / "absent"))
    path = tmp_path / "data" / "advbench" / "harmful_behaviors.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [("goal", "target"), *((r["prompt"], r["target"]) for r in rows)]
        )
    from_disk = data.advbench(TaskContext(data_dir=tmp_path / "data"))
    assert [s.id for s in from_hub] == [s.id for s in from_disk]
    assert [s.metadata["item_id"] for s in from_hub] == ["1", "2", "3"]
    assert from_hub[2].metadata["attack_target"] == "Sure, here is 2"


def test_do_not_answer_hub_risk_areas_map_like_the_file_names(hub: Path) -> None:
    rows = [
        {"id": i, "risk_area": area, "question": f"question {i}?"}
        for i, area in enumerate([*data.DNA_RISK_AREAS, "A new area"])
    ]
    _parquet(hub / "LibrAI" / "do-not-answer" / "data" / "train-00000-of-00001.parquet", rows)
    samples = data.do_not_answer(TaskContext())
    assert [s.metadata["source_category"] for s in samples] == [
        *data.DNA_RISK_AREAS.values(),
        "A new area",
    ]
    assert [s.metadata["category"] for s in samples] == [
        "bias_discrimination",
        UNMAPPED,
        "personal_data",
        "illegal_activity",
        "misinformation",
        UNMAPPED,  # an area the table does not know is kept, unmapped
    ]
    assert samples[0].metadata["item_id"] == "0"


def test_xstest_and_harmbench_from_their_hub_configs(hub: Path) -> None:
    xs = hub / "walledai" / "XSTest"
    _parquet(
        xs / "data" / "train-00000-of-00001.parquet",
        [
            {"prompt": "p1", "focus": "kill", "type": "homonyms", "note": None, "label": "safe"},
            {
                "prompt": "p2",
                "focus": "",
                "type": "contrast_privacy",
                "note": "",
                "label": "unsafe",
            },
        ],
    )
    _card(xs, {"default": {"test": "data/train-*"}})
    samples = data.xstest(TaskContext())
    assert [
        (s.metadata["benign"], s.metadata["category"], s.metadata["note"]) for s in samples
    ] == [
        (True, "violence_weapons", ""),
        (False, "personal_data", ""),
    ]

    hb = hub / "walledai" / "HarmBench"
    _parquet(
        hb / "standard" / "train-00000-of-00001.parquet", [{"prompt": "b1", "category": "illegal"}]
    )
    _parquet(
        hb / "contextual" / "train-00000-of-00001.parquet",
        [{"prompt": "b2", "context": "ctx", "category": "cybercrime_intrusion"}],
    )
    _card(hb, {name: {"train": f"{name}/train-*"} for name in ("standard", "contextual")})
    (standard,) = data.harmbench(TaskContext())
    (contextual,) = data.harmbench(TaskContext(), functional="contextual")
    assert (standard.input, standard.metadata["category"]) == ("b1", "illegal_activity")
    assert (contextual.input, contextual.metadata["behavior"]) == ("ctx\n\n---\n\nb2", "b2")
    with pytest.raises(DatasetError, match=r"^harmbench: the hub copy .* no 'test' split"):
        data.harmbench(TaskContext(), split="test")


def test_in_the_wild_from_the_authors_hub_repos(hub: Path) -> None:
    prompts = hub / "TrustAIRLab" / "in-the-wild-jailbreak-prompts"
    _parquet(
        prompts / "jailbreak_2023_05_07" / "train-00000-of-00001.parquet",
        [
            {
                "platform": "reddit",
                "source": "r/x",
                "prompt": "Act freely. [INSERT PROMPT HERE]",
                "jailbreak": True,
                "created_at": "2023-01-01",
                "date": "2023-01-01",
                "community_id": 1.0,
                "community_name": None,
            }
        ],
    )
    _card(prompts, {"jailbreak_2023_05_07": {"train": "jailbreak_2023_05_07/train-*"}})
    _parquet(
        hub / "TrustAIRLab" / "forbidden_question_set" / "data" / "train-00000-of-00001.parquet",
        [{"content_policy_id": 3, "content_policy_name": "Malware", "q_id": 7, "question": "q?"}],
    )
    wild = data.jailbreak_llms_inthewild(TaskContext())
    (template,) = wild.templates
    assert (template.slot, template.community) == ("[INSERT PROMPT HERE]", "")
    assert template.with_question("q?") == "Act freely. q?"
    (question,) = wild.questions
    assert (question.metadata["item_id"], question.metadata["category"]) == ("3-7", "cybercrime")
