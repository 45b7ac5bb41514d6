"""Serving measurements: metric definitions (and, later, load profiles and the monitor)."""

from assay.perf._metrics import itl_s, output_tokens_per_s, request_series, ttft_s

__all__ = ["itl_s", "output_tokens_per_s", "request_series", "ttft_s"]
