"""Tool-use tasks: the tools, the generated items, the text protocol, the loop and its scorer."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from assay import RunSpec
from assay.core import GenerateConfig, Sample, Score, State, ToolCall
from assay.engine._run import Runner
from assay.scorers._tools import tool_outcome
from assay.solvers._tools import (
    ToolArgumentError,
    check_arguments,
    execute,
    parse_text_protocol,
    tool_loop,
)
from assay.store import Store
from assay.targets import Capabilities, FakeTarget, Request, Response
from assay.tasks import get_task
from assay.tasks._tools import (
    TOOLBOX,
    TOOLS_BY_NAME,
    WEEKDAYS,
    add_days,
    calculator,
    convert_currency,
    convert_units,
    lookup_item,
    order_lookup,
    text_tool,
    tool_call_samples,
    tool_chain_samples,
    weekday,
)

# -- the tools ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("-7 + 2 ** 3", "1"),
        ("10 / 4", "2.5"),
        ("1 / 3", "0.333333"),
        ("17 % 5", "2"),
        ("3 × 4", "12"),
        ("2^10", "1024"),
    ],
)
def test_calculator(expression: str, result: str) -> None:
    assert calculator({"expression": expression}) == result


@pytest.mark.parametrize(
    "expression", ["__import__('os')", "1 / 0", "2 ** 1000", "abc", "1 +", "True + 1"]
)
def test_calculator_refuses_what_is_not_arithmetic(expression: str) -> None:
    with pytest.raises(ToolArgumentError):
        calculator({"expression": expression})


def test_currency_at_fixed_rates() -> None:
    assert (
        convert_currency({"amount": 100, "from_currency": "USD", "to_currency": "EUR"}) == "90.00"
    )
    assert convert_currency({"amount": 90, "from_currency": "eur", "to_currency": "JPY"}) == (
        "15000.00"
    )
    with pytest.raises(ToolArgumentError, match="unknown currency 'XYZ'"):
        convert_currency({"amount": 1, "from_currency": "XYZ", "to_currency": "USD"})


def test_inventory_lookup_ignores_case_and_spacing() -> None:
    record = json.loads(lookup_item({"item": "  Brass   LAMP "}))
    assert record == {
        "item": "brass lamp",
        "price_usd": 42.75,
        "in_stock": 8,
        "unit_weight_kg": 2.4,
    }
    with pytest.raises(ToolArgumentError, match="no item named 'golden toaster'"):
        lookup_item({"item": "golden toaster"})


def test_calendar_tools() -> None:
    assert weekday({"date": "2000-01-01"}) == "Saturday"
    assert add_days({"date": "2024-02-28", "days": 2}) == "2024-03-01"  # leap year
    assert add_days({"date": "2024-03-01", "days": -1}) == "2024-02-29"
    with pytest.raises(ToolArgumentError, match="YYYY-MM-DD"):
        weekday({"date": "01/02/2024"})


def test_order_lookup_is_a_fixed_function_of_the_id() -> None:
    first = json.loads(order_lookup({"order_id": "a-4321"}))
    assert first == json.loads(order_lookup({"order_id": "A-4321"}))
    assert first["order_id"] == "A-4321" and first["ship_date"].startswith("2027-")
    assert first != json.loads(order_lookup({"order_id": "A-4322"}))
    for bad in ("A-999", "B-1234", "A-12x4", "A-10000"):
        with pytest.raises(ToolArgumentError, match="order ids look like A-1234"):
            order_lookup({"order_id": bad})


def test_unit_and_text_tools() -> None:
    assert convert_units({"value": 1, "from_unit": "mile", "to_unit": "km"}) == "1.6093"
    assert convert_units({"value": 2, "from_unit": "KG", "to_unit": "g"}) == "2000"
    with pytest.raises(ToolArgumentError, match="cannot convert length to mass"):
        convert_units({"value": 1, "from_unit": "m", "to_unit": "kg"})
    assert text_tool({"operation": "reverse", "text": "harbour"}) == "ruobrah"
    assert text_tool({"operation": "count_vowels", "text": "Orchard"}) == "2"
    assert text_tool({"operation": "length", "text": "meadow"}) == "6"


# -- arguments and execution -------------------------------------------------------------------


SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "number"},
        "days": {"type": "integer"},
        "mode": {"type": "string", "enum": ["a", "b"]},
    },
    "required": ["amount"],
}


def test_check_arguments_accepts_numbers_in_any_form() -> None:
    assert check_arguments(SCHEMA, {"amount": "1,250.5", "days": 3.0}) == {
        "amount": 1250.5,
        "days": 3,
    }


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "missing argument 'amount'"),
        ({"amount": 1, "colour": "red"}, "unknown argument 'colour'"),
        ({"amount": True}, "'amount' must be a number"),
        ({"amount": "twelve"}, "'amount' must be a number"),
        ({"amount": 1, "days": 1.5}, "'days' must be a integer"),
        ({"amount": 1, "mode": "c"}, "'mode' must be one of a, b"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_check_arguments_says_what_is_wrong(arguments: Any, message: str) -> None:
    with pytest.raises(ToolArgumentError, match=re.escape(message)):
        check_arguments(SCHEMA, arguments)


def test_execute_classifies_problems() -> None:
    def run(name: str, arguments: str) -> tuple[str | None, str]:
        outcome = execute(TOOLS_BY_NAME, ToolCall("c1", name, arguments))
        return outcome.problem, outcome.output

    assert run("weekday", '{"date": "2000-01-01"}') == (None, "Saturday")
    problem, output = run("search_web", "{}")
    assert problem == "unknown_tool" and "calculator" in output
    problem, output = run("weekday", '{"date": "2000-01-01"')
    assert problem == "bad_json" and "not valid JSON" in output
    assert run("weekday", "{}") == ("bad_arguments", "error: missing argument 'date'")
    problem, output = run("calculator", '{"expression": "1/0"}')
    assert problem == "bad_arguments" and "division by zero" in output


# -- the text protocol -------------------------------------------------------------------------


def test_text_protocol_reads_calls_in_order() -> None:
    turn = parse_text_protocol(
        'Let me look.\nCALL lookup_item {"item": "oak shelf"}\n'
        '  CALL calculator {"expression": "2*3"}\nRESULT calculator: 6'
    )
    assert [(c.name, c.arguments) for c in turn.calls] == [
        ("lookup_item", '{"item": "oak shelf"}'),
        ("calculator", '{"expression": "2*3"}'),
    ]
    assert turn.answer is None
    assert len({c.id for c in turn.calls}) == 2


def test_text_protocol_answer_only_without_calls() -> None:
    assert parse_text_protocol("Thinking...\nANSWER: Tuesday\nmore").answer == "Tuesday"
    assert parse_text_protocol("answer : 12.5").answer == "12.5"
    guessed = parse_text_protocol('CALL weekday {"date": "2027-01-01"}\nANSWER: Friday')
    assert guessed.answer is None and len(guessed.calls) == 1
    nothing = parse_text_protocol("I think it is Friday.")
    assert nothing.calls == () and nothing.answer is None


def test_text_protocol_keeps_malformed_json_for_the_executor() -> None:
    turn = parse_text_protocol("CALL weekday {date: 2027-01-01}\nCALL weekday")
    assert [c.arguments for c in turn.calls] == ["{date: 2027-01-01}", ""]
    first, second = (execute(TOOLS_BY_NAME, call) for call in turn.calls)
    assert first.problem == "bad_json"
    assert second.problem == "bad_arguments"  # no arguments at all: "{}" is missing `date`


# -- generated items ---------------------------------------------------------------------------


def _run_reference(sample: Sample) -> list[str]:
    outputs = []
    for call in sample.metadata["reference"]:
        outcome = execute(TOOLS_BY_NAME, ToolCall("r", call["name"], json.dumps(call["arguments"])))
        assert outcome.ok, outcome.output
        outputs.append(outcome.output)
    return outputs


def _argument_values(arguments: Mapping[str, Any]) -> list[str]:
    return [str(v) for v in arguments.values()]


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_single_call_items_are_solved_by_their_reference_call(seed: int) -> None:
    samples = tool_call_samples(seed, count=60)
    assert len(samples) == 60
    for sample in samples:
        assert len(sample.metadata["reference"]) == 1
        assert _run_reference(sample) == [sample.target]


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_chain_items_are_dependent_calls_ending_in_the_answer(seed: int) -> None:
    for sample in tool_chain_samples(seed, count=40):
        reference = sample.metadata["reference"]
        assert len(reference) >= 2
        outputs = _run_reference(sample)
        # Each call after the first uses something only the previous result told.
        for previous, call in zip(outputs, reference[1:], strict=False):
            used = _argument_values(call["arguments"])
            assert any(value in previous for value in used) or call["name"] in (
                "calculator",
                "convert_currency",
                "convert_units",
            ), (sample.input, previous, call)
        if sample.metadata["answer_kind"] == "number":
            assert float(outputs[-1]) == pytest.approx(float(sample.target))
        else:
            assert outputs[-1] == sample.target and sample.target in WEEKDAYS
        assert sample.metadata["needs"], sample.input


def test_chain_values_flow_from_the_data_tools() -> None:
    for sample in tool_chain_samples(5, count=40):
        first, second = sample.metadata["reference"][:2]
        record = json.loads(_run_reference(sample)[0])
        if first["name"] == "order_lookup":
            assert second["arguments"]["date"] == record["ship_date"]
        elif second["name"] == "calculator":
            assert str(record["in_stock"]) in second["arguments"]["expression"]
        else:
            price_times_count = second["arguments"]["amount"] / record["price_usd"]
            assert price_times_count == pytest.approx(round(price_times_count))


def test_items_are_fresh_per_seed_and_reproducible() -> None:
    for make in (tool_call_samples, tool_chain_samples):
        first = [s.id for s in make(1, count=30)]
        assert first == [s.id for s in make(1, count=30)]
        assert len(set(first) & {s.id for s in make(2, count=30)}) < 5


# -- the loop and the scorer on scripted models ------------------------------------------------

Script = Callable[[Request], str | Response]


def _solve(
    task_name: str, sample: Sample, script: Script, capabilities: Capabilities
) -> tuple[Score, list[Request]]:
    """The task's solvers and scorer over a fake target, as the engine would run them."""
    task = get_task(task_name)
    target = FakeTarget(script, capabilities=capabilities)
    mode = "completion" if capabilities.completion else "chat"
    state = State(sample=sample, mode=mode, capabilities=capabilities, config=task.config)

    async def generate(current: State) -> State:
        request = Request(
            mode=current.mode, config=current.config, prompt=current.prompt,
            messages=current.messages, sample_input=sample.input,
        )  # fmt: skip
        return current.with_output(await target.send(request))

    async def go() -> Score:
        nonlocal state
        for solver in task.solvers:
            state = await solver(state, generate)
        return await task.scorer(state)

    return asyncio.run(go()), target.requests


TEXT_ONLY = Capabilities(chat=True, completion=True, streaming=True)
TOOLS_API = Capabilities(chat=True, completion=True, streaming=True, tools=True)


def _step(request: Request) -> int:
    """How many results the model has seen so far, in either protocol."""
    if request.tools:
        return sum(m.role == "tool" for m in request.messages)
    question = request.prompt.rsplit("Question:", 1)[-1]
    return question.count("\nRESULT ")


def reference_script(samples: list[Sample], *, api: bool) -> Script:
    """A model that makes each sample's reference calls, then answers right."""
    by_input = {s.input: s for s in samples}

    def reply(request: Request) -> str | Response:
        sample = by_input[request.sample_input]
        reference = sample.metadata["reference"]
        step = _step(request)
        if step >= len(reference):
            return f"ANSWER: {sample.target}"
        call = reference[step]
        arguments = json.dumps(call["arguments"])
        if api:
            assert [t.name for t in request.tools] == [t.name for t in TOOLBOX]
            return Response(
                text="", finish_reason="tool_calls",
                tool_calls=(ToolCall(f"call_{step}", call["name"], arguments),),
            )  # fmt: skip
        return f"I will use a tool.\nCALL {call['name']} {arguments}"

    return reply


@pytest.mark.parametrize("api", [False, True], ids=["text_protocol", "tools_api"])
def test_reference_behaviour_scores_one_in_both_protocols(api: bool) -> None:
    capabilities = TOOLS_API if api else TEXT_ONLY
    for name, make in (("tool_call", tool_call_samples), ("tool_chain", tool_chain_samples)):
        samples = make(3, count=12)
        for sample in samples:
            score, requests = _solve(name, sample, reference_script(samples, api=api), capabilities)
            assert score.value == 1.0, (sample.input, score.explanation)
            assert score.method == ("tools_api" if api else "text_protocol")
            steps = 1 if name == "tool_call" else len(sample.metadata["reference"]) + 1
            assert len(requests) == steps


def test_tools_api_conversation_carries_calls_and_results() -> None:
    sample = next(s for s in tool_chain_samples(0, count=8) if len(s.metadata["reference"]) == 3)
    _, requests = _solve("tool_chain", sample, reference_script([sample], api=True), TOOLS_API)
    last = requests[-1]
    assert last.mode == "chat"
    roles = [m.role for m in last.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool", "assistant", "tool"]
    assistant, result = last.messages[1], last.messages[2]
    assert assistant.tool_calls[0].name == "order_lookup"
    assert result.tool_call_id == assistant.tool_calls[0].id
    assert (
        json.loads(result.content)["order_id"]
        == sample.metadata["reference"][0]["arguments"]["order_id"]
    )
    payload = last.payload()
    assert [t["function"]["name"] for t in payload["tools"]] == [t.name for t in TOOLBOX]
    assert payload["messages"][2] == {
        "role": "tool",
        "content": result.content,
        "tool_call_id": result.tool_call_id,
    }
    # Tools are part of the cache key: the same conversation without them is another request.
    without = Request(mode="chat", config=GenerateConfig(), messages=last.messages[:1])
    assert "tools" not in without.payload()
    assert without.payload()["messages"] == [{"role": "user", "content": last.messages[0].content}]


def test_text_protocol_in_completion_mode_appends_results_to_the_prompt() -> None:
    sample = tool_chain_samples(0, count=2)[1]
    _, requests = _solve("tool_chain", sample, reference_script([sample], api=False), TEXT_ONLY)
    assert all(r.mode == "completion" and not r.tools for r in requests)
    final = requests[-1].prompt.rsplit("Question:", 1)[-1]
    first_output = execute(TOOLS_BY_NAME, ToolCall("r", **_reference_call(sample, 0))).output
    assert f"\nRESULT {sample.metadata['reference'][0]['name']}: {first_output}\n" in final
    assert final.count("\nCALL ") == len(sample.metadata["reference"])


def _reference_call(sample: Sample, index: int) -> dict[str, str]:
    call = sample.metadata["reference"][index]
    return {"name": call["name"], "arguments": json.dumps(call["arguments"])}


def test_text_protocol_in_chat_mode_returns_results_as_user_turns() -> None:
    chat_only = Capabilities(chat=True, completion=False)
    sample = tool_call_samples(0, count=1)[0]
    call = _reference_call(sample, 0)
    script = lambda request: f"CALL {call['name']} {call['arguments']}"  # noqa: E731
    score, requests = _solve("tool_call", sample, script, chat_only)
    assert score.value == 1.0 and score.method == "text_protocol"
    assert requests[0].mode == "chat" and "CALL <tool name>" in requests[0].messages[0].content


def _single(template: str) -> Sample:
    return next(s for s in tool_call_samples(0, count=30) if s.metadata["template"] == template)


@pytest.mark.parametrize(
    ("reply", "explanation"),
    [
        ("The answer is 42.", "no call"),
        ('CALL search_web {"query": "x"}', "unknown tool in search_web"),
        ('CALL weekday {"date": 2027-01-01}', "bad arguments JSON in weekday"),
        ('CALL weekday {"day": "2027-01-01"}', "bad arguments in weekday"),
        ('CALL weekday {"date": "1999-12-31"}', "wrong result from weekday: got Friday"),
    ],
)
def test_wrong_single_calls_score_zero_and_say_why(reply: str, explanation: str) -> None:
    sample = _single("_call_weekday")
    score, _ = _solve("tool_call", sample, lambda request: reply, TEXT_ONLY)
    assert score.value == 0.0 and score.outcome == "scored"
    assert explanation in score.explanation


def test_same_result_with_other_arguments_counts() -> None:
    sample = _single("_call_calculator")
    expression = sample.metadata["reference"][0]["arguments"]["expression"]
    a, b, c = (int(n) for n in re.findall(r"\d+", expression))
    reply = f'CALL calculator {{"expression": "-{c} + {b}*{a}"}}'
    score, _ = _solve("tool_call", sample, lambda request: reply, TEXT_ONLY)
    assert score.value == 1.0, score.explanation


def _chain(answer_kind: str) -> Sample:
    return next(
        s for s in tool_chain_samples(0, count=8) if s.metadata["answer_kind"] == answer_kind
    )


def test_chain_failures_score_zero_and_say_why() -> None:
    sample = _chain("text")
    first = _reference_call(sample, 0)

    def keeps_calling(request: Request) -> str:
        return f"CALL {first['name']} {first['arguments']}"

    score, requests = _solve("tool_chain", sample, keeps_calling, TEXT_ONLY)
    assert score.value == 0.0 and "too many steps" in score.explanation
    assert len(requests) == 5  # the task's step limit

    score, _ = _solve("tool_chain", sample, lambda r: f"ANSWER: {sample.target}", TEXT_ONLY)
    assert score.value == 0.0 and "no call" in score.explanation

    def skips_the_lookup(request: Request) -> str:
        if _step(request) == 0:
            return 'CALL weekday {"date": "2027-01-01"}'
        return f"ANSWER: {sample.target}"

    score, _ = _solve("tool_chain", sample, skips_the_lookup, TEXT_ONLY)
    assert score.value == 0.0 and "no successful call of order_lookup" in score.explanation

    wrong_day = next(day for day in WEEKDAYS if day != sample.target)
    script = reference_script([sample], api=False)
    for answer, right in (
        (wrong_day, False),
        (f"{sample.target} or {wrong_day}", False),
        (f"It ships on a {sample.target.lower()}.", True),
    ):

        def answers(request: Request, answer: str = answer) -> str | Response:
            if _step(request) < len(sample.metadata["reference"]):
                return script(request)
            return f"ANSWER: {answer}"

        score, _ = _solve("tool_chain", sample, answers, TEXT_ONLY)
        assert score.value == float(right), (answer, score.explanation)


def test_numeric_chain_answer_within_tolerance() -> None:
    sample = _chain("number")
    script = reference_script([sample], api=False)
    expected = float(sample.target)
    for answer, right in ((expected * 1.003, True), (expected * 1.02, False)):

        def answers(request: Request, answer: float = answer) -> str | Response:
            if _step(request) < len(sample.metadata["reference"]):
                return script(request)
            return f"ANSWER: {answer:.2f}"

        score, _ = _solve("tool_chain", sample, answers, TEXT_ONLY)
        assert score.value == float(right), (answer, expected, score.explanation)


def test_failed_request_is_an_error_not_a_wrong_call() -> None:
    from assay._errors import ErrorClass

    sample = _single("_call_weekday")
    failed = Response(error=ErrorClass.HTTP_5XX, error_detail="HTTP 500")
    score, _ = _solve("tool_call", sample, lambda request: failed, TEXT_ONLY)
    assert score.outcome == "error" and score.value is None


def test_scorer_without_the_tool_implementations_reports_unknown_tool() -> None:
    sample = _single("_call_weekday")
    call = _reference_call(sample, 0)
    state = State(sample=sample, config=GenerateConfig())
    state = state.with_output(Response(text=f"CALL {call['name']} {call['arguments']}"))
    score = asyncio.run(tool_outcome(())(state))
    assert score.value == 0.0 and "unknown tool" in score.explanation


def test_loop_stops_at_the_step_limit() -> None:
    sample = _single("_call_weekday")
    calls: list[int] = []

    async def generate(state: State) -> State:
        calls.append(1)
        return state.with_output(Response(text='CALL weekday {"date": "2027-01-01"}'))

    state = State(sample=sample, mode="completion", capabilities=TEXT_ONLY)
    asyncio.run(tool_loop(TOOLBOX, max_steps=3)(state, generate))
    assert len(calls) == 3


# -- through the engine ------------------------------------------------------------------------


@pytest.mark.parametrize("api", [False, True], ids=["text_protocol", "tools_api"])
def test_engine_run_on_a_scripted_target(tmp_path: Path, api: bool) -> None:
    samples = tool_call_samples(0, count=6) + tool_chain_samples(0, count=6)
    right = reference_script(samples, api=api)
    wrong_inputs = {samples[0].input, samples[7].input}

    def script(request: Request) -> str | Response:
        if request.sample_input in wrong_inputs:
            return "ANSWER: I do not know."
        return right(request)

    target = FakeTarget(script, capabilities=TOOLS_API if api else TEXT_ONLY)
    spec = RunSpec(target="fake", suite=None, tasks=("tool_call", "tool_chain"), limit=6)
    # The Runner, not `evaluate`: this checks the pipeline and the store, not the report.
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    asyncio.run(Runner(spec, store, "tools-run", target=target, progress=False).run())
    data = store.read_run("tools-run")
    values = {(s["task"], s["sample_id"]): s for s in data.scores}
    assert len(values) == 12
    for sample in samples:
        task = "tool_call" if sample.metadata["kind"] == "call" else "tool_chain"
        score = values[(task, sample.id)]
        assert score["value"] == (0.0 if sample.input in wrong_inputs else 1.0), score
        assert score["method"] == ("tools_api" if api else "text_protocol")
    if api:
        assert any(r["payload"].get("tools") for r in data.requests)
        assert any(
            m.get("tool_call_id") for r in data.requests for m in r["payload"].get("messages", ())
        )
        assert any(r["tool_calls"] for r in data.requests)

    # Resumed: every answer, tool calls included, comes back from the store; none is re-asked.
    sent: list[Request] = []

    def record(request: Request) -> str:
        sent.append(request)
        return "ANSWER: I do not know."

    again = FakeTarget(record, capabilities=TOOLS_API if api else TEXT_ONLY)
    asyncio.run(Runner(spec, store, "tools-run", target=again, progress=False).run())
    resumed = {(s["task"], s["sample_id"]): s["value"] for s in store.read_run("tools-run").scores}
    assert sent == []
    assert resumed == {key: score["value"] for key, score in values.items()}


@pytest.mark.slow
def test_bundled_model_follows_the_text_protocol(tmp_path: Path) -> None:
    """The base model cannot use the tools API: its calls are read from CALL lines and run."""
    spec = RunSpec(target="builtin", suite=None, tasks=("tool_call",), limit=2)
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    asyncio.run(Runner(spec, store, "builtin-tools", progress=False).run())
    data = store.read_run("builtin-tools")
    assert data.run["capabilities"]["tools"] is False
    assert [s["method"] for s in data.scores] == ["text_protocol"] * 2
    assert all(s["outcome"] == "scored" for s in data.scores)
    # Every prompt offers all tools and asks for CALL lines; the model writes at least one.
    assert all("CALL <tool name>" in r["payload"]["prompt"] for r in data.requests)
    assert any("no call" not in s["explanation"] for s in data.scores), data.scores
