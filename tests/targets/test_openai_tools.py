"""OpenAITarget and the tools API over real HTTP, against the scriptable stub server.

Tool calls come back streamed (deltas whose arguments arrive in pieces) or whole; the tool
capability is probed; a whole tool loop runs through the engine to a score.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec
from assay.core import ToolCall, ToolDef
from assay.engine._run import Runner
from assay.store import Store
from assay.targets import GenerateConfig, Message, Request
from assay.targets._openai import OpenAITarget, _StreamState
from assay.tasks._tools import TOOLBOX, tool_chain_samples
from assay.testing import StubConfig, StubServer
from helpers import with_target

WEEKDAY = ToolDef(
    "weekday",
    "Weekday of a date.",
    {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]},
)
CALLS = [("weekday", '{"date": "2027-01-01"}'), ("calculator", '{"expression": "12 * (3 + 4)"}')]


def chat(messages: Sequence[Message], tools: Sequence[ToolDef] = (WEEKDAY,)) -> Request:
    return Request(mode="chat", config=GenerateConfig(tools=tuple(tools)), messages=tuple(messages))


def recording(calls: Sequence[tuple[str, str]]) -> tuple[list[dict[str, Any]], StubConfig]:
    """A stub that answers every chat request with `calls` and keeps the bodies it got."""
    bodies: list[dict[str, Any]] = []

    def script(body: dict[str, Any]) -> Sequence[tuple[str, str]]:
        bodies.append(body)
        return calls

    return bodies, StubConfig(tool_calls=script)


@pytest.mark.parametrize("whole", [False, True], ids=["streamed", "not_streamed"])
def test_tool_calls_come_back_as_records(whole: bool) -> None:
    bodies, config = recording(CALLS)
    config.ignore_stream = whole
    with StubServer(config) as stub:
        response = with_target(
            OpenAITarget(stub.url),
            lambda target: target.send(chat([Message("user", "What day is 2027-01-01?")])),
        )
    assert response.ok and response.finish_reason == "tool_calls"
    assert response.tool_calls == (
        ToolCall("call_0", "weekday", '{"date": "2027-01-01"}'),
        ToolCall("call_1", "calculator", '{"expression": "12 * (3 + 4)"}'),
    )
    assert response.text == ""
    sent = bodies[-1]
    assert sent["tools"] == [WEEKDAY.as_dict()]
    assert sent["stream"] is True
    if not whole:
        # Every delta is a token: the first tool delta is the time to first token.
        assert response.timings.ttft_s is not None
        assert len(response.timings.token_times_s) > len(CALLS)


def test_plain_answer_when_the_server_ignores_stream() -> None:
    config = StubConfig(ignore_stream=True, answer=lambda prompt: "It is a Friday.")
    with StubServer(config) as stub:
        response = with_target(
            OpenAITarget(stub.url),
            lambda target: target.send(chat([Message("user", "Which day?")], tools=())),
        )
    assert response.text == "It is a Friday." and response.tool_calls == ()
    assert response.usage.source == "server"


def test_conversation_with_calls_and_results_is_sent_in_openai_form() -> None:
    bodies, config = recording([])
    call = ToolCall("call_7", "weekday", '{"date": "2027-01-01"}')
    messages = [
        Message("user", "What day is 2027-01-01?"),
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "Friday", tool_call_id="call_7"),
    ]
    with StubServer(config) as stub:
        response = with_target(OpenAITarget(stub.url), lambda target: target.send(chat(messages)))
    assert response.text == "The answer is 42." and response.tool_calls == ()
    assert bodies[-1]["messages"] == [
        {"role": "user", "content": "What day is 2027-01-01?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call_7",
                    "type": "function",
                    "function": {"name": "weekday", "arguments": '{"date": "2027-01-01"}'},
                }
            ],
        },
        {"role": "tool", "content": "Friday", "tool_call_id": "call_7"},
    ]


def test_no_tools_key_without_tools() -> None:
    bodies, config = recording([])
    with StubServer(config) as stub:
        with_target(
            OpenAITarget(stub.url),
            lambda target: target.send(chat([Message("user", "Hi")], tools=())),
        )
    assert "tools" not in bodies[-1]
    assert bodies[-1]["messages"] == [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("server_has_tools", "option"), [(True, None), (False, None), (True, False)]
)
def test_tools_capability_is_probed_or_given(server_has_tools: bool, option: bool | None) -> None:
    with StubServer(StubConfig(tools=server_has_tools)) as stub:
        target = OpenAITarget(stub.url, tools=option)
        capabilities = with_target(target, lambda target: _capabilities(target))
        assert stub.log.requests == 0  # probes are not counted as work
    expected = server_has_tools if option is None else option
    assert capabilities.tools is expected
    assert capabilities.chat and capabilities.completion


async def _capabilities(target: OpenAITarget) -> Any:
    return target.capabilities


def test_interleaved_deltas_are_joined_by_index() -> None:
    stream = _StreamState(0.0, chat=True)
    events: list[dict[str, Any]] = [
        {"index": 1, "id": "b", "function": {"name": "calculator", "arguments": ""}},
        {"index": 0, "id": "a", "function": {"name": "weekday", "arguments": '{"da'}},
        {"index": 1, "function": {"arguments": '{"expression": '}},
        {"index": 0, "function": {"arguments": 'te": "2027-01-01"}'}},
        {"index": 1, "function": {"arguments": '"1+1"}'}},
    ]
    for delta in events:
        event = {"choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]}
        stream.feed(b"data: " + json.dumps(event).encode())
    stream.feed(b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}')
    stream.feed(b"data: [DONE]")
    response = stream.finish(200)
    assert response.tool_calls == (
        ToolCall("a", "weekday", '{"date": "2027-01-01"}'),
        ToolCall("b", "calculator", '{"expression": "1+1"}'),
    )
    assert all(json.loads(call.arguments) for call in response.tool_calls)


# -- a whole tool loop over HTTP ---------------------------------------------------------------


def test_tool_chain_through_the_engine_over_http(tmp_path: Path) -> None:
    samples = {s.input: s for s in tool_chain_samples(0, count=4)}

    def script(body: dict[str, Any]) -> Sequence[tuple[str, str]]:
        messages = body["messages"]
        assert [t["function"]["name"] for t in body["tools"]] == [t.name for t in TOOLBOX]
        sample = next(s for question, s in samples.items() if question in messages[0]["content"])
        step = sum(m["role"] == "tool" for m in messages)
        reference = sample.metadata["reference"]
        if step >= len(reference):
            return []
        # A result the model saw must be the one the tool computes.
        if step:
            assert messages[-1]["role"] == "tool" and messages[-1]["tool_call_id"]
        call = reference[step]
        return [(call["name"], json.dumps(call["arguments"]))]

    def answer(prompt: str) -> str:
        # The stub's prompt is the last message: the last tool's result, which is the answer.
        return f"ANSWER: {prompt}"

    config = StubConfig(tool_calls=script, answer=answer)
    with StubServer(config) as stub:
        spec = RunSpec(target=f"openai:{stub.url}", suite=None, tasks=("tool_chain",), limit=4)
        store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
        target = OpenAITarget(stub.url)
        asyncio.run(Runner(spec, store, "http-tools", target=target, progress=False).run())
    data = store.read_run("http-tools")
    assert data.run["capabilities"]["tools"] is True
    assert len(data.scores) == 4
    for score in data.scores:
        assert score["method"] == "tools_api"
        assert score["value"] == 1.0, score["explanation"]
    expected_requests = sum(len(s.metadata["reference"]) + 1 for s in samples.values())
    assert len(data.requests) == expected_requests


@pytest.mark.parametrize(
    ("tasks", "expected"), [(("arithmetic",), None), (("arithmetic", "tool_call"), True)]
)
def test_tools_are_probed_only_for_runs_that_plan_a_tool_task(
    tmp_path: Path, tasks: tuple[str, ...], expected: bool | None
) -> None:
    bodies, config = recording([])
    with StubServer(config) as stub:
        spec = RunSpec(target=f"openai:{stub.url}", suite=None, tasks=tasks, limit=1)
        store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
        asyncio.run(Runner(spec, store, "r", target=OpenAITarget(stub.url), progress=False).run())
    # None: not probed, and recorded so; the tool task's requests offer the tools API.
    assert store.read_run("r").run["capabilities"]["tools"] is expected
    assert stub.log.tools_probes == (1 if expected else 0)
    assert any(body.get("tools") for body in bodies) is bool(expected)
