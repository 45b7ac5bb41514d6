"""Prefill and decode speed of the bundled model with llama.cpp's extra buffer types on and off.

    python benchmarks/extra_bufts.py [--reps 8] [--prompt-tokens 512] [--decode-tokens 64]
        [--threads N] [--model M.gguf]

Baseline: llama.cpp's default, extra buffer types on (weights repacked into CPU_REPACK, or AMX
where the build has it). `off` is what `extra_bufts=auto` picks on CPUs with AMX, where the AMX
buffer type segfaults (ggml-org/llama.cpp#20824). Both models are loaded once, in this process,
with the target's settings (every usable CPU, n_ctx 4096); repetitions alternate A B B A ... so
that load from other processes on a shared machine falls on both alike. Prefill evaluates the
prompt in the in-process target's 64-token blocks; decode evaluates one greedy token at a time.

On a shared machine other processes take the cores for whole stretches of a repetition (its
wall-clock rate swung 10x between repetitions here), so besides the median the figures are given
from the fastest tenth of the timed pieces (each 64-token prefill block, each decoded token):
the speed when nobody else was running, measured on both sides in the same minutes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np

from assay.targets._builtin import bundled_model_path
from assay.targets._llamacpp import _PREFIX_BLOCK, usable_cpus
from assay.targets._native_probe import LoadSettings, cpu_features, cpu_flags, load_llama

TEXT = (
    "The committee met on Tuesday to review the budget for the coming year. After a long "
    "discussion of the costs of maintenance, staffing and new equipment, the members agreed "
    "to postpone the decision on the library extension until the spring. "
)


def prompt_tokens(llm: Any, count: int) -> list[int]:
    tokens: list[int] = llm.tokenize(TEXT.encode(), add_bos=True, special=False)
    while len(tokens) < count:
        tokens += llm.tokenize(TEXT.encode(), add_bos=False, special=False)
    return tokens[:count]


@dataclass
class Pieces:
    """Seconds per prefill block and per decoded token, over all repetitions."""

    prefill_s: list[float] = field(default_factory=list)
    decode_s: list[float] = field(default_factory=list)


def measure(llm: Any, prompt: list[int], decode_tokens: int, into: Pieces) -> None:
    """Time one cold prompt, block by block, and the greedy tokens after it, one by one."""
    llm.reset()
    llm._ctx.kv_cache_clear()
    for start in range(0, len(prompt), _PREFIX_BLOCK):
        began = time.perf_counter()
        llm.eval(prompt[start : start + _PREFIX_BLOCK])
        into.prefill_s.append(time.perf_counter() - began)
    for _ in range(decode_tokens):
        logits = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        token = int(np.ctypeslib.as_array(logits, shape=(llm.n_vocab(),)).argmax())
        began = time.perf_counter()
        llm.eval([token])
        into.decode_s.append(time.perf_counter() - began)


def rates(pieces: Pieces) -> dict[str, tuple[float, float]]:
    """(median, fastest-tenth) tok/s for prefill and decode."""

    def of(seconds: list[float], tokens: int) -> tuple[float, float]:
        ordered = sorted(seconds)
        return tokens / statistics.median(ordered), tokens / ordered[len(ordered) // 10]

    return {"prefill": of(pieces.prefill_s, _PREFIX_BLOCK), "decode": of(pieces.decode_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=usable_cpus())
    parser.add_argument("--model", type=Path, help="a GGUF (default: the bundled model)")
    args = parser.parse_args()

    path = args.model or bundled_model_path()
    print(f"model: {path.name}")
    models = {
        name: load_llama(path, LoadSettings(4096, args.threads, on), verbose=False)
        for name, on in (("on", True), ("off", False))
    }
    prompt = prompt_tokens(models["on"], args.prompt_tokens)
    for llm in models.values():  # warm-up: page the weights in, size the buffers
        measure(llm, prompt[:_PREFIX_BLOCK], 4, Pieces())
    pieces = {"on": Pieces(), "off": Pieces()}
    for rep in range(args.reps):
        for name in ("on", "off") if rep % 2 == 0 else ("off", "on"):
            measure(models[name], prompt, args.decode_tokens, pieces[name])
    for llm in models.values():
        llm.close()
    report({name: rates(p) for name, p in pieces.items()}, args)


def report(figures: dict[str, dict[str, tuple[float, float]]], args: argparse.Namespace) -> None:
    print(f"CPU features: {' '.join(cpu_features(cpu_flags()))}")
    print(
        f"llama-cpp-python {llama_cpp.__version__}, {args.threads} threads, {args.reps} reps "
        f"A/B, prompt {args.prompt_tokens} tokens in {_PREFIX_BLOCK}-token blocks, "
        f"decode {args.decode_tokens} tokens"
    )
    base = figures["on"]
    for name, figure in figures.items():
        label = "on (baseline: llama.cpp default)" if name == "on" else "off"
        print(f"  extra_bufts {label}")
        for phase in ("prefill", "decode"):
            (median, fast), (base_median, base_fast) = figure[phase], base[phase]
            print(
                f"    {phase:<7} median {median:7.1f} tok/s ({median / base_median:.2f}x)"
                f"   fastest tenth {fast:7.1f} tok/s ({fast / base_fast:.2f}x)"
            )


if __name__ == "__main__":
    main()
