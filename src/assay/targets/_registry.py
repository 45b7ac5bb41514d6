"""Target strings to targets.

`builtin`, `gguf:PATH`, `openai:URL[#MODEL]`, `file:PATH` and `fake[:TEXT]`, each optionally
followed by `?key=value&...` generation overrides (e.g. `builtin?temperature=1.5`) that replace
the task's parameters on every request, and for local models load options
(`builtin?extra_bufts=off`). More schemes register with `register_target`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from assay._errors import SpecError
from assay._redact import redact
from assay.core import Capabilities, Request, Response, Target, did_you_mean

if TYPE_CHECKING:
    from assay.targets._native_probe import ExtraBufts

TargetFactory = Callable[[str], Target]
_SCHEMES: dict[str, TargetFactory] = {}


def register_target(scheme: str, factory: TargetFactory) -> None:
    """Make `scheme:rest` strings build targets with `factory(rest)`; a factory for `builtin`
    or `gguf` is also called as `factory(rest, extra_bufts=...)` when the string has one."""
    _SCHEMES[scheme] = factory


def _builtin(rest: str, extra_bufts: str = "auto") -> Target:
    from assay.targets._builtin import builtin_target

    return builtin_target(cast("ExtraBufts", extra_bufts))


def _gguf(rest: str, extra_bufts: str = "auto") -> Target:
    from assay.targets._llamacpp import LlamaCppTarget

    if not rest:
        raise SpecError("target 'gguf:' needs a path: gguf:/path/to/model.gguf")
    return LlamaCppTarget(rest, extra_bufts=cast("ExtraBufts", extra_bufts))


def _openai(rest: str) -> Target:
    from assay.targets._openai import OpenAITarget

    url, _, model = rest.partition("#")
    if not url:
        raise SpecError("target 'openai:' needs a URL: openai:http://127.0.0.1:8000/v1[#model]")
    return OpenAITarget(url, model or None)


def _file(rest: str) -> Target:
    from assay.targets._file import FileTarget

    if not rest:
        raise SpecError("target 'file:' needs a path: file:answers.jsonl")
    return FileTarget(rest)


def _fake(rest: str) -> Target:
    from assay.targets._fake import FakeTarget

    return FakeTarget((rest,), name=f"fake:{rest}" if rest else "fake")


register_target("builtin", _builtin)
register_target("gguf", _gguf)
register_target("openai", _openai)
register_target("file", _file)
register_target("fake", _fake)


def resolve_target(spec: str) -> Target:
    """Build the target a string names, wrapped when it carries generation overrides."""
    base, overrides = split_overrides(spec)
    load = {key: value for key, value in overrides.items() if key in _LOAD_OPTIONS}
    target = _resolve_base(base, load)
    return OverridingTarget(target, overrides) if overrides else target


def _resolve_base(spec: str, load: Mapping[str, Any] | None = None) -> Target:
    scheme, _, rest = spec.partition(":")
    factory = _SCHEMES.get(scheme)
    if factory is None:
        raise SpecError(
            did_you_mean("target scheme", scheme, sorted(_SCHEMES), "see README, Targets")
            + "; write e.g. builtin, gguf:/path.gguf or openai:http://host:port/v1"
        )
    if load:
        if scheme not in _LOAD_SCHEMES:
            raise SpecError(
                f"target {redact(spec)!r}: {', '.join(sorted(load))} applies to builtin and gguf: "
                "targets only; remove it"
            )
        return factory(rest, **load)
    return factory(rest)


# -- generation overrides: `TARGET?temperature=1.5&max_tokens=16` --------------------------

# The GenerateConfig fields a target string may override, with their parsers and checks.
_OVERRIDES: dict[str, tuple[Callable[[str], Any], Callable[[Any], bool], str]] = {
    "temperature": (float, lambda v: v >= 0, "a number >= 0"),
    "top_p": (float, lambda v: 0 < v <= 1, "a number in (0, 1]"),
    "max_tokens": (int, lambda v: v >= 1, "an integer >= 1"),
    "seed": (int, lambda v: True, "an integer"),
    "repeat_penalty": (float, lambda v: v > 0, "a number > 0"),
}
# How a local model is loaded, not how it generates: passed to the builtin/gguf factories and
# kept in the spec like an override. extra_bufts: llama.cpp's repacked (AMX, CPU_REPACK) weights.
_LOAD_OPTIONS: dict[str, tuple[Callable[[str], Any], Callable[[Any], bool], str]] = {
    "extra_bufts": (str, lambda v: v in ("auto", "on", "off"), "auto, on or off"),
}
# The schemes whose factory, the registered one, takes the load options as keywords.
_LOAD_SCHEMES = frozenset({"builtin", "gguf"})


def generation_overrides(spec: str) -> dict[str, Any]:
    """The `?key=value` options of a target string that change requests (not how it loads)."""
    return _generation(split_overrides(spec)[1])


def _generation(options: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key not in _LOAD_OPTIONS}


_KNOWN = {**_OVERRIDES, **_LOAD_OPTIONS}


def split_overrides(spec: str) -> tuple[str, dict[str, Any]]:
    """`builtin?temperature=1.5` -> (`builtin`, {"temperature": 1.5}).

    For `openai:` targets a query whose keys are all unknown stays part of the URL (an
    endpoint may need one, e.g. `?api-version=...`); anywhere else an unknown key is an error.
    """
    base, mark, query = spec.rpartition("?")
    if not mark:
        return spec, {}
    pairs = [part.partition("=") for part in query.split("&") if part]
    keys = [key for key, _, _ in pairs]
    if spec.startswith("openai:") and not any(key in _KNOWN for key in keys):
        return spec, {}
    overrides: dict[str, Any] = {}
    for key, equals, text in pairs:
        if key not in _KNOWN:
            raise SpecError(
                f"target {redact(spec)!r}: "
                + did_you_mean("generation option", key, sorted(_KNOWN), "write key=value")
            )
        parse, valid, wanted = _KNOWN[key]
        try:
            value = parse(text)
        except ValueError:
            value = None
        if not equals or value is None or not valid(value):
            raise SpecError(f"target {redact(spec)!r}: {key} must be {wanted}, got {text!r}")
        overrides[key] = value
    return base, overrides


def overrides_text(overrides: Mapping[str, Any]) -> str:
    """The canonical `?k=v&...` suffix (sorted keys), so equal overrides give equal specs."""
    return "?" + "&".join(f"{key}={overrides[key]}" for key in sorted(overrides))


def plan_probes(target: Target, *, tools: bool, continuation: bool) -> None:
    """Before `start()`: tell a target which optional capabilities the planned tasks use, so
    it probes only those. Targets that probe (OpenAI) offer `plan_probes()`; others know
    their capabilities without asking."""
    plan = getattr(target, "plan_probes", None)
    if callable(plan):
        plan(tools=tools, continuation=continuation)


class OverridingTarget:
    """Another target with some generation parameters replaced on every request.

    Its spec carries the overrides, so they are part of every cache key and of the run's
    manifest; the stored request payloads keep the task's own parameters.
    """

    def __init__(self, inner: Target, overrides: Mapping[str, Any]) -> None:
        self._inner = inner
        self.overrides = dict(overrides)
        self._generation = _generation(overrides)

    @property
    def spec(self) -> str:
        return self._inner.spec + overrides_text(self.overrides)

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def capabilities(self) -> Capabilities:
        return self._inner.capabilities

    @property
    def max_concurrency(self) -> int:
        return self._inner.max_concurrency

    @property
    def load_settings(self) -> Any:
        """The inner local model's load settings (None for other targets), for the manifest."""
        return getattr(self._inner, "load_settings", None)

    def plan_probes(self, *, tools: bool, continuation: bool) -> None:
        plan_probes(self._inner, tools=tools, continuation=continuation)

    async def start(self) -> None:
        await self._inner.start()

    async def close(self) -> None:
        await self._inner.close()

    async def send(self, request: Request) -> Response:
        config = replace(request.config, **self._generation)
        return await self._inner.send(replace(request, config=config))
