"""Serving measurements: metric definitions, workloads, load profiles and the monitor."""

from assay.perf._metrics import Slo, itl_s, output_tokens_per_s, request_series, ttft_s
from assay.perf._monitor import MonitorConfig, load_monitor_config, run_monitor
from assay.perf._perf import PerfOptions, parse_slo
from assay.perf._profiles import PROFILES, LoadProfile

__all__ = [
    "PROFILES",
    "LoadProfile",
    "MonitorConfig",
    "PerfOptions",
    "Slo",
    "itl_s",
    "load_monitor_config",
    "output_tokens_per_s",
    "parse_slo",
    "request_series",
    "run_monitor",
    "ttft_s",
]
