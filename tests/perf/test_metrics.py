"""Metric formulas on hand-made per-request rows: every number here is computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from assay.perf._metrics import (
    Slo,
    client_integrity,
    distribution,
    inter_chunk_gaps_s,
    itl_s,
    output_tokens,
    output_tokens_per_s,
    request_series,
    summarize_step,
    ttfat_s,
    ttft_s,
)


def row(
    token_times_s: list[float],
    e2e_s: float,
    *,
    completion_tokens: int | None = None,
    usage_source: str = "server",
    ttfat: float | None = None,
    error_class: str | None = None,
    schedule_lag_s: float = 0.0,
    started_s: float = 0.0,
    scheduled_s: float = 0.0,
) -> dict[str, Any]:
    return {
        "token_times_s": token_times_s,
        "e2e_s": e2e_s,
        "completion_tokens": completion_tokens,
        "usage_source": usage_source,
        "client_chunks": len(token_times_s),
        "ttft_s": token_times_s[0] if token_times_s else None,
        "ttfat_s": ttfat,
        "error_class": error_class,
        "schedule_lag_s": schedule_lag_s,
        "started_s": started_s,
        "scheduled_s": scheduled_s,
    }


def test_ttft_is_the_first_delta_and_itl_spans_first_to_last() -> None:
    times = [0.1, 0.2, 0.4, 0.7]
    assert ttft_s(times) == 0.1
    # (t_last - t_first) / (N - 1), not the mean of anything else.
    assert itl_s(times) == pytest.approx((0.7 - 0.1) / 3)
    assert inter_chunk_gaps_s(times) == pytest.approx([0.1, 0.2, 0.3])
    assert ttft_s([]) is None
    assert itl_s([0.1]) is None  # one token has no inter-token latency
    assert inter_chunk_gaps_s([0.1]) == []


def test_ttfat_comes_from_the_row_and_is_absent_without_an_answer() -> None:
    reasoning = row([0.1, 0.2, 0.3], 0.4, ttfat=0.3)
    assert ttft_s(reasoning["token_times_s"]) == 0.1
    assert ttfat_s(reasoning) == 0.3
    assert ttfat_s(row([0.1], 0.2)) is None


def test_output_tokens_prefer_the_server_count_and_name_the_source() -> None:
    # The server packed 10 tokens into 4 chunks: its usage wins over the client's chunk count.
    assert output_tokens(row([0.1, 0.2, 0.3, 0.4], 0.5, completion_tokens=10)) == (10, "server")
    client = row([0.1, 0.2, 0.3], 0.5, completion_tokens=3, usage_source="client")
    assert output_tokens(client) == (3, "client")
    # A server that said "server" but gave no number falls back to the client's count.
    assert output_tokens(row([0.1, 0.2], 0.5, completion_tokens=None)) == (2, "client")


def test_per_request_output_speed_includes_prefill() -> None:
    assert output_tokens_per_s(8, 0.5) == 16.0
    assert output_tokens_per_s(0, 0.5) is None
    assert output_tokens_per_s(8, 0.0) is None


def test_request_series_skips_failures() -> None:
    rows = [
        row([0.1, 0.3], 0.4, completion_tokens=2),
        row([], 0.001, error_class="http_5xx"),
    ]
    series = request_series(rows)
    assert series["ttft_s"] == [0.1]
    assert series["e2e_s"] == [0.4]
    assert series["itl_s"] == pytest.approx([0.2])
    assert series["output_tokens_per_s"] == [5.0]


def test_slo_bounds_each_metric_and_an_empty_slo_accepts_everything() -> None:
    fast = row([0.1, 0.2, 0.3], 0.35)  # ttft 0.1, tpot 0.1, e2e 0.35
    slow = row([0.5, 0.9], 1.0)  # ttft 0.5, tpot 0.4, e2e 1.0
    assert Slo().met(slow)
    assert Slo(ttft_s=0.2).met(fast) and not Slo(ttft_s=0.2).met(slow)
    assert Slo(tpot_s=0.1).met(fast) and not Slo(tpot_s=0.3).met(slow)
    assert Slo(e2e_s=0.35).met(fast) and not Slo(e2e_s=0.99).met(slow)
    assert not Slo(ttft_s=1.0).met(row([], 0.2))  # no token at all: no TTFT to meet
    assert Slo(ttft_s=1.0, tpot_s=0.5).describe() == {"ttft_s": 1.0, "tpot_s": 0.5}


def test_a_single_token_answer_meets_any_tpot_bound() -> None:
    # One output token has no time per output token; it must not fail a TPOT objective
    # (vLLM's goodput counts it as 0), or short answers would vanish from goodput.
    assert Slo(tpot_s=0.05).met(row([0.1], 0.12))
    assert not Slo(ttft_s=0.05, tpot_s=0.05).met(row([0.1], 0.12))


def test_distribution_reports_percentiles_mean_ci_and_n() -> None:
    summary = distribution([1.0, 2.0, 3.0, 4.0])
    assert summary["p50"] == 2.5
    assert summary["mean"] == 2.5
    assert summary["n"] == 4
    low, high = summary["mean_ci95"]
    assert 1.0 <= low <= 2.5 <= high <= 4.0
    assert distribution([]) == {}


def test_summarize_step_by_hand() -> None:
    rows = [
        row([0.1, 0.2, 0.3, 0.4], 0.5, completion_tokens=4, ttfat=0.3),
        row([0.2, 0.25], 0.3, completion_tokens=2, usage_source="client", ttfat=0.2),
        row([], 0.01, error_class="http_5xx"),
        row([0.05], 0.06, error_class="stream_broken"),
    ]
    step = summarize_step(
        "c=2",
        rows,
        duration_s=2.0,
        requested_rate=None,
        concurrency=2,
        loop_lags_s=[0.001, 0.002],
        in_flight_cap_hit=0,
        slo=Slo(ttft_s=0.15),
    )
    assert step["requests"] == 4
    assert step["success_rate"] == 0.5
    assert step["failures"] == {"http_5xx": 1, "stream_broken": 1}
    # Failures are not in any latency figure: two successful requests only.
    assert step["ttft_s"]["n"] == 2 and step["ttft_s"]["mean"] == pytest.approx(0.15)
    assert step["ttfat_s"]["n"] == 2 and step["ttfat_s"]["mean"] == pytest.approx(0.25)
    assert step["itl_s"]["mean"] == pytest.approx((0.1 + 0.05) / 2)
    assert step["inter_chunk_gap_s"]["n"] == 4
    assert step["inter_chunk_gap_s"]["mean"] == pytest.approx((0.1 * 3 + 0.05) / 4)
    assert step["e2e_s"]["mean"] == pytest.approx(0.4)
    assert step["output_tokens_per_s"]["mean"] == pytest.approx((4 / 0.5 + 2 / 0.3) / 2)
    assert step["aggregate_output_tokens_per_s"] == pytest.approx((4 + 2) / 2.0)
    assert step["request_throughput"] == pytest.approx(1.0)
    assert step["goodput"] == pytest.approx(0.5)  # only the first meets ttft <= 0.15 s
    assert step["slo"] == {"ttft_s": 0.15}
    assert step["output_token_source"] == "client+server"
    assert step["output_tokens_server"] == 4
    assert step["output_tokens_client"] == 6
    assert step["client_limited"] is False


def test_summarize_step_with_every_request_failed() -> None:
    rows = [row([], 0.01, error_class="rate_limited")] * 3
    step = summarize_step(
        "sync",
        rows,
        duration_s=0.03,
        requested_rate=None,
        concurrency=1,
        loop_lags_s=[],
        in_flight_cap_hit=0,
        slo=Slo(),
    )
    assert step["success_rate"] == 0.0
    assert step["failures"] == {"rate_limited": 3}
    assert step["ttft_s"] == {} and step["e2e_s"] == {}
    assert step["request_throughput"] == 0.0
    assert step["output_token_source"] == "none"


def _open_loop_rows(rate: float, lag_s: float, count: int = 20) -> list[dict[str, Any]]:
    return [
        row(
            [0.01],
            0.02,
            scheduled_s=i / rate,
            started_s=i / rate + lag_s * i,
            schedule_lag_s=lag_s * i,
        )
        for i in range(count)
    ]


def test_client_integrity_flags_late_starts_and_a_low_send_rate() -> None:
    on_time = client_integrity(_open_loop_rows(100, 0.0), [0.001] * 10, 100.0, 0)
    assert on_time["client_limited"] is False and on_time["reasons"] == []
    assert on_time["achieved_send_rate"] == pytest.approx(100.0)

    # Each start 5 ms later than the last: lag grows to 95 ms, the send rate falls to ~67/s.
    late = client_integrity(_open_loop_rows(100, 0.005), [0.001] * 10, 100.0, 0)
    assert late["client_limited"] is True
    assert any("scheduling lag" in reason for reason in late["reasons"])
    assert any("scheduled" in reason for reason in late["reasons"])


def test_client_integrity_flags_event_loop_lag_and_the_in_flight_cap() -> None:
    rows = _open_loop_rows(100, 0.0)
    stalled = client_integrity(rows, [0.001] * 98 + [0.2, 0.3], 100.0, 0)
    assert stalled["client_limited"] and "event-loop lag" in stalled["reasons"][0]
    capped = client_integrity(rows, [0.001] * 10, 100.0, 7)
    assert capped["reasons"] == ["in-flight cap reached 7 times"]
    # Closed loop (no requested rate): start lag is not judged against a schedule.
    closed = client_integrity(_open_loop_rows(100, 0.005), [0.001] * 10, None, 0)
    assert closed["client_limited"] is False
