"""Scorers: numeric match, multiple choice (logprob or generated), answer likelihoods,
instruction verifiers, judges, and code run in the sandbox."""

from assay.scorers._code import code_execution, extract_code
from assay.scorers._instructions import (
    INSTRUCTION_IDS,
    ZH_INSTRUCTION_IDS,
    check_all,
    check_instruction,
    ifeval_followed,
    instructions_followed,
)
from assay.scorers._judge import pairwise_judge, parse_grade, parse_verdict, rubric_judge
from assay.scorers._likelihood import mc1_score, mc2_score
from assay.scorers._match import (
    answer_match,
    choice,
    extract_letter,
    extract_number,
    numeric_match,
    zh_choice,
)
from assay.scorers._tools import tool_outcome

__all__ = [
    "INSTRUCTION_IDS",
    "ZH_INSTRUCTION_IDS",
    "answer_match",
    "check_all",
    "check_instruction",
    "choice",
    "code_execution",
    "extract_code",
    "extract_letter",
    "extract_number",
    "ifeval_followed",
    "instructions_followed",
    "mc1_score",
    "mc2_score",
    "numeric_match",
    "pairwise_judge",
    "parse_grade",
    "parse_verdict",
    "rubric_judge",
    "tool_outcome",
    "zh_choice",
]
