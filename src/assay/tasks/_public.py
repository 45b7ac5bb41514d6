"""Public benchmarks by name — GSM8K, MMLU, CMMLU, C-Eval, IFEval — in their published prompts.

Items come from `_loaders` (a local copy under --data-dir, else the hub). Few-shot exemplars come
from the same copy as the test items (dev or train split), so a task's prompt prefixes are only
known once its dataset is loaded; `Prefixes` holds them between the two. Each task's description
states its prompt format, shots and item order; the rendered prompt of every request is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from assay._errors import DatasetError
from assay.core import GenerateConfig, Sample, Scorer
from assay.core._task import Dimension, Task, TaskContext, register_task
from assay.scorers._instructions import ifeval_followed
from assay.scorers._match import choice, numeric_match, zh_choice
from assay.solvers._choice import ChoiceFormat, subject_choice
from assay.solvers._prompts import gsm8k_item, instruction_prompt, question_prompt
from assay.solvers._solvers import Prefixes, generate_step, zh_letters
from assay.tasks import _loaders as loaders

# -- multiple choice: MMLU, CMMLU, C-Eval -------------------------------------------------------


def _mmlu_header(subject: str) -> str:
    return (
        "The following are multiple choice questions (with answers) about "
        f"{subject.replace('_', ' ')}.\n\n"
    )


def _zh_name(names: Mapping[str, str], subject: str) -> str:
    return names.get(subject, subject.replace("_", " "))


# Named, not lambdas: a solver's recorded build names its format's header function.
def _cmmlu_header(subject: str) -> str:
    return (
        f"以下是关于{_zh_name(loaders.CMMLU_SUBJECTS, subject)}的单项选择题，"
        "请直接给出正确答案的选项。\n\n"
    )


def _ceval_header(subject: str) -> str:
    return (
        f"以下是中国关于{_zh_name(loaders.CEVAL_SUBJECTS, subject)}考试的单项选择题，"
        "请选出其中的正确答案。\n\n"
    )


MMLU_FORMAT = ChoiceFormat(header=_mmlu_header, answer_cue="Answer:")
# CMMLU's src/mp_utils.py (gen_prompt / format_example, without chain of thought).
CMMLU_FORMAT = ChoiceFormat(
    header=_cmmlu_header,
    answer_cue="答案是：",
    letter_gap="",
    question_label="题目：",
    chat_instruction=zh_letters,
)
# C-Eval's evaluator prompt (code/evaluator_series), answer-only.
CEVAL_FORMAT = ChoiceFormat(
    header=_ceval_header,
    answer_cue="答案：",
    letter_gap="",
    chat_instruction=zh_letters,
)


@dataclass(frozen=True)
class ChoiceBenchmark:
    name: str
    dimension: Dimension
    load: loaders.ChoiceLoader
    format: ChoiceFormat
    about: str  # what the benchmark is, where it comes from, what the prompt looks like
    scorer: Callable[[], Scorer] = choice


def choice_task(benchmark: ChoiceBenchmark, *, shots: int) -> Task:
    prefixes = Prefixes()

    def dataset(ctx: TaskContext) -> list[Sample]:
        data = benchmark.load(ctx, with_dev=shots > 0)
        for subject in data.test:
            exemplars = data.dev.get(subject, [])
            if len(exemplars) < shots:
                raise DatasetError(
                    f"{benchmark.name}: subject {subject!r} has {len(exemplars)} dev exemplars, "
                    f"{shots} needed for the {shots}-shot prompt; use {benchmark.name}_0shot"
                )
        prefixes.by_subject = {
            subject: benchmark.format.prefix(subject, data.dev.get(subject, [])[:shots])
            for subject in data.test
        }
        return data.interleaved()

    regime = f"{shots}-shot: the first {shots} dev items of the subject" if shots else "0-shot"
    return Task(
        name=benchmark.name if shots else f"{benchmark.name}_0shot",
        dimension=benchmark.dimension,
        description=(
            f"{benchmark.about} {regime}. Letter by logprob when the target offers logprobs, "
            "else generated letter. Items interleave the sorted subjects round-robin (file "
            "order within a subject), so --limit N spans many subjects; they are sent grouped "
            "by subject, so a prefix cache keeps each subject's exemplars."
        ),
        dataset=dataset,
        prefix_group=lambda sample: str(sample.metadata["subject"]),
        solvers=(subject_choice(benchmark.format, prefixes),),
        scorer=benchmark.scorer(),
        config=GenerateConfig(max_tokens=16, stop=("\n",)),
    )


MMLU = ChoiceBenchmark(
    "mmlu",
    "knowledge",
    loaders.mmlu,
    MMLU_FORMAT,
    "MMLU (Hendrycks et al.), test split, 57 subjects; local mmlu/{test,dev}/*.csv or hub "
    "cais/mmlu. Prompt as in the paper and lm-eval: 'The following are multiple choice "
    "questions (with answers) about {subject}.' then exemplars '{question}\\nA. ..\\nD. ..\\n"
    "Answer: {letter}' and the item ending 'Answer:'.",
)
CMMLU = ChoiceBenchmark(
    "cmmlu",
    "multilingual",
    loaders.cmmlu,
    CMMLU_FORMAT,
    "CMMLU (Li et al.), Chinese, test split, 67 subjects; local cmmlu/{test,dev}/*.csv or hub "
    "haonan-li/cmmlu. Prompt as in the CMMLU repo: '以下是关于{科目}的单项选择题，"
    "请直接给出正确答案的选项。' then '题目：{question}\\nA. ..\\nD. ..\\n答案是：{letter}'.",
    zh_choice,
)
CEVAL = ChoiceBenchmark(
    "ceval",
    "multilingual",
    loaders.ceval,
    CEVAL_FORMAT,
    "C-Eval (Huang et al.), Chinese, val split (test answers are unpublished), 52 subjects; "
    "local ceval/ (ceval-exam.zip layout or a hub-repo clone) or hub ceval/ceval-exam. Prompt "
    "as in the C-Eval repo: '以下是中国关于{科目}考试的单项选择题，请选出其中的正确答案。' then "
    "'{question}\\nA. ..\\nD. ..\\n答案：{letter}'.",
    zh_choice,
)


@register_task("mmlu")
def mmlu() -> Task:
    return choice_task(MMLU, shots=5)


@register_task("mmlu_0shot")
def mmlu_0shot() -> Task:
    return choice_task(MMLU, shots=0)


@register_task("cmmlu")
def cmmlu() -> Task:
    return choice_task(CMMLU, shots=5)


@register_task("cmmlu_0shot")
def cmmlu_0shot() -> Task:
    return choice_task(CMMLU, shots=0)


@register_task("ceval")
def ceval() -> Task:
    return choice_task(CEVAL, shots=5)


@register_task("ceval_0shot")
def ceval_0shot() -> Task:
    return choice_task(CEVAL, shots=0)


# -- GSM8K --------------------------------------------------------------------------------------

GSM8K_SHOTS_FROM_TRAIN = 5  # lm-eval's gsm8k: the first 5 train items

# Written for assay in GSM8K's style (worked steps with <<calculator>> notes, then '#### n').
# Used when no train split is at hand: test items as exemplars would leak into the scores.
GSM8K_WRITTEN_SHOTS = (
    Sample(
        input="A baker makes 36 muffins in the morning and 24 muffins in the afternoon. "
        "She sells 45 muffins during the day. How many muffins does she have left?",
        target="15",
        metadata={
            "solution": "She makes 36 + 24 = <<36+24=60>>60 muffins in total.\n"
            "After selling 45 she has 60 - 45 = <<60-45=15>>15 muffins left.\n#### 15"
        },
    ),
    Sample(
        input="Tom buys 3 notebooks for $4 each and a pen for $2. He pays with a $20 bill. "
        "How much change does he get?",
        target="6",
        metadata={
            "solution": "The notebooks cost 3 * 4 = $<<3*4=12>>12.\n"
            "With the pen he spends 12 + 2 = $<<12+2=14>>14.\n"
            "His change is 20 - 14 = $<<20-14=6>>6.\n#### 6"
        },
    ),
    Sample(
        input="A garden has 5 rows of tomato plants with 8 plants in each row. Each plant "
        "gives 4 tomatoes, and half of all the tomatoes are made into sauce. How many "
        "tomatoes are made into sauce?",
        target="80",
        metadata={
            "solution": "There are 5 * 8 = <<5*8=40>>40 plants.\n"
            "They give 40 * 4 = <<40*4=160>>160 tomatoes.\n"
            "Half of them is 160 / 2 = <<160/2=80>>80 tomatoes.\n#### 80"
        },
    ),
    Sample(
        input="Maria walks 2 miles on each weekday and 5 miles on each day of the weekend. "
        "How many miles does she walk in 3 weeks?",
        target="60",
        metadata={
            "solution": "On the 5 weekdays she walks 5 * 2 = <<5*2=10>>10 miles.\n"
            "On the 2 weekend days she walks 2 * 5 = <<2*5=10>>10 miles.\n"
            "So she walks 10 + 10 = <<10+10=20>>20 miles a week.\n"
            "In 3 weeks she walks 3 * 20 = <<3*20=60>>60 miles.\n#### 60"
        },
    ),
)


def gsm8k_prefix(train: Sequence[Sample]) -> str:
    shots = train[:GSM8K_SHOTS_FROM_TRAIN] if train else GSM8K_WRITTEN_SHOTS
    return "".join(gsm8k_item(shot, answered=True) for shot in shots)


def gsm8k_task(*, few_shot: bool) -> Task:
    prefixes = Prefixes()

    def dataset(ctx: TaskContext) -> list[Sample]:
        data = loaders.gsm8k(ctx)
        prefixes.by_subject = {"": gsm8k_prefix(data.train) if few_shot else ""}
        return data.test

    regime = (
        f"Few-shot chain of thought: the first {GSM8K_SHOTS_FROM_TRAIN} train items when the "
        f"train split is at hand (hub, or gsm8k/train.jsonl), else {len(GSM8K_WRITTEN_SHOTS)} "
        "exemplars written for assay in GSM8K style (never test items)."
        if few_shot
        else "Zero-shot."
    )
    return Task(
        name="gsm8k" if few_shot else "gsm8k_0shot",
        dimension="reasoning_math",
        description=(
            "GSM8K (Cobbe et al.), test split, 1,319 grade-school math problems in file order; "
            "local gsm8k/test.jsonl or hub openai/gsm8k. Prompt as in lm-eval's gsm8k: "
            "'Question: {question}\\nAnswer:', exemplars answered with their worked solution "
            f"ending '#### n'. {regime} Exact match on the final number (after '####', else "
            "'the answer is', else the last number)."
        ),
        dataset=dataset,
        solvers=(question_prompt(prefixes), generate_step()),
        scorer=numeric_match(),
        config=GenerateConfig(max_tokens=256, stop=("Question:",)),
    )


@register_task("gsm8k")
def gsm8k() -> Task:
    return gsm8k_task(few_shot=True)


@register_task("gsm8k_0shot")
def gsm8k_0shot() -> Task:
    return gsm8k_task(few_shot=False)


# -- IFEval -------------------------------------------------------------------------------------


@register_task("ifeval")
def ifeval() -> Task:
    return Task(
        name="ifeval",
        dimension="instruction_following",
        description=(
            "IFEval (Zhou et al.), 541 prompts with verifiable instructions in file order; local "
            "ifeval/input_data.jsonl or hub google/IFEval. Zero-shot: the prompt is the user "
            "turn (chat); 'Instruction: ...\\nResponse:' on raw completion. Metric: prompt-level "
            "strict accuracy; instruction-level and loose verdicts in each score's explanation."
        ),
        dataset=loaders.ifeval,
        solvers=(instruction_prompt(), generate_step()),
        scorer=ifeval_followed(),
        metric="prompt_strict_accuracy",
        config=GenerateConfig(max_tokens=1280),
        mode="chat",
    )
