"""`assay monitor`: scheduled probes stored as perf runs, and the report over days.

Endpoints are stub servers on loopback; the multi-day history is written through the store API
with `created` timestamps spread over days.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from assay._errors import SpecError
from assay.perf._monitor import (
    daily_medians,
    detect_changes,
    load_monitor_config,
    next_due,
    probe_summary,
    run_monitor,
)
from assay.report._monitor_html import monitor_results, write_monitor_report
from assay.store import Store
from assay.testing import StubConfig, StubServer
from helpers import assay_command, free_port, interruptible, run_assay, subprocess_env

KEY_ENV = "ASSAY_TEST_MONITOR_KEY"
KEY = "sk-monitor-test-9f8e7d6c5b4a"
DAY0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


class KeyRecordingStub(StubServer):
    """A stub that remembers the Authorization header of every completion request."""

    def __init__(self, config: StubConfig | None = None) -> None:
        super().__init__(config)
        self.authorizations: list[str | None] = []

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        self.authorizations.append(request.headers.get("Authorization"))
        return await super()._completions(request)


def assert_user_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assay: error: ")
    return lines[0]


def endpoint_yaml(name: str, url: str, *, every: str = "1h", extra: str = "") -> str:
    return (
        f"  - name: {name}\n"
        f"    url: {url}\n"
        "    workload: {prompt_tokens: 8, output_tokens: 4, requests: 4, concurrency: 2}\n"
        f"    schedule: {{every: {every}}}\n"
        f"{extra}"
    )


def write_config(path: Path, *endpoints: str) -> Path:
    path.write_text("endpoints:\n" + "".join(endpoints), encoding="utf-8")
    return path


def monitor_runs(store_url: str) -> list[dict[str, Any]]:
    store = Store(store_url)
    try:
        return [r for r in store.list_runs() if "monitor" in r["manifest"]]
    finally:
        store.close()


@pytest.fixture
def stubs() -> Iterator[tuple[KeyRecordingStub, StubServer]]:
    """A healthy endpoint (which records the key it is sent) and one whose requests all fail."""
    good = KeyRecordingStub(StubConfig(ttft_s=0.002, itl_s=0.001))
    failing = StubServer(StubConfig(faults=("500",), cycle_faults=True))
    with good, failing:
        yield good, failing


# -- probing ------------------------------------------------------------------------------


def test_once_twice_stores_four_probes_and_never_the_key(
    stubs: tuple[KeyRecordingStub, StubServer], tmp_path: Path
) -> None:
    good, failing = stubs
    key_line = f"    api_key_env: {KEY_ENV}\n"
    config = write_config(
        tmp_path / "monitor.yaml",
        endpoint_yaml("good", good.url, extra=key_line),
        endpoint_yaml("failing", failing.url),
    )
    out = tmp_path / "out"
    outputs = []
    for _ in range(2):
        result = run_assay(
            "monitor", "run", str(config), "--once", "--out", str(out), env={KEY_ENV: KEY}
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("monitor: good: 100% ok") == 1, result.stdout
        assert result.stdout.count("monitor: failing: 0% ok") == 1, result.stdout
        outputs.append(result.stdout + result.stderr)

    # The key went to the server, in the header only.
    assert good.authorizations and set(good.authorizations) == {f"Bearer {KEY}"}
    assert failing.log.faults["500"] > 0

    url = f"sqlite:///{out / 'assay.db'}"
    runs = monitor_runs(url)
    assert len(runs) == 4
    assert sorted(r["manifest"]["monitor"]["endpoint"] for r in runs) == [
        "failing",
        "failing",
        "good",
        "good",
    ]
    assert {r["manifest"]["monitor"]["config"] for r in runs} == {str(config.resolve())}
    assert all(r["manifest"]["kind"] == "perf" for r in runs)
    store = Store(url)
    try:
        summaries = [probe_summary(store.read_run(r["run_id"])) for r in runs]
    finally:
        store.close()
    rates = {(s["endpoint"], s["success_rate"]) for s in summaries if s is not None}
    assert rates == {("good", 1.0), ("failing", 0.0)}

    report = run_assay("monitor", "report", "--out", str(out))
    assert report.returncode == 0, report.stderr
    html_path, json_path = out / "monitor" / "monitor.html", out / "monitor" / "monitor.json"
    results = json.loads(json_path.read_text("utf-8"))
    assert [e["name"] for e in results["endpoints"]] == ["failing", "good"]
    assert [len(e["probes"]) for e in results["endpoints"]] == [2, 2]
    html = html_path.read_text("utf-8")
    assert "failing" in html and "good" in html and "Plotly.newPlot" in html
    assert "<script src" not in html  # offline: nothing loaded from elsewhere

    stored = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert stored and not any(KEY.encode() in blob for blob in stored)
    assert not any(KEY in text for text in [*outputs, report.stdout, report.stderr])


def test_unreachable_endpoint_is_a_failed_probe_not_a_crash(tmp_path: Path) -> None:
    url_given = f"http://127.0.0.1:{free_port()}/v1"
    config = write_config(tmp_path / "monitor.yaml", endpoint_yaml("down", url_given + "/"))
    lines: list[str] = []
    url = f"sqlite:///{tmp_path / 'store.db'}"
    run_ids = run_monitor(config, store_url=url, once=True, log=lines.append)

    assert len(run_ids) == 1 and "0% ok" in lines[0] and "connection 4" in lines[0]
    store = Store(url)
    try:
        data = store.read_run(run_ids[0])
    finally:
        store.close()
    assert data.run["status"] == "failed"
    assert "cannot reach the server" in data.run["manifest"]["monitor"]["error"]
    # Recorded under the identity a successful probe of the endpoint has.
    assert data.run["target_spec"] == f"openai:{url_given}"
    summary = probe_summary(data)
    assert summary is not None
    assert summary["success_rate"] == 0.0 and summary["failures"] == {"connection": 4}
    assert summary["ttft_p50_s"] is None


def test_loop_with_max_cycles_probes_on_schedule_and_stops(
    stubs: tuple[KeyRecordingStub, StubServer], tmp_path: Path
) -> None:
    good, failing = stubs
    config = write_config(
        tmp_path / "monitor.yaml",
        endpoint_yaml("good", good.url, every="1s"),
        endpoint_yaml("failing", failing.url, every="1s"),
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    run_ids = run_monitor(config, store_url=url, max_cycles=2)

    assert len(run_ids) == 4
    runs = monitor_runs(url)
    for name in ("good", "failing"):
        created = sorted(r["created"] for r in runs if r["manifest"]["monitor"]["endpoint"] == name)
        assert len(created) == 2
        # The second probe waited for its slot, one period after the first was due.
        assert (created[1] - created[0]).total_seconds() > 0.5


def test_ctrl_c_stops_the_monitor_with_130(
    stubs: tuple[KeyRecordingStub, StubServer], tmp_path: Path
) -> None:
    good, _ = stubs
    config = write_config(tmp_path / "monitor.yaml", endpoint_yaml("good", good.url, every="1h"))
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*assay_command(), "monitor", "run", str(config), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        preexec_fn=interruptible,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _stored_monitor_runs(out / "assay.db"):
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)  # while it sleeps until the next probe is due
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "monitor stopped" in stderr
    assert len(monitor_runs(f"sqlite:///{out / 'assay.db'}")) == 1


def _stored_monitor_runs(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        try:
            rows = conn.execute("SELECT manifest FROM runs WHERE status = 'complete'").fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return 0
    return sum("monitor" in json.loads(manifest) for (manifest,) in rows)


def test_next_due_keeps_the_cadence_and_skips_missed_slots() -> None:
    assert next_due(100.0, 60.0, now=130.0) == 160.0
    assert next_due(100.0, 60.0, now=170.0) == 220.0  # the probe overran the 160 slot
    assert next_due(100.0, 60.0, now=220.0) == 280.0


# -- config errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    workload: {requests: 2, bogus: 1}\n", "field 'workload.bogus': Extra inputs"),
        (
            "    schedule: {every: 15 minutes}\n",
            "field 'schedule.every': write a positive duration",
        ),
        ("    api_key_env: sk-pasted-the-key\n", "field 'api_key_env': give the name"),
        ("    colour: blue\n", "field 'colour': Extra inputs"),
    ],
)
def test_config_errors_are_one_line_naming_file_endpoint_and_field(
    tmp_path: Path, extra: str, expected: str
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(f"endpoints:\n  - name: prod\n    url: http://127.0.0.1:1/v1\n{extra}")
    line = assert_user_error(
        run_assay("monitor", "run", str(config), "--once", "--out", str(tmp_path))
    )
    assert str(config.resolve()) in line and "endpoint 'prod'" in line and expected in line, line
    assert "sk-pasted" not in line
    assert not (tmp_path / "assay.db").exists()  # nothing probed, nothing opened


def test_missing_key_variable_and_bad_files_are_user_errors(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.yaml",
        endpoint_yaml("prod", "http://127.0.0.1:1/v1", extra=f"    api_key_env: {KEY_ENV}\n"),
    )
    line = assert_user_error(
        run_assay("monitor", "run", str(config), "--once", "--out", str(tmp_path))
    )
    assert f"environment variable {KEY_ENV} is not set" in line

    toml = tmp_path / "monitor.toml"
    toml.write_text('store = "sqlite:///x.db"\n[[endpoints]]\nname = "a"\nurl = "ftp://x"\n')
    with pytest.raises(SpecError, match=r"endpoint 'a': field 'url': not an http\(s\) URL"):
        load_monitor_config(toml)
    # The probe target's own check, at load time: a port out of range, no host.
    for bad in ("http://127.0.0.1:99999/v1", "http:///v1"):
        toml.write_text(f'store = "sqlite:///x.db"\n[[endpoints]]\nname = "a"\nurl = "{bad}"\n')
        with pytest.raises(SpecError, match=r"endpoint 'a': field 'url': not an http\(s\) URL"):
            load_monitor_config(toml)
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "endpoints:\n  - {name: a, url: 'http://h/v1'}\n  - {name: a, url: 'http://h/v1'}\n"
    )
    with pytest.raises(SpecError, match=r"field 'endpoints': endpoint names must be unique"):
        load_monitor_config(twice)
    with pytest.raises(SpecError, match="field 'endpoints'"):
        load_monitor_config(write_config(tmp_path / "empty.yaml"))


# -- the report over days ---------------------------------------------------------------------


def store_probe(
    store: Store,
    endpoint: str,
    created: dt.datetime,
    *,
    ttft_s: float,
    failed: int = 0,
    requests: int = 8,
    tokens: int = 10,
    itl_s: float = 0.01,
) -> None:
    """One probe as `monitor run` stores it: a perf run, its step, its requests."""
    run_id = f"{endpoint}-{created:%Y%m%dT%H%M}"
    e2e_s = ttft_s + (tokens - 1) * itl_s
    store.create_run(
        {
            "run_id": run_id,
            "created": created,
            "updated": created,
            "status": "complete",
            "assay_version": "test",
            "target_spec": f"openai:http://{endpoint}.example/v1",
            "model": "m",
            "capabilities": {},
            "manifest": {
                "kind": "perf",
                "profile": {"kind": "concurrent"},
                "workload": {},
                "slo": {},
                "monitor": {"endpoint": endpoint, "config": "monitor.yaml"},
            },
            "invocations": [],
        }
    )
    meta = {
        "kind": "step",
        "name": "c=4",
        "concurrency": 4,
        "rate": None,
        "duration_s": 2 * e2e_s,  # 8 requests, 4 at a time
        "loop_lag_s": [],
        "in_flight_cap_hit": 0,
    }
    rows = [{"run_id": run_id, "step": "c=4", "request_id": None, "data": meta}]
    for index in range(requests):
        ok = index >= failed
        data = {
            "kind": "request",
            "index": index,
            "scheduled_s": 0.0,
            "started_s": 0.0,
            "schedule_lag_s": 0.0,
            "token_times_s": [ttft_s + i * itl_s for i in range(tokens)] if ok else [],
            "ttfat_s": ttft_s if ok else None,
            "e2e_s": e2e_s,
            "completion_tokens": tokens if ok else None,
            "usage_source": "server" if ok else "client",
            "client_chunks": tokens if ok else 0,
            "error_class": None if ok else "http_5xx",
        }
        rows.append({"run_id": run_id, "step": "c=4", "request_id": index, "data": data})
    store.write_perf(rows)


@pytest.fixture
def history(tmp_path: Path) -> Iterator[Store]:
    """Ten days, two probes a day (06:00 and 18:00 UTC, TTFT 5% under and over the day's value).

    steady: TTFT 100 ms, but 300 ms on day 1 (too little history yet to call it a change).
    regress: TTFT 100 ms; day 5 half the requests fail; day 8 TTFT doubles; day 9 recovers.
    """
    store = Store(f"sqlite:///{tmp_path / 'history.db'}")
    for day in range(10):
        for hour, factor in ((6, 0.95), (18, 1.05)):
            when = DAY0 + dt.timedelta(days=day, hours=hour)
            steady = 0.3 if day == 1 else 0.1
            store_probe(store, "steady", when, ttft_s=steady * factor)
            regress = 0.2 if day == 8 else 0.1
            store_probe(
                store, "regress", when, ttft_s=regress * factor, failed=4 if day == 5 else 0
            )
    yield store
    store.close()


def test_daily_medians_of_stored_probes(history: Store) -> None:
    results = monitor_results(history)
    by_name = {e["name"]: e for e in results["endpoints"]}
    assert sorted(by_name) == ["regress", "steady"]
    days = by_name["regress"]["daily"]
    assert [d["day"] for d in days] == [f"2025-03-{n:02d}" for n in range(1, 11)]
    assert all(d["probes"] == 2 for d in days)
    # The median of 0.095 and 0.105 (each probe's TTFT p50), and of 0.19 and 0.21 on day 8.
    assert days[0]["ttft_p50_s"] == pytest.approx(0.1)
    assert days[8]["ttft_p50_s"] == pytest.approx(0.2)
    assert days[5]["success_rate"] == 0.5 and days[4]["success_rate"] == 1.0
    # 10 tokens per request over e2e = ttft + 9 × 10 ms; aggregate = tokens / step duration.
    assert days[0]["output_tokens_per_s_p50"] == pytest.approx(
        (10 / (0.095 + 0.09) + 10 / (0.105 + 0.09)) / 2
    )
    assert days[0]["aggregate_output_tokens_per_s"] == pytest.approx(
        (80 / (2 * (0.095 + 0.09)) + 80 / (2 * (0.105 + 0.09))) / 2
    )
    assert by_name["regress"]["latest"]["created"] == "2025-03-10T18:00:00+00:00"


def test_changes_are_flagged_against_the_previous_seven_days(history: Store) -> None:
    results = monitor_results(history)
    by_name = {e["name"]: e for e in results["endpoints"]}
    assert by_name["steady"]["changes"] == []  # day 1 had no baseline of 3 days yet
    flagged = {(c["day"], c["metric"], c["direction"]) for c in by_name["regress"]["changes"]}
    assert flagged == {
        ("2025-03-06", "success_rate", "worse"),
        ("2025-03-06", "aggregate_output_tokens_per_s", "worse"),  # half the requests failed
        ("2025-03-09", "ttft_p50_s", "worse"),
        ("2025-03-09", "ttft_p90_s", "worse"),
        ("2025-03-09", "aggregate_output_tokens_per_s", "worse"),
        ("2025-03-09", "output_tokens_per_s_p50", "worse"),
    }
    ttft = next(c for c in by_name["regress"]["changes"] if c["metric"] == "ttft_p50_s")
    assert ttft["baseline"] == pytest.approx(0.1) and ttft["change"] == pytest.approx(1.0)


def test_change_rule_needs_three_days_within_the_window() -> None:
    def day(number: int, ttft: float) -> dict[str, Any]:
        return {
            "day": (DAY0 + dt.timedelta(days=number)).date().isoformat(),
            "probes": 1,
            "success_rate": 1.0,
            "ttft_p50_s": ttft,
            "ttft_p90_s": None,
            "aggregate_output_tokens_per_s": None,
            "output_tokens_per_s_p50": None,
        }

    # Day 3 has three days behind it; day 20 has none within seven days; a 19% move is noise.
    days = [day(0, 0.1), day(1, 0.1), day(2, 0.1), day(3, 0.13), day(20, 0.5)]
    assert [(c.day, c.metric, c.direction) for c in detect_changes(days)] == [
        ("2025-03-04", "ttft_p50_s", "worse")
    ]
    assert detect_changes([*days[:3], day(3, 0.119)]) == []
    assert detect_changes([*days[:3], day(3, 0.07)])[0].direction == "better"


def test_daily_medians_leave_out_probes_without_a_value() -> None:
    probes = [
        {"created": "2025-03-01T06:00:00+00:00", "success_rate": 0.0, "ttft_p50_s": None},
        {"created": "2025-03-01T07:00:00+00:00", "success_rate": 1.0, "ttft_p50_s": 0.2},
        {"created": "2025-03-01T08:00:00+00:00", "success_rate": 1.0, "ttft_p50_s": 0.4},
    ]
    for probe in probes:
        probe.update(
            ttft_p90_s=None, aggregate_output_tokens_per_s=None, output_tokens_per_s_p50=None
        )
    (row,) = daily_medians(probes)
    assert row["success_rate"] == 1.0 and row["ttft_p50_s"] == pytest.approx(0.3)
    assert row["aggregate_output_tokens_per_s"] is None


def test_report_files_highlight_changes_and_filter_endpoints(
    history: Store, tmp_path: Path
) -> None:
    json_path, html_path = write_monitor_report(history, tmp_path, ["regress"])
    assert json_path == tmp_path / "monitor" / "monitor.json"
    results = json.loads(json_path.read_text("utf-8"))
    assert [e["name"] for e in results["endpoints"]] == ["regress"]
    assert "previous 7 calendar days" in results["change_rule"]
    html = html_path.read_text("utf-8")
    assert results["change_rule"] in html
    assert html.count("Plotly.newPlot") == 5  # one chart per metric
    assert '<td class="num worse">200.0 ms</td>' in html
    assert "steady" not in html

    with pytest.raises(SpecError, match="unknown endpoint 'regres': did you mean 'regress'"):
        write_monitor_report(history, tmp_path, ["regres"])


def test_report_without_probes_is_a_user_error(tmp_path: Path) -> None:
    line = assert_user_error(run_assay("monitor", "report", "--out", str(tmp_path)))
    assert "no monitor probes" in line
