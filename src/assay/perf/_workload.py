"""Perf workloads: synthetic prompts of a controlled token length, or prompts from a file.

Lengths are calibrated against the target's own tokenizer when it exposes one (in-process GGUF,
llama.cpp's /tokenize), else against the prompt tokens the server reports in its usage.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from assay._errors import DatasetError, TargetError
from assay.targets._types import GenerateConfig, Message, Request, Target

# Common short English words: most are one token in every modern tokenizer.
_WORDS = (  # noqa: SIM905 - a word list reads best as text
    "time year people way day man thing woman life child world school state family student "
    "group country problem hand part place case week company system program question work "
    "government number night point home water room mother area money story fact month lot "
    "right study book eye job word business issue side kind head house service friend father "
    "power hour game line end member law car city community name president team minute idea"
).split()

Calibration = Literal["tokenizer", "usage", "words"]


class TokenCounting(Protocol):
    async def count_tokens(self, text: str) -> int | None: ...


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

    def request(self, index: int) -> Request:
        prompt = self.prompts[index % len(self.prompts)]
        config = GenerateConfig(max_tokens=self.output_tokens, ignore_eos=self.ignore_eos)
        if self.chat:
            messages = (Message("user", prompt),)
            return Request("chat", config, messages=messages, sample_id=f"perf-{index}")
        return Request("completion", config, prompt=prompt, sample_id=f"perf-{index}")


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(max(count, 0)))


async def _counter(target: Target) -> tuple[Callable[[str], Awaitable[int | None]], Calibration]:
    count_tokens = getattr(target, "count_tokens", None)
    if count_tokens is not None and await count_tokens("calibration probe") is not None:
        return count_tokens, "tokenizer"

    async def by_usage(text: str) -> int | None:
        config = GenerateConfig(max_tokens=1)
        try:
            response = await target.send(Request("completion", config, prompt=text))
        except TargetError:
            return None
        return response.usage.prompt_tokens if response.usage.source == "server" else None

    if await by_usage("calibration probe") is not None:
        return by_usage, "usage"

    async def by_words(text: str) -> int | None:
        return len(text.split())

    return by_words, "words"


async def fit_words(
    count: Callable[[str], Awaitable[int | None]],
    target_tokens: int,
    rng: random.Random,
    *,
    first_guess: int | None = None,
) -> str:
    """Words that `count` measures as `target_tokens` tokens (±1 where the tokenizer is not
    additive); `count` may add a fixed part of its own (a prefix), which the search absorbs."""
    words = max(1, first_guess or target_tokens)
    text = _words(rng, words)
    best: tuple[int, str] | None = None
    for _ in range(8):
        measured = await count(text)
        if not measured:
            return text
        if best is None or abs(measured - target_tokens) < best[0]:
            best = (abs(measured - target_tokens), text)
        if measured == target_tokens:
            break
        # Step by the token difference (exact for one token per word, whatever fixed part
        # `count` adds), not by the ratio, which would scale the fixed part too.
        step = round((target_tokens - measured) * words / measured)
        words = max(1, words + (step or (1 if measured < target_tokens else -1)))
        text = _words(random.Random(rng.random()), words)
    return best[1] if best is not None else text


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
    are identical across prompts (to measure prefix caching), the rest unique per prompt."""
    counter, calibration = await _counter(target)
    rng = random.Random(seed)
    prefix = ""
    if shared_prefix_tokens:
        prefix = await fit_words(counter, shared_prefix_tokens, rng) + " "
    # A serial number after the prefix keeps every prompt distinct (so no server cache can
    # answer it). It is zero-padded to one width, because digits cost tokens (one per digit in
    # some tokenizers): unpadded, prompt 1000 would be 3 tokens longer than prompt 0.
    width = len(str(max(count - 1, 0)))

    async def whole_prompt(words: str) -> int | None:
        return await counter(f"{prefix}{0:0{width}d} {words}")

    # Calibrate one whole prompt (prefix and serial included); the others are the same number
    # of words drawn from other words.
    unique_tokens = max(1, prompt_tokens - shared_prefix_tokens)
    template = await fit_words(whole_prompt, prompt_tokens, rng, first_guess=unique_tokens)
    length = len(template.split())
    prompts = tuple(f"{prefix}{index:0{width}d} {_words(rng, length)}" for index in range(count))
    return Workload(
        prompts, output_tokens, ignore_eos, calibration, prompt_tokens, shared_prefix_tokens
    )


def file_workload(path: Path, *, output_tokens: int, ignore_eos: bool = False) -> Workload:
    """Prompts from JSONL: one {"prompt": "..."} (or {"text": ...}) object per line."""
    prompts = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read prompts ({exc.strerror})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        prompt = row.get("prompt", row.get("text")) if isinstance(row, dict) else None
        if not isinstance(prompt, str):
            raise DatasetError(f'{path}:{number}: needs a string field "prompt"')
        prompts.append(prompt)
    if not prompts:
        raise DatasetError(f"{path}: no prompts; write one JSON object per line")
    return Workload(tuple(prompts), output_tokens, ignore_eos, "file")
