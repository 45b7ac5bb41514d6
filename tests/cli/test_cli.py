"""The `assay` console script, run for real in a subprocess.

User errors end in exactly one line on stderr and exit 2; Ctrl-C exits 130 and keeps what
finished; answers files are scored exactly. Targets are stub servers and files on loopback.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest

from assay.tasks._quick import arithmetic_samples
from assay.tasks._task import Dimension, TaskContext, get_task
from assay.testing import StubConfig, StubServer
from helpers import QUESTION, assay_command, free_port, interruptible, subprocess_env


def assay(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*assay_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=subprocess_env(),
        check=False,
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def assert_user_error(result: subprocess.CompletedProcess[str]) -> str:
    """Exit 2 and exactly one line on stderr, no traceback; returns that line."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assay: error: ")
    return lines[0]


# -- listings -----------------------------------------------------------------------------


def test_list_tasks_json_names_each_task_with_its_dimension() -> None:
    result = assay("list", "tasks", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["task"]: row for row in json.loads(result.stdout)}
    assert {
        name: rows[name]["dimension"] for name in ("arithmetic", "knowledge_mcq", "instructions")
    } == {
        "arithmetic": "reasoning_math",
        "knowledge_mcq": "knowledge",
        "instructions": "instruction_following",
    }
    assert all(row["metric"] and row["description"] for row in rows.values())


def test_list_tasks_json_has_every_public_benchmark_and_all_dimensions() -> None:
    result = assay("list", "tasks", "--json")
    assert result.returncode == 0, result.stderr
    dimension = {row["task"]: row["dimension"] for row in json.loads(result.stdout)}
    assert {
        name: dimension[name]
        for name in (
            "gsm8k",
            "mmlu",
            "cmmlu",
            "ceval",
            "humaneval",
            "ifeval",
            "truthfulqa_mc1",
            "truthfulqa_mc2",
        )
    } == {
        "gsm8k": "reasoning_math",
        "mmlu": "knowledge",
        "cmmlu": "multilingual",
        "ceval": "multilingual",
        "humaneval": "code",
        "ifeval": "instruction_following",
        "truthfulqa_mc1": "truthfulness",
        "truthfulqa_mc2": "truthfulness",
    }
    assert set(dimension.values()) == set(get_args(Dimension))


def test_list_suites_shows_quick_and_standard_covering_every_dimension() -> None:
    table = assay("list", "suites")
    assert table.returncode == 0, table.stderr
    assert "quick" in table.stdout and "standard" in table.stdout
    listed = assay("list", "suites", "--json")
    assert listed.returncode == 0, listed.stderr
    suites = {row["suite"]: row for row in json.loads(listed.stdout)}
    assert suites["quick"]["tasks"] == "arithmetic, knowledge_mcq, instructions"
    standard = [name.strip() for name in suites["standard"]["tasks"].split(",")]
    covered = {get_task(name).dimension for name in standard}
    assert covered == set(get_args(Dimension))
    # Built from tasks written for assay: runs offline, without --data-dir.
    context = TaskContext(seed=0)
    assert all(len(get_task(name).dataset(context)) > 0 for name in standard)


# -- user errors --------------------------------------------------------------------------


def test_unknown_target_scheme(tmp_path: Path) -> None:
    line = assert_user_error(
        assay("run", "--target", "foo:bar", "--task", "arithmetic", "--out", str(tmp_path))
    )
    assert "'foo'" in line and "openai" in line


def test_unreachable_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = assert_user_error(
        assay("run", "--target", f"openai:{url}", "--task", "arithmetic", "--out", str(tmp_path))
    )
    assert url in line


def test_unknown_task_suggests_the_close_name(tmp_path: Path) -> None:
    line = assert_user_error(
        assay("run", "--target", "fake", "--task", "arithmatic", "--out", str(tmp_path))
    )
    assert "did you mean" in line and "'arithmetic'" in line


def test_malformed_answers_file_names_the_line(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        '{"input": "a", "output": "1"}\n{"input": "b", "output": "2"}\n{not json\n',
        encoding="utf-8",
    )
    line = assert_user_error(
        assay("run", "--target", f"file:{answers}", "--task", "arithmetic", "--out", str(tmp_path))
    )
    assert "answers.jsonl:3" in line


def test_report_of_unknown_run(tmp_path: Path) -> None:
    line = assert_user_error(assay("report", "nope", "--out", str(tmp_path)))
    assert "'nope'" in line


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:secretpw@127.0.0.1:{port}/x",
        "postgresql+psycopg://u:secretpw@127.0.0.1:notaport/x",
        "nonsense",
    ],
)
def test_bad_store_url(url: str, tmp_path: Path) -> None:
    store = url.format(port=free_port())
    result = assay(
        "run", "--target", "fake", "--task", "arithmetic", "--out", str(tmp_path), "--store", store
    )
    line = assert_user_error(result)
    assert "secretpw" not in result.stderr + result.stdout
    assert "store" in line


def test_limit_zero(tmp_path: Path) -> None:
    line = assert_user_error(
        assay(
            "run",
            "--target",
            "fake",
            "--task",
            "arithmetic",
            "--limit",
            "0",
            "--out",
            str(tmp_path),
        )
    )
    assert "limit" in line


# -- scoring saved answers ----------------------------------------------------------------


def test_answers_file_is_scored_exactly(tmp_path: Path) -> None:
    samples = arithmetic_samples(3)[:20]
    right = {sample.id for sample in samples[::5]} | {sample.id for sample in samples[:9]}
    answers = tmp_path / "answers.jsonl"
    with answers.open("w", encoding="utf-8") as out:
        for sample in samples:
            number = int(sample.target) + (0 if sample.id in right else 1)
            out.write(json.dumps({"input": sample.input, "output": f"The answer is {number}."}))
            out.write("\n")

    result = assay(
        "run",
        "--target",
        f"file:{answers}",
        "--task",
        "arithmetic",
        "--seed",
        "3",
        "--limit",
        "20",
        "--run-id",
        "from-file",
        "--out",
        str(tmp_path / "out"),
    )
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "out" / "from-file" / "results.json").read_text("utf-8"))
    (task,) = results["tasks"]
    assert task["n"] == 20
    assert task["errors"] == 0
    assert task["value"] == pytest.approx(len(right) / 20)
    rows = query(tmp_path / "out" / "assay.db", "SELECT sample_id, value FROM scores")
    scored = {str(sample_id): value for sample_id, value in rows}
    assert scored == {sample.id: float(sample.id in right) for sample in samples}

    runs = assay("list", "runs", "--json", "--out", str(tmp_path / "out"))
    assert runs.returncode == 0, runs.stderr
    assert [(r["run_id"], r["status"]) for r in json.loads(runs.stdout)] == [
        ("from-file", "complete")
    ]


# -- Ctrl-C --------------------------------------------------------------------------------


class ArithmeticOracle:
    def __init__(self) -> None:
        self.answers = {s.input: s.target for s in arithmetic_samples(0)}

    def __call__(self, prompt: str) -> str:
        questions = QUESTION.findall(prompt)
        if not questions:  # the capability probe
            return "Hello there."
        return f"Let me work it out step by step here. The answer is {self.answers[questions[-1]]}."


@pytest.fixture
def slow_stub() -> Iterator[StubServer]:
    with StubServer(StubConfig(ttft_s=0.05, itl_s=0.02, answer=ArithmeticOracle())) as server:
        yield server


def test_ctrl_c_exits_130_keeps_finished_samples_and_resumes(
    slow_stub: StubServer, tmp_path: Path
) -> None:
    limit = 60
    out = tmp_path / "out"
    db = out / "assay.db"
    command = [
        *assay_command(),
        "run",
        "--target",
        f"openai:{slow_stub.url}",
        "--task",
        "arithmetic",
        "--limit",
        str(limit),
        "--concurrency",
        "4",
        "--run-id",
        "C",
        "--out",
        str(out),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        preexec_fn=interruptible,
    )
    try:
        deadline = time.monotonic() + 60
        scored_before = 0
        while scored_before < 10:
            assert time.monotonic() < deadline, "no scores stored within 60 s"
            assert process.poll() is None, "the run ended before it could be interrupted"
            if db.exists():
                with contextlib.suppress(sqlite3.Error):
                    (count,) = query(db, "SELECT count(*) FROM scores WHERE run_id = 'C'")[0]
                    scored_before = int(str(count))
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr

    assert query(db, "SELECT status FROM runs WHERE run_id = 'C'") == [("interrupted",)]
    scored = {str(sid) for (sid,) in query(db, "SELECT sample_id FROM scores WHERE run_id = 'C'")}
    answered = {
        str(sid)
        for (sid,) in query(
            db, "SELECT sample_id FROM requests WHERE run_id = 'C' AND error_class IS NULL"
        )
    }
    assert scored_before <= len(scored) < limit
    assert scored == answered  # every kept score has the response it came from
    (invocations,) = query(db, "SELECT invocations FROM runs WHERE run_id = 'C'")[0]
    (invocation,) = json.loads(str(invocations))
    assert invocation["status"] == "interrupted"

    sent_before = slow_stub.log.requests
    resumed = subprocess.run(
        command, capture_output=True, text=True, timeout=180, env=subprocess_env(), check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert query(db, "SELECT status FROM runs WHERE run_id = 'C'") == [("complete",)]
    assert query(db, "SELECT count(*) FROM scores WHERE run_id = 'C' AND value = 1.0") == [(limit,)]
    assert slow_stub.log.requests - sent_before == limit - len(answered)
    results = json.loads((out / "C" / "results.json").read_text("utf-8"))
    assert results["requests"]["cached"] == len(answered)
    assert results["requests"]["sent"] == limit - len(answered)
