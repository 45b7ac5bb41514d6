"""Tests for the HTML report in assay.report._html, rendered from a real SQLite store."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly.offline
import pytest

from assay.report._html import render_html, sample_rows, truncate
from assay.report._results import build_results
from assay.store import RunData, Store

CREATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ATTACK = "<script>alert(1)</script>"
# Three dimensions, so the radar chart is drawn too.
TASKS = [("arith", "math"), ("trivia", "knowledge"), ("follow", "instructions")]


def _run_row(run_id: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "max_tokens": 64,
        "temperature": 0.0,
        "top_p": None,
        "stop": [],
        "seed": 7,
    }
    return {
        "run_id": run_id,
        "created": CREATED,
        "updated": CREATED,
        "status": "complete",
        "assay_version": "0.1.0",
        "target_spec": "fake:scripted",
        "model": "fake-model",
        "capabilities": {"chat": True, "completion": False, "logprobs": False, "tools": None},
        "manifest": {
            "spec": {
                "target": "fake:scripted",
                "suite": None,
                "tasks": [t for t, _ in TASKS],
                "limit": None,
                "seed": 7,
                "epochs": 1,
                "concurrency": 4,
            },
            "seed": 7,
            "assay_version": "0.1.0",
            "backends": {"sqlalchemy": "2.0.0"},
            "tasks": {
                task: {"dataset_hash": f"{task}-hash-0123456789abcdef", "n": 4, "config": config}
                for task, _ in TASKS
            },
        },
        "invocations": [{"requests": 12, "cached": 0, "sent": 12}],
    }


def _request_row(
    run_id: str, task: str, sample_id: str, index: int, error: str | None = None
) -> dict[str, Any]:
    first = 0.05 + 0.01 * index
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": 0,
        "cache_key": f"{task}-{sample_id}",
        "payload": {},
        "text": "",
        "finish_reason": "stop",
        "logprobs": None,
        "error_class": error,
        "error_detail": None,
        "http_status": None,
        "attempts": 2 if index == 0 else 1,
        "attempt_errors": {"rate_limited": 1} if index == 0 else {},
        "queue_s": 0.0,
        "ttft_s": None if error else first,
        "e2e_s": first + 0.2,
        "token_times_s": [] if error else [first, first + 0.1, first + 0.2],
        "prompt_tokens": 10,
        "completion_tokens": None if error else 3,
        "usage_source": "server",
        "created": CREATED,
    }


def _score_row(
    run_id: str,
    task: str,
    sample_id: str,
    value: float | None,
    output: str,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "task": task,
        "sample_id": sample_id,
        "epoch": 0,
        "value": None if error else value,
        "answer": None if error else output[:10],
        "outcome": "error" if error else "scored",
        "error_class": error,
        "explanation": "compared with the target",
        "method": "exact",
        "output": output,
    }


def _fill_run(store: Store, run_id: str, *, scored: bool = True) -> RunData:
    """Four samples per task; sample s3 of each task failed with a timeout."""
    store.create_run(_run_row(run_id))
    index = 0
    for task, dimension in TASKS:
        samples = [
            {
                "run_id": run_id,
                "task": task,
                "sample_id": f"s{i}",
                "position": i,
                "input": f"question {i} of {task}",
                "target": str(i),
                "choices": [],
                "metadata": {},
            }
            for i in range(4)
        ]
        store.save_task(
            {
                "run_id": run_id,
                "task": task,
                "dimension": dimension,
                "metric": "accuracy",
                "dataset_hash": "h",
                "n_samples": 4,
                "info": {"weight": 1.0},
            },
            samples,
        )
        requests, scores = [], []
        for i in range(4):
            error = "timeout" if i == 3 or not scored else None
            output = ATTACK if (task, i) == ("arith", 0) else f"answer {i}"
            requests.append(_request_row(run_id, task, f"s{i}", index, error))
            scores.append(_score_row(run_id, task, f"s{i}", float(i % 2 == 0), output, error))
            index += 1
        store.write_batch(requests, scores)
    return store.read_run(run_id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path}/a.db")
    yield opened
    opened.close()


def _without_plotly_bundle(page: str) -> str:
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1, "Plotly's JS must be inlined exactly once"
    return page.replace(bundle, "")


def test_page_shows_run_tasks_and_confidence_intervals(store: Store) -> None:
    data = _fill_run(store, "run-abc")
    results = build_results(data)
    page = render_html(results, data)

    assert "run-abc" in page
    for task, dimension in TASKS:
        assert task in page
        assert dimension in page
    for task in results["tasks"]:
        low, high = task["ci95"]
        assert f"[{low:.3f}, {high:.3f}]" in page
        assert f"{task['value']:.3f}" in page
    assert "fake-model" in page
    assert '<span class="tag on">chat</span>' in page
    assert '<span class="tag off">logprobs</span>' in page
    assert re.search(r'<span class="tag muted" title="not probed[^"]*">tools\?</span>', page)
    assert "timeout" in page  # the error table
    assert "rate_limited" in page  # a retried attempt
    assert "arith-hash-0123" in page  # the manifest's dataset hash
    for figure in ("fig-tasks", "fig-dimensions", "fig-radar", "fig-latency"):
        assert f'id="{figure}"' in page
    overall = results["overall"]
    assert len(overall["dimensions"]) > 1
    assert f"{overall['value']:.3f}" in page and "Overall" in page


def test_model_output_is_escaped(store: Store) -> None:
    data = _fill_run(store, "run-xss")
    page = render_html(build_results(data), data)

    assert "&lt;script&gt;alert(1)" in page
    assert ATTACK not in page


def test_page_works_offline(store: Store) -> None:
    data = _fill_run(store, "run-offline")
    page = _without_plotly_bundle(render_html(build_results(data), data))

    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert "cdn.plot.ly" not in page
    assert "https://" not in page


def test_run_without_scored_samples_still_renders(store: Store) -> None:
    data = _fill_run(store, "run-empty", scored=False)
    results = build_results(data)
    assert all(task["value"] is None for task in results["tasks"])

    page = render_html(results, data)

    assert "run-empty" in page
    assert "No scored samples to chart." in page
    assert "No successful requests with timings." in page
    assert 'id="fig-tasks"' not in page
    assert "—" in page


def test_sample_table_keeps_ten_per_task_and_cuts_long_text(store: Store) -> None:
    store.create_run(_run_row("run-long"))
    samples = [
        {
            "run_id": "run-long",
            "task": "arith",
            "sample_id": f"s{i:02d}",
            "position": i,
            "input": "x" * 1000,
            "target": "1",
            "choices": [],
            "metadata": {},
        }
        for i in range(15)
    ]
    store.save_task(
        {
            "run_id": "run-long",
            "task": "arith",
            "dimension": "math",
            "metric": "accuracy",
            "dataset_hash": "h",
            "n_samples": 15,
            "info": {},
        },
        samples,
    )
    data = store.read_run("run-long")

    rows = sample_rows(data)["arith"]

    assert [row["sample_id"] for row in rows] == [f"s{i:02d}" for i in range(10)]
    assert rows[0]["input"] == truncate("x" * 1000)
    assert rows[0]["input"].endswith("… [1000 chars]")
    assert rows[0]["outcome"] == "not scored"
    render_html(build_results(data), data)
