"""Public benchmark items: from a local copy in the upstream layout, else from the Hugging Face hub.

A local copy is `DATA_DIR/<benchmark>/` holding the upstream files as published (each loader
names its layout). Without one, rows come from the hub with `datasets` (the `hub` extra); the
environment variable ASSAY_HUB_ROOT, when set, names a directory of `<owner>/<repo>/` dataset
repositories (a mirror or git clones) used instead of huggingface.co. Every row is checked as it
is read: a bad one raises a one-line DatasetError naming file:line (or hub repo, split and row).
Items keep the upstream order, so `--limit N` always takes the same N.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import io
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from assay._errors import DatasetError
from assay._files import decode_utf8, jsonl_objects, read_bytes, read_text
from assay.core import Sample
from assay.core._task import TaskContext
from assay.scorers._instructions import check_all

HUB_ROOT_ENV = "ASSAY_HUB_ROOT"
CHOICE_LETTERS = "ABCD"

# -- rows and where they came from ----------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One upstream record and where it was read, for error messages."""

    where: str
    fields: Mapping[str, Any]

    def error(self, message: str) -> DatasetError:
        return DatasetError(f"{self.where}: {message}")

    def text(self, name: str, *, allow_empty: bool = False) -> str:
        value = self.fields.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)  # a hub column of numbers-only options arrives typed
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            raise self.error(f"field {name!r} is missing or empty")
        return value


def read_jsonl(path: Path) -> list[Row]:
    """Rows of a JSONL file, gzip-compressed when its name ends in .gz (as HumanEval ships)."""
    text = _data_text(path)
    return [Row(f"{path}:{number}", record) for number, record in jsonl_objects(path, text)]


def _data_text(path: Path) -> str:
    """A data file's text, gunzipped when its name ends in .gz, without a byte-order mark;
    unreadable, undecodable or broken gzip files end in one DatasetError line."""
    if path.suffix != ".gz":
        text = read_text(path, "data file", DatasetError)
    else:
        text = decode_utf8(path, _gunzip(path), "data file", DatasetError)
    return text.removeprefix("\ufeff")


def _gunzip(path: Path) -> bytes:
    data = read_bytes(path, "data file", DatasetError)
    try:
        return gzip.decompress(data)
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise DatasetError(f"{path}: not a complete gzip file; use the upstream file") from None


def read_csv(path: Path, columns: Sequence[str] | None = None) -> list[Row]:
    """Rows of a CSV file: named by `columns` when it has no header row, else by its header."""
    rows = []
    reader = csv.reader(io.StringIO(_data_text(path), newline=""))
    start = 1
    try:
        for record in reader:
            where, start = f"{path}:{start}", reader.line_num + 1
            if columns is None:
                columns = record
                continue
            if len(record) != len(columns):
                raise DatasetError(
                    f"{where}: {len(record)} columns, expected {len(columns)} "
                    f"({', '.join(c or '<index>' for c in columns)})"
                )
            rows.append(Row(where, dict(zip(columns, record, strict=True))))
    except csv.Error as exc:
        raise DatasetError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
    return rows


# -- the hub ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubSource:
    """A dataset on the hub: repository, config, and data files for repos without configs."""

    repo: str
    config: str | None = None
    data_files: Mapping[str, str] | None = None
    revision: str | None = None

    def describe(self) -> str:
        return f"{self.repo}[{self.config}]" if self.config else self.repo


class HubUnavailable(Exception):
    """Rows could not be loaded with `datasets`; the message is a clause that says why."""


class DatasetsMissing(HubUnavailable):
    """The `datasets` package is not installed."""


def hub_splits(source: HubSource, *, local_repo: Path | None = None) -> dict[str, list[Row]]:
    """Every split of `source` as rows, in the stored order.

    `local_repo` reads a dataset repository already on disk instead (a clone of the hub repo).
    """
    try:
        datasets = importlib.import_module("datasets")
    except ImportError:
        raise DatasetsMissing(
            "the datasets package is not installed (pip install 'assay[hub]')"
        ) from None
    root = os.environ.get(HUB_ROOT_ENV)
    if local_repo is not None:
        path = str(local_repo)
    else:
        path = str(Path(root) / source.repo) if root else source.repo
    options: dict[str, Any] = {}
    if source.data_files:
        options["data_files"] = dict(source.data_files)
    if source.revision and path == source.repo:
        options["revision"] = source.revision
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # our own progress display owns the terminal
    try:
        loaded = datasets.load_dataset(path, source.config, **options)
    except Exception as exc:  # datasets raises many types; each means "cannot load it there"
        raise HubUnavailable(_hub_reason(exc, source, path)) from None
    finally:
        if bars:
            datasets.enable_progress_bars()
    where = f"{path}[{source.config}]" if source.config else path
    return {
        str(split): [Row(f"{where} {split} row {i}", dict(r)) for i, r in enumerate(rows, 1)]
        for split, rows in loaded.items()
    }


def _hub_reason(exc: Exception, source: HubSource, path: str) -> str:
    detail = " ".join(str(exc).split())[:240] or type(exc).__name__
    if isinstance(exc, ConnectionError) or "offline" in detail.lower():
        return f"the hub is unreachable ({detail})"
    return f"{source.describe()} could not be loaded from {path} ({detail})"


# -- where a benchmark comes from ------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where one benchmark's rows are looked for, and what to say when they are not there."""

    name: str  # the directory under --data-dir
    expected: str  # what that directory must hold, for messages

    def local(self, ctx: TaskContext) -> Path | None:
        if ctx.data_dir is None:
            return None
        folder = Path(ctx.data_dir) / self.name
        return folder if folder.is_dir() else None

    def require(self, path: Path) -> Path:
        if not path.exists():
            raise DatasetError(
                f"{self.name}: {path} not found; a local copy {self.name}/ holds "
                f"{self.expected} as published upstream"
            )
        return path

    def hub(self, ctx: TaskContext, source: HubSource) -> dict[str, list[Row]]:
        try:
            return hub_splits(source)
        except HubUnavailable as exc:
            if ctx.data_dir is None:
                missing = "no --data-dir given"
            else:
                missing = f"no local copy in {Path(ctx.data_dir) / self.name}"
            reason = str(exc)
            if isinstance(exc, DatasetsMissing):
                reason = f"the hub is unreachable: {reason}"
            raise DatasetError(
                f"{self.name}: {missing} (expected {self.expected}) and {reason}; "
                f"pass --data-dir DIR holding {self.name}/ ({self.expected})"
            ) from None


def split_rows(splits: Mapping[str, list[Row]], split: str, source: HubSource) -> list[Row]:
    if split not in splits:
        raise DatasetError(
            f"{source.describe()}: no {split!r} split (found {', '.join(sorted(splits))})"
        )
    return splits[split]


# -- multiple choice (MMLU, CMMLU, C-Eval) ----------------------------------------------------


@dataclass(frozen=True)
class ChoiceSet:
    """Test items and few-shot exemplars of a multiple-choice benchmark, by subject."""

    test: dict[str, list[Sample]]
    dev: dict[str, list[Sample]] = field(default_factory=dict)

    def interleaved(self) -> list[Sample]:
        """Round-robin over the sorted subjects, each in file order: a `--limit` prefix spans
        many subjects instead of exhausting the first one alphabetically."""
        groups = [self.test[subject] for subject in sorted(self.test)]
        longest = max((len(group) for group in groups), default=0)
        return [group[i] for i in range(longest) for group in groups if i < len(group)]


class ChoiceLoader(Protocol):
    def __call__(self, ctx: TaskContext, *, with_dev: bool) -> ChoiceSet: ...


def _letter(row: Row, name: str) -> str:
    value = row.fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 4:
        return CHOICE_LETTERS[value]  # hub MMLU stores the answer as a class index
    if isinstance(value, str) and value.strip() in tuple(CHOICE_LETTERS):
        return value.strip()
    raise row.error(f"field {name!r} is {value!r}, expected one of A, B, C, D")


def _lettered(row: Row, subject: str, question: str, answer: str) -> Sample:
    """A sample from a row with the options in columns A-D (MMLU CSV, CMMLU, C-Eval)."""
    return Sample(
        input=row.text(question),
        target=_letter(row, answer),
        choices=tuple(row.text(letter, allow_empty=True) for letter in CHOICE_LETTERS),
        metadata={"subject": subject},
    )


def _listed(row: Row, subject: str) -> Sample:
    """A sample from a hub MMLU row: `choices` is a list, `answer` a class index."""
    choices = row.fields.get("choices")
    if not isinstance(choices, Sequence) or isinstance(choices, str) or len(choices) != 4:
        raise row.error(f"field 'choices' is {choices!r}, expected a list of 4 options")
    return Sample(
        input=row.text("question"),
        target=_letter(row, "answer"),
        choices=tuple(str(option) for option in choices),
        metadata={"subject": subject},
    )


def _subjects(folder: Path, suffix: str, origin: Origin) -> list[str]:
    files = sorted(origin.require(folder).glob(f"*{suffix}"))
    if not files:
        raise DatasetError(f"{origin.name}: no *{suffix} files in {folder} ({origin.expected})")
    return [path.name.removesuffix(suffix) for path in files]


MMLU = Origin("mmlu", "test/<subject>_test.csv and dev/<subject>_dev.csv")
MMLU_COLUMNS = ("question", "A", "B", "C", "D", "answer")


def mmlu(ctx: TaskContext, *, with_dev: bool) -> ChoiceSet:
    """MMLU: local `mmlu/{test,dev}/<subject>_{test,dev}.csv` (hendrycks/test layout), else hub
    `cais/mmlu`, one config per subject with splits test and dev."""
    local = MMLU.local(ctx)
    test: dict[str, list[Sample]] = {}
    dev: dict[str, list[Sample]] = {}
    if local is not None:
        for subject in _subjects(local / "test", "_test.csv", MMLU):
            test[subject] = [
                _lettered(row, subject, "question", "answer")
                for row in read_csv(local / "test" / f"{subject}_test.csv", MMLU_COLUMNS)
            ]
            if with_dev:
                dev_file = MMLU.require(local / "dev" / f"{subject}_dev.csv")
                dev[subject] = [
                    _lettered(row, subject, "question", "answer")
                    for row in read_csv(dev_file, MMLU_COLUMNS)
                ]
        return ChoiceSet(test, dev)
    for subject in MMLU_SUBJECTS:
        source = HubSource("cais/mmlu", subject)
        splits = MMLU.hub(ctx, source)
        test[subject] = [_listed(row, subject) for row in split_rows(splits, "test", source)]
        if with_dev:
            dev[subject] = [_listed(row, subject) for row in split_rows(splits, "dev", source)]
    return ChoiceSet(test, dev)


CMMLU = Origin("cmmlu", "test/<subject>.csv and dev/<subject>.csv")


def cmmlu(ctx: TaskContext, *, with_dev: bool) -> ChoiceSet:
    """CMMLU: local `cmmlu/{test,dev}/<subject>.csv` (haonan-li/CMMLU layout), else the hub's
    parquet conversion of `haonan-li/cmmlu` (the main branch holds a loading script, which
    `datasets` no longer runs): `<subject>/{test,dev}/*.parquet`."""
    local = CMMLU.local(ctx)
    test: dict[str, list[Sample]] = {}
    dev: dict[str, list[Sample]] = {}
    if local is not None:
        for subject in _subjects(local / "test", ".csv", CMMLU):
            test[subject] = _cmmlu_rows(local / "test" / f"{subject}.csv", subject)
            if with_dev:
                dev[subject] = _cmmlu_rows(CMMLU.require(local / "dev" / f"{subject}.csv"), subject)
        return ChoiceSet(test, dev)
    for subject in CMMLU_SUBJECTS:
        files = {split: f"{subject}/{split}/*.parquet" for split in ("test", "dev")}
        source = HubSource("haonan-li/cmmlu", data_files=files, revision="refs/convert/parquet")
        splits = CMMLU.hub(ctx, source)
        test[subject] = [
            _lettered(row, subject, "Question", "Answer")
            for row in split_rows(splits, "test", source)
        ]
        if with_dev:
            dev[subject] = [
                _lettered(row, subject, "Question", "Answer")
                for row in split_rows(splits, "dev", source)
            ]
    return ChoiceSet(test, dev)


def _cmmlu_rows(path: Path, subject: str) -> list[Sample]:
    return [_lettered(row, subject, "Question", "Answer") for row in read_csv(path)]


CEVAL = Origin(
    "ceval",
    "val/<subject>_val.csv and dev/<subject>_dev.csv (ceval-exam.zip), "
    "or <subject>/{val,dev}-*.parquet (a clone of the hub repo)",
)


def ceval(ctx: TaskContext, *, with_dev: bool) -> ChoiceSet:
    """C-Eval, scored on `val` (the test split's answers are not published), exemplars from `dev`.

    Local: the official `ceval-exam.zip` layout `{val,dev}/<subject>_{val,dev}.csv`, or a clone
    of the hub repo `<subject>/{val,dev}-*.parquet` (csv works too); else hub `ceval/ceval-exam`,
    one config per subject.
    """
    splits = ("val", "dev") if with_dev else ("val",)
    local = CEVAL.local(ctx)
    by_split: dict[str, dict[str, list[Sample]]] = {split: {} for split in splits}
    if local is not None and (local / "val").is_dir():
        for subject in _subjects(local / "val", "_val.csv", CEVAL):
            for split in splits:
                path = CEVAL.require(local / split / f"{subject}_{split}.csv")
                by_split[split][subject] = [
                    _lettered(row, subject, "question", "answer") for row in read_csv(path)
                ]
        return ChoiceSet(by_split["val"], by_split.get("dev", {}))
    if local is not None:
        subjects = sorted(p.name for p in local.iterdir() if p.is_dir() and any(p.glob("val*")))
        if not subjects:
            raise DatasetError(f"ceval: {local} holds neither layout ({CEVAL.expected})")
        for subject in subjects:
            files = {split: f"{subject}/{split}-*" for split in splits}
            source = HubSource("ceval/ceval-exam", data_files=files)
            try:
                loaded = hub_splits(source, local_repo=local)
            except HubUnavailable as exc:
                raise DatasetError(f"ceval: cannot read {local}: {exc}") from None
            _ceval_add(by_split, subject, loaded, source)
    else:
        for subject in CEVAL_SUBJECTS:
            source = HubSource("ceval/ceval-exam", subject)
            _ceval_add(by_split, subject, CEVAL.hub(ctx, source), source)
    return ChoiceSet(by_split["val"], by_split.get("dev", {}))


def _ceval_add(
    by_split: dict[str, dict[str, list[Sample]]],
    subject: str,
    loaded: Mapping[str, list[Row]],
    source: HubSource,
) -> None:
    for split, samples in by_split.items():
        samples[subject] = [
            _lettered(row, subject, "question", "answer")
            for row in split_rows(loaded, split, source)
        ]


# -- GSM8K -------------------------------------------------------------------------------------

GSM8K = Origin("gsm8k", "test.jsonl")
_FINAL_ANSWER = re.compile(r"-?[\d,]*\.?\d+")


@dataclass(frozen=True)
class Gsm8kSet:
    test: list[Sample]
    train: list[Sample]  # empty when only the test split is at hand


def gsm8k(ctx: TaskContext) -> Gsm8kSet:
    """GSM8K: local `gsm8k/test.jsonl` (+ `train.jsonl` if present; grade-school-math layout),
    else hub `openai/gsm8k` config `main`. The answer is the number after `####`."""
    local = GSM8K.local(ctx)
    if local is not None:
        test = read_jsonl(GSM8K.require(local / "test.jsonl"))
        train_file = local / "train.jsonl"
        train = read_jsonl(train_file) if train_file.is_file() else []
    else:
        source = HubSource("openai/gsm8k", "main")
        splits = GSM8K.hub(ctx, source)
        test, train = split_rows(splits, "test", source), splits.get("train", [])
    return Gsm8kSet([gsm8k_sample(row) for row in test], [gsm8k_sample(row) for row in train])


def gsm8k_sample(row: Row) -> Sample:
    solution = row.text("answer")
    if "####" not in solution:
        raise row.error("field 'answer' has no '#### <number>' final answer")
    final = solution.rsplit("####", 1)[1].strip()
    if not _FINAL_ANSWER.fullmatch(final):
        raise row.error(f"field 'answer' ends in '#### {final}', not a number")
    return Sample(
        input=row.text("question"),
        target=final.replace(",", ""),
        metadata={"solution": solution},
    )


# -- IFEval ------------------------------------------------------------------------------------

IFEVAL = Origin("ifeval", "input_data.jsonl")


def ifeval(ctx: TaskContext) -> list[Sample]:
    """IFEval: local `ifeval/input_data.jsonl` (google-research layout), else hub `google/IFEval`
    (split `train`, whose kwargs carry every name with null for the unused ones)."""
    local = IFEVAL.local(ctx)
    if local is not None:
        rows = read_jsonl(IFEVAL.require(local / "input_data.jsonl"))
    else:
        source = HubSource("google/IFEval")
        rows = split_rows(IFEVAL.hub(ctx, source), "train", source)
    return [ifeval_sample(row) for row in rows]


def ifeval_sample(row: Row) -> Sample:
    prompt = row.text("prompt")
    ids = row.fields.get("instruction_id_list")
    kwargs = row.fields.get("kwargs")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids) or not ids:
        raise row.error("field 'instruction_id_list' must be a non-empty list of ids")
    if not isinstance(kwargs, list) or not all(isinstance(k, dict) for k in kwargs):
        raise row.error("field 'kwargs' must be a list of objects")
    # Null kwargs are absent ones: local and hub rows then give the same sample id.
    cleaned = [{k: v for k, v in entry.items() if v is not None} for entry in kwargs]
    try:
        check_all(ids, cleaned, "", prompt=prompt)  # unknown ids and bad kwargs fail here
    except (ValueError, KeyError, TypeError) as exc:
        raise row.error(f"instructions cannot be checked: {exc}") from None
    return Sample(
        input=prompt,
        target="",
        metadata={"key": row.fields.get("key"), "instruction_ids": ids, "kwargs": cleaned},
    )


# -- subject names ----------------------------------------------------------------------------

MMLU_SUBJECTS = (
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
)

# Chinese subject names as used in each benchmark's own prompt (CMMLU src/categories.py,
# C-Eval subject_mapping.json).
CMMLU_SUBJECTS = {
    "agronomy": "农学",
    "anatomy": "解剖学",
    "ancient_chinese": "古汉语",
    "arts": "艺术学",
    "astronomy": "天文学",
    "business_ethics": "商业伦理",
    "chinese_civil_service_exam": "中国公务员考试",
    "chinese_driving_rule": "中国驾驶规则",
    "chinese_food_culture": "中国饮食文化",
    "chinese_foreign_policy": "中国外交政策",
    "chinese_history": "中国历史",
    "chinese_literature": "中国文学",
    "chinese_teacher_qualification": "中国教师资格",
    "clinical_knowledge": "临床知识",
    "college_actuarial_science": "大学精算学",
    "college_education": "大学教育学",
    "college_engineering_hydrology": "大学工程水文学",
    "college_law": "大学法律",
    "college_mathematics": "大学数学",
    "college_medical_statistics": "大学医学统计",
    "college_medicine": "大学医学",
    "computer_science": "计算机科学",
    "computer_security": "计算机安全",
    "conceptual_physics": "概念物理学",
    "construction_project_management": "建设工程管理",
    "economics": "经济学",
    "education": "教育学",
    "electrical_engineering": "电气工程",
    "elementary_chinese": "小学语文",
    "elementary_commonsense": "小学常识",
    "elementary_information_and_technology": "小学信息技术",
    "elementary_mathematics": "初等数学",
    "ethnology": "民族学",
    "food_science": "食品科学",
    "genetics": "遗传学",
    "global_facts": "全球事实",
    "high_school_biology": "高中生物",
    "high_school_chemistry": "高中化学",
    "high_school_geography": "高中地理",
    "high_school_mathematics": "高中数学",
    "high_school_physics": "高中物理学",
    "high_school_politics": "高中政治",
    "human_sexuality": "人类性行为",
    "international_law": "国际法学",
    "journalism": "新闻学",
    "jurisprudence": "法理学",
    "legal_and_moral_basis": "法律与道德基础",
    "logical": "逻辑学",
    "machine_learning": "机器学习",
    "management": "管理学",
    "marketing": "市场营销",
    "marxist_theory": "马克思主义理论",
    "modern_chinese": "现代汉语",
    "nutrition": "营养学",
    "philosophy": "哲学",
    "professional_accounting": "专业会计",
    "professional_law": "专业法学",
    "professional_medicine": "专业医学",
    "professional_psychology": "专业心理学",
    "public_relations": "公共关系",
    "security_study": "安全研究",
    "sociology": "社会学",
    "sports_science": "体育学",
    "traditional_chinese_medicine": "中医中药",
    "virology": "病毒学",
    "world_history": "世界历史",
    "world_religions": "世界宗教",
}

CEVAL_SUBJECTS = {
    "accountant": "注册会计师",
    "advanced_mathematics": "高等数学",
    "art_studies": "艺术学",
    "basic_medicine": "基础医学",
    "business_administration": "工商管理",
    "chinese_language_and_literature": "中国语言文学",
    "civil_servant": "公务员",
    "clinical_medicine": "临床医学",
    "college_chemistry": "大学化学",
    "college_economics": "大学经济学",
    "college_physics": "大学物理",
    "college_programming": "大学编程",
    "computer_architecture": "计算机组成",
    "computer_network": "计算机网络",
    "discrete_mathematics": "离散数学",
    "education_science": "教育学",
    "electrical_engineer": "注册电气工程师",
    "environmental_impact_assessment_engineer": "环境影响评价工程师",
    "fire_engineer": "注册消防工程师",
    "high_school_biology": "高中生物",
    "high_school_chemistry": "高中化学",
    "high_school_chinese": "高中语文",
    "high_school_geography": "高中地理",
    "high_school_history": "高中历史",
    "high_school_mathematics": "高中数学",
    "high_school_physics": "高中物理",
    "high_school_politics": "高中政治",
    "ideological_and_moral_cultivation": "思想道德修养与法律基础",
    "law": "法学",
    "legal_professional": "法律职业资格",
    "logic": "逻辑学",
    "mao_zedong_thought": "毛泽东思想和中国特色社会主义理论体系概论",
    "marxism": "马克思主义基本原理",
    "metrology_engineer": "注册计量师",
    "middle_school_biology": "初中生物",
    "middle_school_chemistry": "初中化学",
    "middle_school_geography": "初中地理",
    "middle_school_history": "初中历史",
    "middle_school_mathematics": "初中数学",
    "middle_school_physics": "初中物理",
    "middle_school_politics": "初中政治",
    "modern_chinese_history": "近代史纲要",
    "operating_system": "操作系统",
    "physician": "医师资格",
    "plant_protection": "植物保护",
    "probability_and_statistics": "概率统计",
    "professional_tour_guide": "导游资格",
    "sports_science": "体育学",
    "tax_accountant": "税务师",
    "teacher_qualification": "教师资格",
    "urban_and_rural_planner": "注册城乡规划师",
    "veterinary_medicine": "兽医学",
}
