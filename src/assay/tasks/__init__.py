"""The catalogue of built-in tasks: one module per family, each found by discovery (every
module here is imported on first use of the task registry in `assay.core`)."""

from assay.core import Task, TaskContext, get_task, register_task, task_names

__all__ = [
    "Task",
    "TaskContext",
    "get_task",
    "register_task",
    "task_names",
]
