"""`assay model serve`: a local GGUF behind llama-cpp-python's OpenAI-compatible server.

The model loads with the in-process target's settings (every usable CPU, the extra-buffer-types
decision and the crash probe); concurrent requests queue instead of cutting each other's
streams; and `top_logprobs` are listed without sorting the whole vocabulary per token.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from assay._errors import SpecError, TargetUnavailable
from assay.targets._llamacpp import usable_cpus
from assay.targets._native_probe import (
    ExtraBufts,
    LoadSettings,
    extra_bufts_param,
    safe_load_settings,
)

BUILTIN_ALIAS = "gemma-3-270m"
SERVER_EXTRA = "pip install -e '.[server]' (or pip install 'llama-cpp-python[server]==0.3.36')"


@dataclass(frozen=True)
class ServeOptions:
    model: str = "builtin"  # builtin or gguf:PATH, optionally ?extra_bufts=auto|on|off
    host: str = "127.0.0.1"
    port: int = 8000
    n_ctx: int = 4096
    # llama-cpp-python's default (true) ends a running stream as soon as another request
    # waits; kept only so tests can reproduce such a server.
    interrupt_requests: bool = False


@dataclass(frozen=True)
class ServedModel:
    path: Path
    alias: str
    extra_bufts: ExtraBufts


def served_model(spec: str) -> ServedModel:
    """`builtin` or `gguf:PATH`, with at most the `extra_bufts` load option."""
    from assay.targets._registry import generation_overrides, split_overrides

    base, options = split_overrides(spec)
    generation = sorted(generation_overrides(spec))
    if generation:
        raise SpecError(
            f"model {spec!r}: {', '.join(generation)} is a per-request option; a served model "
            "takes only ?extra_bufts=auto|on|off"
        )
    extra_bufts = cast(ExtraBufts, options.get("extra_bufts", "auto"))
    if base == "builtin":
        from assay.targets._builtin import bundled_model_path

        return ServedModel(bundled_model_path(), BUILTIN_ALIAS, extra_bufts)
    if base.startswith("gguf:") and base.removeprefix("gguf:"):
        path = Path(base.removeprefix("gguf:"))
        if not path.is_file():
            raise TargetUnavailable(f"{path}: GGUF file not found; pass gguf:<path>")
        return ServedModel(path, path.name.removesuffix(".gguf"), extra_bufts)
    raise SpecError(f"model {spec!r}: write builtin or gguf:/path/to/model.gguf")


def build_app(options: ServeOptions) -> tuple[Any, ServedModel, LoadSettings]:
    """The FastAPI app with the model loaded, what it serves and how it was loaded."""
    create_app, settings_module = _import_server()
    model = served_model(options.model)
    load = safe_load_settings(
        model.path,
        model.extra_bufts,
        n_ctx=options.n_ctx,
        n_threads=usable_cpus(),
        spec=options.model,
    )
    install_fast_top_logprobs()
    server_settings = settings_module.ServerSettings(
        host=options.host, port=options.port, interrupt_requests=options.interrupt_requests
    )
    model_settings = settings_module.ModelSettings(
        model=str(model.path),
        model_alias=model.alias,
        n_ctx=load.n_ctx,
        n_threads=load.n_threads,
    )
    # The server loads its one model inside create_app, with llama-cpp-python's own defaults.
    with extra_bufts_param(load.use_extra_bufts):
        app = create_app(server_settings=server_settings, model_settings=[model_settings])
    return app, model, load


def serve(options: ServeOptions, log: Callable[[str], None]) -> None:
    """Load, then serve until interrupted (uvicorn handles Ctrl-C and SIGTERM)."""
    import uvicorn

    app, model, load = build_app(options)
    state = "on" if load.use_extra_bufts else "off"
    log(
        f"assay: serving {model.path.name} as {model.alias!r} at "
        f"http://{options.host}:{options.port}/v1 ({load.n_threads} threads, "
        f"extra buffer types {state})"
    )
    uvicorn.run(app, host=options.host, port=options.port)


def _import_server() -> tuple[Callable[..., Any], Any]:
    try:
        import llama_cpp.server.settings as settings_module
        import uvicorn  # noqa: F401
        from llama_cpp.server.app import create_app
    except ImportError:
        raise TargetUnavailable(
            f"llama-cpp-python's server is not installed; run: {SERVER_EXTRA}"
        ) from None
    return create_app, settings_module


# -- fast top_logprobs --------------------------------------------------------------------------

# llama-cpp-python (0.3.x) lists each token's `top_logprobs` by sorting
# `zip(logprobs, range(n_vocab))` in Python: 262,144 tuples per token for Gemma 3, a third of a
# second each, so an `echo` request over a 200-token prompt takes about a minute. Its module's
# `zip` hands that one call shape (a vocabulary-sized row beside `range(n_vocab)`) only the row's
# TOP_LOGPROBS largest entries, found by `numpy.argpartition`; `sorted(..., reverse=True)[:n]`
# then yields the same top entries for any n up to TOP_LOGPROBS. Token logprobs are untouched.
TOP_LOGPROBS = 64
_VOCAB_MIN = 50_000


def top_zip(*iterables: Iterable[Any], strict: bool = False) -> Iterator[tuple[Any, ...]]:
    if len(iterables) == 2 and isinstance(iterables[1], range):
        index = iterables[1]
        if len(index) >= _VOCAB_MIN and index.start == 0 and index.step == 1:
            row = np.asarray(iterables[0], dtype=np.float32)
            if row.shape == (len(index),):
                top = np.argpartition(row, -TOP_LOGPROBS)[-TOP_LOGPROBS:]
                return builtins.zip(row[top].tolist(), top.tolist(), strict=True)
    return builtins.zip(*iterables, strict=strict)


def install_fast_top_logprobs() -> None:
    """Every other `zip` in llama_cpp.llama stays the builtin's behaviour."""
    import llama_cpp.llama

    llama_cpp.llama.zip = top_zip  # type: ignore[attr-defined]
