"""The safety benchmark: the risk taxonomy, attacks (solvers graded L1-L4), offline and LLM
judges, and the verdict scorer that turns a response into one safety outcome."""

from assay.safety._attacks import (
    LEVELS,
    AttackInfo,
    Level,
    attack,
    attack_info,
    attack_infos,
    attack_names,
    attack_rng,
    attack_solvers,
    request_text,
    rewrite,
    with_request,
    with_system,
)
from assay.safety._items import LabelledItem, safety_sample, with_attacks
from assay.safety._judges import JudgeAccuracy, JudgeVerdict, offline_judge, offline_judge_names
from assay.safety._scorer import safety_verdict
from assay.safety._solvers import attacked_request
from assay.safety._taxonomy import Category, Domain, categories, category, domains

__all__ = [
    "LEVELS",
    "AttackInfo",
    "Category",
    "Domain",
    "JudgeAccuracy",
    "JudgeVerdict",
    "LabelledItem",
    "Level",
    "attack",
    "attack_info",
    "attack_infos",
    "attack_names",
    "attack_rng",
    "attack_solvers",
    "attacked_request",
    "categories",
    "category",
    "domains",
    "offline_judge",
    "offline_judge_names",
    "request_text",
    "rewrite",
    "safety_sample",
    "safety_verdict",
    "with_attacks",
    "with_request",
    "with_system",
]
