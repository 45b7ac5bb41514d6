"""results.json roll-ups: dimensions equal in the suite's overall number, with a CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay import RunSpec, evaluate
from assay.targets import FakeTarget, Request


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
