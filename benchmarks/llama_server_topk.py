"""llama-cpp-python's OpenAI server with assay's fast top-logprobs listing: same numbers, faster.

    python benchmarks/llama_server_topk.py --model M.gguf --host 127.0.0.1 --port P ...

takes the arguments of `python -m llama_cpp.server`, for a server configured by hand. The
listing is `assay.targets._serve.install_fast_top_logprobs` (the one copy, also used by
`assay model serve`, which the benchmarks and tests start instead: it adds the in-process
target's load settings, the crash probe and queued requests). llama-cpp-python (0.3.x) lists
each token's `top_logprobs` by sorting all 262,144 (logprob, id) pairs of Gemma 3 in Python; the
patch hands that sort only the row's 64 largest entries. Token log-probabilities are untouched.
"""

from __future__ import annotations

import runpy

from assay.targets._serve import install_fast_top_logprobs


def main() -> None:
    install_fast_top_logprobs()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
