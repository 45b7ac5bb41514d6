"""Rule-based verifiers for the 25 instruction types of Google's IFEval benchmark.

Each IFEval instruction id maps to a checker that tells whether a response follows
it, in the strict and in the "loose" sense of the reference evaluation_lib.py.

Semantics follow google-research ``instruction_following_eval/instructions.py``
without its run-time dependencies (nltk, langdetect, absl); where those were
needed the code below uses regex or script/stop-word heuristics, each noted where
it is defined:

* sentences: regex splitter standing in for NLTK punkt (``_count_sentences``);
* all-capital words: regex tokens standing in for ``nltk.word_tokenize``;
* languages: Unicode script plus stop words standing in for langdetect
  (``_guess_languages``);
* keywords, forbidden words, section splitters and postscript markers are matched
  literally (``re.escape``) where the reference splices them into a regex unescaped.
"""

from __future__ import annotations

import bisect
import collections
import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "INSTRUCTION_IDS",
    "ZH_INSTRUCTION_IDS",
    "InstructionResult",
    "check_all",
    "check_instruction",
    "check_instruction_loose",
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


def _words(spec: str) -> frozenset[str]:
    return frozenset(spec.split())


def _compare(count: int, relation: str, threshold: int) -> bool:
    return count < threshold if relation == "less than" else count >= threshold


# --- text measures ----------------------------------------------------------------

_WORD_RE: Final = re.compile(r"\w+")
# Exactly nltk's RegexpTokenizer(r"\w+"), which IFEval uses for word counts.


def _count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


# Stand-in for NLTK punkt (english.pickle): a sentence ends at ., ! or ? (plus any
# closing quotes/brackets) followed by whitespace. Like punkt, a bare newline does
# not end a sentence. Known abbreviations, initials, dotted abbreviations and list
# enumerators ("1.") do not end one either. Punkt's learned abbreviation list and
# its orthographic heuristics are not reproduced, so counts may differ by one or
# two on text full of abbreviations or ellipses.
_SENTENCE_SPLIT_RE: Final = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)\]]*\s+")
_ABBREVIATIONS: Final = _words(
    "mr mrs ms dr prof st jr sr vs etc inc ltd co corp dept fig "
    "approx ca cf al jan feb mar apr jun jul aug sep sept oct nov dec"
)


def _ends_with_abbreviation(piece: str) -> bool:
    words = piece.split()
    if not words or not piece.endswith("."):
        return False
    last = words[-1].rstrip(".").lstrip("(\"'").lower()
    # Initials and dotted abbreviations: "J.", "e.g.", "p.m.", "U.S.".
    is_initial = re.fullmatch(r"(?:[^\W\d_]\.)*[^\W\d_]", last) is not None
    # "1." opening a list item: the number is alone on its line so far.
    is_enumerator = last.isdigit() and len(piece.rsplit("\n", 1)[-1].split()) == 1
    return last in _ABBREVIATIONS or is_initial or is_enumerator


def _count_sentences(text: str) -> int:
    pieces = [piece for piece in _SENTENCE_SPLIT_RE.split(text.strip()) if piece.strip()]
    count = 0
    for index, piece in enumerate(pieces):
        is_last = index == len(pieces) - 1
        if is_last or not _ends_with_abbreviation(piece):
            count += 1
    return count


# Stand-in for nltk.word_tokenize in change_case:capital_word_frequency: hyphenated
# words, dotted acronyms (U.S.) and contractions stay one token. nltk splits
# contractions ("DON'T" -> "DO", "N'T"), so they count once here, not twice.
_CAPITAL_TOKEN_RE: Final = re.compile(r"\w+(?:[-'\u2019.&]\w+)*")


def _count_capital_words(text: str) -> int:
    return sum(1 for token in _CAPITAL_TOKEN_RE.findall(text) if token.isupper())


# --- language guessing ------------------------------------------------------------
# Replaces langdetect. The dominant Unicode script of the letters settles most
# languages; where a script is shared, stop words and distinctive letters pick
# among the languages listed for it. What it cannot tell apart:
#   * Latin-script languages other than en es fr de it pt nl pl fi sw vi tr, and
#     any Latin text with none of the listed stop words (then every listed Latin
#     language counts as a match);
#   * Bengali from Assamese, Cyrillic sr/mk from ru/bg/uk, Arabic-script ps/ug/ku
#     from ar/fa/ur, Devanagari languages other than hi/mr/ne;
#   * Chinese variants: any Han text without kana is "zh", so zh-cn/zh-tw both
#     match it (langdetect would report zh-cn or zh-tw and never plain "zh").
# Text with no letters at all matches any language, as IFEval counts langdetect's
# "no features" error as followed.

_SCRIPT_RANGES: Final[tuple[tuple[int, int, str], ...]] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00C0, 0x024F, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x3040, 0x30FF, "Kana"),
    (0x3130, 0x318F, "Hangul"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
)
_SCRIPT_STARTS: Final = tuple(start for start, _, _ in _SCRIPT_RANGES)

# Scripts written by one language only (for IFEval's purposes).
_SINGLE_LANGUAGE_SCRIPTS: Final = {
    "Greek": "el",
    "Armenian": "hy",
    "Hebrew": "he",
    "Bengali": "bn",
    "Gurmukhi": "pa",
    "Gujarati": "gu",
    "Oriya": "or",
    "Tamil": "ta",
    "Telugu": "te",
    "Kannada": "kn",
    "Malayalam": "ml",
    "Sinhala": "si",
    "Thai": "th",
    "Lao": "lo",
    "Georgian": "ka",
    "Hangul": "ko",
}


# Frequent function words per language, lower case; shared words count for each.
_STOP_WORDS: Final[dict[str, dict[str, frozenset[str]]]] = {
    "Latin": {
        "en": _words(
            "the a i and of to is in that it for you with are this be on was have as not "
            "me how who when than then them these those its into also only should must "
            "they he she we at by from or an will can your my but what there their "
            "which would about has had been were if so do all our"
        ),
        "es": _words(
            "de la que el en y los del se las por un para con no una su al es lo como "
            "más pero sus le ya este porque esta entre cuando muy sin sobre también "
            "me hasta hay donde desde todo nos están está son fue ser tiene"
        ),
        "fr": _words(
            "le la les de des et est un une du en que qui pas pour dans ce il je vous "
            "nous sur au aux avec son sa ses ne se plus par mais ou elle sont cette "
            "été être très comme tout leur qu d l c n j"
        ),
        "de": _words(
            "der die und das ist nicht ein eine zu mit sich auf für ich den dem des "
            "von im es sie wir auch wird sind werden oder aber wie bei noch nach "
            "einen einer kann wenn nur über dass hat haben war um aus durch"
        ),
        "it": _words(
            "il di che è la e per un una non sono del della gli le lo in si con da "
            "al alla dei delle più come anche ma questo questa nel nella sia ha "
            "essere ci mi loro suo sua molto quando perché ogni dal tra degli"
        ),
        "pt": _words(
            "de que não o a do da em um uma para com os as é são você no na se por "
            "mais dos das ao como mas foi seu sua ou ser quando muito nos já está "
            "também pelo pela até isso ela entre depois sem mesmo ter quem nas esse "
            "eles essa nem suas meu minha"
        ),
        "nl": _words(
            "de het een en van is niet dat op te zijn voor met die er maar om ook "
            "als dan bij nog wat aan wordt worden ze hij zij wij geen naar uit kan "
            "door dit deze"
        ),
        "pl": _words(
            "i w nie się na że jest do to z jak o co ale po tak za od jego przez "
            "był są być dla oraz lub czy tym tego ich już może jej które który która"
        ),
        "fi": _words(
            "ja on ei se että oli ovat mutta kun hän tai myös ole ne kuin niin jos "
            "vain sen joka jotka mitä tämä nämä hänen minä sinä me te he olla kanssa "
            "koska voi kaikki sitten nyt vielä jo siitä siinä sitä mukaan kuten eli"
        ),
        "sw": _words(
            "na ya wa kwa ni za la katika kuwa hii cha vya kama lakini pia huu hiyo "
            "hizo yake wake sana hata kwamba baada kabla au bila ili zaidi watu mtu "
            "kila ambayo ambao ndani sasa tu nini hapa yao wao sisi wewe mimi"
        ),
        "vi": _words(
            "và của là có không các những được trong một cho người với này đã để "
            "khi đến từ cũng nhưng như về thì rất nhiều tôi bạn chúng sẽ đó ra lại "
            "vào làm"
        ),
        "tr": _words(
            "bir ve bu da de için ile çok ne gibi daha olarak ama o mi ben sen biz "
            "var yok değil olan kadar"
        ),
    },
    "Cyrillic": {
        "ru": _words(
            "и в не на что я с он как это по но они к у же вы за бы от так его все "
            "она было был быть для мы из есть если только их или когда уже который "
            "которые очень также может ещё еще этот эти там где чтобы"
        ),
        "bg": _words(
            "и на в е да се за не от са с по че това като който която които но със "
            "до ще този тази тези беше има във при след най много или към бъде може "
            "още защото когато също ли ние те той тя си им"
        ),
        "uk": _words(
            "і в у на не що з до це як та й є для від але його за ми ви він вона "
            "вони був була буде також які який яка або тому коли ще вже дуже цей "
            "ця ці при після"
        ),
    },
    "Arabic": {
        "ar": _words(
            "في من على أن إلى عن مع هذا هذه التي الذي كان لا ما هو هي كل قد ثم بين "
            "أو لم وقد ذلك بعد عند إن كما أي"
        ),
        "fa": _words(
            "و در به از که این را با است برای آن یک خود تا بر هم نیز می شود کرد "
            "شده بود ها های اما یا ما او هر دارد باید نه"
        ),
        "ur": _words(
            "کے کی میں اور ہے کا سے کو نے یہ ہیں پر ایک تھا بھی وہ کہ لیے ہو جو "
            "نہیں گیا تھے کر اس ان ہوں کیا تو"
        ),
    },
    "Devanagari": {
        "hi": _words(
            "है और के की में का से हैं को नहीं यह एक पर भी था कि लिए जो हो कर तो "
            "इस ने वह गया करने थे किया होता साथ हम"
        ),
        "mr": _words(
            "आहे आणि या च्या ची चा चे ला हे ते होते आहेत नाही मध्ये व त्या तो ती "
            "पण करून केले असे म्हणून साठी करणे आम्ही आहोत"
        ),
        "ne": _words(
            "छ हो र को मा ले लाई पनि गर्न छन् थियो भएको गरेको यो त्यो हुन्छ तथा "
            "भने गर्ने रहेको छैन हुने थिए साथै अनि वा हामी"
        ),
    },
}

# Letters that (nearly) only one of a script's languages uses; each word holding
# one adds a point to those languages.
_HINT_LETTERS: Final[dict[str, tuple[tuple[str, frozenset[str]], ...]]] = {
    "Latin": (
        ("vi", frozenset("ơưđă") | frozenset(map(chr, range(0x1EA0, 0x1EFA)))),
        ("de", frozenset("ß")),
        ("pt", frozenset("ãõ")),
        ("es", frozenset("ñ")),
        ("pl", frozenset("ąęłńśźż")),
        ("tr", frozenset("ğış")),
    ),
    "Cyrillic": (
        ("ru", frozenset("ыэё")),
        ("uk", frozenset("іїєґ")),
        ("bg", frozenset("ъ")),
    ),
    "Arabic": (
        ("ar", frozenset("ةىيكأإ")),
        ("fa", frozenset("پچژگکی")),
        ("ur", frozenset("پچگکیٹڈڑںےہھ")),
    ),
    "Devanagari": (("mr", frozenset("ळ")),),
}


def _script_of(char: str) -> str | None:
    index = bisect.bisect_right(_SCRIPT_STARTS, ord(char)) - 1
    if index < 0:
        return None
    start, end, script = _SCRIPT_RANGES[index]
    return script if start <= ord(char) <= end else None


def _script_counts(text: str) -> collections.Counter[str]:
    scripts = (_script_of(char) for char in text if char.isalpha())
    return collections.Counter(script for script in scripts if script is not None)


def _language_tokens(text: str) -> list[str]:
    # Keep letters and combining marks (Indic vowel signs are marks); everything
    # else, including apostrophes and the Persian zero-width non-joiner, splits.
    kept = (char if unicodedata.category(char)[0] in "LM" else " " for char in text.lower())
    return "".join(kept).split()


def _best_by_words(script: str, text: str) -> frozenset[str]:
    candidates = _STOP_WORDS[script]
    scores = dict.fromkeys(candidates, 0)
    for token in _language_tokens(text):
        for language, words in candidates.items():
            scores[language] += token in words
        for language, letters in _HINT_LETTERS.get(script, ()):
            scores[language] += not letters.isdisjoint(token)
    best = max(scores.values())
    # No evidence at all: every language of the script is equally plausible.
    return frozenset(lang for lang, score in scores.items() if score == best)


def _guess_languages(text: str) -> frozenset[str]:
    """Most plausible ISO 639-1 codes for ``text``; empty when it has no letters."""
    counts = _script_counts(text)
    if not counts:
        return frozenset()
    script = counts.most_common(1)[0][0]
    if script in {"Han", "Kana"}:
        kana_share = counts["Kana"] / (counts["Kana"] + counts["Han"])
        return frozenset({"ja" if kana_share >= 0.1 else "zh"})
    if script in _SINGLE_LANGUAGE_SCRIPTS:
        return frozenset({_SINGLE_LANGUAGE_SCRIPTS[script]})
    return _best_by_words(script, text)


def _is_language(text: str, code: str) -> bool:
    guesses = _guess_languages(text)
    primary = code.strip().lower().split("-")[0]
    return not guesses or primary in guesses


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

_HAN_RE: Final = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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
