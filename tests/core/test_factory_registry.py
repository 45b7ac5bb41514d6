"""The scorer and solver registries: every built-in task is built from registered factories,
and what they build records its name, its arguments (defaults filled) and its metrics, as JSON
that is the same in every build and every process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from typing import Any

import pytest

from assay._errors import SpecError
from assay.core import (
    Generate,
    Score,
    Scorer,
    Solver,
    State,
    build_info,
    get_factory,
    registered,
    scorer,
    scorer_metrics,
    solver,
)
from assay.scorers import code_execution, numeric_match, rubric_judge
from assay.solvers import generate_step, sampling
from assay.tasks import Task, get_task, task_names

TASK_NAMES = task_names()


def built_parts(task: Task) -> dict[str, Any]:
    """The recorded build of a task's scorer and solvers, as the store would keep it."""
    solvers = []
    for step in task.solvers:
        info = build_info(step)
        assert info is not None, f"{task.name}: solver {step!r} comes from no registered factory"
        solvers.append(info.as_dict())
    info = build_info(task.scorer)
    assert info is not None, f"{task.name}: its scorer comes from no registered factory"
    return {"solvers": solvers, "scorer": info.as_dict()}


# The same dump in a fresh interpreter (another hash seed, other addresses).
_DUMP_ALL = """
import json, sys
from assay.core import build_info
from assay.tasks import get_task, task_names
out = {}
for name in task_names():
    task = get_task(name)
    out[name] = {
        "solvers": [build_info(s).as_dict() for s in task.solvers],
        "scorer": build_info(task.scorer).as_dict(),
    }
sys.stdout.write(json.dumps(out, sort_keys=True))
"""


def test_there_are_tasks_of_both_metric_kinds() -> None:
    # The parametrised checks below must see both pass@ tasks and the others.
    metrics = [get_task(name).metric for name in TASK_NAMES]
    assert any(metric.startswith("pass@") for metric in metrics)
    assert any(not metric.startswith("pass@") for metric in metrics)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_task_is_built_from_registered_factories(name: str) -> None:
    task = get_task(name)
    assert task.solvers
    for step in task.solvers:
        info = build_info(step)
        assert info is not None, f"{name}: solver {step!r} comes from no registered factory"
        assert info.kind == "solver"
        assert info.name in registered("solver")
        assert info.metrics == ()
    info = build_info(task.scorer)
    assert info is not None, f"{name}: scorer {task.scorer!r} comes from no registered factory"
    assert info.kind == "scorer"
    assert info.name in registered("scorer")
    if task.metric.startswith("pass@"):
        assert "pass_at_k" in scorer_metrics(task.scorer)
    else:
        assert "pass_at_k" not in scorer_metrics(task.scorer)
    assert "mean" in scorer_metrics(task.scorer)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_build_records_are_json_and_the_same_in_every_build(name: str) -> None:
    first, second = built_parts(get_task(name)), built_parts(get_task(name))
    assert first == second
    text = json.dumps(first, sort_keys=True)
    assert json.loads(text) == first
    # No object's repr with its address: it would differ in every process.
    assert re.search(r"0x[0-9a-fA-F]{4,}", text) is None, text
    # Functions in the arguments are named ones: a lambda's name tells two of them apart.
    assert "<lambda>" not in text and "<locals>" not in text, text


def test_build_records_are_the_same_in_another_process() -> None:
    here = {name: built_parts(get_task(name)) for name in TASK_NAMES}
    done = subprocess.run(
        [sys.executable, "-c", _DUMP_ALL],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert json.loads(done.stdout) == json.loads(json.dumps(here))


def test_build_args_are_recorded_with_defaults_filled() -> None:
    info = build_info(code_execution(timeout_s=3.0))
    assert info is not None
    assert info.kind == "scorer"
    assert info.name == "code_execution"
    assert dict(info.args) == {"timeout_s": 3.0, "limits": None, "max_sandboxes": None}
    assert (info.metrics, info.runs_code) == (("mean", "pass_at_k"), True)
    # Stored with the task, whose info keeps the metrics beside it.
    assert info.as_dict() == {
        "name": "code_execution",
        "args": {"timeout_s": 3.0, "limits": None, "max_sandboxes": None},
    }

    positional = build_info(sampling(0.8, 0.95))
    assert positional is not None
    assert positional.as_dict() == {"name": "sampling", "args": {"temperature": 0.8, "top_p": 0.95}}

    judged = build_info(rubric_judge("Is it right?", scale="binary"))
    assert judged is not None
    assert judged.args["rubric"] == "Is it right?"
    assert judged.args["scale"] == "binary"
    # The default GenerateConfig, field by field.
    assert judged.args["config"]["type"] == "GenerateConfig"
    assert judged.args["config"]["max_tokens"] == 384
    assert judged.args["config"]["temperature"] == 0.0
    assert scorer_metrics(rubric_judge("Is it right?")) == ("mean",)


def test_a_recorded_build_rebuilds_the_same_scorer() -> None:
    info = build_info(code_execution(timeout_s=3.0, max_sandboxes=2))
    assert info is not None
    factory = get_factory("scorer", info.name)
    assert factory is code_execution
    assert build_info(factory(**info.args)) == info
    assert get_factory("solver", "generate_step") is generate_step
    assert get_factory("scorer", "numeric_match") is numeric_match


def test_an_unknown_factory_name_suggests_the_close_one() -> None:
    with pytest.raises(SpecError, match="numeric_match") as raised:
        get_factory("scorer", "numeric_matc")
    assert "did you mean 'numeric_match'" in str(raised.value)
    with pytest.raises(SpecError, match="generate_step"):
        get_factory("solver", "generate_stepp")


@pytest.mark.parametrize("metrics", [["median"], ["mean", "median"], ["pass_at_k"], []])
def test_a_scorer_with_unknown_metrics_or_without_the_mean_is_refused(
    metrics: list[str],
) -> None:
    with pytest.raises(SpecError, match="metrics"):
        scorer(metrics=metrics)


def test_two_factories_under_one_name_are_refused() -> None:
    name = f"tests_core_duplicate_{uuid.uuid4().hex}"

    @scorer(name=name)
    def constant_score() -> Scorer:
        async def score(state: State) -> Score:
            return Score(1.0, method="constant")

        return score

    assert get_factory("scorer", name) is constant_score
    with pytest.raises(SpecError, match="registered twice"):

        @scorer(name=name)
        def other_score() -> Scorer:
            async def score(state: State) -> Score:
                return Score(0.0, method="constant")

            return score

    # The first registration stands.
    assert get_factory("scorer", name) is constant_score
    built = build_info(constant_score())
    assert built is not None and built.name == name


def test_a_solver_name_is_separate_from_a_scorer_name() -> None:
    name = f"tests_core_shared_name_{uuid.uuid4().hex}"

    @scorer(name=name)
    def named_scorer() -> Scorer:
        async def score(state: State) -> Score:
            return Score(1.0, method="constant")

        return score

    @solver(name=name)
    def named_solver(step: int = 1) -> Solver:
        async def solve(state: State, generate: Generate) -> State:
            return state

        return solve

    info = build_info(named_solver())
    assert info is not None
    assert info.as_dict() == {"name": name, "args": {"step": 1}}
    assert get_factory("solver", name) is named_solver
    assert get_factory("scorer", name) is named_scorer
