"""README.md's "Extending" section, run as written: its scorer, solver and task files become a
package on sys.path with a real dist-info declaring the section's `assay.tasks` entry point, the
entry point is loaded, and the task runs end to end on a scripted target."""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay import RunSpec, evaluate
from assay._errors import ErrorClass
from assay.core import BuildInfo, _registry, _task, build_info, registered
from assay.core._task import TASK_ENTRY_POINTS, get_task, task_names
from assay.store import Store
from assay.targets import FakeTarget, Request, Response

README = Path(__file__).resolve().parents[1] / "README.md"
PACKAGE = "acme_evals"
TASK = "acme_capitals"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def extending_blocks() -> list[tuple[str, str]]:
    """(language, code) of each fenced block of the "Extending" section, in order."""
    text = README.read_text("utf-8")
    start = text.index("\n## Extending\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return BLOCK.findall(section)


def install_package(site: Path) -> None:
    """Each python block into the file its first line names; the toml block's entry point into
    a dist-info, as pip would leave the package installed."""
    blocks = extending_blocks()
    python = [code for language, code in blocks if language == "python"]
    (toml,) = [code for language, code in blocks if language == "toml"]
    assert len(python) == 3, "the section shows a scorer, a solver and a task"
    for code in python:
        first = code.splitlines()[0]
        assert first.startswith(f"# {PACKAGE}/"), f"a block's first line names its file: {first}"
        path = site / first.removeprefix("# ")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, "utf-8")
    declared = tomllib.loads(toml)["project"]["entry-points"][TASK_ENTRY_POINTS]
    info = site / f"{PACKAGE}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in declared.items())
    (info / "entry_points.txt").write_text(f"[{TASK_ENTRY_POINTS}]\n{lines}", "utf-8")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The package on sys.path for this test only; what it registers is forgotten after it,
    so no other test sees its task, solver or scorer."""
    task_names()  # the built-in registrations first, into the registries kept after the test
    monkeypatch.setattr(_task, "_TASKS", dict(_task._TASKS))
    factories = {kind: dict(known) for kind, known in _registry._FACTORIES.items()}
    monkeypatch.setattr(_registry, "_FACTORIES", factories)
    site = tmp_path / "site"
    install_package(site)
    monkeypatch.syspath_prepend(str(site))
    yield
    for module in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
        del sys.modules[module]


def reply(request: Request) -> str | Response:
    """Right, right but in other case, wrong, and a request a content filter refused."""
    answers = {"France": " Paris, of course.", "Japan": " tokyo", "Peru": " Cusco"}
    country = request.sample_input
    if country == "Kenya":
        return Response(error=ErrorClass.CONTENT_FILTER, error_detail="filtered")
    return answers[country]


@pytest.mark.usefixtures("installed")
def test_the_readme_task_solver_and_scorer_register_and_run(tmp_path: Path) -> None:
    (entry_point,) = [
        found
        for found in importlib.metadata.entry_points(group=TASK_ENTRY_POINTS)
        if found.value.split(".")[0] == PACKAGE
    ]
    entry_point.load()
    assert "capital_match" in registered("scorer") and "short_answer" in registered("solver")
    task = get_task(TASK)
    assert build_info(task.scorer) == BuildInfo(
        "scorer", "capital_match", {"case_sensitive": False}, ("mean",)
    )
    assert build_info(task.solvers[1]) == BuildInfo("solver", "short_answer", {"max_tokens": 8})

    target = FakeTarget(reply)
    spec = RunSpec(target="fake", tasks=(TASK,))
    result = evaluate(spec, out_dir=tmp_path / "out", target=target, run_id="readme")

    # The solvers: the built-in template, then the README's short answer.
    assert sorted(r.prompt for r in target.requests) == [
        f"The capital of {country} is" for country in ("France", "Japan", "Kenya", "Peru")
    ]
    assert {(r.config.max_tokens, r.config.stop) for r in target.requests} == {(8, ("\n",))}

    # The scorer: first word, case-insensitive; the refused request an error, not a wrong answer.
    store = Store(f"sqlite:///{tmp_path / 'out' / 'assay.db'}")
    try:
        data = store.read_run("readme")
    finally:
        store.close()
    country_of = {row["sample_id"]: row["input"] for row in data.samples}
    scores = {
        country_of[row["sample_id"]]: (row["value"], row["answer"], row["outcome"])
        for row in data.scores
    }
    assert scores == {
        "France": (1.0, "paris", "scored"),
        "Japan": (1.0, "tokyo", "scored"),
        "Peru": (0.0, "cusco", "scored"),
        "Kenya": (None, None, "error"),
    }
    (summary,) = json.loads(result.results_path.read_text("utf-8"))["tasks"]
    assert (summary["task"], summary["n"], summary["errors"]) == (TASK, 3, 1)
    assert summary["value"] == pytest.approx(2 / 3)
