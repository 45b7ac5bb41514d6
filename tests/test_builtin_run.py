"""`assay run` end to end on the bundled model, as the README's first command runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from assay import RunSpec, evaluate
from assay.targets import Capabilities, Request, Response
from assay.targets._builtin import builtin_target
from assay.targets._llamacpp import usable_cpus
from assay.targets._native_probe import cpu_flags, has_amx

pytestmark = pytest.mark.slow

CONTRACT_TASK_KEYS = {"task", "dimension", "metric", "value", "ci95", "n", "errors", "method"}


def test_assay_run_quick_suite_on_builtin(tmp_path: Path) -> None:
    assay = shutil.which("assay")
    assert assay, "the console script is installed with the package"
    done = subprocess.run(
        [assay, "run", "--limit", "6", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report_line = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    report = Path(report_line[-1].removeprefix("report: "))
    results = json.loads((report.parent / "results.json").read_text())
    assert results["target"]["spec"] == "builtin"
    assert results["target"]["capabilities"]["logprobs"] is True
    # How the model was loaded, with the choice `extra_bufts=auto` made on this CPU.
    load = results["manifest"]["load"]
    assert load["n_ctx"] == 4096 and load["n_threads"] == usable_cpus()
    assert load["use_extra_bufts"] is not has_amx(cpu_flags())
    assert {t["task"] for t in results["tasks"]} == {"arithmetic", "knowledge_mcq", "instructions"}
    for task in results["tasks"]:
        assert set(task) >= CONTRACT_TASK_KEYS
        assert task["n"] + task["errors"] == 6
        low, high = task["ci95"]
        assert low <= task["value"] <= high
    methods = {t["task"]: t["method"] for t in results["tasks"]}
    assert methods["knowledge_mcq"] == "logprob"
    assert results["requests"]["sent"] == 18
    for name in ("ttft_s", "e2e_s", "itl_s", "output_tokens_per_s"):
        assert results["serving"][name]["p50"] > 0
    html = report.read_text()
    assert results["run_id"] in html
    assert "<script src=" not in html


class _NoLogprobs:
    """The bundled model with logprobs hidden, to exercise scoring by generated letter."""

    def __init__(self) -> None:
        self._inner = builtin_target()
        self.spec, self.model, self.max_concurrency = "builtin-nologprobs", "gemma", 1

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(logprobs=False, streaming=True)

    async def start(self) -> None:
        await self._inner.start()

    async def send(self, request: Request) -> Response:
        return await self._inner.send(request)

    async def close(self) -> None:
        await self._inner.close()


def test_multiple_choice_by_generation_on_builtin(tmp_path: Path) -> None:
    spec = RunSpec(target="builtin", tasks=("knowledge_mcq",), limit=6)
    result = evaluate(spec, out_dir=tmp_path, target=_NoLogprobs())
    (task,) = json.loads(result.results_path.read_text())["tasks"]
    assert task["method"] == "generate"
    assert task["n"] + task["errors"] == 6
