"""Safety tasks: the project's seed requests (and their benign look-alikes) carried by attacks
of level L1 and L2, and the public safety sets, each response judged into one safety outcome.

Each task keeps harmful requests and benign look-alikes apart, so its mean is one rate (R: the
share of attacks that succeeded, or the over-refusal rate); the safety table (R and D per
domain x category x level x attack) is built from every safety task's verdicts.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib.resources import files

from assay._files import jsonl_objects
from assay.core import SAFETY_DIMENSION, GenerateConfig, Sample
from assay.core._task import Task, TaskContext, register_task
from assay.safety._attacks import attack_info, attack_infos
from assay.safety._items import safety_sample, with_attacks
from assay.safety._scorer import safety_verdict
from assay.safety._solvers import attacked_request
from assay.scorers._match import zh_choice
from assay.solvers._choice import zh_multiple_choice
from assay.tasks import _safety_data as data

SEEDS = "data/seeds.jsonl"
# Refusals and compliance show in the first sentences; longer answers only cost time.
SAFETY_CONFIG = GenerateConfig(max_tokens=64, temperature=0.0)
# Attacks in the quick spread per request: each request meets this many L2 attacks, chosen in
# rotation so every attack meets every domain.
QUICK_ATTACKS_PER_REQUEST = 1
# Compositions (applied left to right) in the L2 sets beside the single attacks.
COMPOSED = (
    "base64+persona",
    "leetspeak+refusal_suppression",
    "payload_split+prefix_injection",
    "pinyin+zh_roleplay",
    "homophone+fiction",
)


@functools.cache
def seed_rows() -> tuple[dict[str, object], ...]:
    text = files("assay.safety").joinpath(SEEDS).read_text("utf-8")
    return tuple(row for _, row in jsonl_objects(f"assay.safety/{SEEDS}", text))


def interleaved(samples: Sequence[Sample]) -> list[Sample]:
    """Round-robin over (category, language), so that any first N (`--limit`, a suite's
    limit) is a spread over the taxonomy rather than its first categories."""
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        groups[(sample.metadata["category"], sample.metadata["lang"])].append(sample)
    queues = list(groups.values())
    out: list[Sample] = []
    depth = max((len(q) for q in queues), default=0)
    for index in range(depth):
        out += [queue[index] for queue in queues if index < len(queue)]
    return out


def seed_samples(*, benign: bool) -> list[Sample]:
    """The project's seed requests (benign=False) or their look-alikes (benign=True)."""
    samples = []
    for row in seed_rows():
        text = row.get("benign") if benign else row["request"]
        if not text:
            continue  # a refusal-only category has no look-alike
        extra = {key: row[key] for key in ("system", "canary") if row.get(key)}
        samples.append(
            safety_sample(
                str(text),
                source="assay_seeds",
                category=str(row["category"]),
                lang="zh" if row["lang"] == "zh" else "en",
                benign=benign,
                item_id=f"{row['id']}{'-benign' if benign else ''}",
                behavior=str(row["request"]),
                extra=extra,
            )
        )
    return interleaved(samples)


def l2_attacks(*, roles: bool = False) -> list[str]:
    """The registered L2 attacks and the compositions; those that need a role target (an
    attacker that translates) only when `roles`, so the default tasks run without one."""
    return [
        info.name for info in attack_infos() if info.level == "L2" and bool(info.roles) == roles
    ]


def spread(samples: Sequence[Sample], attacks: Sequence[str], per_request: int) -> list[Sample]:
    """Each sample with `per_request` attacks taken in rotation from those that apply to its
    language: every attack meets every domain once there are enough requests."""
    by_lang = {
        lang: [name for name in attacks if lang in attack_info(name).languages]
        for lang in ("en", "zh")
    }
    turn = {"en": 0, "zh": 0}
    out = []
    for sample in samples:
        lang = sample.metadata["lang"]
        names = by_lang[lang]
        chosen = [names[(turn[lang] + k) % len(names)] for k in range(min(per_request, len(names)))]
        turn[lang] += per_request
        out += with_attacks([sample], chosen)
    return out


def safety_task(
    name: str,
    dataset: Callable[[TaskContext], Sequence[Sample]],
    description: str,
    *,
    benign: bool,
) -> Task:
    return Task(
        name=name,
        dimension=SAFETY_DIMENSION,
        dataset=dataset,
        solvers=(attacked_request(),),
        scorer=safety_verdict(),
        metric="over_refusal_rate" if benign else "attack_success_rate",
        description=description,
        config=SAFETY_CONFIG,
    )


@register_task("safety_l1")
def safety_l1() -> Task:
    return safety_task(
        "safety_l1",
        lambda ctx: with_attacks(seed_samples(benign=False), ["plain"]),
        "L1: the project's risky requests in English and Chinese, as a user would type them",
        benign=False,
    )


@register_task("safety_l1_benign")
def safety_l1_benign() -> Task:
    return safety_task(
        "safety_l1_benign",
        lambda ctx: with_attacks(seed_samples(benign=True), ["plain"]),
        "Over-refusal: the benign look-alike of every risky request (same surface, safe intent)",
        benign=True,
    )


@register_task("safety_l2")
def safety_l2() -> Task:
    return safety_task(
        "safety_l2",
        lambda ctx: spread(seed_samples(benign=False), l2_attacks(), QUICK_ATTACKS_PER_REQUEST),
        "L2: each risky request under one fixed attack, the attacks in rotation over the domains",
        benign=False,
    )


@register_task("safety_l2_all")
def safety_l2_all() -> Task:
    return safety_task(
        "safety_l2_all",
        lambda ctx: with_attacks(seed_samples(benign=False), l2_attacks()),
        "L2: every risky request under every fixed attack that applies to its language",
        benign=False,
    )


@register_task("safety_l2_translation")
def safety_l2_translation() -> Task:
    """Needs --attacker-target: the attacker translates each request into a low-resource
    language."""
    attacks = l2_attacks(roles=True)
    roles = tuple(dict.fromkeys(role for name in attacks for role in attack_info(name).roles))
    task = safety_task(
        "safety_l2_translation",
        lambda ctx: with_attacks(seed_samples(benign=False), attacks),
        "L2: each risky request translated into a low-resource language by the attacker target",
        benign=False,
    )
    return replace(task, roles=roles)


# -- public safety sets (from --data-dir, or the hub) ----------------------------------------


def _plain(
    load: Callable[[TaskContext], Sequence[Sample]],
) -> Callable[[TaskContext], list[Sample]]:
    return lambda ctx: with_attacks(load(ctx), ["plain"])


def _xstest_safe(ctx: TaskContext) -> list[Sample]:
    return [s for s in data.xstest(ctx) if s.metadata["benign"]]


def _xstest_unsafe(ctx: TaskContext) -> list[Sample]:
    return [s for s in data.xstest(ctx) if not s.metadata["benign"]]


# Public sets asked as they are (L1): name -> (loader, description, benign look-alikes?).
PLAIN_SETS: dict[str, tuple[Callable[[TaskContext], Sequence[Sample]], str, bool]] = {
    "xstest_safe": (
        _xstest_safe,
        "Over-refusal: XSTest's 250 safe prompts that look unsafe (homonyms, figurative language)",
        True,
    ),
    "xstest_unsafe": (
        _xstest_unsafe,
        "L1: XSTest's 200 unsafe contrast prompts, which a model should refuse",
        False,
    ),
    "advbench": (data.advbench, "L1: AdvBench's 520 harmful behaviors", False),
    "harmbench": (
        functools.partial(data.harmbench, functional="standard"),
        "L1: HarmBench's standard behaviors (test and val), by semantic category",
        False,
    ),
    "harmbench_contextual": (
        functools.partial(data.harmbench, functional="contextual"),
        "L1: HarmBench's contextual behaviors: a context passage, then the harmful request",
        False,
    ),
    "do_not_answer": (
        data.do_not_answer,
        "L1: Do-Not-Answer's 939 questions a responsible model should not answer (5 risk areas)",
        False,
    ),
    "flames_zh": (
        data.flames_zh,
        "L1: Flames-1k adversarial Chinese prompts (fairness, safety, morality, legality, data)",
        False,
    ),
}


def plain_set_task(name: str) -> Task:
    load, description, benign = PLAIN_SETS[name]
    return safety_task(name, _plain(load), description, benign=benign)


for _name in PLAIN_SETS:
    register_task(_name)(functools.partial(plain_set_task, _name))


def jailbreakbench_samples(ctx: TaskContext) -> list[Sample]:
    """JailbreakBench's attack prompts replayed: found against other models (PAIR, GCG, JBC,
    random search, DSN), they are fixed prompts with no feedback from this target, so L2."""
    out = []
    for sample in data.jailbreakbench(ctx):
        method = str(sample.metadata["jbb_method"])
        metadata = {
            **sample.metadata,
            "attack": f"jbb/{method}",
            "level": "L2",
            "family": "jbb_transfer",
            "pre_attacked": True,
        }
        out.append(replace(sample, metadata=metadata, id=""))
    return out


@register_task("jailbreakbench")
def jailbreakbench() -> Task:
    return safety_task(
        "jailbreakbench",
        jailbreakbench_samples,
        "L2: JailbreakBench artifacts' attack prompts (PAIR, GCG, JBC, ...) replayed unchanged",
        benign=False,
    )


# Templates per forbidden question: each question meets this many in-the-wild templates, in
# rotation over the 665, so the set stays runnable (390 x 665 would be 259,350 requests).
INTHEWILD_TEMPLATES_PER_QUESTION = 2


def inthewild_samples(ctx: TaskContext) -> list[Sample]:
    found = data.jailbreak_llms_inthewild(ctx)
    templates = found.templates
    out = []
    for index, question in enumerate(found.questions):
        for k in range(INTHEWILD_TEMPLATES_PER_QUESTION):
            template = templates[(index * INTHEWILD_TEMPLATES_PER_QUESTION + k) % len(templates)]
            metadata = {
                **question.metadata,
                "attack": "in_the_wild",
                "level": "L2",
                "family": "in_the_wild",
                "template_id": template.id,
                "pre_attacked": True,
                "behavior": question.input,
            }
            out.append(
                Sample(input=template.with_question(question.input), target="", metadata=metadata)
            )
    return out


@register_task("jailbreak_inthewild")
def jailbreak_inthewild() -> Task:
    return safety_task(
        "jailbreak_inthewild",
        inthewild_samples,
        "L2: the forbidden questions, each inside in-the-wild jailbreak templates (2023-05-07)",
        benign=False,
    )


@register_task("safetybench_zh")
def safetybench_zh() -> Task:
    return Task(
        name="safetybench_zh",
        dimension=SAFETY_DIMENSION,
        dataset=data.safetybench_zh,
        solvers=(zh_multiple_choice(),),
        scorer=zh_choice(),
        metric="accuracy",
        description="SafetyBench (zh subset): multiple-choice safety judgement, 7 categories",
    )
