"""Tasks: dataset + solvers + scorer, with a registry of built-in tasks."""

from assay.tasks._task import Task, TaskContext, get_task, register_task, task_names
from assay.tasks._types import Sample, Score, Scorer, Solver, State

__all__ = [
    "Sample",
    "Score",
    "Scorer",
    "Solver",
    "State",
    "Task",
    "TaskContext",
    "get_task",
    "register_task",
    "task_names",
]
