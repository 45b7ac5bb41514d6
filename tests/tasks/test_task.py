"""The task registry finds its tasks by discovery: the package's own modules and any installed
package that declares an `assay.tasks` entry point, with no hand-kept list."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from helpers import run_assay

THIRD_PARTY_TASKS = """
from assay.core import GenerateConfig, Sample
from assay.scorers import numeric_match
from assay.solvers import generate_step, prompt_template
from assay.tasks import Task, register_task


@register_task("plugin_sums")
def plugin_sums() -> Task:
    return Task(
        name="plugin_sums",
        dimension="reasoning_math",
        description="Two sums, from a package installed beside assay.",
        dataset=lambda ctx: [Sample("1 + 1", "2"), Sample("2 + 3", "5")],
        solvers=(prompt_template("{input} ="), generate_step()),
        scorer=numeric_match(),
        config=GenerateConfig(max_tokens=4),
    )
"""


def install_plugin(site: Path) -> None:
    """A real distribution on sys.path, as pip would leave it: a module and its dist-info
    with an `assay.tasks` entry point."""
    (site / "assay_plugin_sums.py").write_text(THIRD_PARTY_TASKS, "utf-8")
    info = site / "assay_plugin_sums-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: assay-plugin-sums\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [assay.tasks]
            sums = assay_plugin_sums
            """
        )
    )


def test_a_task_package_declared_by_entry_point_is_listed_and_runs(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    listed = run_assay("list", "tasks", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["task"]: row for row in json.loads(listed.stdout)}
    assert rows["plugin_sums"]["dimension"] == "reasoning_math"
    assert "arithmetic" in rows and "gsm8k" in rows  # the package's own modules still found

    out = tmp_path / "out"
    ran = run_assay(
        *("run", "--target", "fake:2", "--task", "plugin_sums", "--out", str(out)),
        *("--run-id", "plugin"),
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    (task,) = json.loads((out / "plugin" / "results.json").read_text("utf-8"))["tasks"]
    assert (task["task"], task["n"], task["value"]) == ("plugin_sums", 2, 0.5)


def test_without_the_package_the_task_is_unknown(tmp_path: Path) -> None:
    ran = run_assay("run", "--target", "fake:2", "--task", "plugin_sums", "--out", str(tmp_path))
    assert ran.returncode == 2
    assert "plugin_sums" in ran.stderr
