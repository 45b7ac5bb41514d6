"""The HTML report of `assay perf` runs: real runs against the stub server on loopback, stored in
a real SQLite store, rendered from results.json and the store's rows.

Latency values are not checked here (tests/perf does that); these tests check what the page
shows and hides.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.offline
import pytest

from assay._api import perf_async
from assay.perf import _runner
from assay.perf._perf import PerfOptions, parse_slo
from assay.perf._profiles import LoadProfile
from assay.report._html import (
    CLIENT_LIMITED_TEXT,
    fmt_lag,
    fmt_ms_value,
    render_html,
    slo_text,
)
from assay.report._results import build_results
from assay.store import RunData, Store
from assay.testing import StubConfig, StubServer

CAPABILITY_SECTIONS = ("Scores by task", "Scores by dimension", "Sample responses")
CAPABILITY_FIGURES = ("fig-tasks", "fig-dimensions", "fig-radar", "fig-latency")
PERF_SECTIONS = ("Load test", "Outcomes and throughput", "Client integrity")


@dataclass
class PerfRun:
    results: dict[str, Any]
    data: RunData
    page: str


def _perf_run(out: Path, run_id: str, options: PerfOptions, config: StubConfig) -> PerfRun:
    with StubServer(config) as server:
        asyncio.run(perf_async(f"openai:{server.url}", options, out_dir=out, run_id=run_id))
    store = Store(f"sqlite:///{out / 'assay.db'}")
    try:
        data = store.read_run(run_id)
    finally:
        store.close()
    results = build_results(data)
    # perf_async wrote the same report from the same store.
    written = json.loads((out / run_id / "results.json").read_text("utf-8"))
    assert written["perf"]["steps"] == json.loads(json.dumps(results["perf"]["steps"]))
    return PerfRun(results, data, render_html(results, data))


def _stub() -> StubConfig:
    return StubConfig(ttft_s=0.01, itl_s=0.002)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> PerfRun:
    profile = LoadProfile("sweep", concurrency=(1, 4), requests=10)
    options = PerfOptions(profile, prompt_tokens=32, output_tokens=16, slo=parse_slo("ttft=50ms"))
    return _perf_run(tmp_path_factory.mktemp("sweep"), "sweep", options, _stub())


@pytest.fixture(scope="module")
def constant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PerfRun]:
    # 200 req/s of ~16 ms requests keeps 3-4 in flight; with the client's in-flight cap at 2
    # the client, not the server, sets the pace, and the step must be flagged as such.
    profile = LoadProfile("constant", rates_per_s=(200.0,), requests=10)
    options = PerfOptions(profile, prompt_tokens=16, output_tokens=8)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_runner, "MAX_IN_FLIGHT", 2)
        yield _perf_run(tmp_path_factory.mktemp("constant"), "constant", options, _stub())


def _figure_data(page: str, div_id: str) -> list[dict[str, Any]]:
    """The traces passed to Plotly.newPlot for one figure."""
    found = re.search(rf'Plotly\.newPlot\("{div_id}", \.\.\.(.*?)\);</script>', page)
    assert found, f"no figure {div_id}"
    traces: list[dict[str, Any]] = json.loads(found.group(1))[0]
    return traces


def _without_plotly_bundle(page: str) -> str:
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1, "Plotly's JS must be inlined exactly once"
    return page.replace(bundle, "")


def test_sweep_report_shows_workload_slo_and_per_step_tables(sweep: PerfRun) -> None:
    page = _without_plotly_bundle(sweep.page)
    steps = sweep.results["perf"]["steps"]
    assert [s["step"] for s in steps] == ["c=1", "c=4"]

    for heading in PERF_SECTIONS:
        assert heading in page
    # Workload and SLO.
    assert "Load test · <code>sweep</code>" in page
    assert "32 tokens" in page and "16 tokens" in page
    assert "<th>Length calibration</th><td>usage: the server has no tokenize endpoint;" in page
    assert "<th>Output-length control</th><td>max_tokens only</td>" in page
    assert "<th>Shared prefix</th><td>none</td>" in page
    assert "TTFT ≤ 50.0 ms" in page
    # The manifest shows the load profile, not an empty suite spec.
    assert '<th>profile</th><td class="mono">sweep</td>' in page
    assert '<th>concurrency</th><td class="mono">1, 4</td>' in page

    for step in steps:
        assert f"<code>{step['step']}</code>" in page
        for metric in ("ttft_s", "ttfat_s", "itl_s", "e2e_s"):
            for p in ("p50", "p90", "p99"):
                assert f">{fmt_ms_value(step[metric][p])}</td>" in page
        assert f">{step['aggregate_output_tokens_per_s']:.1f}</td>" in page
        assert f">{step['request_throughput']:.2f}</td>" in page
        assert f">{step['goodput']:.2f}</td>" in page
        assert f"{step['success_rate'] * 100:.1f}%" in page
        # The token-count source and both totals.
        assert step["output_token_source"] == "server"
        server, client = step["output_tokens_server"], step["output_tokens_client"]
        assert re.search(rf"server {server}\s+·\s+client {client}", page)
        # Scheduling and event-loop lag percentiles.
        for lag in (step["client"]["schedule_lag_s"], step["client"]["event_loop_lag_s"]):
            assert f">{fmt_lag(lag['p50'])}</td>" in page
            assert f">{fmt_lag(lag['p99'])}</td>" in page


def test_sweep_report_plots_latency_against_throughput(sweep: PerfRun) -> None:
    steps = sweep.results["perf"]["steps"]
    traces = _figure_data(sweep.page, "fig-perf-sweep")
    by_name = {trace["name"]: trace for trace in traces}
    assert set(by_name) == {"TTFT p50", "TTFT p99", "ITL p50"}
    for trace in traces:
        assert trace["text"] == ["c=1", "c=4"]  # one point per step, labelled by it
        assert trace["x"] == [s["request_throughput"] for s in steps]
    assert by_name["TTFT p99"]["y"] == pytest.approx([s["ttft_s"]["p99"] * 1000 for s in steps])
    assert by_name["ITL p50"]["y"] == pytest.approx([s["itl_s"]["p50"] * 1000 for s in steps])
    # A button switches the x axis to aggregate output tokens/s.
    assert "aggregate output tokens/s" in sweep.page
    aggregate = [s["aggregate_output_tokens_per_s"] for s in steps]
    assert json.dumps([aggregate] * 3)[1:-1] in sweep.page


def test_ttft_cdf_has_one_curve_per_step_from_the_request_rows(sweep: PerfRun) -> None:
    traces = _figure_data(sweep.page, "fig-perf-ttft")
    assert [t["name"] for t in traces] == ["c=1 (n=10)", "c=4 (n=10)"]
    for trace, step in zip(traces, sweep.results["perf"]["steps"], strict=True):
        stored = [
            r["data"]["token_times_s"][0] * 1000
            for r in sweep.data.perf_samples
            if r["step"] == step["step"] and r["data"]["kind"] == "request"
        ]
        assert trace["x"] == pytest.approx(sorted(stored))
        assert trace["y"][-1] == 1.0


def test_perf_report_hides_the_empty_capability_sections(sweep: PerfRun) -> None:
    assert sweep.results["tasks"] == []
    for heading in (*CAPABILITY_SECTIONS, "Requests and errors", "Serving</h2>"):
        assert heading not in sweep.page
    for figure in CAPABILITY_FIGURES:
        assert f'id="{figure}"' not in sweep.page
    assert "No tasks in this run." not in sweep.page


def test_warnings_only_for_client_limited_steps(sweep: PerfRun) -> None:
    limited = [s for s in sweep.results["perf"]["steps"] if s["client_limited"]]
    assert sweep.page.count('class="warning"') == len(limited)


def test_constant_rate_report_flags_the_client_limited_step(constant: PerfRun) -> None:
    perf = constant.results["perf"]
    (step,) = perf["steps"]
    assert step["step"] == "constant 200/s" and perf["profile"] == "constant"
    assert step["client_limited"] and perf["client_limited"]
    page = _without_plotly_bundle(constant.page)

    assert page.count('class="warning"') == 1
    box = page[page.index('class="warning"') :]
    box = box[: box.index("</div>")]
    assert "<code>constant 200/s</code>" in box
    assert CLIENT_LIMITED_TEXT in box
    assert step["client"]["reasons"]
    for reason in step["client"]["reasons"]:
        assert f"<li>{html.escape(reason, quote=False)}</li>" in box
    assert any("in-flight cap" in reason for reason in step["client"]["reasons"])
    # It comes before any measurement, and the step is tagged where its numbers are.
    assert page.index('class="warning"') < page.index("Outcomes and throughput")
    assert "client-limited</span>" in page
    # Open loop: the requested and the achieved send rates are both shown.
    assert f">{step['client']['requested_rate']:.2f}</td>" in page
    assert f">{step['client']['achieved_send_rate']:.2f}</td>" in page
    # One step: a CDF, but no latency-vs-throughput plot.
    assert 'id="fig-perf-ttft"' in page
    assert 'id="fig-perf-sweep"' not in page
    assert "none (goodput counts every successful request)" in page
    for heading in CAPABILITY_SECTIONS:
        assert heading not in page


def test_failure_classes_are_shown_with_the_success_rate(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"p{i}"}) + "\n" for i in range(5)))
    config = StubConfig(ttft_s=0.01, itl_s=0.002, faults=("500", "ok", "429", "ok", "500"))
    options = PerfOptions(LoadProfile("sync", requests=5), output_tokens=8, prompts_file=prompts)
    run = _perf_run(tmp_path / "out", "faults", options, config)

    assert run.results["perf"]["failures"] == {"http_5xx": 2, "rate_limited": 1}
    assert "40.0%" in run.page
    assert "http_5xx ×2, rate_limited ×1" in run.page
    assert "<th>Length calibration</th><td>file: prompts read from a file are sent" in run.page


def test_perf_values_are_escaped(sweep: PerfRun) -> None:
    attack = "<script>alert(1)</script>"
    results = json.loads(json.dumps(sweep.results))
    results["perf"]["workload"]["source"] = attack
    results["perf"]["steps"][0]["failures"] = {attack: 1}
    results["perf"]["steps"][0]["client_limited"] = True
    results["perf"]["steps"][0]["client"]["reasons"] = [attack]

    page = render_html(results, sweep.data)

    assert attack not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_perf_page_works_offline(sweep: PerfRun) -> None:
    page = _without_plotly_bundle(sweep.page)
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert "https://" not in page


def test_capability_report_keeps_its_sections(tmp_path: Path) -> None:
    from test_html import _fill_run  # tests/report is on sys.path (rootdir-less test dirs)

    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        data = _fill_run(store, "capability")
    finally:
        store.close()
    results = build_results(data)
    assert "perf" not in results
    page = render_html(results, data)

    for heading in (*CAPABILITY_SECTIONS, "Requests and errors", "Serving</h2>"):
        assert heading in page
    for figure in CAPABILITY_FIGURES:
        assert f'id="{figure}"' in page
    for heading in PERF_SECTIONS:
        assert heading not in page
    assert 'class="warning"' not in page


def test_formatters() -> None:
    assert fmt_ms_value(None) == "—"
    assert fmt_ms_value(0.002181) == "2.18"
    assert fmt_ms_value(0.0108) == "10.8"
    assert fmt_ms_value(1.2345) == "1234"
    assert fmt_lag(6e-7) == "0.6 µs"
    assert fmt_lag(0.0123) == "12.3 ms"
    assert slo_text({"ttft_s": 1.0, "tpot_s": 0.05}) == "TTFT ≤ 1000.0 ms, TPOT ≤ 50.0 ms"
