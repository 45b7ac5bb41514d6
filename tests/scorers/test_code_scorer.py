"""The code scorer through the real sandbox: HumanEval's canonical solutions pass, wrong,
looping and exit(0) completions fail, chat replies are read out of their fences."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest

from assay._errors import ErrorClass, ScorerError
from assay.core import Mode, Sample, Score, State
from assay.sandbox import SandboxResult
from assay.scorers import code_execution, extract_code
from assay.scorers._code import CODEX_STOPS, failure_reason, truncate_at_stops
from assay.targets import Response
from helpers import SHARED_DATA, needs_data

HUMANEVAL = SHARED_DATA / "humaneval"


def humaneval_rows(count: int) -> list[dict[str, Any]]:
    with gzip.open(HUMANEVAL / "HumanEval.jsonl.gz", "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line, _ in zip(lines, range(count), strict=False)]


def as_sample(row: dict[str, Any]) -> Sample:
    return Sample(
        input=row["prompt"],
        target=row["canonical_solution"],
        metadata={"entry_point": row["entry_point"], "test": row["test"]},
    )


ADD = Sample(
    input='def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
    target="    return a + b\n",
    metadata={
        "entry_point": "add",
        "test": (
            "def check(candidate):\n"
            "    assert candidate(2, 3) == 5\n"
            "    assert candidate(-1, 1) == 0\n"
        ),
    },
)


def scored(
    sample: Sample,
    text: str,
    *,
    mode: Mode = "completion",
    timeout_s: float = 10.0,
    response: Response | None = None,
) -> Score:
    state = State(sample=sample, mode=mode).with_output(
        response or Response(text=text, finish_reason="stop")
    )
    return asyncio.run(code_execution(timeout_s=timeout_s)(state))


@needs_data
def test_canonical_humaneval_solutions_pass_and_a_wrong_one_fails() -> None:
    samples = [as_sample(row) for row in humaneval_rows(10)]
    scorer = code_execution()

    async def score_all() -> list[Score]:
        states = [State(sample=s).with_output(Response(text=s.target)) for s in samples]
        return await asyncio.gather(*(scorer(state) for state in states))

    scores = asyncio.run(score_all())
    assert [s.value for s in scores] == [1.0] * 10, [s.explanation for s in scores]
    assert {s.method for s in scores} == {"execution"}
    assert {s.explanation for s in scores} == {"passed"}

    wrong = scored(samples[0], "    return False\n")
    assert wrong.value == 0.0 and wrong.outcome == "scored"
    assert wrong.explanation.startswith("AssertionError: assert candidate(")


def test_an_infinite_loop_times_out_as_a_failure() -> None:
    result = scored(ADD, "    while True:\n        pass\n", timeout_s=1.5)
    assert (result.value, result.outcome) == (0.0, "scored")
    assert result.explanation == "timed out after 1.5s"


def test_exiting_with_status_zero_before_the_tests_finish_does_not_pass() -> None:
    in_body = scored(ADD, "    import sys\n    sys.exit(0)\n")
    at_top = scored(ADD, "    return a + b\nimport os\nos._exit(0)\n")
    assert (in_body.value, at_top.value) == (0.0, 0.0)
    assert at_top.explanation == "exit status 0 before the tests finished"


def test_exceptions_and_syntax_errors_are_named() -> None:
    assert scored(ADD, "    return a + c\n").explanation == ("NameError: name 'c' is not defined")
    assert scored(ADD, "    return a +\n").explanation.startswith("SyntaxError")


def test_completion_is_cut_at_the_codex_stops() -> None:
    # Targets that ignore `stop` still get the body only: the trailing code never runs.
    tails = ("\ndef other():\n    pass\n", "\nprint(1 / 0)\n", "\n# done\nraise SystemExit(3)\n")
    for tail in tails:
        assert scored(ADD, "    return a + b" + tail).value == 1.0
    assert truncate_at_stops("    x = 1\n    # fine\n#cut", CODEX_STOPS) == "    x = 1\n    # fine"


def test_a_failed_request_stays_an_error_not_a_failure() -> None:
    failed = Response(error=ErrorClass.TIMEOUT, error_detail="read timed out")
    result = scored(ADD, "", response=failed)
    assert (result.value, result.outcome, result.error_class) == (None, "error", "timeout")
    assert result.method == "execution"


def test_a_cut_output_that_fails_says_so() -> None:
    cut = Response(text="    return (a +", finish_reason="length")
    result = scored(ADD, "", response=cut)
    assert result.value == 0.0 and result.explanation.endswith("(output cut at max_tokens)")
    assert result.outcome == "truncated"


def test_samples_without_tests_are_a_scorer_error() -> None:
    bare = Sample(input="def f():\n", target="", metadata={"entry_point": "f"})
    with pytest.raises(ScorerError, match=r"no 'test' in its metadata; code tasks give"):
        scored(bare, "    pass\n")


# -- chat replies ---------------------------------------------------------------------------


def test_extract_code_takes_the_block_that_defines_the_function() -> None:
    reply = (
        "Here is a helper:\n```python\ndef helper():\n    return 1\n```\n"
        "And the answer:\n```python\ndef add(a, b):\n    return a + b\n```\nDone."
    )
    assert extract_code(reply, "add") == "def add(a, b):\n    return a + b\n"
    assert extract_code(reply) == "def helper():\n    return 1\n"


def test_extract_code_without_a_fence_or_with_an_unclosed_one() -> None:
    prose = "Sure! The function is below.\n\ndef add(a, b):\n    return a + b\n"
    assert extract_code(prose, "add") == "def add(a, b):\n    return a + b\n"
    unclosed = "```py\ndef add(a, b):\n    return a + b\n"  # cut before the closing fence
    assert extract_code(unclosed, "add") == "def add(a, b):\n    return a + b\n"
    assert extract_code("```\nx = 1\n```", "add") == "x = 1\n"


def test_chat_replies_are_graded_on_the_extracted_function() -> None:
    good = "Here you go:\n\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```"
    assert scored(ADD, good, mode="chat").value == 1.0
    body_only = "```python\nreturn a + b\n```"  # a bare body, flush left
    assert scored(ADD, body_only, mode="chat").value == 1.0
    wrong = "```python\ndef add(a, b):\n    return a - b\n```\n\nprint(add(1, 2))"
    assert scored(ADD, wrong, mode="chat").value == 0.0
    # Chat mode does not cut at the Codex stops: "\ndef " is the reply's own function.
    assert scored(ADD, "def add(a, b):\n    return a + b\n", mode="chat").value == 1.0


@needs_data
def test_chat_function_uses_the_prompt_imports_and_helpers() -> None:
    # HumanEval/38 (decode_cyclic) calls encode_cyclic, defined only in the prompt.
    rows = {row["task_id"]: row for row in humaneval_rows(39)}
    row = rows["HumanEval/38"]
    reply = "```python\ndef decode_cyclic(s: str):\n    return encode_cyclic(encode_cyclic(s))\n```"
    assert scored(as_sample(row), reply, mode="chat").value == 1.0


def test_failure_reasons_for_limits_and_signals() -> None:
    def result(**changes: Any) -> SandboxResult:
        fields: dict[str, Any] = {
            "returncode": 1,
            "stdout": "",
            "stderr": "",
            "timed_out": False,
            "duration_s": 0.1,
            "killed_by": None,
            "network_isolation": "netns",
        }
        return SandboxResult(**{**fields, **changes})

    assert failure_reason(result(returncode=-24, killed_by="signal:24"), 3) == (
        "CPU time limit exceeded"
    )
    assert failure_reason(result(killed_by="output-limit", returncode=-9), 3) == (
        "killed: output over the sandbox limit"
    )
    assert failure_reason(result(stderr="MemoryError\n"), 3) == "MemoryError"


def test_weak_isolation_is_named_in_the_explanation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where namespaces are refused the code still runs, but the score says how it was run."""
    import re

    from assay.scorers import _code

    def guarded(program: str, timeout_s: float, **_: Any) -> SandboxResult:
        sentinel = re.search(r"assay-tests-completed-[0-9a-f]+", program)
        assert sentinel is not None
        return SandboxResult(0, sentinel.group(0) + "\n", "", False, 0.1, None, "python-guard")

    monkeypatch.setattr(_code, "run_python", guarded)
    score = scored(ADD, ADD.target)
    assert score.value == 1.0
    assert score.explanation == "passed [weak isolation: python-guard]"
    assert score.detail == {"isolation": "python-guard"}  # the fact the report reads
    monkeypatch.undo()
    again = scored(ADD, ADD.target)
    assert again.explanation == "passed"  # namespaces work on this machine
    assert again.detail == {"isolation": "netns"}
