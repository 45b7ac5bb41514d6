"""Built-in suites: named, weighted lists of tasks (YAML files in this package)."""

from assay.suites._suites import Suite, SuiteTask, get_suite, suite_names

__all__ = ["Suite", "SuiteTask", "get_suite", "suite_names"]
