"""`assay perf` run for real in a subprocess against the stub server on loopback."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assay.testing import StubConfig, StubServer
from helpers import assay_command, subprocess_env


def assay_perf(*args: str, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*assay_command(), "perf", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=subprocess_env(),
        check=False,
    )


def read_perf(out: Path, run_id: str) -> dict[str, Any]:
    perf: dict[str, Any] = json.loads((out / run_id / "results.json").read_text("utf-8"))["perf"]
    return perf


@pytest.mark.parametrize("processes", [1, 2], ids=["one_loop", "two_client_processes"])
def test_concurrent_profile_writes_results_and_report(tmp_path: Path, processes: int) -> None:
    out = tmp_path / "out"
    with StubServer(StubConfig(ttft_s=0.01, itl_s=0.002)) as server:
        result = assay_perf(
            f"openai:{server.url}",
            *("--profile", "concurrent", "--concurrency", "4", "--requests", "20"),
            *("--client-processes", str(processes)),
            *("--out", str(out), "--run-id", "cli"),
        )
    assert result.returncode == 0, result.stderr
    assert (out / "cli" / "results.json").is_file()
    assert (out / "cli" / "report.html").is_file()
    assert "c=4" in result.stdout and "report:" in result.stdout
    assert "warning" not in result.stderr
    perf = read_perf(out, "cli")
    assert perf["profile"] == "concurrent" and perf["requests"] == 20
    assert perf["success_rate"] == 1.0 and perf["client_limited"] is False
    assert perf["client_processes"] == processes


def test_a_malformed_prompts_line_is_one_error_line_naming_file_and_line(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "fine"}\n{"prompt": broken\n', "utf-8")
    with StubServer() as server:
        result = assay_perf(
            f"openai:{server.url}",
            "--requests",
            "2",
            "--prompts",
            str(prompts),
            "--out",
            str(tmp_path / "out"),
        )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    message = f"{prompts}:2: not valid JSON (Expecting value); fix or remove the line"
    assert lines == [f"assay: error: {message}"], lines


def test_asking_for_more_than_the_client_can_send_is_flagged(tmp_path: Path) -> None:
    # 3,000 requests at 20,000/s would all start within 0.15 s; no Python client on a small
    # machine does that, so the run must say the client, not the server, set the pace.
    out = tmp_path / "out"
    with StubServer() as server:
        result = assay_perf(
            f"openai:{server.url}",
            "--profile",
            "constant",
            "--rate",
            "20000",
            "--requests",
            "3000",
            "--prompt-tokens",
            "8",
            "--output-tokens",
            "4",
            "--out",
            str(out),
            "--run-id",
            "saturated",
        )
    assert result.returncode == 0, result.stderr
    perf = read_perf(out, "saturated")
    assert perf["client_limited"] is True
    reasons = perf["client"]["reasons"]
    assert reasons and any("scheduling lag" in r or "scheduled" in r for r in reasons), reasons
    assert perf["client"]["requested_rate"] == 20000.0
    assert perf["client"]["achieved_send_rate"] < 0.9 * 20000
    assert "warning: step constant 20000/s: the client, not the server" in result.stderr
    assert "LIMITED" in result.stdout


def test_generation_overrides_in_the_target_are_refused_in_one_line(tmp_path: Path) -> None:
    # perf sets its own generation parameters; an override would silently change the workload.
    target = "openai:http://127.0.0.1:9/v1?temperature=1.5"
    result = assay_perf(target, "--requests", "1", "--out", str(tmp_path))
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert "generation overrides" in line and "temperature" in line


@pytest.mark.slow
def test_a_load_option_is_no_generation_override(tmp_path: Path) -> None:
    # `?extra_bufts=off` changes how the model loads, not what is asked of it.
    result = assay_perf(
        "builtin?extra_bufts=off",
        *("--profile", "sync", "--requests", "1", "--prompt-tokens", "16"),
        *("--output-tokens", "4", "--out", str(tmp_path), "--run-id", "load-option"),
    )
    assert result.returncode == 0, result.stderr
    assert read_perf(tmp_path, "load-option")["success_rate"] == 1.0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("reported", [8, 0], ids=["constant_usage", "zero_usage"])
def test_usage_that_ignores_the_prompt_length_falls_back_to_counting_words(
    tmp_path: Path, reported: int
) -> None:
    # Some proxies and stubs report the same prompt_tokens (or 0) for every prompt: calibrating
    # on it must stop at once and say so, not grow the prompt until memory runs out.
    out = tmp_path / "out"
    with StubServer(StubConfig(constant_prompt_tokens=reported)) as server:
        result = assay_perf(
            f"openai:{server.url}",
            *("--profile", "sync", "--requests", "2", "--prompt-tokens", "128"),
            *("--out", str(out), "--run-id", "flat"),
            timeout_s=60,
        )
        sent_words = [len(prompt.split()) for prompt in server.log.by_prompt]
    assert result.returncode == 0, result.stderr
    # The search never builds more than 5 words a token (0.2 tokens a word, the least plausible).
    assert max(sent_words) <= 5 * 128, max(sent_words)
    perf = read_perf(out, "flat")
    assert perf["requests"] == 2 and perf["success_rate"] == 1.0
    calibration = perf["workload"]["calibration"]
    assert calibration["source"] == "words"
    assert perf["workload"]["length_calibration"] == "words"
    said = rf"server usage reported {reported} prompt tokens for \d+ words"
    assert re.search(said, calibration["reason"]), calibration["reason"]
    assert "estimated at one token per word" in calibration["reason"]
    assert f"length calibration: words: {calibration['reason']}" in result.stdout
    report = (out / "flat" / "report.html").read_text("utf-8")
    assert f"<th>Length calibration</th><td>words: {calibration['reason']}</td>" in report
