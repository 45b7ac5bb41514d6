"""llama-cpp-python's OpenAI server with a fast top-logprobs listing; same numbers, less waiting.

    python benchmarks/llama_server_topk.py --model M.gguf --host 127.0.0.1 --port P ...

takes the arguments of `python -m llama_cpp.server`. llama-cpp-python (0.3.x) lists each
token's `top_logprobs` by sorting `zip(logprobs, range(n_vocab))` in Python: 262,144 tuples per
token for Gemma 3, a third of a second each, so an `echo` request over a 200-token prompt takes
about a minute. Here `llama_cpp.llama`'s `zip` hands that one call shape (a vocabulary-sized row
beside `range(n_vocab)`) only the row's 64 largest entries, found by `numpy.argpartition`;
`sorted(..., reverse=True)[:logprobs]` then yields the same top entries for any `logprobs` up to
64. Every other `zip` in the module is the builtin. Token log-probabilities are not touched.

Used by benchmarks/crosscheck_lmeval.py so that lm-eval's MMLU (four echo requests per item)
fits in minutes; both tools talk to this same server.
"""

from __future__ import annotations

import builtins
import runpy
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

TOP = 64
VOCAB_MIN = 50_000


def top_zip(*iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
    if len(iterables) == 2 and isinstance(iterables[1], range):
        index = iterables[1]
        if len(index) >= VOCAB_MIN and index.start == 0 and index.step == 1:
            row = np.asarray(iterables[0], dtype=np.float32)
            if row.shape == (len(index),):
                top = np.argpartition(row, -TOP)[-TOP:]
                return builtins.zip(row[top].tolist(), top.tolist(), strict=True)
    return builtins.zip(*iterables, strict=strict)


def main() -> None:
    import llama_cpp.llama

    llama_cpp.llama.zip = top_zip  # type: ignore[attr-defined]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
