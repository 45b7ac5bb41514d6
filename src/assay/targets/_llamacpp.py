"""A local GGUF model run in-process by llama.cpp (llama-cpp-python).

Generation runs in a worker thread, one request at a time (llama.cpp holds one context), with
the prompt's KV prefix reused across requests so few-shot prompts are cheap. Logprobs are read
from the context's last-position logits at each step, so no `logits_all` buffer is needed.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from assay._errors import ErrorClass, TargetError, TargetUnavailable
from assay.core import (
    Capabilities,
    Request,
    Response,
    Timings,
    TokenLogprob,
    Usage,
)
from assay.targets._native_probe import ExtraBufts, LoadSettings, load_llama, safe_load_settings


def _import_llama() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise TargetUnavailable(
            "llama-cpp-python is not installed; run: pip install llama-cpp-python"
        ) from None
    return llama_cpp


def usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may run on
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class LlamaCppTarget:
    def __init__(
        self,
        model_path: str | Path,
        *,
        spec: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        extra_bufts: ExtraBufts = "auto",
    ) -> None:
        self._path = Path(model_path)
        self._spec = spec or f"gguf:{self._path}"
        self._n_ctx = n_ctx
        # llama-cpp-python's default is half the CPUs (one thread on a 2-core machine, where
        # decode then runs at ~60% of the speed of two); use every CPU this process may run on.
        self._n_threads = n_threads or usable_cpus()
        self._extra_bufts: ExtraBufts = extra_bufts
        self.load_settings: LoadSettings | None = None  # as loaded, once started
        self._llm: Any = None
        self._lock = threading.Lock()
        self._formatter: Any = None

    @property
    def spec(self) -> str:
        return self._spec

    @property
    def model(self) -> str:
        return self._path.name

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            chat=True, completion=True, logprobs=True, streaming=True, continuation=True
        )

    @property
    def max_concurrency(self) -> int:
        return 1

    async def start(self) -> None:
        if self._llm is None:
            await asyncio.to_thread(self._load)

    def _load(self) -> None:
        _import_llama()
        if not self._path.is_file():
            raise TargetUnavailable(f"{self._path}: GGUF file not found; pass gguf:<path>")
        # A crash in llama.cpp's native code would end this process without a word: a child
        # loads and decodes first (once per model and CPU) and a crash there raises one line.
        settings = safe_load_settings(
            self._path,
            self._extra_bufts,
            n_ctx=self._n_ctx,
            n_threads=self._n_threads,
            spec=self._spec,
        )
        try:
            self._llm = load_llama(self._path, settings, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise TargetUnavailable(f"{self._path}: llama.cpp cannot load it ({exc})") from None
        self.load_settings = settings
        template = self._llm.metadata.get("tokenizer.chat_template")
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            vocab = self._llm
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=vocab.detokenize([vocab.token_eos()]).decode(errors="ignore"),
                bos_token=vocab.detokenize([vocab.token_bos()]).decode(errors="ignore"),
            )

    async def close(self) -> None:
        llm, self._llm = self._llm, None
        if llm is not None:
            await asyncio.to_thread(llm.close)

    async def count_tokens(self, text: str) -> int | None:
        """Prompt tokens of `text` with this model's tokenizer (BOS included)."""
        if self._llm is None:
            return None
        llm = self._llm
        return len(llm.tokenize(text.encode(), add_bos=True, special=False))

    async def send(self, request: Request) -> Response:
        if self._llm is None:
            raise TargetError("target not started", error_class=ErrorClass.CONNECTION)
        return await asyncio.to_thread(self._generate, request)

    # -- generation (worker thread) ------------------------------------------------------------

    def _tokens(self, request: Request) -> tuple[list[int], tuple[str, ...]]:
        llm = self._llm
        if request.mode == "completion":
            return llm.tokenize(request.prompt.encode(), add_bos=True, special=False), ()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if self._formatter is None:
            text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant:"
            return llm.tokenize(text.encode(), add_bos=True, special=False), ("\nuser:",)
        rendered = self._formatter(messages=messages)
        stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop or ""]
        tokens = llm.tokenize(rendered.prompt.encode(), add_bos=False, special=True)
        return tokens, tuple(s for s in stops if s)

    def _generate(self, request: Request) -> Response:
        if request.config.continuation is not None:
            return self._likelihood(request, request.config.continuation)
        with self._lock:
            started = time.perf_counter()
            config = request.config
            tokens, template_stops = self._tokens(request)
            if len(tokens) + config.max_tokens > self._n_ctx:
                raise TargetError(
                    f"prompt of {len(tokens)} tokens + max_tokens {config.max_tokens} exceeds "
                    f"the context of {self._n_ctx}",
                    error_class=ErrorClass.TRUNCATED,
                )
            if config.seed is not None:
                self._llm.set_seed(config.seed)
            _prefill(self._llm, tokens)
            return self._decode(tokens, request, template_stops, started)

    def _likelihood(self, request: Request, continuation: str) -> Response:
        """Log-probability of `continuation` after the prompt, one entry per continuation token.

        Prompt and continuation are tokenized together, as a server does with `echo`; the
        context is prefilled in the usual blocks (so its KV prefix is shared across the choices
        of one question) and the continuation is evaluated in one batch with logits at every
        position, so no `logits_all` buffer is needed for generation. llama.cpp's numbers depend
        on batch shapes, so a server scoring the text in one batch differs by about 0.01 nat per
        token; the fixed split keeps this target's own scores identical from run to run.
        """
        if request.mode != "completion":
            raise TargetError(
                "scoring a continuation needs a completion-mode request, not chat",
                error_class=ErrorClass.MALFORMED,
            )
        with self._lock:
            started = time.perf_counter()
            llm = self._llm
            text = request.prompt + continuation
            tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
            if len(tokens) > self._n_ctx:
                raise TargetError(
                    f"prompt + continuation of {len(tokens)} tokens exceed the context of "
                    f"{self._n_ctx}",
                    error_class=ErrorClass.TRUNCATED,
                )
            first = max(1, continuation_start(llm, tokens, len(request.prompt)))
            if first >= len(tokens):
                raise TargetError(
                    "the continuation adds no token to the prompt; give a non-empty one",
                    error_class=ErrorClass.MALFORMED,
                )
            _prefill(llm, tokens[:first])
            rows = [_last_logits(llm), *_eval_scoring(llm, tokens[first:-1])]
            targets = tokens[first:]
            scored = [_scored(llm, row, token) for row, token in zip(rows, targets, strict=True)]
            return Response(
                text="",
                finish_reason="stop",
                usage=Usage(prompt_tokens=len(tokens), completion_tokens=0, source="server"),
                timings=Timings(e2e_s=time.perf_counter() - started),
                logprobs=tuple(scored),
            )

    def _decode(
        self, prompt: list[int], request: Request, template_stops: tuple[str, ...], started: float
    ) -> Response:
        llm = self._llm
        config = request.config
        stops = (*config.stop, *template_stops)
        eos = {llm.token_eos(), *_end_of_turn_tokens(llm)}
        out_tokens: list[int] = []
        times: list[float] = []
        logprobs: list[TokenLogprob] = []
        finish = "length"
        text = ""
        # The prompt is already in the KV cache (`_prefill`): llama-cpp-python samples at once.
        generator = llm.generate(
            prompt,
            temp=config.temperature,
            top_p=config.top_p if config.top_p is not None else 1.0,
            top_k=0 if config.temperature > 0 else 40,
            min_p=0.0,
            repeat_penalty=config.repeat_penalty if config.repeat_penalty is not None else 1.0,
        )
        for token in generator:
            if config.top_logprobs is not None:
                logprobs.append(self._logprob(token, config.top_logprobs))
            if token in eos and not config.ignore_eos:
                finish = "stop"
                break
            out_tokens.append(token)
            times.append(time.perf_counter() - started)
            text = llm.detokenize(out_tokens).decode("utf-8", errors="ignore")
            cut = _first_stop(text, stops)
            if cut is not None:
                text, finish = text[:cut], "stop"
                break
            if len(out_tokens) >= config.max_tokens:
                break
        generator.close()
        return Response(
            text=text,
            finish_reason=finish,
            usage=Usage(
                prompt_tokens=len(prompt),
                completion_tokens=len(out_tokens),
                source="server",
                client_chunks=len(out_tokens),
            ),
            timings=Timings(
                ttft_s=times[0] if times else None,
                ttfat_s=times[0] if times else None,
                token_times_s=tuple(times),
                e2e_s=time.perf_counter() - started,
            ),
            logprobs=tuple(logprobs) if config.top_logprobs is not None else None,
        )

    def _logprob(self, token: int, top_k: int) -> TokenLogprob:
        """Log-softmax of the logits that produced `token` (the context's last position)."""
        import llama_cpp

        llm = self._llm
        pointer = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
        peak = float(logits.max())
        log_norm = peak + math.log(float(np.exp(logits - peak).sum()))
        top = np.argpartition(logits, -top_k)[-top_k:] if top_k > 0 else np.array([], int)
        top = top[np.argsort(-logits[top])]
        return TokenLogprob(
            token=_piece(llm, token),
            logprob=float(logits[token]) - log_norm,
            top=tuple((_piece(llm, int(t)), float(logits[t]) - log_norm) for t in top),
        )


# llama.cpp's logits depend on how a prompt was split into batches, so reusing a cached prefix
# of any length made a request's output depend on the request before it. Prompts are evaluated
# in fixed blocks and a cached prefix is reused only in whole blocks: warm equals cold, bit for bit.
_PREFIX_BLOCK = 64


def _prefill(llm: Any, prompt: list[int]) -> None:
    """Evaluate `prompt` block by block, reusing the whole blocks already in the KV cache."""
    shared = 0
    for cached, token in zip(llm.input_ids[: llm.n_tokens].tolist(), prompt, strict=False):
        if cached != token:
            break
        shared += 1
    # Keep at least one token to evaluate, so the logits are those of this prompt's end.
    reuse = min(shared, len(prompt) - 1) // _PREFIX_BLOCK * _PREFIX_BLOCK
    if reuse <= 0 or not llm._ctx.kv_cache_seq_rm(-1, reuse, -1):
        llm.reset()
        reuse = 0
    llm.n_tokens = reuse
    for start in range(reuse, len(prompt), _PREFIX_BLOCK):
        llm.eval(prompt[start : start + _PREFIX_BLOCK])


def continuation_start(llm: Any, tokens: list[int], context_chars: int) -> int:
    """Index in `tokens` of the first continuation token: the first whose text ends after
    `context_chars` characters. A token straddling the boundary belongs to the continuation,
    since it carries continuation text. Offsets are measured as llama-cpp-python's server
    measures `text_offset` (detokenized prefix without BOS), so both targets split alike.
    """
    skip = 1 if tokens and tokens[0] == llm.token_bos() else 0
    body = tokens[skip:]

    def end(index: int) -> int:  # characters up to and including body[index]
        return len(llm.detokenize(body[: index + 1]).decode("utf-8", errors="ignore"))

    index = len(body) - 1
    if index < 0 or end(index) <= context_chars:
        return len(tokens)  # the continuation added no text
    while index > 0 and end(index - 1) > context_chars:
        index -= 1
    return skip + max(index, 0)


def _last_logits(llm: Any) -> Any:
    import llama_cpp

    pointer = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)


def _eval_scoring(llm: Any, tokens: list[int]) -> list[Any]:
    """`llm.eval` with logits kept at every position (rows predict the token after each)."""
    import llama_cpp

    rows = []
    llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
    for start in range(0, len(tokens), llm.n_batch):
        batch = tokens[start : start + llm.n_batch]
        n_past = llm.n_tokens
        llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(batch)] = batch
        llm.n_tokens += len(batch)
        for position in range(len(batch)):
            pointer = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, position)
            row = np.ctypeslib.as_array(pointer, shape=(llm.n_vocab(),)).astype(np.float64)
            rows.append(row)
    return rows


def _scored(llm: Any, logits: Any, token: int) -> TokenLogprob:
    """The token's log-softmax, with the most likely token as the one alternative."""
    peak = float(logits.max())
    log_norm = peak + math.log(float(np.exp(logits - peak).sum()))
    best = int(logits.argmax())
    return TokenLogprob(
        token=_piece(llm, token),
        logprob=float(logits[token]) - log_norm,
        top=((_piece(llm, best), float(logits[best]) - log_norm),),
    )


def _piece(llm: Any, token: int) -> str:
    return str(llm.detokenize([token]).decode("utf-8", errors="replace"))


def _end_of_turn_tokens(llm: Any) -> list[int]:
    found = []
    for marker in (b"<end_of_turn>", b"<|eot_id|>", b"<|im_end|>"):
        ids = llm.tokenize(marker, add_bos=False, special=True)
        if len(ids) == 1:
            found.append(ids[0])
    return found


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    positions = [text.find(s) for s in stops if s and s in text]
    return min(positions) if positions else None
