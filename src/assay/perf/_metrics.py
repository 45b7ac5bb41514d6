"""Serving metric definitions, in one place; the report and results import them from here.

All times are client-side seconds measured from the moment a request was sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.stats import mean_ci, percentiles


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


def ttfat_s(row: dict[str, Any]) -> float | None:
    """Time to first answer token: the first non-reasoning delta (equals TTFT for models that
    do not stream reasoning separately)."""
    value = row.get("ttfat_s")
    return float(value) if value is not None else None


def inter_chunk_gaps_s(token_times_s: Sequence[float]) -> list[float]:
    """Every gap between consecutive streamed deltas of one request (stalls show up here)."""
    return [b - a for a, b in itertools.pairwise(token_times_s)]


def output_tokens(row: dict[str, Any]) -> tuple[int, str]:
    """Output tokens of a request and where the count came from: the server's usage when it
    reported one, else the client's count of streamed deltas."""
    if row.get("usage_source") == "server" and row.get("completion_tokens") is not None:
        return int(row["completion_tokens"]), "server"
    return int(row.get("client_chunks") or len(row.get("token_times_s") or [])), "client"


@dataclass(frozen=True)
class Slo:
    """A latency objective; a successful request meeting every bound counts toward goodput.

    A request with one output token has no time per output token: it meets any TPOT bound
    (as in vLLM's goodput), so short answers do not vanish from goodput.
    """

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def met(self, row: dict[str, Any]) -> bool:
        times = row.get("token_times_s") or []
        tpot = itl_s(times) if len(times) != 1 else 0.0
        checks = (
            (self.ttft_s, ttft_s(times)),
            (self.tpot_s, tpot),
            (self.e2e_s, row.get("e2e_s")),
        )
        return all(bound is None or (v is not None and v <= bound) for bound, v in checks)

    def describe(self) -> dict[str, float]:
        pairs = {"ttft_s": self.ttft_s, "tpot_s": self.tpot_s, "e2e_s": self.e2e_s}
        return {k: v for k, v in pairs.items() if v is not None}


def distribution(values: Sequence[float]) -> dict[str, Any]:
    """p50/p90/p95/p99, mean with its 95% bootstrap CI, and n."""
    summary: dict[str, Any] = dict(percentiles(values, (50, 90, 95, 99)))
    if values:
        _, (low, high) = mean_ci(values)
        summary["mean_ci95"] = [low, high]
    return summary


# The client is the bottleneck when it starts requests late or its event loop wakes up late.
CLIENT_LAG_P90_S = 0.010
LOOP_LAG_P99_S = 0.050
ACHIEVED_RATE_FLOOR = 0.9


def _send_rate(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    """Requests per second between the first and the last start (by `key`)."""
    starts = sorted(float(r[key]) for r in rows if r.get(key) is not None)
    if len(starts) < 2 or starts[-1] <= starts[0]:
        return None
    return (len(starts) - 1) / (starts[-1] - starts[0])


def client_integrity(
    rows: Sequence[dict[str, Any]],
    loop_lags_s: Sequence[float],
    requested_rate: float | None,
    in_flight_cap_hit: int,
) -> dict[str, Any]:
    lags = [float(r["schedule_lag_s"]) for r in rows]
    reasons = []
    lag = percentiles(lags, (50, 90, 99)) if lags else {}
    loop = percentiles(list(loop_lags_s), (50, 99)) if loop_lags_s else {}
    achieved = _send_rate(rows, "started_s")
    if requested_rate is not None:
        # Against the schedule actually drawn (a Poisson draw is not exactly the nominal rate).
        scheduled = _send_rate(rows, "scheduled_s")
        if lag and lag["p90"] > CLIENT_LAG_P90_S:
            reasons.append(
                f"p90 scheduling lag {lag['p90'] * 1000:.1f} ms > {CLIENT_LAG_P90_S * 1000:.0f} ms"
            )
        if achieved is not None and scheduled and achieved < ACHIEVED_RATE_FLOOR * scheduled:
            reasons.append(f"sent {achieved:.1f} req/s of {scheduled:.1f} scheduled")
    if loop and loop["p99"] > LOOP_LAG_P99_S:
        reasons.append(
            f"p99 event-loop lag {loop['p99'] * 1000:.1f} ms > {LOOP_LAG_P99_S * 1000:.0f} ms"
        )
    if in_flight_cap_hit:
        reasons.append(f"in-flight cap reached {in_flight_cap_hit} times")
    return {
        "client_limited": bool(reasons),
        "reasons": reasons,
        "requested_rate": requested_rate,
        "achieved_send_rate": achieved,
        "schedule_lag_s": lag,
        "event_loop_lag_s": loop,
    }


def summarize_step(
    name: str,
    rows: Sequence[dict[str, Any]],
    *,
    duration_s: float,
    requested_rate: float | None,
    concurrency: int | None,
    loop_lags_s: Sequence[float],
    in_flight_cap_hit: int,
    slo: Slo,
) -> dict[str, Any]:
    """Every perf metric of one step, from its per-request rows (failures included)."""
    ok = [r for r in rows if not r.get("error_class")]
    failures: dict[str, int] = {}
    for row in rows:
        if row.get("error_class"):
            failures[row["error_class"]] = failures.get(row["error_class"], 0) + 1
    counts = [output_tokens(r) for r in ok]
    sources = sorted({source for _, source in counts})
    per_request_speed = [
        tokens / r["e2e_s"] for (tokens, _), r in zip(counts, ok, strict=True) if r["e2e_s"] > 0
    ]
    times = [r.get("token_times_s") or [] for r in ok]
    integrity = client_integrity(rows, loop_lags_s, requested_rate, in_flight_cap_hit)
    return {
        "step": name,
        "concurrency": concurrency,
        "rate": requested_rate,
        "requests": len(rows),
        "duration_s": duration_s,
        "success_rate": len(ok) / len(rows) if rows else None,
        "failures": failures,
        "ttft_s": distribution([v for t in times if (v := ttft_s(t)) is not None]),
        "ttfat_s": distribution([v for r in ok if (v := ttfat_s(r)) is not None]),
        "itl_s": distribution([v for t in times if (v := itl_s(t)) is not None]),
        "inter_chunk_gap_s": distribution([g for t in times for g in inter_chunk_gaps_s(t)]),
        "e2e_s": distribution([float(r["e2e_s"]) for r in ok]),
        "output_tokens_per_s": distribution(per_request_speed),
        "aggregate_output_tokens_per_s": sum(c for c, _ in counts) / duration_s
        if duration_s > 0
        else None,
        "request_throughput": len(ok) / duration_s if duration_s > 0 else None,
        "goodput": sum(1 for r in ok if slo.met(r)) / duration_s if duration_s > 0 else None,
        "slo": slo.describe(),
        "output_token_source": "+".join(sources) or "none",
        "output_tokens_server": sum(
            int(r["completion_tokens"] or 0) for r in ok if r.get("usage_source") == "server"
        ),
        "output_tokens_client": sum(int(r.get("client_chunks") or 0) for r in ok),
        "client_limited": integrity["client_limited"],
        "client": integrity,
    }
