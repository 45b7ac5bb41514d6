"""Multiple-choice prompts in the published formats of benchmarks, and the written few-shot
exemplars of the hand-written knowledge tasks (English and Chinese)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assay.core import Sample, Solver, solver
from assay.solvers._solvers import Prefixes, choice_item, en_letters, multiple_choice, zh_letters


@dataclass(frozen=True)
class ChoiceFormat:
    """A benchmark's published multiple-choice prompt: header, item layout, answer cue."""

    header: Callable[[str], str]  # subject -> instruction paragraph
    answer_cue: str  # ends every item; the letter follows it
    letter_gap: str = " "  # between the cue and the letter in an exemplar
    question_label: str = ""
    chat_instruction: Callable[[str], str] = en_letters

    def item(self, sample: Sample, *, answered: bool) -> str:
        text = choice_item(sample, question_label=self.question_label, answer_cue=self.answer_cue)
        return text + f"{self.letter_gap}{sample.target}\n\n" if answered else text

    def prefix(self, subject: str, shots: Sequence[Sample]) -> str:
        return self.header(subject) + "".join(self.item(s, answered=True) for s in shots)


@solver()
def subject_choice(fmt: ChoiceFormat, prefixes: Prefixes, *, top_logprobs: int = 20) -> Solver:
    """The subject's prefix, then the item; one letter read by logprob, or generated."""
    return multiple_choice(
        prefix=lambda sample: prefixes[sample.metadata["subject"]],
        top_logprobs=top_logprobs,
        question_label=fmt.question_label,
        answer_cue=fmt.answer_cue,
        chat_instruction=fmt.chat_instruction,
    )


# For knowledge_mcq and truthful_mcq: one worked example per answer letter, so the prompt
# itself does not favour a letter.
MCQ_SHOTS = (
    "Question: How many legs does a spider have?\nA. Eight\nB. Six\nC. Ten\nD. Four\n"
    "Answer: A\n\n"
    "Question: Which colour do you get by mixing blue and yellow?\nA. Purple\nB. Orange\n"
    "C. Green\nD. Brown\nAnswer: C\n\n"
    "Question: How many days are there in a week?\nA. Five\nB. Ten\nC. Six\nD. Seven\n"
    "Answer: D\n\n"
    "Question: Which animal is known for building dams?\nA. Rabbit\nB. Beaver\nC. Horse\n"
    "D. Owl\nAnswer: B\n\n"
)

# The same in Chinese, for zh_knowledge.
ZH_MCQ_SHOTS = (
    "问题：一星期有几天？\nA. 七天\nB. 五天\nC. 六天\nD. 十天\n答案：A\n\n"
    "问题：蜜蜂酿造的是什么？\nA. 牛奶\nB. 蜂蜜\nC. 果汁\nD. 酱油\n答案：B\n\n"
    "问题：红色和黄色混合后得到什么颜色？\nA. 绿色\nB. 紫色\nC. 橙色\nD. 蓝色\n答案：C\n\n"
    "问题：下列哪种交通工具在水上行驶？\nA. 火车\nB. 飞机\nC. 汽车\nD. 轮船\n答案：D\n\n"
)


@solver()
def zh_multiple_choice(*, prefix: str = ZH_MCQ_SHOTS, top_logprobs: int = 20) -> Solver:
    """'问题：…\\nA. …\\n答案：' then one letter, read by logprob or generated."""
    return multiple_choice(
        prefix=prefix,
        top_logprobs=top_logprobs,
        question_label="问题：",
        answer_cue="答案：",
        chat_instruction=zh_letters,
    )
