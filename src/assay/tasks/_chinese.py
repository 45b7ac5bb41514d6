"""Chinese tasks written for assay: knowledge, math word problems, instruction following.

Knowledge items are a hand-written file; math problems and writing prompts are generated from
templates with fresh random parameters per seed, with answers and constraints checked by code.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from assay.core import GenerateConfig, Sample
from assay.core._task import Task, TaskContext, register_task
from assay.scorers._instructions import instructions_followed
from assay.scorers._match import numeric_match, zh_choice
from assay.solvers._choice import zh_multiple_choice
from assay.solvers._solvers import generate_step, prompt_template
from assay.tasks._items import (
    Problem,
    ProblemMaker,
    bundled_mcq_samples,
    distinct_samples,
    problem_samples,
)

# -- knowledge multiple choice ------------------------------------------------------------


def zh_knowledge_samples(_ctx: TaskContext) -> list[Sample]:
    return bundled_mcq_samples("zh_knowledge.jsonl")


@register_task("zh_knowledge")
def zh_knowledge() -> Task:
    return Task(
        name="zh_knowledge",
        dimension="multilingual",
        description="Hand-written 4-way Chinese general knowledge questions (geography, history, "
        "language, science, daily life); '问题：…答案：' prompt, letter by logprob or text.",
        dataset=zh_knowledge_samples,
        solvers=(zh_multiple_choice(),),
        scorer=zh_choice(),
        config=GenerateConfig(max_tokens=16, stop=("\n",)),
    )


# -- math word problems -------------------------------------------------------------------

_NAMES = ("小明", "小红", "小刚", "小丽", "小华", "小芳", "小军", "小雪", "小林", "小宇")
# (item, measure word): the measure word must agree with the item.
_ITEMS = (
    ("苹果", "个"),
    ("铅笔", "支"),
    ("贴纸", "张"),
    ("橘子", "个"),
    ("饼干", "块"),
    ("邮票", "张"),
    ("本子", "本"),
    ("气球", "个"),
    ("玻璃球", "颗"),
)


def _buy_more(rng: random.Random) -> Problem:
    a, b = rng.randint(3, 60), rng.randint(2, 40)
    name, (item, unit) = rng.choice(_NAMES), rng.choice(_ITEMS)
    return (
        f"{name}有{a}{unit}{item}，又买了{b}{unit}。{name}现在一共有多少{unit}{item}？",
        a + b,
        f"{a}+{b}={a + b}",
    )


def _give_away(rng: random.Random) -> Problem:
    b = rng.randint(2, 30)
    a = b + rng.randint(1, 50)
    name, (item, unit) = rng.choice(_NAMES), rng.choice(_ITEMS)
    return (
        f"{name}有{a}{unit}{item}，送给朋友{b}{unit}。{name}还剩多少{unit}{item}？",
        a - b,
        f"{a}-{b}={a - b}",
    )


def _boxes(rng: random.Random) -> Problem:
    boxes, per_box = rng.randint(2, 12), rng.randint(2, 12)
    item, unit = rng.choice(_ITEMS)
    return (
        f"每盒装{per_box}{unit}{item}，{boxes}盒一共有多少{unit}{item}？",
        boxes * per_box,
        f"{per_box}×{boxes}={boxes * per_box}",
    )


def _share(rng: random.Random) -> Problem:
    people, each = rng.randint(2, 9), rng.randint(2, 15)
    item, unit = rng.choice(_ITEMS)
    total = people * each
    return (
        f"把{total}{unit}{item}平均分给{people}个小朋友，每个小朋友分到多少{unit}？",
        each,
        f"{total}÷{people}={each}",
    )


def _change(rng: random.Random) -> Problem:
    price, count = rng.randint(2, 9), rng.randint(2, 6)
    cost = price * count
    paid = cost + rng.randint(1, 20)
    name = rng.choice(_NAMES)
    return (
        f"{name}买了{count}本笔记本，每本{price}元，付了{paid}元。应该找回多少元？",
        paid - cost,
        f"{price}×{count}={cost}，{paid}-{cost}={paid - cost}",
    )


def _distance(rng: random.Random) -> Problem:
    speed, hours = rng.randint(30, 90), rng.randint(2, 8)
    return (
        f"一辆汽车每小时行驶{speed}千米，照这样的速度，{hours}小时一共行驶多少千米？",
        speed * hours,
        f"{speed}×{hours}={speed * hours}",
    )


def _age_later(rng: random.Random) -> Problem:
    age, gap, years = rng.randint(5, 15), rng.randint(22, 40), rng.randint(2, 10)
    name = rng.choice(_NAMES)
    return (
        f"{name}今年{age}岁，爸爸比{name}大{gap}岁。{years}年后爸爸多少岁？",
        age + gap + years,
        f"{age}+{gap}={age + gap}，{age + gap}+{years}={age + gap + years}",
    )


def _perimeter(rng: random.Random) -> Problem:
    length = rng.randint(4, 30)
    width = rng.randint(2, length - 1)
    return (
        f"一块长方形菜地长{length}米，宽{width}米。绕菜地走一圈是多少米？",
        2 * (length + width),
        f"({length}+{width})×2={2 * (length + width)}",
    )


ZH_MATH_MAKERS: tuple[ProblemMaker, ...] = (
    _buy_more,
    _give_away,
    _boxes,
    _share,
    _change,
    _distance,
    _age_later,
    _perimeter,
)


def zh_math_samples(seed: int, count: int = 500) -> list[Sample]:
    return problem_samples("zh_math", ZH_MATH_MAKERS, seed, count)


def zh_math_shots() -> str:
    rng = random.Random("zh_math:few-shot")  # fixed: the same worked examples in every run
    shots = [maker(rng) for maker in (_buy_more, _boxes, _change)]
    return "".join(f"问题：{q}\n答案：{work}，所以答案是{a}。\n\n" for q, a, work in shots)


@register_task("zh_math")
def zh_math() -> Task:
    return Task(
        name="zh_math",
        dimension="multilingual",
        description="Chinese grade-school word problems generated per seed; worked Chinese "
        "few-shot examples; numeric match on '答案是N' or the last number.",
        dataset=lambda ctx: zh_math_samples(ctx.seed),
        solvers=(prompt_template("问题：{input}\n答案：", prefix=zh_math_shots()), generate_step()),
        scorer=numeric_match(),
        config=GenerateConfig(max_tokens=64, stop=("\n\n", "\n问题：")),
    )


# -- instruction following ----------------------------------------------------------------

Constraint = tuple[str, str, dict[str, object]]  # text, instruction id, kwargs
ConstraintMaker = Callable[[random.Random], Constraint]

_TOPICS = (
    "春天",
    "大海",
    "自行车",
    "一座小图书馆",
    "喝茶",
    "爬山",
    "城市公园",
    "冬天的早晨",
    "学做饭",
    "一只旧钟表",
    "坐火车旅行",
    "种花",
)
_KEYWORDS = ("阳光", "窗户", "安静", "旅程", "朋友", "河流", "市场", "微风")
_FORBIDDEN = ("美丽", "非常", "我们", "喜欢", "特别", "一些")
_END_PHRASES = ("以上就是我的回答。", "谢谢阅读。", "完毕。")


def _fewer_chars(rng: random.Random) -> Constraint:
    limit = rng.choice((40, 60, 80, 100))
    return (
        f"全文少于{limit}个汉字。",
        "zh:number_characters",
        {"relation": "less than", "num_chars": limit},
    )


def _more_chars(rng: random.Random) -> Constraint:
    minimum = rng.choice((30, 50, 80))
    return (
        f"全文至少{minimum}个汉字。",
        "zh:number_characters",
        {"relation": "at least", "num_chars": minimum},
    )


def _keyword(rng: random.Random) -> Constraint:
    word = rng.choice(_KEYWORDS)
    return (f"文中必须出现“{word}”这个词。", "keywords:existence", {"keywords": [word]})


def _forbidden(rng: random.Random) -> Constraint:
    words = sorted(rng.sample(_FORBIDDEN, 2))
    quoted = "和".join(f"“{w}”" for w in words)
    return (f"不要使用{quoted}这两个词。", "zh:forbidden_words", {"forbidden_words": words})


def _ending(rng: random.Random) -> Constraint:
    phrase = rng.choice(_END_PHRASES)
    return (f"最后以“{phrase}”结尾。", "startend:end_checker", {"end_phrase": phrase})


def _paragraphs(rng: random.Random) -> Constraint:
    count = rng.choice((2, 3))
    return (
        f"分成{count}段，段与段之间用一行 *** 分隔。",
        "length_constraints:number_paragraphs",
        {"num_paragraphs": count},
    )


def _bullets(rng: random.Random) -> Constraint:
    count = rng.choice((2, 3, 4))
    return (
        f"用恰好{count}个要点作答，每个要点单独一行，以“* ”开头。",
        "detectable_format:number_bullet_lists",
        {"num_bullets": count},
    )


def _json(rng: random.Random) -> Constraint:
    return ("整个回答必须是合法的 JSON，不要有其他文字。", "detectable_format:json_format", {})


def _title(rng: random.Random) -> Constraint:
    return ("给短文加一个标题，标题用书名号《》括起来。", "zh:title", {})


def _no_comma(rng: random.Random) -> Constraint:
    return ("全文不要使用任何逗号（包括“，”“,”和“、”）。", "zh:no_comma", {})


ZH_CONSTRAINTS: tuple[ConstraintMaker, ...] = (
    _fewer_chars,
    _more_chars,
    _keyword,
    _forbidden,
    _ending,
    _paragraphs,
    _bullets,
    _json,
    _title,
    _no_comma,
)
# Pairs that cannot both hold (or whose combination is unclear) are never asked together.
_CLASHES = (
    frozenset({_fewer_chars, _more_chars}),
    frozenset({_paragraphs, _bullets}),
)


def _compatible(first: ConstraintMaker, second: ConstraintMaker) -> bool:
    if first is second or _json in (first, second):
        return False  # JSON output has no room for titles, paragraphs or end phrases
    return frozenset({first, second}) not in _CLASHES


def zh_instruction_samples(seed: int, count: int = 200) -> list[Sample]:
    """Writing prompts in Chinese with one or two verifiable constraints, checked for Chinese."""
    rng = random.Random(f"zh_instructions:{seed}")

    def make(index: int) -> Sample:
        makers = [ZH_CONSTRAINTS[index % len(ZH_CONSTRAINTS)]]
        partners = [m for m in ZH_CONSTRAINTS if _compatible(makers[0], m)]
        if partners and rng.random() < 0.5:
            makers.append(rng.choice(partners))
        # Every prompt asks for Chinese, so an English reply cannot pass on, say, a length limit.
        constraints: list[Constraint] = [("", "language:response_language", {"language": "zh"})]
        constraints += [maker(rng) for maker in makers]
        prompt = f"请用中文写一段关于{rng.choice(_TOPICS)}的短文。"
        prompt += "".join(c[0] for c in constraints)
        return Sample(
            input=prompt,
            target="",
            metadata={
                "instruction_ids": [c[1] for c in constraints],
                "kwargs": [c[2] for c in constraints],
            },
        )

    return distinct_samples(count, make)


@register_task("zh_instructions")
def zh_instructions() -> Task:
    return Task(
        name="zh_instructions",
        dimension="multilingual",
        description="Chinese writing prompts with one or two verifiable constraints (Han "
        "character counts, keywords, forbidden words, end phrase, paragraphs, bullets, JSON, "
        "《》 title, no commas incl. '，'); strict: every constraint followed.",
        dataset=lambda ctx: zh_instruction_samples(ctx.seed),
        solvers=(prompt_template("指令：{input}\n回答："), generate_step()),
        scorer=instructions_followed(),
        metric="prompt_strict_accuracy",
        config=GenerateConfig(max_tokens=200, stop=("\n指令：", "\n\n\n")),
    )
