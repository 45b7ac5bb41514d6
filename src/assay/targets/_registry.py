"""Target strings to targets.

`builtin`, `gguf:PATH`, `openai:URL[#MODEL]`, `file:PATH` and `fake[:TEXT]`.

More schemes register with `register_target`.
"""

from __future__ import annotations

from collections.abc import Callable

from assay._errors import SpecError
from assay.targets._types import Target

TargetFactory = Callable[[str], Target]
_SCHEMES: dict[str, TargetFactory] = {}


def register_target(scheme: str, factory: TargetFactory) -> None:
    """Make `scheme:rest` strings build targets with `factory(rest)`."""
    _SCHEMES[scheme] = factory


def _builtin(rest: str) -> Target:
    from assay.targets._builtin import builtin_target

    return builtin_target()


def _gguf(rest: str) -> Target:
    from assay.targets._llamacpp import LlamaCppTarget

    if not rest:
        raise SpecError("target 'gguf:' needs a path: gguf:/path/to/model.gguf")
    return LlamaCppTarget(rest)


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
    scheme, _, rest = spec.partition(":")
    factory = _SCHEMES.get(scheme)
    if factory is None:
        from assay.tasks._task import did_you_mean

        raise SpecError(
            did_you_mean("target scheme", scheme, sorted(_SCHEMES), "see README, Targets")
            + "; write e.g. builtin, gguf:/path.gguf or openai:http://host:port/v1"
        )
    return factory(rest)
