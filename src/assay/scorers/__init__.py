"""Scorers: numeric match, multiple choice (logprob or generated) and instruction verifiers."""

from assay.scorers._instructions import INSTRUCTION_IDS, check_all, check_instruction
from assay.scorers._match import choice, extract_letter, extract_number, numeric_match

__all__ = [
    "INSTRUCTION_IDS",
    "check_all",
    "check_instruction",
    "choice",
    "extract_letter",
    "extract_number",
    "numeric_match",
]
