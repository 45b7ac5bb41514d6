"""Resume is the response cache: a run id re-run sends only what its store does not hold.

Against the stub OpenAI-compatible server on loopback, whose log counts what really arrived;
the kill-and-resume test runs the real `assay` console script in a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay import RunSpec, TargetUnavailable, evaluate
from assay.store import Store
from assay.targets import Capabilities, Request, Response
from assay.tasks._quick import arithmetic_samples
from assay.testing import StubConfig, StubServer
from helpers import QUESTION, assay_command, query, subprocess_env, wait_for_scores

LIMIT = 60


class ArithmeticOracle:
    """Answers each arithmetic prompt correctly, in enough tokens that a stream takes a while."""

    def __init__(self, seed: int = 0) -> None:
        self.answers = {s.input: s.target for s in arithmetic_samples(seed)}

    def __call__(self, prompt: str) -> str:
        questions = QUESTION.findall(prompt)
        if not questions:  # the capability probe
            return "Hello there."
        return f"Let me work it out step by step here. The answer is {self.answers[questions[-1]]}."


def by_question(by_prompt: Counter[str]) -> Counter[str]:
    """The stub's per-prompt request counts keyed by the sample's question."""
    counts: Counter[str] = Counter()
    for prompt, count in by_prompt.items():
        questions = QUESTION.findall(prompt)
        if questions:
            counts[questions[-1]] += count
    return counts


@pytest.fixture
def slow_stub() -> Iterator[StubServer]:
    # ~10 tokens at 20 ms apart after 50 ms: a 60-sample run at concurrency 4 takes seconds.
    with StubServer(StubConfig(ttft_s=0.05, itl_s=0.02, answer=ArithmeticOracle())) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assay.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_rerun_of_a_finished_run_sends_nothing(store_url: str, tmp_path: Path) -> None:
    run_id = "again-" + uuid.uuid4().hex[:8]  # the PostgreSQL server is shared by the session
    with StubServer(StubConfig(answer=ArithmeticOracle())) as server:
        spec = RunSpec(
            target=f"openai:{server.url}",
            suite=None,
            tasks=("arithmetic", "knowledge_mcq"),
            limit=12,
            concurrency=4,
        )
        first = evaluate(spec, out_dir=tmp_path, store_url=store_url, run_id=run_id)
        sent_first = server.log.requests
        first_results = json.loads(first.results_path.read_text("utf-8"))

        second = evaluate(spec, out_dir=tmp_path, store_url=store_url, run_id=run_id)
        assert server.log.requests == sent_first == 24

    assert first.outcome.requests_sent == 24
    assert second.outcome.requests_sent == 0
    assert second.outcome.requests_cached == second.outcome.requests_total == 24
    results = json.loads(second.results_path.read_text("utf-8"))
    assert results["requests"]["sent"] == 0
    assert results["requests"]["cached"] == results["requests"]["total"] == 24
    assert results["requests"]["invocations"] == 2
    assert results["status"] == "complete"
    # Cached answers (logprobs included, for the multiple-choice task) score as the fresh ones.
    assert results["tasks"] == first_results["tasks"]
    by_task = {row["task"]: row for row in results["tasks"]}
    assert by_task["arithmetic"]["value"] == 1.0
    assert by_task["knowledge_mcq"]["method"] == "logprob"


def _run_command(server: StubServer, out: Path) -> list[str]:
    return [
        *assay_command(),
        "run",
        "--target",
        f"openai:{server.url}",
        "--task",
        "arithmetic",
        "--limit",
        str(LIMIT),
        "--concurrency",
        "4",
        "--run-id",
        "R",
        "--out",
        str(out),
    ]


def test_sigkill_then_resume_requests_only_what_was_not_stored(
    slow_stub: StubServer, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    db = out / "assay.db"
    command = _run_command(slow_stub, out)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env()
    )
    try:
        scored_before_kill = wait_for_scores(db, process, at_least=15)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    time.sleep(0.3)  # let the stub finish handling what was already on the wire

    assert query(db, "SELECT status FROM runs WHERE run_id = 'R'") == [("running",)]
    rows = query(db, "SELECT sample_id, input FROM samples WHERE run_id = 'R'")
    inputs = {str(sample_id): str(text) for sample_id, text in rows}
    assert len(inputs) == LIMIT
    stored = {
        str(sample_id)
        for (sample_id,) in query(
            db, "SELECT DISTINCT sample_id FROM requests WHERE run_id = 'R' AND error_class IS NULL"
        )
    }
    assert len(stored) >= scored_before_kill >= 15
    assert len(stored) < LIMIT, "the run finished before the kill; slow the stub down"
    requests_before = slow_stub.log.requests
    counts_before = by_question(slow_stub.log.by_prompt)
    assert requests_before >= len(stored)

    resumed = subprocess.run(
        command, capture_output=True, timeout=180, env=subprocess_env(), check=False
    )
    assert resumed.returncode == 0, resumed.stderr.decode(errors="replace")

    counts_after = by_question(slow_stub.log.by_prompt)
    for sample_id in stored:
        question = inputs[sample_id]
        assert counts_after[question] == counts_before[question] == 1, question
    assert all(counts_after[question] >= 1 for question in inputs.values())
    assert slow_stub.log.requests - requests_before == LIMIT - len(stored)

    assert query(db, "SELECT status FROM runs WHERE run_id = 'R'") == [("complete",)]
    scores = query(db, "SELECT outcome, value FROM scores WHERE run_id = 'R'")
    assert len(scores) == LIMIT
    assert set(scores) == {("scored", 1.0)}
    results = json.loads((out / "R" / "results.json").read_text("utf-8"))
    assert results["requests"]["sent"] == LIMIT - len(stored)
    assert results["requests"]["cached"] == len(stored)
    assert results["requests"]["total"] == LIMIT
    assert results["tasks"][0]["n"] == LIMIT
    assert results["tasks"][0]["value"] == 1.0

    # The report rendered from the store alone, elsewhere, is byte for byte the same.
    rendered = tmp_path / "rendered"
    report = subprocess.run(
        [*assay_command(), "report", "R", "--out", str(rendered), "--store", f"sqlite:///{db}"],
        capture_output=True,
        timeout=120,
        env=subprocess_env(),
        check=False,
    )
    assert report.returncode == 0, report.stderr.decode(errors="replace")
    for name in ("results.json", "report.html"):
        original = (out / "R" / name).read_bytes()
        assert (rendered / "R" / name).read_bytes() == original, name


class UnreachableTarget:
    """A target whose start fails after it opened something (as a real client session does)."""

    def __init__(self) -> None:
        self.opened = False
        self.closed = False

    @property
    def spec(self) -> str:
        return "unreachable"

    @property
    def model(self) -> str:
        return "none"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities()

    @property
    def max_concurrency(self) -> int:
        return 1

    async def start(self) -> None:
        self.opened = True
        raise TargetUnavailable("http://127.0.0.1:1/v1: cannot reach the server")

    async def send(self, request: Request) -> Response:
        raise AssertionError("never started, never asked")

    async def close(self) -> None:
        self.closed = True


def test_a_target_that_fails_to_start_is_closed_and_nothing_is_stored(tmp_path: Path) -> None:
    target = UnreachableTarget()
    spec = RunSpec(target="fake", suite=None, tasks=("arithmetic",), limit=3)
    with pytest.raises(TargetUnavailable):
        evaluate(spec, out_dir=tmp_path, run_id="never", target=target)
    assert target.opened and target.closed
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        assert store.get_run("never") is None  # a later run with this id starts afresh
    finally:
        store.close()
