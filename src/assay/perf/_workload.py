"""Perf workloads: synthetic prompts of a controlled token length, or prompts from a file.

Lengths are calibrated against the target's own tokenizer when it exposes one (in-process GGUF,
llama.cpp's /tokenize), else against the prompt tokens the server reports in its usage, else
estimated at one token per word. A counter that does not follow the prompt's length (usage that
some proxies report as a constant or zero) is noticed and the next source used.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assay._errors import DatasetError, TargetError
from assay._files import read_jsonl
from assay.core import GenerateConfig, Message, Request, Target

# Common short English words: most are one token in every modern tokenizer.
_WORDS = (  # noqa: SIM905 - a word list reads best as text
    "time year people way day man thing woman life child world school state family student "
    "group country problem hand part place case week company system program question work "
    "government number night point home water room mother area money story fact month lot "
    "right study book eye job word business issue side kind head house service friend father "
    "power hour game line end member law car city community name president team minute idea"
).split()

Calibration = Literal["tokenizer", "usage", "words"]
Counter = Callable[[str], Awaitable[int | None]]

# Tokens per word a counter may report for these words and still be believed: real tokenizers
# give about 1 to 2; outside this range the counter is not counting this prompt.
PLAUSIBLE_TOKENS_PER_WORD = (0.2, 10.0)
FIT_STEPS = 8
# A change of length the search trusts to move any real count (smaller ones can be lost in the
# noise of drawing other words): this share of the prompt's words, and at least this many.
_TELLING_CHANGE_SHARE = 0.25
_TELLING_CHANGE_WORDS = 8
# The last resort, named as such in the run.
WORDS_REASON = (
    "lengths estimated at one token per word (the prompt words are one token each in most "
    "tokenizers)"
)


class UnresponsiveCounter(Exception):
    """A counter whose counts do not follow the prompt's length; the message says how."""


@dataclass(frozen=True)
class Workload:
    prompts: tuple[str, ...]
    output_tokens: int
    ignore_eos: bool
    # How prompt lengths were controlled, recorded in the run: "tokenizer", "usage", "words",
    # or "file" for prompts read from a JSONL file.
    calibration: str
    prompt_tokens: int | None = None
    shared_prefix_tokens: int = 0
    # Chat requests (needed to see reasoning models' separate reasoning stream), else raw.
    chat: bool = False
    # Why `calibration` was used: which sources were unavailable or failed, and how.
    calibration_reason: str = ""

    def request(self, index: int) -> Request:
        prompt = self.prompts[index % len(self.prompts)]
        config = GenerateConfig(max_tokens=self.output_tokens, ignore_eos=self.ignore_eos)
        if self.chat:
            messages = (Message("user", prompt),)
            return Request("chat", config, messages=messages, sample_id=f"perf-{index}")
        return Request("completion", config, prompt=prompt, sample_id=f"perf-{index}")


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(max(count, 0)))


@dataclass(frozen=True)
class _Source:
    name: Calibration
    count: Counter | None  # None: the target does not offer this source
    unavailable: str = ""  # why not, when `count` is None


async def _tokenizer(target: Target) -> _Source:
    count_tokens = getattr(target, "count_tokens", None)
    if count_tokens is None:
        return _Source("tokenizer", None, "the target has no tokenizer")
    if await count_tokens("calibration probe") is None:
        return _Source("tokenizer", None, "the server has no tokenize endpoint")
    return _Source("tokenizer", count_tokens)


async def _usage(target: Target) -> _Source:
    async def by_usage(text: str) -> int | None:
        config = GenerateConfig(max_tokens=1)
        try:
            response = await target.send(Request("completion", config, prompt=text))
        except TargetError:
            return None
        return response.usage.prompt_tokens if response.usage.source == "server" else None

    if await by_usage("calibration probe") is None:
        return _Source("usage", None, "the server reports no prompt-token usage")
    return _Source("usage", by_usage)


async def _by_words(text: str) -> int | None:
    return len(text.split())


def _max_words(target_tokens: int) -> int:
    """The longest prompt the search builds: the least plausible tokens per word, plus room for
    a fixed part (BOS, a serial number) at small lengths."""
    return int(target_tokens / PLAUSIBLE_TOKENS_PER_WORD[0]) + 16


def _check_count(measured: int | None, words: int, *, name: str) -> int:
    low, high = PLAUSIBLE_TOKENS_PER_WORD
    if measured is None or measured <= 0:
        raise UnresponsiveCounter(
            f"{name} reported {measured or 0} prompt tokens for {words} words"
        )
    if not low <= measured / words <= high:
        raise UnresponsiveCounter(
            f"{name} reported {measured} prompt tokens for {words} words "
            f"({measured / words:.3g} tokens per word; plausible is {low:g} to {high:g})"
        )
    return measured


def _check_change(before: tuple[int, int], after: tuple[int, int], *, name: str) -> None:
    """A change of length large enough to move any real count must move it, and plausibly."""
    (words_before, tokens_before), (words_after, tokens_after) = before, after
    change = abs(words_after - words_before)
    telling = max(_TELLING_CHANGE_WORDS, _TELLING_CHANGE_SHARE * max(words_before, words_after))
    if change < telling:
        return
    grew = "grew" if words_after > words_before else "shrank"
    moved = f"from {words_before} to {words_after} words ({tokens_before} → {tokens_after} tokens)"
    if tokens_after == tokens_before:
        raise UnresponsiveCounter(f"{name} did not change when the prompt {grew} {moved}")
    low, high = PLAUSIBLE_TOKENS_PER_WORD
    slope = (tokens_after - tokens_before) / (words_after - words_before)
    if not low <= slope <= high:
        raise UnresponsiveCounter(
            f"{name} moved implausibly when the prompt {grew} {moved}: "
            f"{slope:.3g} tokens per word changed; plausible is {low:g} to {high:g}"
        )


async def fit_words(
    count: Counter,
    target_tokens: int,
    rng: random.Random,
    *,
    first_guess: int | None = None,
    fixed_words: int = 0,
    name: str = "the counter",
) -> str:
    """Words that `count` measures as `target_tokens` tokens (±1 where the tokenizer is not
    additive); `count` may add a fixed part of its own (a prefix of `fixed_words` words), which
    the search absorbs. Raises UnresponsiveCounter, naming the counter `name`, when the counts
    do not follow the length; never builds more than `_max_words(target_tokens)` words."""
    limit = _max_words(target_tokens)
    words = min(limit, max(1, first_guess or target_tokens))
    text = _words(rng, words)
    best: tuple[int, str] | None = None
    # Every (words, tokens) counted: small steps that each look like noise can add up to a
    # change any real count would follow.
    counted: list[tuple[int, int]] = []
    for _ in range(FIT_STEPS):
        measured = _check_count(await count(text), words + fixed_words, name=name)
        for earlier in counted:
            _check_change(earlier, (words + fixed_words, measured), name=name)
        counted.append((words + fixed_words, measured))
        if best is None or abs(measured - target_tokens) < best[0]:
            best = (abs(measured - target_tokens), text)
        if measured == target_tokens:
            break
        # Step by the token difference (exact for one token per word, whatever fixed part
        # `count` adds), not by the ratio, which would scale the fixed part too.
        step = round((target_tokens - measured) * words / measured)
        words = max(1, words + (step or (1 if measured < target_tokens else -1)))
        words = min(words, limit)
        text = _words(random.Random(rng.random()), words)
    return best[1] if best is not None else text


# What each source is called in a reason, and what it says when it is used.
_COUNTER_NAMES: dict[Calibration, str] = {"tokenizer": "the tokenizer", "usage": "server usage"}
_USED: dict[Calibration, str] = {
    "tokenizer": "counted by the target's tokenizer",
    "usage": "counted by the prompt tokens the server reports in its usage",
}


async def synthetic_workload(
    target: Target,
    *,
    prompt_tokens: int,
    output_tokens: int,
    count: int,
    shared_prefix_tokens: int = 0,
    ignore_eos: bool = False,
    seed: int = 0,
) -> Workload:
    """`count` distinct prompts of `prompt_tokens` tokens; the first `shared_prefix_tokens`
    are identical across prompts (to measure prefix caching), the rest unique per prompt.
    Calibrated by the first source that is offered and follows the prompt's length."""
    notes: list[str] = []
    for probe in (_tokenizer, _usage):
        source = await probe(target)
        if source.count is None:
            notes.append(source.unavailable)
            continue
        name = _COUNTER_NAMES[source.name]
        try:
            prompts = await _fitted_prompts(
                source.count, name, prompt_tokens, shared_prefix_tokens, count, seed
            )
        except UnresponsiveCounter as exc:
            notes.append(str(exc))
            continue
        calibration, reason = source.name, _USED[source.name]
        break
    else:
        prompts = await _fitted_prompts(
            _by_words, "the word count", prompt_tokens, shared_prefix_tokens, count, seed
        )
        calibration, reason = "words", WORDS_REASON
    return Workload(
        prompts,
        output_tokens,
        ignore_eos,
        calibration,
        prompt_tokens,
        shared_prefix_tokens,
        calibration_reason="; ".join([*notes, reason]),
    )


async def _fitted_prompts(
    counter: Counter,
    name: str,
    prompt_tokens: int,
    shared_prefix_tokens: int,
    count: int,
    seed: int,
) -> tuple[str, ...]:
    rng = random.Random(seed)
    prefix = ""
    if shared_prefix_tokens:
        prefix = await fit_words(counter, shared_prefix_tokens, rng, name=name) + " "
    # A serial number after the prefix keeps every prompt distinct (so no server cache can
    # answer it). It is zero-padded to one width, because digits cost tokens (one per digit in
    # some tokenizers): unpadded, prompt 1000 would be 3 tokens longer than prompt 0.
    width = len(str(max(count - 1, 0)))

    async def whole_prompt(words: str) -> int | None:
        return await counter(f"{prefix}{0:0{width}d} {words}")

    # Calibrate one whole prompt (prefix and serial included); the others are the same number
    # of words drawn from other words.
    unique_tokens = max(1, prompt_tokens - shared_prefix_tokens)
    fixed_words = len(prefix.split()) + 1
    template = await fit_words(
        whole_prompt,
        prompt_tokens,
        rng,
        first_guess=unique_tokens,
        fixed_words=fixed_words,
        name=name,
    )
    length = len(template.split())
    return tuple(f"{prefix}{index:0{width}d} {_words(rng, length)}" for index in range(count))


def file_workload(path: Path, *, output_tokens: int, ignore_eos: bool = False) -> Workload:
    """Prompts from JSONL: one {"prompt": "..."} (or {"text": ...}) object per line."""
    prompts = []
    for number, row in read_jsonl(path, "prompts file"):
        prompt = row.get("prompt", row.get("text"))
        if not isinstance(prompt, str):
            raise DatasetError(f'{path}:{number}: needs a string field "prompt"; fix the line')
        prompts.append(prompt)
    if not prompts:
        raise DatasetError(f"{path}: no prompts; write one JSON object per line")
    reason = "prompts read from a file are sent as written, their lengths not controlled"
    return Workload(tuple(prompts), output_tokens, ignore_eos, "file", calibration_reason=reason)
