"""The results store on SQLite (WAL) and on a real PostgreSQL server: rows in, rows out.

PostgreSQL is one server for the whole session, so every test here uses its own run ids.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assay import RunSpec, StoreError, evaluate
from assay.store import Store
from assay.store import _schema as schema
from assay.testing import StubConfig, StubServer
from helpers import free_port

Row = dict[str, Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assay.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    try:
        yield opened
    finally:
        opened.close()


def new_id() -> str:
    return "t-" + uuid.uuid4().hex[:12]


def run_row(run_id: str, created: dt.datetime | None = None, **changes: Any) -> Row:
    when = created or dt.datetime.now(dt.UTC)
    return {
        "run_id": run_id,
        "created": when,
        "updated": when,
        "status": "running",
        "assay_version": "0.0.test",
        "target_spec": "openai:http://127.0.0.1:1/v1",
        "model": "stub-model",
        "capabilities": {"chat": True, "completion": False},
        "manifest": {"spec": {"target": "fake"}, "seed": 7, "tasks": {"t": {"n": 2}}},
        "invocations": [],
        **changes,
    }


def task_row(run_id: str, task: str = "t", **changes: Any) -> Row:
    return {
        "run_id": run_id,
        "task": task,
        "dimension": "knowledge",
        "metric": "accuracy",
        "dataset_hash": "abc",
        "n_samples": 2,
        "info": {"weight": 1.0},
        **changes,
    }


def sample_row(run_id: str, sample_id: str, position: int, task: str = "t", **changes: Any) -> Row:
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "position": position,
        "input": f"question {sample_id}",
        "target": "A",
        "choices": ["yes", "no"],
        "metadata": {"source": "test"},
        **changes,
    }


def request_row(
    run_id: str, sample_id: str, key: str, text: str, error_class: str | None = None
) -> Row:
    return {
        "run_id": run_id,
        "task": "t",
        "sample_id": sample_id,
        "epoch": 0,
        "cache_key": key,
        "payload": {"mode": "chat", "messages": [{"role": "user", "content": sample_id}]},
        "text": text,
        "finish_reason": None if error_class else "stop",
        "logprobs": None,
        "error_class": error_class,
        "error_detail": "boom" if error_class else None,
        "http_status": 500 if error_class else 200,
        "attempts": 1,
        "attempt_errors": {},
        "queue_s": 0.0,
        "ttft_s": 0.01,
        "e2e_s": 0.02,
        "token_times_s": [0.01, 0.02],
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "usage_source": "server",
        "created": dt.datetime.now(dt.UTC),
    }


def score_row(run_id: str, sample_id: str, value: float, task: str = "t", epoch: int = 0) -> Row:
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": epoch,
        "value": value,
        "answer": "A",
        "outcome": "scored",
        "error_class": None,
        "explanation": "",
        "method": "generate",
        "output": f"answer {value}",
    }


# -- runs, tasks, samples ---------------------------------------------------------------------


def test_create_get_and_update_run(store: Store) -> None:
    run_id = new_id()
    assert store.get_run(run_id) is None
    store.create_run(run_row(run_id))

    stored = store.get_run(run_id)
    assert stored is not None
    assert stored["status"] == "running"
    assert stored["capabilities"] == {"chat": True, "completion": False}
    assert stored["manifest"]["tasks"] == {"t": {"n": 2}}
    assert stored["invocations"] == []

    store.update_run(run_id, status="complete", invocations=[{"sent": 3}])
    updated = store.get_run(run_id)
    assert updated is not None
    assert updated["status"] == "complete"
    assert updated["invocations"] == [{"sent": 3}]
    assert updated["updated"] >= stored["updated"]


def test_save_task_inserts_samples_once(store: Store) -> None:
    run_id = new_id()
    store.create_run(run_row(run_id))
    samples = [sample_row(run_id, "s1", 0), sample_row(run_id, "s2", 1)]
    store.save_task(task_row(run_id), samples)
    # A resumed run saves its plan again: no duplicates, no error, the first rows stay.
    changed = [sample_row(run_id, "s1", 0, input="edited"), sample_row(run_id, "s2", 1)]
    store.save_task(task_row(run_id, n_samples=5), changed)

    data = store.read_run(run_id)
    assert [s["sample_id"] for s in data.samples] == ["s1", "s2"]
    assert data.samples[0]["input"] == "question s1"
    assert data.samples[0]["choices"] == ["yes", "no"]
    assert len(data.tasks) == 1
    assert data.tasks[0]["n_samples"] == 5  # the task row itself is an upsert


def test_load_cache_newest_ok_row_wins_and_errors_are_excluded(store: Store) -> None:
    run_id, other = new_id(), new_id()
    store.create_run(run_row(run_id))
    store.create_run(run_row(other))
    store.write_batch(
        [
            request_row(run_id, "s1", "k1", "old answer"),
            request_row(run_id, "s2", "k2", "", error_class="http_5xx"),
            request_row(run_id, "s3", "k3", "kept"),
        ],
        [],
    )
    store.write_batch(
        [
            request_row(run_id, "s1", "k1", "new answer"),
            request_row(run_id, "s3", "k3", "", error_class="timeout"),
            request_row(other, "s4", "k4", "another run"),
        ],
        [],
    )

    cache = store.load_cache(run_id)
    assert set(cache) == {"k1", "k3"}
    assert cache["k1"]["text"] == "new answer"
    assert cache["k3"]["text"] == "kept"  # a later failure does not hide an earlier success
    assert cache["k1"]["token_times_s"] == [0.01, 0.02]
    assert set(store.load_cache(other)) == {"k4"}
    assert store.load_cache(new_id()) == {}


def test_score_upsert_replaces(store: Store) -> None:
    run_id = new_id()
    store.create_run(run_row(run_id))
    store.write_batch([], [score_row(run_id, "s1", 0.0), score_row(run_id, "s2", 1.0)])
    store.write_batch([], [score_row(run_id, "s1", 1.0)])

    scores = store.read_run(run_id).scores
    assert [(s["sample_id"], s["value"], s["output"]) for s in scores] == [
        ("s1", 1.0, "answer 1.0"),
        ("s2", 1.0, "answer 1.0"),
    ]


def test_read_run_orders_every_table(store: Store) -> None:
    run_id = new_id()
    store.create_run(run_row(run_id))
    store.save_task(
        task_row(run_id, "zeta"),
        [sample_row(run_id, "a", 1, "zeta"), sample_row(run_id, "b", 0, "zeta")],
    )
    store.save_task(
        task_row(run_id, "alpha"),
        [sample_row(run_id, "y", 1, "alpha"), sample_row(run_id, "x", 0, "alpha")],
    )
    store.write_batch(
        [request_row(run_id, name, f"key-{name}", name) for name in ("c", "a", "b")],
        [
            score_row(run_id, "b", 1.0, "zeta", epoch=1),
            score_row(run_id, "b", 0.0, "zeta", epoch=0),
            score_row(run_id, "a", 1.0, "zeta"),
            score_row(run_id, "x", 1.0, "alpha"),
        ],
    )

    data = store.read_run(run_id)
    assert data.run["run_id"] == run_id
    assert [t["task"] for t in data.tasks] == ["alpha", "zeta"]
    # Samples in task order, then by their position in the dataset (not by id).
    assert [(s["task"], s["sample_id"]) for s in data.samples] == [
        ("alpha", "x"),
        ("alpha", "y"),
        ("zeta", "b"),
        ("zeta", "a"),
    ]
    assert [r["text"] for r in data.requests] == ["c", "a", "b"]  # in insertion order
    assert [(s["task"], s["sample_id"], s["epoch"]) for s in data.scores] == [
        ("alpha", "x", 0),
        ("zeta", "a", 0),
        ("zeta", "b", 0),
        ("zeta", "b", 1),
    ]
    # What the engine computes metrics from: the same run, tasks and scores, without the bulk.
    light = store.read_run(run_id, scores_only=True)
    assert (light.run, light.tasks, light.scores) == (data.run, data.tasks, data.scores)
    assert (light.samples, light.requests, light.perf_samples) == ([], [], [])


def test_list_runs_oldest_first(store: Store) -> None:
    start = dt.datetime.now(dt.UTC)
    ids = [new_id() for _ in range(3)]
    # Created out of order: the listing follows the creation time, not insertion order.
    for offset in (2, 0, 1):
        store.create_run(run_row(ids[offset], created=start + dt.timedelta(seconds=offset)))
    listed = [r["run_id"] for r in store.list_runs() if r["run_id"] in ids]
    assert listed == ids


def test_read_run_of_unknown_run_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match=r"is not in .* recent runs"):
        store.read_run("no-such-run")


# -- opening a store ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://u:secretpw@127.0.0.1:{port}/x",  # nothing listens there
        "postgresql://u:secretpw@127.0.0.1:{port}/x",
        "postgresql+psycopg://u:secretpw@127.0.0.1:notaport/x",  # cannot be parsed
        "postgresql+nodriver://u:secretpw@127.0.0.1:{port}/x",
        "not a url with secretpw",
    ],
)
def test_bad_url_is_one_line_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store(url.format(port=free_port()))
    message = str(caught.value)
    assert "\n" not in message
    assert message
    if "://" in url:
        assert "secretpw" not in message
        assert "***" in message


def test_sqlite_creates_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c" / "assay.db"
    opened = Store(f"sqlite:///{path}")
    try:
        opened.create_run(run_row("r1"))
        assert opened.get_run("r1") is not None
    finally:
        opened.close()
    assert path.is_file()


def test_sqlite_parent_that_cannot_be_created_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Store(f"sqlite:///{blocker / 'sub' / 'assay.db'}")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "assay.db"
    opened = Store(f"sqlite:///{path}")
    try:
        with opened.engine.connect() as conn:
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            timeout_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert mode == "wal"
        assert timeout_ms is not None and int(timeout_ms) > 0
    finally:
        opened.close()
    # WAL is a property of the file, so any other reader sees it too.
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# -- concurrent writers -------------------------------------------------------------------

_WRITER = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path

    go, url, run_id, worker = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    deadline = time.monotonic() + 60
    while not go.exists():  # start together, so the writers really overlap
        if time.monotonic() > deadline:
            sys.exit("no go signal")
        time.sleep(0.005)
    from assay.store import Store

    store = Store(url)  # a fresh store: every process also races to create the schema
    for batch in range(10):
        rows = []
        for index in range(batch * 50, batch * 50 + 50):
            rows.append(dict(
                run_id=run_id, task="t", sample_id=f"w{worker}-{index}", epoch=0,
                cache_key=f"w{worker}-{index}", payload={"n": index}, text=str(index),
                attempts=1, attempt_errors={}, queue_s=0.0, e2e_s=0.0, token_times_s=[],
                usage_source="none", created=dt.datetime.now(dt.UTC),
            ))
        store.write_batch(rows, [])
    store.close()
    """
)


def test_four_processes_write_into_one_store(store_url: str, tmp_path: Path) -> None:
    run_id = new_id()
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(go), store_url, run_id, str(worker)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for worker in range(4)
    ]
    failures = []
    try:
        time.sleep(1.0)  # let every interpreter reach the wait loop
        go.touch()
        for process in processes:
            _, stderr = process.communicate(timeout=120)
            if process.returncode != 0:
                failures.append(stderr.decode(errors="replace")[-2000:])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert failures == []

    opened = Store(store_url)
    try:
        table = schema.requests
        with opened.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(table).where(table.c.run_id == run_id)
            ).scalar()
        keys = set(opened.load_cache(run_id))
    finally:
        opened.close()
    assert count == 2000
    assert keys == {f"w{worker}-{index}" for worker in range(4) for index in range(500)}


def _answer_arithmetic(prompt: str) -> str:
    return "Thinking. The answer is 7."


def test_two_evaluate_runs_at_once_into_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    limit = 30
    outcomes: dict[str, Any] = {}

    with StubServer(StubConfig(ttft_s=0.005, itl_s=0.002, answer=_answer_arithmetic)) as server:
        spec = RunSpec(
            target=f"openai:{server.url}",
            suite=None,
            tasks=("arithmetic",),
            limit=limit,
            concurrency=4,
        )

        def one(run_id: str) -> None:
            try:
                outcomes[run_id] = evaluate(
                    spec, out_dir=tmp_path / "out", store_url=url, run_id=run_id
                )
            except BaseException as exc:  # reported by the main thread
                outcomes[run_id] = exc

        threads = [threading.Thread(target=one, args=(name,)) for name in ("run-a", "run-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        for run_id in ("run-a", "run-b"):
            result = outcomes[run_id]
            assert not isinstance(result, BaseException), result
            assert result.outcome.requests_sent == limit
            assert result.results_path.is_file()
        assert server.log.requests == 2 * limit

    opened = Store(url)
    try:
        for run_id in ("run-a", "run-b"):
            data = opened.read_run(run_id)
            assert data.run["status"] == "complete"
            assert len(data.samples) == limit
            assert len(data.requests) == limit
            assert len(data.scores) == limit
            assert all(s["outcome"] == "scored" for s in data.scores)
            assert {s["sample_id"] for s in data.scores} == {s["sample_id"] for s in data.samples}
    finally:
        opened.close()


def test_store_from_before_a_new_column_gets_it_added(store_url: str) -> None:
    """A store written by an older assay (no requests.tool_calls) opens and takes the column."""
    from sqlalchemy import create_engine, inspect, text

    Store(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE requests DROP COLUMN tool_calls"))
    assert "tool_calls" not in {c["name"] for c in inspect(engine).get_columns("requests")}
    engine.dispose()

    Store(store_url).close()

    engine = create_engine(store_url)
    assert "tool_calls" in {c["name"] for c in inspect(engine).get_columns("requests")}
    engine.dispose()


def test_rows_from_before_roles_read_back_with_their_role(store: Store) -> None:
    """Older stores kept a judge's rows under "<task>:judge" / "<task>:judge-check" with no
    role; read_run gives them the role as a field and the task's own name."""
    run_id = new_id()
    store.create_run(run_row(run_id))
    legacy_request = {**request_row(run_id, "s1", "k-judge", "VERDICT: CORRECT"), "task": "t:judge"}
    legacy_check = {**score_row(run_id, "c1", 1.0), "task": "t:judge-check"}
    new_request = {**request_row(run_id, "s1", "k-target", "A"), "role": "target"}
    # One batch per row shape: an executemany takes its columns from the first row.
    store.write_batch([legacy_request], [legacy_check, score_row(run_id, "s1", 1.0)])
    store.write_batch([new_request], [{**score_row(run_id, "c2", 0.0), "role": "judge"}])

    data = store.read_run(run_id)
    assert [(r["task"], r["role"]) for r in data.requests] == [("t", "judge"), ("t", "target")]
    assert [(s["task"], s["sample_id"], s["role"]) for s in data.scores] == [("t", "s1", "target")]
    assert sorted((s["task"], s["sample_id"], s["role"]) for s in data.role_scores) == [
        ("t", "c1", "judge"),
        ("t", "c2", "judge"),
    ]


def test_load_cache_with_failed_replays_the_newest_answer_of_every_key(store: Store) -> None:
    run_id = new_id()
    store.create_run(run_row(run_id))
    store.write_batch(
        [
            request_row(run_id, "s1", "k1", "", error_class="http_5xx"),
            request_row(run_id, "s2", "k2", "first"),
            request_row(run_id, "s1", "k1", "recovered"),
            request_row(run_id, "s3", "k3", "", error_class="timeout"),
        ],
        [],
    )
    replay = store.load_cache(run_id, failed=True)
    assert {key: (row["text"], row["error_class"]) for key, row in replay.items()} == {
        "k1": ("recovered", None),
        "k2": ("first", None),
        "k3": ("", "timeout"),
    }
