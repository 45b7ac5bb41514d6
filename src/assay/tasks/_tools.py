"""Tool-use tasks: calls via the OpenAI tools API or a text protocol, checked by execution.

The tools and their data (an inventory table, fixed exchange rates, an order book) are written
for this project and deterministic; questions get fresh random parameters per seed, and every
expected value is computed by running the reference calls through the same implementations.
"""

from __future__ import annotations

import ast
import json
import operator
import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from assay.core import GenerateConfig, Sample, ToolCall, ToolDef
from assay.core._task import Task, register_task
from assay.scorers._tools import tool_outcome
from assay.solvers._tools import Tool, ToolArgumentError, execute, tool_loop
from assay.tasks._items import distinct_samples


def format_number(value: float) -> str:
    """One spelling per value, so results compare as text: 12, 12.5, -0.333333."""
    rounded = round(float(value), 6)
    if rounded.is_integer():
        return str(int(rounded))
    return f"{rounded:.6f}".rstrip("0").rstrip(".")


# -- calculator --------------------------------------------------------------------------------

_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ToolArgumentError("only numbers, + - * / % ** and parentheses are allowed")
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > 64:
            raise ToolArgumentError("exponent too large (at most 64)")
        if isinstance(node.op, ast.Div | ast.Mod) and right == 0:
            raise ToolArgumentError("division by zero")
        return float(_OPERATORS[type(node.op)](left, right))
    raise ToolArgumentError("only numbers, + - * / % ** and parentheses are allowed")


def calculator(arguments: Mapping[str, Any]) -> str:
    expression = str(arguments["expression"]).replace("×", "*").replace("^", "**")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise ToolArgumentError(f"cannot parse expression {expression!r}") from None
    return format_number(_evaluate(tree.body))


# -- currency at fixed rates -------------------------------------------------------------------

# Units of each currency per US dollar; fixed for this project, not market data.
RATES_PER_USD = {
    "USD": 1.0,
    "EUR": 0.9,
    "GBP": 0.8,
    "JPY": 150.0,
    "CHF": 0.875,
    "CAD": 1.25,
    "AUD": 1.6,
    "CNY": 7.2,
}


def convert_currency(arguments: Mapping[str, Any]) -> str:
    source, target = (str(arguments[k]).upper().strip() for k in ("from_currency", "to_currency"))
    for code in (source, target):
        if code not in RATES_PER_USD:
            raise ToolArgumentError(f"unknown currency {code!r}; known: {', '.join(RATES_PER_USD)}")
    amount = float(arguments["amount"])
    return f"{amount / RATES_PER_USD[source] * RATES_PER_USD[target]:.2f}"


# -- inventory table ---------------------------------------------------------------------------

# name: (price in USD, units in stock, weight of one unit in kg); invented for this project.
INVENTORY: dict[str, tuple[float, int, float]] = {
    "blue kettle": (24.5, 37, 1.2),
    "oak shelf": (89.0, 12, 14.5),
    "brass lamp": (42.75, 8, 2.4),
    "wool blanket": (35.2, 54, 1.8),
    "steel thermos": (18.4, 120, 0.6),
    "garden hose": (27.9, 23, 3.1),
    "desk clock": (15.6, 64, 0.45),
    "canvas bag": (12.3, 210, 0.35),
    "cast iron pan": (46.0, 19, 2.9),
    "reading glasses": (9.8, 300, 0.05),
    "camping stove": (64.5, 15, 3.6),
    "bamboo cutting board": (21.25, 48, 1.1),
    "ceramic vase": (33.6, 27, 1.7),
    "folding chair": (29.99, 40, 4.2),
    "rain jacket": (58.4, 33, 0.7),
    "paper lantern": (7.5, 95, 0.2),
}


def lookup_item(arguments: Mapping[str, Any]) -> str:
    name = " ".join(str(arguments["item"]).lower().split())
    if name not in INVENTORY:
        raise ToolArgumentError(f"no item named {name!r} in the inventory")
    price, stock, weight = INVENTORY[name]
    return json.dumps(
        {"item": name, "price_usd": price, "in_stock": stock, "unit_weight_kg": weight},
        sort_keys=True,
    )


# -- calendar and orders -----------------------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DESTINATIONS = ("Lisbon", "Oslo", "Nairobi", "Osaka", "Quito", "Perth", "Tallinn", "Accra")


def _parse_date(raw: Any) -> date:
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ToolArgumentError(f"date {raw!r} must be written YYYY-MM-DD") from None


def weekday(arguments: Mapping[str, Any]) -> str:
    return WEEKDAYS[_parse_date(arguments["date"]).weekday()]


def add_days(arguments: Mapping[str, Any]) -> str:
    days = int(arguments["days"])
    if abs(days) > 100_000:
        raise ToolArgumentError("days must be within 100000")
    return (_parse_date(arguments["date"]) + timedelta(days=days)).isoformat()


def order_lookup(arguments: Mapping[str, Any]) -> str:
    """Orders A-1000 to A-9999 exist; their data is a fixed function of the number."""
    order_id = str(arguments["order_id"]).strip().upper()
    number = order_id.removeprefix("A-")
    if not (order_id.startswith("A-") and number.isdigit() and 1000 <= int(number) <= 9999):
        raise ToolArgumentError(f"no order {order_id!r}; order ids look like A-1234")
    value = int(number)
    ship_date = date(2027, 1, 1) + timedelta(days=(value * 37) % 365)
    return json.dumps(
        {
            "order_id": order_id,
            "ship_date": ship_date.isoformat(),
            "destination": _DESTINATIONS[value % len(_DESTINATIONS)],
        },
        sort_keys=True,
    )


# -- units and strings -------------------------------------------------------------------------

_UNITS: dict[str, tuple[str, float]] = {
    "km": ("length", 1000.0),
    "m": ("length", 1.0),
    "cm": ("length", 0.01),
    "mile": ("length", 1609.344),
    "foot": ("length", 0.3048),
    "inch": ("length", 0.0254),
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "lb": ("mass", 0.45359237),
    "ounce": ("mass", 0.028349523125),
}


def convert_units(arguments: Mapping[str, Any]) -> str:
    source, target = (str(arguments[k]).lower().strip() for k in ("from_unit", "to_unit"))
    for unit in (source, target):
        if unit not in _UNITS:
            raise ToolArgumentError(f"unknown unit {unit!r}; known: {', '.join(_UNITS)}")
    if _UNITS[source][0] != _UNITS[target][0]:
        raise ToolArgumentError(f"cannot convert {_UNITS[source][0]} to {_UNITS[target][0]}")
    value = float(arguments["value"]) * _UNITS[source][1] / _UNITS[target][1]
    return format_number(round(value, 4))


_TEXT_OPERATIONS: dict[str, Callable[[str], str]] = {
    "reverse": lambda text: text[::-1],
    "upper": str.upper,
    "lower": str.lower,
    "length": lambda text: str(len(text)),
    "count_vowels": lambda text: str(sum(ch in "aeiouAEIOU" for ch in text)),
}


def text_tool(arguments: Mapping[str, Any]) -> str:
    return _TEXT_OPERATIONS[str(arguments["operation"])](str(arguments["text"]))


# -- the toolbox -------------------------------------------------------------------------------


def _schema(properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(properties)}


_STRING = {"type": "string"}
_NUMBER = {"type": "number"}

TOOLBOX: tuple[Tool, ...] = (
    Tool(
        ToolDef(
            "calculator",
            "Evaluates an arithmetic expression with + - * / % ** and parentheses.",
            _schema({"expression": _STRING}),
        ),
        calculator,
    ),
    Tool(
        ToolDef(
            "convert_currency",
            f"Converts money at the shop's fixed rates; currencies: {', '.join(RATES_PER_USD)}.",
            _schema({"amount": _NUMBER, "from_currency": _STRING, "to_currency": _STRING}),
        ),
        convert_currency,
    ),
    Tool(
        ToolDef(
            "lookup_item",
            "Returns the shop's inventory record of an item: price in USD, units in stock and "
            "the weight of one unit in kg.",
            _schema({"item": _STRING}),
        ),
        lookup_item,
    ),
    Tool(
        ToolDef(
            "order_lookup",
            "Returns an order's ship date (YYYY-MM-DD) and destination by order id (A-1234).",
            _schema({"order_id": _STRING}),
        ),
        order_lookup,
    ),
    Tool(
        ToolDef(
            "weekday", "Returns the weekday of a date (YYYY-MM-DD).", _schema({"date": _STRING})
        ),
        weekday,
    ),
    Tool(
        ToolDef(
            "add_days",
            "Adds a number of days to a date (YYYY-MM-DD) and returns the new date.",
            _schema({"date": _STRING, "days": {"type": "integer"}}),
        ),
        add_days,
    ),
    Tool(
        ToolDef(
            "convert_units",
            f"Converts a length or a mass between units: {', '.join(_UNITS)}.",
            _schema({"value": _NUMBER, "from_unit": _STRING, "to_unit": _STRING}),
        ),
        convert_units,
    ),
    Tool(
        ToolDef(
            "text_tool",
            "Applies an operation to a text: reverse, upper, lower, length or count_vowels.",
            _schema(
                {"operation": {"type": "string", "enum": list(_TEXT_OPERATIONS)}, "text": _STRING}
            ),
        ),
        text_tool,
    ),
)
TOOLS_BY_NAME: dict[str, Tool] = {tool.name: tool for tool in TOOLBOX}


def run_reference(name: str, arguments: Mapping[str, Any]) -> str:
    """Executes a reference call exactly as a model's call is executed."""
    outcome = execute(TOOLS_BY_NAME, ToolCall("reference", name, json.dumps(arguments)))
    if not outcome.ok:
        raise AssertionError(f"reference call {name}({arguments}) failed: {outcome.output}")
    return outcome.output


# -- generated items ---------------------------------------------------------------------------

Reference = tuple[str, dict[str, Any]]
# question, reference calls in order, final answer (chains) or "" (single calls)
Item = tuple[str, list[Reference], str]
ItemMaker = Callable[[random.Random], Item]

_WORDS = ("lantern", "orchard", "harbour", "meadow", "compass", "thimble", "quarry", "saffron")


def _random_date(rng: random.Random) -> str:
    return (date(2024, 1, 1) + timedelta(days=rng.randint(0, 3650))).isoformat()


def _call_calculator(rng: random.Random) -> Item:
    a, b, c = rng.randint(12, 999), rng.randint(3, 99), rng.randint(1, 500)
    expression = f"{a} * {b} - {c}"
    return (
        f"Use the calculator to compute {expression}.",
        [("calculator", {"expression": expression})],
        "",
    )


def _call_currency(rng: random.Random) -> Item:
    source, target = rng.sample(sorted(RATES_PER_USD), 2)
    amount = round(rng.uniform(5, 900), 2)
    arguments = {"amount": amount, "from_currency": source, "to_currency": target}
    return f"How much is {amount:.2f} {source} in {target}?", [("convert_currency", arguments)], ""


def _call_inventory(rng: random.Random) -> Item:
    item = rng.choice(sorted(INVENTORY))
    question = f"Look up the inventory record of the item '{item}'."
    return question, [("lookup_item", {"item": item})], ""


def _call_weekday(rng: random.Random) -> Item:
    day = _random_date(rng)
    return f"On which day of the week is {day}?", [("weekday", {"date": day})], ""


def _call_add_days(rng: random.Random) -> Item:
    day, days = _random_date(rng), rng.randint(10, 400)
    question = f"What date is {days} days after {day}?"
    return question, [("add_days", {"date": day, "days": days})], ""


def _call_units(rng: random.Random) -> Item:
    source, target = rng.choice((("mile", "km"), ("lb", "kg"), ("foot", "m"), ("ounce", "g")))
    value = round(rng.uniform(1, 250), 1)
    arguments = {"value": value, "from_unit": source, "to_unit": target}
    return f"Convert {value} {source} to {target}.", [("convert_units", arguments)], ""


def _call_text(rng: random.Random) -> Item:
    word = "".join(rng.sample(_WORDS, 2))
    operation = rng.choice(("reverse", "count_vowels", "length"))
    question = {
        "reverse": f"Reverse the text '{word}'.",
        "count_vowels": f"How many vowels are in '{word}'?",
        "length": f"How many characters long is '{word}'?",
    }[operation]
    return question, [("text_tool", {"operation": operation, "text": word})], ""


def _chain_price(rng: random.Random) -> Item:
    item = rng.choice(sorted(INVENTORY))
    count = rng.randint(2, 9)
    currency = rng.choice(sorted(set(RATES_PER_USD) - {"USD"}))
    record = json.loads(run_reference("lookup_item", {"item": item}))
    total_usd = round(record["price_usd"] * count, 2)
    convert = {"amount": total_usd, "from_currency": "USD", "to_currency": currency}
    answer = run_reference("convert_currency", convert)
    question = f"What do {count} units of the item '{item}' cost in {currency}?"
    return question, [("lookup_item", {"item": item}), ("convert_currency", convert)], answer


def _chain_ship_weekday(rng: random.Random) -> Item:
    order_id = f"A-{rng.randint(1000, 9999)}"
    ship_date = json.loads(run_reference("order_lookup", {"order_id": order_id}))["ship_date"]
    answer = run_reference("weekday", {"date": ship_date})
    question = f"On which day of the week does order {order_id} ship?"
    return (
        question,
        [("order_lookup", {"order_id": order_id}), ("weekday", {"date": ship_date})],
        answer,
    )


def _chain_arrival(rng: random.Random) -> Item:
    order_id, transit = f"A-{rng.randint(1000, 9999)}", rng.randint(3, 30)
    ship_date = json.loads(run_reference("order_lookup", {"order_id": order_id}))["ship_date"]
    arrival = run_reference("add_days", {"date": ship_date, "days": transit})
    answer = run_reference("weekday", {"date": arrival})
    question = (
        f"Order {order_id} arrives {transit} days after it ships. "
        "On which day of the week does it arrive?"
    )
    calls: list[Reference] = [
        ("order_lookup", {"order_id": order_id}),
        ("add_days", {"date": ship_date, "days": transit}),
        ("weekday", {"date": arrival}),
    ]
    return question, calls, answer


def _chain_stock_weight(rng: random.Random) -> Item:
    item = rng.choice(sorted(INVENTORY))
    record = json.loads(run_reference("lookup_item", {"item": item}))
    kilograms = float(
        run_reference(
            "calculator", {"expression": f"{record['in_stock']} * {record['unit_weight_kg']}"}
        )
    )
    convert = {"value": kilograms, "from_unit": "kg", "to_unit": "lb"}
    answer = run_reference("convert_units", convert)
    question = f"How many pounds do all units in stock of the item '{item}' weigh together?"
    calls: list[Reference] = [
        ("lookup_item", {"item": item}),
        ("calculator", {"expression": f"{record['in_stock']} * {record['unit_weight_kg']}"}),
        ("convert_units", convert),
    ]
    return question, calls, answer


CALL_MAKERS: tuple[ItemMaker, ...] = (
    _call_calculator,
    _call_currency,
    _call_inventory,
    _call_weekday,
    _call_add_days,
    _call_units,
    _call_text,
)
CHAIN_MAKERS: tuple[ItemMaker, ...] = (
    _chain_price,
    _chain_ship_weekday,
    _chain_arrival,
    _chain_stock_weight,
)
# Tools whose output a model cannot know without calling them: a chain must use them.
_DATA_TOOLS = frozenset({"lookup_item", "order_lookup"})


def _samples(kind: str, makers: Sequence[ItemMaker], seed: int, count: int) -> list[Sample]:
    rng = random.Random(f"tools:{kind}:{seed}")

    def make(index: int) -> Sample:
        maker = makers[index % len(makers)]
        question, calls, answer = maker(rng)
        if kind == "call":
            target = run_reference(*calls[0])
            metadata: dict[str, Any] = {"kind": kind, "template": maker.__name__}
        else:
            target = answer
            needs = sorted({name for name, _ in calls} & _DATA_TOOLS)
            answer_kind = "text" if answer in WEEKDAYS else "number"
            metadata = {
                "kind": kind,
                "template": maker.__name__,
                "needs": needs,
                "answer_kind": answer_kind,
            }
        metadata["reference"] = [{"name": name, "arguments": args} for name, args in calls]
        # A weekday answer must name exactly one weekday: the choices say which words count.
        choices = WEEKDAYS if kind == "chain" and answer in WEEKDAYS else ()
        return Sample(input=question, target=target, choices=choices, metadata=metadata)

    return distinct_samples(count, make)


def tool_call_samples(seed: int, count: int = 200) -> list[Sample]:
    return _samples("call", CALL_MAKERS, seed, count)


def tool_chain_samples(seed: int, count: int = 200) -> list[Sample]:
    return _samples("chain", CHAIN_MAKERS, seed, count)


_CONFIG = GenerateConfig(max_tokens=128, stop=("\nRESULT", "\nQuestion:"))


@register_task("tool_call")
def tool_call() -> Task:
    return Task(
        name="tool_call",
        dimension="tool_use",
        description="One tool call needed; the model's call is executed and its result compared.",
        dataset=lambda ctx: tool_call_samples(ctx.seed),
        # One turn: the call is what is checked, so no second request for a final answer.
        solvers=(tool_loop(TOOLBOX, max_steps=1),),
        scorer=tool_outcome(TOOLBOX),
        config=_CONFIG,
        needs_tools=True,
    )


@register_task("tool_chain")
def tool_chain() -> Task:
    return Task(
        name="tool_chain",
        dimension="tool_use",
        description="Two or three dependent tool calls, then a final answer computed by code.",
        dataset=lambda ctx: tool_chain_samples(ctx.seed),
        solvers=(tool_loop(TOOLBOX, max_steps=5),),
        scorer=tool_outcome(TOOLBOX),
        config=_CONFIG,
        needs_tools=True,
    )
