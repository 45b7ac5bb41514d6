"""The `assay` console script, run for real in a subprocess.

User errors end in exactly one line on stderr and exit 2; Ctrl-C exits 130 and keeps what
finished; answers files are scored exactly. Targets are stub servers and files on loopback.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest

from assay import RunSpec, evaluate
from assay._errors import ErrorClass
from assay.cli import _print_summary
from assay.core._task import SAFETY_DIMENSION, Dimension, TaskContext, get_task
from assay.targets import FakeTarget, Request, Response
from assay.tasks._quick import arithmetic_samples
from assay.testing import StubConfig, StubServer
from helpers import (
    QUESTION,
    assay_command,
    free_port,
    interruptible,
    run_assay,
    subprocess_env,
    without_namespaces,
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
    result = run_assay("list", "tasks", "--json")
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
    result = run_assay("list", "tasks", "--json")
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
            "advbench",
            "xstest_safe",
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
        "advbench": "safety",
        "xstest_safe": "safety",
    }
    assert set(dimension.values()) == set(get_args(Dimension))


def test_list_suites_shows_quick_and_standard_covering_every_dimension() -> None:
    table = run_assay("list", "suites")
    assert table.returncode == 0, table.stderr
    assert "quick" in table.stdout and "standard" in table.stdout
    listed = run_assay("list", "suites", "--json")
    assert listed.returncode == 0, listed.stderr
    suites = {row["suite"]: row for row in json.loads(listed.stdout)}
    assert suites["quick"]["tasks"] == "arithmetic, knowledge_mcq, instructions"
    standard = [name.strip() for name in suites["standard"]["tasks"].split(",")]
    covered = {get_task(name).dimension for name in standard}
    # Every capability dimension; safety has suites of its own (safety-quick, safety-standard).
    assert covered == set(get_args(Dimension)) - {SAFETY_DIMENSION}
    # Built from tasks written for assay: runs offline, without --data-dir.
    context = TaskContext(seed=0)
    assert all(len(get_task(name).dataset(context)) > 0 for name in standard)


# -- user errors --------------------------------------------------------------------------


def test_unknown_target_scheme(tmp_path: Path) -> None:
    line = assert_user_error(
        run_assay("run", "--target", "foo:bar", "--task", "arithmetic", "--out", str(tmp_path))
    )
    assert "'foo'" in line and "openai" in line


def test_unreachable_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = assert_user_error(
        run_assay(
            "run", "--target", f"openai:{url}", "--task", "arithmetic", "--out", str(tmp_path)
        )
    )
    assert url in line


def test_unknown_task_suggests_the_close_name(tmp_path: Path) -> None:
    line = assert_user_error(
        run_assay("run", "--target", "fake", "--task", "arithmatic", "--out", str(tmp_path))
    )
    assert "did you mean" in line and "'arithmetic'" in line


def test_malformed_answers_file_names_the_line(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        '{"input": "a", "output": "1"}\n{"input": "b", "output": "2"}\n{not json\n',
        encoding="utf-8",
    )
    line = assert_user_error(
        run_assay(
            "run", "--target", f"file:{answers}", "--task", "arithmetic", "--out", str(tmp_path)
        )
    )
    assert "answers.jsonl:3" in line


def test_answers_file_that_is_not_utf8_names_line_and_byte(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_bytes(b'{"input": "a", "output": "1"}\n{"input": "b", "output": "caf\xe9"}\n')
    line = assert_user_error(
        run_assay(
            "run", "--target", f"file:{answers}", "--task", "arithmetic", "--out", str(tmp_path)
        )
    )
    # Line 2, column 30: the byte 0xe9 that Latin-1 wrote for "é".
    assert f"{answers}:2:30: not UTF-8 (byte 0xe9" in line and "UTF-8" in line


def run_suite(suite: str, out: Path) -> subprocess.CompletedProcess[str]:
    return run_assay("run", "--target", "fake", "--suite", suite, "--out", str(out))


def test_malformed_suite_yaml_is_one_line_with_line_and_column(tmp_path: Path) -> None:
    suite = tmp_path / "my.yaml"
    suite.write_text("name: mine\ntasks:\n  - task: arithmetic\n    limit: [2,\n", "utf-8")
    line = assert_user_error(run_suite(str(suite), tmp_path))
    assert f"{suite}:5:1: not valid YAML (" in line and "fix the file" in line


@pytest.mark.parametrize("name", ["missing.yaml", "suites/mine.yml", "./nope"])
def test_missing_suite_file_is_not_found_not_an_unknown_suite(name: str, tmp_path: Path) -> None:
    line = assert_user_error(run_suite(str(tmp_path / name), tmp_path))
    assert f"{tmp_path / name}: suite file not found" in line
    assert "unknown suite" not in line


def test_unknown_suite_name_still_lists_the_built_in_suites(tmp_path: Path) -> None:
    line = assert_user_error(run_suite("quik", tmp_path))
    assert "did you mean" in line and "'quick'" in line


def test_unreadable_suite_files_end_in_one_line(tmp_path: Path) -> None:
    # Tests run as root, for whom no permission bit makes a file unreadable: a directory and
    # bytes that are not UTF-8 are the unreadable files every user can make.
    directory = tmp_path / "dir.yaml"
    directory.mkdir()
    line = assert_user_error(run_suite(str(directory), tmp_path))
    assert f"{directory}: is a directory, not a suite file" in line
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: mine\ndescription: caf\xe9\ntasks: []\n")
    line = assert_user_error(run_suite(str(latin1), tmp_path))
    assert f"{latin1}:2:17: not UTF-8 (byte 0xe9 at offset 27)" in line


def test_code_tasks_without_namespaces_need_the_explicit_weak_sandbox_option(
    tmp_path: Path,
) -> None:
    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        args = ("run", "--target", f"openai:{stub.url}", "--task", "code_gen", "--limit", "2")
        return subprocess.run(
            [*without_namespaces(), *assay_command(), *args, "--out", str(tmp_path), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env=subprocess_env(),
            check=False,
        )

    with StubServer() as stub:
        refused = run("--run-id", "strict")
        asked_before_allowed = sum(stub.log.authorization.values())
        allowed = run("--run-id", "weak", "--allow-weak-sandbox")
    line = assert_user_error(refused)
    assert "task code_gen runs generated code: Linux namespaces are refused here" in line
    assert "--allow-weak-sandbox" in line
    assert asked_before_allowed == 0  # refused before the target was even probed
    assert not (tmp_path / "strict").exists()

    assert allowed.returncode == 0, allowed.stderr
    assert "WeakSandboxWarning" in allowed.stderr
    ((manifest,),) = query(tmp_path / "assay.db", "SELECT manifest FROM runs WHERE run_id='weak'")
    recorded = json.loads(str(manifest))
    assert recorded["spec"]["allow_weak_sandbox"] is True
    assert recorded["sandbox"]["isolation"] == "python-guard"
    assert recorded["sandbox"]["weak_allowed"] is True
    assert "unshare" in recorded["sandbox"]["namespaces_refused"]
    (task,) = json.loads((tmp_path / "weak" / "results.json").read_text())["tasks"]
    assert task["sandbox_weak_isolation"] == {"python-guard": 2}


def test_code_tasks_record_the_namespace_sandbox_in_the_manifest(tmp_path: Path) -> None:
    from assay.sandbox import namespaces_refused

    if namespaces_refused():
        pytest.skip("this kernel/container refuses namespaces")
    result = run_assay(
        "run", "--target", "fake", "--task", "code_gen", "--limit", "1", "--out", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    rows = query(tmp_path / "assay.db", "SELECT manifest FROM runs")
    sandbox = json.loads(str(rows[0][0]))["sandbox"]
    assert sandbox == {"isolation": "netns", "weak_allowed": False}


def test_report_of_unknown_run(tmp_path: Path) -> None:
    line = assert_user_error(run_assay("report", "nope", "--out", str(tmp_path)))
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
    result = run_assay(
        "run", "--target", "fake", "--task", "arithmetic", "--out", str(tmp_path), "--store", store
    )
    line = assert_user_error(result)
    assert "secretpw" not in result.stderr + result.stdout
    assert "store" in line


def test_limit_zero(tmp_path: Path) -> None:
    line = assert_user_error(
        run_assay(
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


# -- a run spec as a file -----------------------------------------------------------------


def test_spec_file_sets_the_run_and_given_options_override_it(tmp_path: Path) -> None:
    spec = tmp_path / "run.toml"
    spec.write_text(
        'target = "fake"\ntasks = ["arithmetic"]\nlimit = 5\nseed = 3\nepochs = 2\n', "utf-8"
    )
    out = tmp_path / "out"
    args = ["run", "--spec", str(spec), "--limit", "2", "--run-id", "r", "--out", str(out)]
    result = run_assay(*args)
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "r" / "results.json").read_text("utf-8"))
    ran = results["manifest"]["spec"]
    assert (ran["target"], ran["tasks"], ran["seed"], ran["epochs"]) == (
        "fake",
        ["arithmetic"],
        3,
        2,
    )
    assert ran["limit"] == 2  # given on the command line: wins over the file's 5
    (task,) = results["tasks"]
    assert task["n"] == 2 * 2  # two samples, each asked in two epochs


def test_spec_file_with_an_unknown_field_names_file_and_field(tmp_path: Path) -> None:
    spec = tmp_path / "run.yaml"
    spec.write_text("target: fake\ntasks: [arithmetic]\ncolour: blue\n", "utf-8")
    line = assert_user_error(run_assay("run", "--spec", str(spec), "--out", str(tmp_path)))
    assert line.startswith(f"assay: error: {spec}: field 'colour': Extra inputs"), line


@pytest.mark.parametrize(
    ("name", "text", "position"),
    [("run.yaml", "target: [fake\n", ":2:1: not valid YAML"), ("run.toml", "limit = \n", ":1:9")],
)
def test_spec_file_that_does_not_parse_names_line_and_column(
    name: str, text: str, position: str, tmp_path: Path
) -> None:
    spec = tmp_path / name
    spec.write_text(text, "utf-8")
    line = assert_user_error(run_assay("run", "--spec", str(spec), "--out", str(tmp_path)))
    assert line.startswith(f"assay: error: {spec}{position}"), line


def test_missing_spec_file_is_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "absent.yaml"
    line = assert_user_error(run_assay("run", "--spec", str(spec), "--out", str(tmp_path)))
    assert line == f"assay: error: {spec}: run spec not found; check the path"


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

    result = run_assay(
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

    runs = run_assay("list", "runs", "--json", "--out", str(tmp_path / "out"))
    assert runs.returncode == 0, runs.stderr
    assert [(r["run_id"], r["status"]) for r in json.loads(runs.stdout)] == [
        ("from-file", "complete")
    ]


# -- the summary --------------------------------------------------------------------------


def test_summary_table_and_footer_count_cut_answers_and_errors_alike(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`assay run`'s summary, printed in process: a scripted target (a third cut at
    max_tokens, a third refused) cannot be handed to a subprocess."""
    turn = itertools.count()

    def wrong_cut_or_filtered(request: Request) -> str | Response:
        number = next(turn) % 3
        if number == 1:
            return Response(text=" First we add", finish_reason="length")
        if number == 2:
            return Response(error=ErrorClass.CONTENT_FILTER, error_detail="filtered")
        return " The answer is -1."

    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=30)
    target = FakeTarget(wrong_cut_or_filtered)
    result = evaluate(spec, out_dir=tmp_path, target=target, run_id="cut")
    monkeypatch.setenv("COLUMNS", "200")  # no wrapped cells
    _print_summary(result.results_path)
    lines = capsys.readouterr().out.splitlines()

    header = next(line for line in lines if "dimension" in line)
    row = next(line for line in lines if "arithmetic" in line)
    cells = dict(
        zip(
            [cell.strip() for cell in header.split("┃")],
            [cell.strip() for cell in row.split("│")],
            strict=True,
        )
    )
    assert (cells["value"], cells["n"], cells["cut"]) == ("0.000", "20", "10 (50%)")
    assert cells["errors"] == "10 (content_filter 10)"
    assert lines[-1] == (
        "requests: 30 (0 cached, 30 sent); answers: 20, 10 (50%) cut at max_tokens "
        "(counted wrong); errors: 10 (content_filter 10)"
    )


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
