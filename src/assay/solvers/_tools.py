"""The agent tool loop: generate, execute the calls the model made, return results, repeat.

Calls arrive through the OpenAI tools API when the target offers it (`tools_api`), else through
a text protocol any model can follow (`text_protocol`): lines `CALL <name> <json>` and a final
`ANSWER: ...`. Both become the same `ToolCall` records, executed by the same code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from assay.core import Generate, Message, Response, Solver, State, ToolCall, ToolDef, solver

Protocol = Literal["tools_api", "text_protocol"]
Problem = Literal["unknown_tool", "bad_json", "bad_arguments"]


class ToolArgumentError(ValueError):
    """Raised by a tool whose arguments are wrong; the message is shown to the model."""


@dataclass(frozen=True)
class Tool:
    """A tool's definition (what the model sees) and its implementation (what runs)."""

    definition: ToolDef
    run: Callable[[Mapping[str, Any]], str]

    @property
    def name(self) -> str:
        return self.definition.name


@dataclass(frozen=True)
class ToolOutcome:
    call: ToolCall
    output: str  # the result, or the error text the model is shown
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class Turn:
    """One model turn as read by its protocol: the calls it made, or its final answer."""

    calls: tuple[ToolCall, ...]
    answer: str | None


def protocol_for(state: State) -> Protocol:
    return "tools_api" if state.capabilities.tools and state.capabilities.chat else "text_protocol"


def protocol_of(state: State) -> Protocol:
    """The protocol a finished state used: tools are in the config only for the tools API."""
    return "tools_api" if state.config.tools else "text_protocol"


# -- executing calls ---------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def check_arguments(schema: Mapping[str, Any], arguments: Any) -> dict[str, Any]:
    """Arguments checked against a flat JSON schema; numeric strings count as numbers.

    Models often quote numbers; the result, not the form, is what a task checks.
    """
    if not isinstance(arguments, dict):
        raise ToolArgumentError(f"arguments must be a JSON object, got {type(arguments).__name__}")
    properties: Mapping[str, Any] = schema.get("properties") or {}
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        raise ToolArgumentError(
            f"unknown argument {unknown[0]!r}; expected {', '.join(sorted(properties))}"
        )
    missing = [name for name in schema.get("required") or () if name not in arguments]
    if missing:
        raise ToolArgumentError(f"missing argument {missing[0]!r}")
    checked = {}
    for name, value in arguments.items():
        kind = str(properties[name].get("type", "string"))
        checked[name] = _coerce(name, kind, value)
        allowed = properties[name].get("enum")
        if allowed is not None and checked[name] not in allowed:
            raise ToolArgumentError(f"argument {name!r} must be one of {', '.join(allowed)}")
    return checked


def _coerce(name: str, kind: str, value: Any) -> Any:
    if kind in ("number", "integer") and isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            raise ToolArgumentError(f"argument {name!r} must be a {kind}") from None
        value = int(number) if kind == "integer" and number.is_integer() else number
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)
    expected = _JSON_TYPES.get(kind, (object,))
    # bool is an int in Python but not a number in JSON.
    if not isinstance(value, expected) or (isinstance(value, bool) and kind != "boolean"):
        raise ToolArgumentError(f"argument {name!r} must be a {kind}")
    return value


def execute(tools: Mapping[str, Tool], call: ToolCall) -> ToolOutcome:
    tool = tools.get(call.name)
    if tool is None:
        known = ", ".join(sorted(tools))
        return ToolOutcome(
            call, f"error: no tool named {call.name!r}; tools: {known}", "unknown_tool"
        )
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return ToolOutcome(call, f"error: arguments are not valid JSON ({exc.msg})", "bad_json")
    try:
        return ToolOutcome(call, tool.run(check_arguments(tool.definition.parameters, arguments)))
    except ToolArgumentError as exc:
        return ToolOutcome(call, f"error: {exc}", "bad_arguments")


# -- reading turns -----------------------------------------------------------------------------

_CALL_LINE = re.compile(r"^\s*CALL\s+([A-Za-z_][\w.-]*)\s*(.*)$")
_ANSWER_LINE = re.compile(r"^\s*ANSWER\s*:\s*(.*)$", re.IGNORECASE)


def parse_text_protocol(text: str) -> Turn:
    """CALL lines before the first ANSWER line are calls; else the ANSWER text is the answer.

    A turn with calls has no answer: the model has not seen the results yet, so an answer
    written in the same turn is a guess. Malformed arguments are kept as written; executing
    them reports `bad_json`.
    """
    calls: list[ToolCall] = []
    for line in text.splitlines():
        answer = _ANSWER_LINE.match(line)
        if answer is not None:
            return Turn(tuple(calls), None if calls else answer.group(1).strip())
        call = _CALL_LINE.match(line)
        if call is not None:
            calls.append(ToolCall(f"text_{len(calls)}", call.group(1), call.group(2).strip()))
    return Turn(tuple(calls), None)


def read_turn(response: Response, protocol: Protocol) -> Turn:
    if protocol == "text_protocol":
        return parse_text_protocol(response.text)
    if response.tool_calls:
        return Turn(response.tool_calls, None)
    found = [m.group(1).strip() for m in map(_ANSWER_LINE.match, response.text.splitlines()) if m]
    return Turn((), found[-1] if found else response.text.strip() or None)


# -- the loop ----------------------------------------------------------------------------------

# Two worked examples with different tools, so the prompt does not suggest one tool for all.
_EXAMPLE = (
    "Question: What is 15 percent of 240?\n"
    'CALL calculator {"expression": "240 * 15 / 100"}\n'
    "RESULT calculator: 36\n"
    "ANSWER: 36\n\n"
    "Question: How many vowels are in the word banana?\n"
    'CALL text_tool {"operation": "count_vowels", "text": "banana"}\n'
    "RESULT text_tool: 3\n"
    "ANSWER: 3\n\n"
)


def describe_tools(tools: Sequence[Tool]) -> str:
    lines = []
    for tool in tools:
        properties = tool.definition.parameters.get("properties") or {}
        shape = ", ".join(f'"{k}": {v.get("type", "string")}' for k, v in properties.items())
        lines.append(f"- {tool.name} {{{shape}}}: {tool.definition.description}")
    return "\n".join(lines)


def text_protocol_prompt(tools: Sequence[Tool], question: str) -> str:
    return (
        "You can use these tools:\n"
        f"{describe_tools(tools)}\n\n"
        "To use a tool, write one line: CALL <tool name> <arguments as a JSON object>\n"
        "Each result comes back on a line that starts with RESULT. "
        "When you know the answer, write one line: ANSWER: <answer>\n\n"
        f"{_EXAMPLE}Question: {question}\n"
    )


def tools_api_prompt(question: str) -> str:
    return (
        f"{question}\n\nUse the tools you are given to find the answer. "
        "When you know it, reply with one line: ANSWER: <answer>"
    )


@solver()
def tool_loop(tools: Sequence[Tool], *, max_steps: int = 4) -> Solver:
    """Up to `max_steps` generations; every call made is executed and its result returned."""
    by_name = {tool.name: tool for tool in tools}

    async def solve(state: State, generate: Generate) -> State:
        protocol = protocol_for(state)
        state = _render(state, tools, protocol)
        for _ in range(max_steps):
            state = await generate(state)
            output = state.output
            if output is None or output.error is not None:
                return state
            turn = read_turn(output, protocol)
            if not turn.calls:
                return state
            outcomes = [execute(by_name, call) for call in turn.calls]
            state = _with_results(state, protocol, output, outcomes)
        return state

    return solve


def _render(state: State, tools: Sequence[Tool], protocol: Protocol) -> State:
    question = state.sample.input
    if protocol == "tools_api":
        return replace(
            state,
            mode="chat",
            prompt=question,
            messages=(*state.messages, Message("user", tools_api_prompt(question))),
            config=replace(state.config, tools=tuple(tool.definition for tool in tools)),
        )
    text = text_protocol_prompt(tools, question)
    return replace(
        state, prompt=text, messages=(*state.messages, Message("user", text.rstrip("\n")))
    )


def _with_results(
    state: State, protocol: Protocol, output: Response, outcomes: Sequence[ToolOutcome]
) -> State:
    if protocol == "tools_api":
        # The engine appended the assistant turn as text only; the API needs its calls too.
        assistant = Message("assistant", output.text, tool_calls=output.tool_calls)
        results = tuple(Message("tool", o.output, tool_call_id=o.call.id) for o in outcomes)
        return replace(state, messages=(*state.messages[:-1], assistant, *results))
    lines = "".join(f"RESULT {o.call.name}: {o.output}\n" for o in outcomes)
    if state.mode == "chat":
        return replace(state, messages=(*state.messages, Message("user", lines.rstrip("\n"))))
    return replace(state, prompt=f"{state.prompt}{output.text.rstrip()}\n{lines}")
