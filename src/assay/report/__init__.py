"""Reports: results.json and a self-contained HTML page, rendered from the store alone."""

from assay.report._compare import build_comparison, write_comparison
from assay.report._results import build_results
from assay.report._write import write_report

__all__ = ["build_comparison", "build_results", "write_comparison", "write_report"]
