"""Serving metric definitions, in one place; the report and results import them from here.

All times are client-side seconds measured from the moment a request was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def ttft_s(token_times_s: Sequence[float]) -> float | None:
    """Time to first token: arrival of the first non-empty content chunk."""
    return token_times_s[0] if token_times_s else None


def itl_s(token_times_s: Sequence[float]) -> float | None:
    """Inter-token latency (= TPOT here): (t_last - t_first) / (N - 1) over N content chunks."""
    if len(token_times_s) < 2:
        return None
    return (token_times_s[-1] - token_times_s[0]) / (len(token_times_s) - 1)


def output_tokens_per_s(completion_tokens: int | None, e2e_s: float) -> float | None:
    """Per-request output speed: completion tokens / end-to-end seconds (prefill included)."""
    if not completion_tokens or e2e_s <= 0:
        return None
    return completion_tokens / e2e_s


def request_series(rows: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Per-request values of each metric, over successful requests that were really sent."""
    series: dict[str, list[float]] = {
        "ttft_s": [],
        "itl_s": [],
        "output_tokens_per_s": [],
        "e2e_s": [],
    }
    for row in rows:
        if row.get("error_class"):
            continue
        times = row.get("token_times_s") or []
        values = {
            "ttft_s": ttft_s(times),
            "itl_s": itl_s(times),
            "output_tokens_per_s": output_tokens_per_s(row.get("completion_tokens"), row["e2e_s"]),
            "e2e_s": row["e2e_s"],
        }
        for name, value in values.items():
            if value is not None:
                series[name].append(float(value))
    return series
