"""The project's own safety seeds (data/seeds.jsonl): every line well formed, every taxonomy
category covered in English and Chinese, benign look-alikes where the category allows them, and
a canary in each system-prompt-leakage item's system prompt."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from functools import cache
from importlib.resources import files
from typing import Any

import pytest

from assay.safety._taxonomy import categories, category

SEED_DOMAINS = ("red_line", "social_ethics", "data_security")
MIN_PER_LANGUAGE = 6
LANGS = ("en", "zh")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
ID = re.compile(r"^(?P<category>[a-z_]+)-(?P<lang>en|zh)-(?P<nn>\d{2})$")
CANARY = re.compile(r"^CANARY-[0-9a-f]{6}$")
TEXT_KEYS = ("request", "benign", "system")
KEYS = {"id", "category", "lang", "request", "benign", "system", "canary"}


@cache
def raw_lines() -> tuple[str, ...]:
    text = files("assay.safety").joinpath("data/seeds.jsonl").read_text("utf-8")
    return tuple(text.splitlines())


@cache
def _items() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(line) for line in raw_lines())


def items() -> list[dict[str, Any]]:
    return list(_items())


def seeded_categories() -> list[str]:
    return [found.id for found in categories() if found.domain in SEED_DOMAINS]


def test_every_line_is_a_json_object_with_known_keys() -> None:
    assert raw_lines(), "seeds.jsonl is empty"
    for number, line in enumerate(raw_lines(), 1):
        item = json.loads(line)
        assert isinstance(item, dict), f"line {number} is not an object"
        assert item.keys() <= KEYS, f"line {number}: unknown keys {item.keys() - KEYS}"
        for key in ("id", "category", "lang", "request"):
            assert isinstance(item.get(key), str) and item[key].strip(), f"line {number}: {key}"


def test_chinese_is_written_as_readable_text_not_escapes() -> None:
    zh_lines = [line for line in raw_lines() if '"lang": "zh"' in line]
    assert zh_lines
    assert all(CJK.search(line) and "\\u" not in line for line in zh_lines)


def test_ids_are_unique_and_name_their_category_language_and_number() -> None:
    ids = [item["id"] for item in items()]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for item in items():
        match = ID.match(item["id"])
        assert match, item["id"]
        assert match["category"] == item["category"], item["id"]
        assert match["lang"] == item["lang"], item["id"]
        numbers[item["category"], item["lang"]].append(int(match["nn"]))
    # Numbered 01, 02, ... with no gaps, so a new item's id is the next number.
    for key, found in numbers.items():
        assert sorted(found) == list(range(1, len(found) + 1)), key


def test_every_item_names_a_taxonomy_category_in_a_seeded_domain() -> None:
    for item in items():
        assert category(item["category"]).domain in SEED_DOMAINS, item["id"]
        assert item["lang"] in LANGS, item["id"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_category_has_enough_items_in_each_language(lang: str) -> None:
    assert len(seeded_categories()) == 14
    counts = Counter(item["category"] for item in items() if item["lang"] == lang)
    short = {cat: counts[cat] for cat in seeded_categories() if counts[cat] < MIN_PER_LANGUAGE}
    assert short == {}


def test_benign_look_alikes_exist_except_for_refusal_only_categories() -> None:
    refusal_only = {found.id for found in categories() if found.refusal_only}
    assert "sexual_minors" in refusal_only
    for item in items():
        if item["category"] in refusal_only:
            assert "benign" not in item, item["id"]
        else:
            benign = item.get("benign")
            assert isinstance(benign, str) and benign.strip(), item["id"]
            assert benign.strip() != item["request"].strip(), item["id"]


def test_chinese_items_are_in_chinese_and_english_items_have_none() -> None:
    for item in items():
        texts = [item[key] for key in TEXT_KEYS if key in item]
        if item["lang"] == "zh":
            assert all(CJK.search(text) for text in texts), item["id"]
        else:
            assert not any(CJK.search(text) for text in texts), item["id"]


def test_no_request_repeats_and_no_benign_is_another_items_request() -> None:
    requests = [item["request"].strip() for item in items()]
    assert [r for r, n in Counter(requests).items() if n > 1] == []
    benigns = {item["benign"].strip() for item in items() if "benign" in item}
    assert benigns & set(requests) == set()


def test_leakage_items_carry_a_distinct_canary_inside_their_system_prompt() -> None:
    leakage = [item for item in items() if item["category"] == "system_prompt_leakage"]
    assert leakage
    for item in leakage:
        assert CANARY.match(item.get("canary", "")), item["id"]
        assert item["canary"] in item.get("system", ""), item["id"]
        # The canary must only be learnable from the system prompt, never from the user turn.
        assert item["canary"] not in item["request"] + item["benign"], item["id"]
    canaries = [item["canary"] for item in leakage]
    assert len(set(canaries)) == len(canaries)


def test_only_leakage_items_carry_a_system_prompt_or_canary() -> None:
    for item in items():
        if item["category"] != "system_prompt_leakage":
            assert "system" not in item and "canary" not in item, item["id"]
