"""Code scorer: run the generated function against the sample's hidden tests in the sandbox.

The program is the prompt, then the completion (or the function extracted from a chat reply),
then the sample's `check(candidate)` test and a call of it; it passes when it runs to the end.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import textwrap
import weakref
from collections.abc import Sequence

from assay._errors import ScorerError
from assay.core import Score, Scorer, State, error_score, scorer
from assay.sandbox import SandboxError, SandboxLimits, SandboxResult, run_python

# Stop sequences of the Codex paper (Chen et al. 2021): the function body ends at the next
# top-level statement. Cut here too, since not every target honours `stop`.
CODEX_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")

METHOD = "execution"
DEFAULT_TIMEOUT_S = 10.0  # per program, sandbox start included; HumanEval's own harness uses 3
_ANSWER_CHARS = 4000
_REASON_CHARS = 240

_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^(?:def |async def |class |import |from \S+ import |@)", re.MULTILINE)
_PYTHON_TAGS = frozenset({"python", "python3", "py", ""})
_SIGNALS = {9: "killed (SIGKILL)", 24: "CPU time limit exceeded", 25: "file size limit exceeded"}


def truncate_at_stops(text: str, stops: Sequence[str] = CODEX_STOPS) -> str:
    """`text` up to the first stop sequence, as the target would have returned it."""
    cut = min((i for stop in stops if (i := text.find(stop)) >= 0), default=len(text))
    return text[:cut]


def extract_code(text: str, entry_point: str = "") -> str:
    """The code of a chat reply: the fenced block that defines `entry_point`, else the first
    Python block, else (no fence at all) the reply from its first line of code on."""
    blocks = [(match[1].lower(), match[2]) for match in _FENCE.finditer(text)]
    if blocks:
        defining = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", re.M)
        if entry_point:
            for _, body in blocks:
                if defining.search(body):
                    return body
        python = [body for tag, body in blocks if tag in _PYTHON_TAGS]
        return (python or [blocks[0][1]])[0]
    start = _CODE_START.search(text)
    return text[start.start() :] if start else text


def defines(code: str, entry_point: str) -> bool:
    pattern = rf"^(?:async\s+)?def\s+{re.escape(entry_point)}\s*\("
    return re.search(pattern, code, re.MULTILINE) is not None


def build_program(prompt: str, code: str, test: str, entry_point: str, *, sentinel: str) -> str:
    """Prompt + code + test + check call, then a line that only a program run to the end prints
    (a completion that calls exit(0) must not pass)."""
    # A full function still follows the prompt: the prompt supplies imports and helper
    # functions, and its docstring-only stub is redefined by the code.
    body = f"{prompt}\n{code}" if defines(code, entry_point) else prompt + code
    return f"{body}\n\n{test}\n\ncheck({entry_point})\nprint({sentinel!r})\n"


# Bounds per event loop, shared by every code scorer with the same bound running in it: each
# sandbox is a process tree that wants a core of its own.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _slots(limit: int | None) -> asyncio.Semaphore:
    size = limit or max(1, os.cpu_count() or 1)
    by_size = _SLOTS.setdefault(asyncio.get_running_loop(), {})
    return by_size.setdefault(size, asyncio.Semaphore(size))


@scorer(metrics=("mean", "pass_at_k"), runs_code=True)
def code_execution(
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    limits: SandboxLimits | None = None,
    max_sandboxes: int | None = None,
) -> Scorer:
    """1.0 when the sample's tests pass on the generated code, else 0.0 with the reason.

    Samples carry the prompt as `input` and `entry_point` and `test` (a `check(candidate)`
    function) in their metadata. A failed request stays an error outcome, never a failure.
    `max_sandboxes` bounds the sandboxes running at once (default: one per CPU).
    """

    async def score(state: State) -> Score:
        failed = error_score(state, METHOD)
        if failed is not None:
            return failed
        assert state.output is not None
        sample = state.sample
        try:
            entry_point = str(sample.metadata["entry_point"])
            test = str(sample.metadata["test"])
        except KeyError as exc:
            raise ScorerError(
                f"code scorer: sample {sample.id} has no {exc.args[0]!r} in its metadata; "
                "code tasks give each sample 'entry_point' and 'test'"
            ) from None
        code = generated_code(state.output.text, state.mode, entry_point)
        sentinel = f"assay-tests-completed-{secrets.token_hex(8)}"
        program = build_program(sample.input, code, test, entry_point, sentinel=sentinel)
        async with _slots(max_sandboxes):
            try:
                result = await asyncio.to_thread(
                    run_python,
                    program,
                    timeout_s,
                    limits=limits,
                    allow_weak=state.allow_weak_sandbox,
                )
            except SandboxError as exc:
                raise ScorerError(f"code scorer: {exc}") from None
        passed = result.returncode == 0 and sentinel in result.stdout
        reason = "passed" if passed else failure_reason(result, timeout_s)
        # A failing program cut at max_tokens is a cut answer: wrong, and counted as cut.
        cut = not passed and state.output.finish_reason == "length"
        if cut:
            reason += " (output cut at max_tokens)"
        if result.network_isolation != "netns":
            # Namespaces were refused here: said to the reader; the report reads `detail`.
            reason += f" [weak isolation: {result.network_isolation}]"
        return Score(
            float(passed),
            answer=code[:_ANSWER_CHARS],
            outcome="truncated" if cut else "scored",
            explanation=reason,
            method=METHOD,
            # "netns", or the weaker mode the code ran under where namespaces were refused
            # (e.g. "python-guard"): the report warns from this field.
            detail={"isolation": result.network_isolation},
        )

    return score


def generated_code(text: str, mode: str, entry_point: str) -> str:
    """The code a reply contributes: a completion up to the Codex stops, or the function
    extracted from a chat reply (a bare body written flush left is indented under the stub)."""
    if mode != "chat":
        return truncate_at_stops(text)
    code = extract_code(text, entry_point)
    first = next((line for line in code.splitlines() if line.strip()), "")
    if first and not first[0].isspace() and not defines(code, entry_point):
        code = textwrap.indent(code, "    ")
    return code


def failure_reason(result: SandboxResult, timeout_s: float) -> str:
    """One short line on why a program failed: timeout, limit, or its last exception."""
    if result.timed_out:
        return f"timed out after {timeout_s:g}s"
    if result.killed_by == "output-limit":
        return "killed: output over the sandbox limit"
    if result.returncode < 0:
        return _SIGNALS.get(-result.returncode, f"killed by signal {-result.returncode}")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if not lines:
        return f"exit status {result.returncode} before the tests finished"
    reason = lines[-1].strip()
    if reason.startswith("AssertionError"):
        # A bare assert says nothing by itself: name the check that failed.
        source = _last_frame_source(lines)
        if source:
            reason = f"{reason}: {source}"
    return reason[:_REASON_CHARS]


def _last_frame_source(lines: Sequence[str]) -> str:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].lstrip().startswith('File "') and index + 1 < len(lines):
            return lines[index + 1].strip()
    return ""
