"""Tests for assay.targets._registry: target strings, and `?key=value` generation overrides."""

from __future__ import annotations

import asyncio

import pytest

from assay import SpecError
from assay.targets import FakeTarget, GenerateConfig, Request, resolve_target
from assay.targets._registry import OverridingTarget, split_overrides


def test_overrides_are_parsed_typed_and_split_off() -> None:
    assert split_overrides("builtin?temperature=1.5&max_tokens=8") == (
        "builtin",
        {"temperature": 1.5, "max_tokens": 8},
    )
    assert split_overrides("openai:http://h:8000/v1#m?top_p=0.5&seed=3") == (
        "openai:http://h:8000/v1#m",
        {"top_p": 0.5, "seed": 3},
    )
    assert split_overrides("openai:http://h:8000/v1#m?repeat_penalty=1.0") == (
        "openai:http://h:8000/v1#m",
        {"repeat_penalty": 1.0},
    )
    assert split_overrides("gguf:/m.gguf") == ("gguf:/m.gguf", {})
    # An endpoint's own query string stays part of its URL.
    azure = "openai:https://h/v1?api-version=2024-06-01"
    assert split_overrides(azure) == (azure, {})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("builtin?temprature=1.5", "did you mean 'temperature'"),
        ("builtin?temperature=-1", "temperature must be a number >= 0"),
        ("builtin?max_tokens=lots", "max_tokens must be an integer >= 1"),
        ("fake?top_p=2", "top_p must be a number in (0, 1]"),
        ("builtin?seed", "seed must be an integer"),
        ("builtin?repeat_penalty=0", "repeat_penalty must be a number > 0"),
        ("openai:http://h/v1?temperature=1&colour=red", "unknown generation option 'colour'"),
    ],
)
def test_bad_overrides_are_one_line_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_target(spec)
    assert message in str(caught.value) and spec in str(caught.value)
    assert "\n" not in str(caught.value)


def test_overriding_target_changes_what_is_sent_and_its_spec() -> None:
    inner = FakeTarget(("ok",), name="fake:x")
    target = resolve_target("fake:x?temperature=1.5&max_tokens=4")
    assert isinstance(target, OverridingTarget)
    # Canonical spec (sorted keys), so the cache key and manifest see the same string.
    assert target.spec == "fake:x?max_tokens=4&temperature=1.5"

    wrapped = OverridingTarget(inner, {"temperature": 1.5})
    request = Request(mode="completion", config=GenerateConfig(max_tokens=9), prompt="p")
    response = asyncio.run(wrapped.send(request))
    assert response.text == "ok"
    (sent,) = inner.requests
    assert sent.config.temperature == 1.5 and sent.config.max_tokens == 9
    assert sent.prompt == "p"
    assert wrapped.model == inner.model and wrapped.capabilities == inner.capabilities


def test_repeat_penalty_is_sent_only_when_set_and_keys_the_cache() -> None:
    from assay.targets._openai import OpenAITarget

    target = OpenAITarget("http://127.0.0.1:9/v1", "m")
    plain = Request(mode="completion", config=GenerateConfig(max_tokens=4), prompt="p")
    penalised = Request(
        mode="completion", config=GenerateConfig(max_tokens=4, repeat_penalty=1.0), prompt="p"
    )
    _, body = target._body(plain)
    assert "repeat_penalty" not in body and "repetition_penalty" not in body
    assert "repeat_penalty" not in plain.payload()  # earlier cache keys stay valid
    _, body = target._body(penalised)
    assert body["repeat_penalty"] == body["repetition_penalty"] == 1.0
    assert penalised.payload()["repeat_penalty"] == 1.0


def test_a_re_registered_local_scheme_gets_the_load_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assay.targets import _registry

    calls: list[tuple[str, dict[str, object]]] = []

    def factory(rest: str, **load: object) -> FakeTarget:
        calls.append((rest, load))
        return FakeTarget(("ok",), name=f"gguf:{rest}")

    monkeypatch.setitem(_registry._SCHEMES, "gguf", factory)
    target = resolve_target("gguf:/m.gguf?extra_bufts=off&temperature=1")
    target_plain = resolve_target("gguf:/m.gguf")
    assert calls == [("/m.gguf", {"extra_bufts": "off"}), ("/m.gguf", {})]
    assert isinstance(target, OverridingTarget) and isinstance(target._inner, FakeTarget)
    assert target.spec == "gguf:/m.gguf?extra_bufts=off&temperature=1.0"
    assert isinstance(target_plain, FakeTarget)
