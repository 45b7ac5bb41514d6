"""Tasks: dataset + solvers + scorer, with a registry of built-in tasks."""

from assay.tasks._task import Task, TaskContext, get_task, register_task, task_names

__all__ = [
    "Task",
    "TaskContext",
    "get_task",
    "register_task",
    "task_names",
]
