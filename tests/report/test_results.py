"""results.json roll-ups: dimensions equal in the suite's overall number, with a CI."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from assay import RunSpec, evaluate, report
from assay.targets import FakeTarget, Request, Response


def test_overall_weighs_dimensions_equally_and_propagates_uncertainty(tmp_path: Path) -> None:
    # knowledge_mcq is always answered "A" (right on about a quarter); arithmetic is always
    # wrong; instructions (another dimension) is left out so two dimensions remain.
    def answer(request: Request) -> str:
        return "A" if "A." in request.prompt else "The answer is -1."

    spec = RunSpec(target="fake", tasks=("knowledge_mcq", "arithmetic"), limit=40)
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(answer), run_id="o")
    results = json.loads(result.results_path.read_text())

    dims = {d["dimension"]: d["value"] for d in results["dimensions"]}
    assert set(dims) == {"knowledge", "reasoning_math"}
    assert dims["reasoning_math"] == 0.0 and 0.0 < dims["knowledge"] < 1.0
    overall = results["overall"]
    assert overall["dimensions"] == ["knowledge", "reasoning_math"]
    assert abs(overall["value"] - (dims["knowledge"] + dims["reasoning_math"]) / 2) < 1e-6
    low, high = overall["ci95"]
    assert low < overall["value"] < high
    # Half the width of the knowledge CI: only one of two equal dimensions is uncertain.
    (knowledge,) = [d for d in results["dimensions"] if d["dimension"] == "knowledge"]
    width = knowledge["ci95"][1] - knowledge["ci95"][0]
    assert abs((high - low) - width / 2) < 0.05


def test_code_run_without_namespaces_is_flagged_in_results_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.sandbox import SandboxResult
    from assay.scorers import _code

    def guarded(program: str, timeout_s: float, **_: object) -> SandboxResult:
        # As on a host that refuses user namespaces: the tests ran, under the socket guard only.
        return SandboxResult(1, "", "AssertionError\n", False, 0.1, None, "python-guard")

    monkeypatch.setattr(_code, "run_python", guarded)
    spec = RunSpec(target="fake", tasks=("code_gen", "arithmetic"), limit=3)
    result = evaluate(spec, out_dir=tmp_path, target=FakeTarget(lambda _: "pass"), run_id="w")
    tasks = {t["task"]: t for t in json.loads(result.results_path.read_text())["tasks"]}

    assert tasks["code_gen"]["sandbox_weak_isolation"] == {"python-guard": 3}
    assert "sandbox_weak_isolation" not in tasks["arithmetic"]
    html = result.report_path.read_text()
    assert "Weak sandbox for <code>code_gen</code>" in html and "python-guard ×3" in html


def test_cut_answers_of_an_older_store_rerender_as_wrong(tmp_path: Path) -> None:
    def answer(request: Request) -> str | Response:
        if "A." in request.prompt:
            return "A"  # knowledge_mcq: right on some items, never cut
        return Response(text=" We first", finish_reason="length")  # arithmetic: always cut

    spec = RunSpec(target="fake", tasks=("knowledge_mcq", "arithmetic"), limit=8)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget(answer), run_id="old")
    # As assay wrote cut answers before they counted as wrong: no value, error class "truncated",
    # and metrics without their detail (the report, not the engine, wrote them then).
    with contextlib.closing(sqlite3.connect(tmp_path / "assay.db")) as conn, conn:
        changed = conn.execute(
            "UPDATE scores SET value = NULL, error_class = 'truncated' WHERE outcome = 'truncated'"
        ).rowcount
        conn.execute("UPDATE metrics SET detail = NULL")
    assert changed == 8

    results_path, report_path = report("old", out_dir=tmp_path)
    results = json.loads(results_path.read_text())
    tasks = {t["task"]: t for t in results["tasks"]}
    cut = tasks["arithmetic"]
    assert (cut["value"], cut["n"], cut["truncated"], cut["truncated_share"]) == (0.0, 8, 8, 1.0)
    assert (cut["errors"], cut["error_classes"], cut["method"]) == (0, {}, "generate")
    assert tasks["knowledge_mcq"]["truncated"] == 0
    # The roll-up takes the cut task at 0, as the knowledge task at its own value.
    overall = results["overall"]
    assert overall["value"] == pytest.approx(tasks["knowledge_mcq"]["value"] / 2, abs=1e-6)
    assert "8 (100.0%)" in report_path.read_text()


def _metric_rows(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT * FROM metrics ORDER BY run_id, task, metric").fetchall()


def test_rerendering_a_report_reads_the_stored_metrics_and_writes_nothing(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=6)
    evaluate(spec, out_dir=tmp_path, target=FakeTarget((" The answer is 3.",)), run_id="r")
    db = tmp_path / "assay.db"
    # A value no computation from the scores gives: the report shows what the store holds.
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE metrics SET value = 0.125 WHERE task = 'arithmetic'")
    stored = _metric_rows(db)

    results_path, _ = report("r", out_dir=tmp_path)

    (task,) = json.loads(results_path.read_text())["tasks"]
    assert task["value"] == 0.125
    assert _metric_rows(db) == stored


def test_an_old_run_without_stored_metrics_is_computed_for_display_only(tmp_path: Path) -> None:
    spec = RunSpec(target="fake", tasks=("arithmetic",), limit=6)
    first = evaluate(spec, out_dir=tmp_path, target=FakeTarget((" The answer is 3.",)), run_id="r")
    expected = json.loads(first.results_path.read_text())["tasks"]
    db = tmp_path / "assay.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DELETE FROM metrics")

    results_path, _ = report("r", out_dir=tmp_path)

    assert json.loads(results_path.read_text())["tasks"] == expected
    assert _metric_rows(db) == []
