"""The test helpers that decide whether a test runs: absent public data skips here, fails in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import data_verdict


def test_absent_data_skips_on_a_developer_machine_and_fails_under_ci(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert data_verdict(data, {}) == "skip"
    assert data_verdict(data, {"CI": ""}) == "skip"
    assert data_verdict(data, {"CI": "true"}) == "fail"
    data.mkdir()
    assert data_verdict(data, {}) == "run"
    assert data_verdict(data, {"CI": "true"}) == "run"


@pytest.mark.parametrize(("ci", "outcome"), [("", "1 skipped"), ("true", "1 failed")])
def test_a_needs_data_test_without_the_data(ci: str, outcome: str, tmp_path: Path) -> None:
    """A real test marked `needs_data`, run by pytest with the data pointed somewhere absent."""
    absent = tmp_path / "absent"
    env = {**os.environ, "ASSAY_SHARED_DATA": str(absent), "CI": ci}
    test = "tests/tasks/test_code.py::test_humaneval_local_copy_in_file_order"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        timeout=300,
        check=False,
    )
    assert outcome in done.stdout, done.stdout + done.stderr
    if ci:
        assert f"{absent} is absent, and CI must run the tests that need it" in done.stdout
