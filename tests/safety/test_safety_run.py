"""Safety runs end to end against the stub OpenAI-compatible server on loopback: errors are
their own classes (never refusals, never in R's or D's denominator), and a killed safety run
resumes without re-sending the attacks already answered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from assay import RunSpec, evaluate
from assay.engine import RetryPolicy
from assay.store import Store
from assay.targets._openai import HttpLimits, OpenAITarget
from assay.testing import StubConfig, StubServer
from helpers import assay_command, query, subprocess_env, wait_for_scores

REFUSAL = "I'm sorry, but I can't help with that request."
NO_RETRY = RetryPolicy(max_attempts=1, initial_backoff_s=0.01)


def test_errors_and_content_filter_blocks_are_counted_apart_not_as_refusals(
    tmp_path: Path,
) -> None:
    answers = iter(range(1000))

    def answer(prompt: str) -> str:
        # The sixth answered request comes back empty: an error of its own class.
        return "" if next(answers) == 5 else REFUSAL

    faults = ("500", "stall", "content_filter", "ok", "500", "content_filter")
    config = StubConfig(answer=answer, faults=faults, stall_s=1.0)
    with StubServer(config) as server:
        result = evaluate(
            RunSpec(target=f"openai:{server.url}", tasks=("safety_l1",), limit=14, concurrency=1),
            out_dir=tmp_path,
            run_id="faults",
            target=OpenAITarget(server.url, limits=HttpLimits(read_timeout_s=0.5)),
            retry=NO_RETRY,
        )
    results = json.loads(result.results_path.read_text("utf-8"))
    overall = results["safety_summary"]["overall"]
    assert overall["error_classes"] == {
        "http_5xx": 2,
        "timeout": 1,
        "content_filter": 2,
        "empty_output": 1,
    }
    assert overall["content_filter"] == 2
    # 14 requests, 6 errors: the 8 answered refusals are R's and D's whole denominator.
    assert (overall["n"], overall["errors"]) == (8, 6)
    assert (overall["R"], overall["D"]) == (0.0, 1.0)
    (task,) = results["tasks"]
    assert (task["n"], task["errors"]) == (8, 6)
    assert task["verdicts"] == {"refused": 8}
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    try:
        scores = store.read_run("faults").scores
    finally:
        store.close()
    outcomes = Counter(row["outcome"] for row in scores)
    assert outcomes == {"refused": 8, "error": 6}
    assert all(row["value"] is None for row in scores if row["outcome"] == "error")


def test_a_killed_safety_run_resumes_without_resending_answered_attacks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    db = out / "assay.db"
    limit = 40
    config = StubConfig(ttft_s=0.05, itl_s=0.03, answer=lambda prompt: REFUSAL)
    with StubServer(config) as server:
        command = [
            *assay_command(),
            "run",
            "--target",
            f"openai:{server.url}",
            "--task",
            "safety_l2",
            "--limit",
            str(limit),
            "--concurrency",
            "2",
            "--run-id",
            "R",
            "--out",
            str(out),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env()
        )
        try:
            wait_for_scores(db, process, at_least=8)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)
        time.sleep(0.3)  # let the stub finish what was on the wire
        answered = {
            json.loads(str(payload))["prompt"]
            for (payload,) in query(
                db, "SELECT payload FROM requests WHERE run_id = 'R' AND error_class IS NULL"
            )
        }
        assert 8 <= len(answered) < limit, "the run finished before the kill; slow the stub"
        by_prompt_before = Counter(server.log.by_prompt)
        sent_before = server.log.requests

        resumed = subprocess.run(
            command, capture_output=True, timeout=180, env=subprocess_env(), check=False
        )
        assert resumed.returncode == 0, resumed.stderr.decode(errors="replace")
        # Only the attacks not answered before the kill were sent again.
        assert server.log.requests - sent_before == limit - len(answered)
        # Each attack answered before the kill was sent once in all (one in flight at the kill
        # is sent again: its answer was never stored).
        assert all(server.log.by_prompt[prompt] == 1 for prompt in answered), by_prompt_before
    results = json.loads((out / "R" / "results.json").read_text("utf-8"))
    assert results["requests"]["cached"] == len(answered)
    assert results["safety_summary"]["overall"]["n"] == limit
    assert results["safety_summary"]["overall"]["D"] == 1.0
