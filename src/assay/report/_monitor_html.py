"""The monitor report: every stored probe per endpoint over time, as monitor.json and one
self-contained HTML page (daily medians, changes highlighted, the latest probe of each endpoint).

Read from the store alone: runs whose manifest carries a "monitor" mark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assay._errors import SpecError
from assay._version import __version__
from assay.core import did_you_mean
from assay.perf._monitor import (
    CHANGE_RULE,
    MONITOR_METRICS,
    MonitorMetric,
    daily_medians,
    detect_changes,
    probe_summary,
)
from assay.report._html import (
    MISSING,
    _environment,
    _figure,
    _figure_html,
    _plotly_js,
    fmt_ms,
    fmt_number,
)
from assay.store._store import Store, utcnow

# One colour per endpoint, shared by its probes, its daily medians and its highlighted days.
_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#9d755d", "#72b7b2", "#eeca3b")
_WORSE, _BETTER = "#cf222e", "#1a7f37"


# -- the data ---------------------------------------------------------------------------------


def monitor_results(store: Store, endpoints: Sequence[str] = ()) -> dict[str, Any]:
    """Probes, daily medians and highlighted changes per endpoint (the content of monitor.json)."""
    probes = []
    for run in store.list_runs():  # ordered by creation
        if isinstance(run["manifest"].get("monitor"), dict):
            summary = probe_summary(store.read_run(run["run_id"]))
            if summary is not None:
                probes.append(summary)
    if not probes:
        raise SpecError("no monitor probes in the store; run `assay monitor run CONFIG` first")
    known = sorted({p["endpoint"] for p in probes})
    for name in endpoints:
        if name not in known:
            raise SpecError(did_you_mean("endpoint", name, known, "endpoints with probes"))
    chosen = list(dict.fromkeys(endpoints)) or known
    return {
        "generated": utcnow().isoformat(timespec="seconds"),
        "assay_version": __version__,
        "change_rule": CHANGE_RULE,
        "metrics": [asdict(metric) for metric in MONITOR_METRICS],
        "endpoints": [
            _endpoint_results(name, [p for p in probes if p["endpoint"] == name]) for name in chosen
        ],
    }


def _endpoint_results(name: str, probes: list[dict[str, Any]]) -> dict[str, Any]:
    days = daily_medians(probes)
    return {
        "name": name,
        "target": probes[-1]["target"],
        "probes": probes,
        "latest": probes[-1],
        "daily": days,
        "changes": [asdict(change) for change in detect_changes(days)],
    }


# -- the page ---------------------------------------------------------------------------------


def _display(metric: MonitorMetric, value: float | None) -> float | None:
    """Plotted value: latencies in ms, success rate in %."""
    if value is None:
        return None
    if metric.unit == "s":
        return value * 1000
    return value * 100 if metric.unit == "fraction" else value


def _axis_title(metric: MonitorMetric) -> str:
    return {"s": "ms", "fraction": "% of requests", "tok/s": "tokens/s"}[metric.unit]


def fmt_value(metric: MonitorMetric, value: float | None) -> str:
    if value is None:
        return MISSING
    if metric.unit == "s":
        return fmt_ms(value)
    if metric.unit == "fraction":
        return f"{value * 100:.1f}%"
    return fmt_number(value)


def fmt_change(metric: MonitorMetric, change: float) -> str:
    if metric.unit == "fraction":
        return f"{change * 100:+.1f} points"
    return f"{change * 100:+.0f}%"


def metric_figure(
    metric: MonitorMetric, endpoints: Sequence[dict[str, Any]], div_id: str
) -> str | None:
    """One line chart: each endpoint's daily medians, its probes faintly, changes circled."""
    traces: list[dict[str, Any]] = []
    for number, endpoint in enumerate(endpoints):
        colour = _PALETTE[number % len(_PALETTE)]
        probes = endpoint["probes"]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [p["created"] for p in probes],
                "y": [_display(metric, p[metric.key]) for p in probes],
                "name": f"{endpoint['name']} probes",
                "showlegend": False,
                "opacity": 0.35,
                "hovertemplate": "%{x}: %{y:.1f}<extra>probe</extra>",
                "legendgroup": endpoint["name"],
                "marker": {"color": colour, "size": 5},
            }
        )
        days = endpoint["daily"]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [f"{d['day']}T12:00:00" for d in days],
                "y": [_display(metric, d[metric.key]) for d in days],
                "name": endpoint["name"],
                "line": {"color": colour, "width": 2},
                "connectgaps": False,
                "hovertemplate": "%{x|%Y-%m-%d}: median %{y:.1f}<extra>%{fullData.name}</extra>",
                "legendgroup": endpoint["name"],
                "marker": {"color": colour},
            }
        )
        for direction, line in (("worse", _WORSE), ("better", _BETTER)):
            flagged = [
                c
                for c in endpoint["changes"]
                if c["metric"] == metric.key and c["direction"] == direction
            ]
            if flagged:
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "x": [f"{c['day']}T12:00:00" for c in flagged],
                        "y": [_display(metric, c["value"]) for c in flagged],
                        "name": f"{endpoint['name']}: {direction}",
                        "legendgroup": endpoint["name"],
                        "marker": {
                            "symbol": "circle-open",
                            "size": 16,
                            "color": line,
                            "line": {"width": 3, "color": line},
                        },
                        "hovertemplate": f"%{{x|%Y-%m-%d}}: {direction}<extra></extra>",
                    }
                )
    if not any(v is not None for trace in traces for v in trace["y"]):
        return None
    fig = _figure(
        traces,
        f"{metric.label} — daily median per endpoint",
        height=360,
        xaxis={"type": "date"},
        yaxis={"title": {"text": _axis_title(metric)}, "rangemode": "tozero"},
    )
    return _figure_html(fig, div_id)


def _latest_rows(endpoints: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for endpoint in endpoints:
        latest = endpoint["latest"]
        failures = ", ".join(f"{k} {v}" for k, v in sorted(latest["failures"].items()))
        rows.append(
            {
                "endpoint": endpoint["name"],
                "target": latest["target"],
                "created": latest["created"][:16].replace("T", " "),
                "run_id": latest["run_id"],
                "requests": latest["requests"],
                "values": [fmt_value(m, latest[m.key]) for m in MONITOR_METRICS],
                "failures": failures or MISSING,
                "error": latest["error"] or "",
                "bad": not latest["success_rate"],
                "client_limited": latest["client_limited"],
            }
        )
    return rows


def _change_rows(endpoints: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    metrics = {metric.key: metric for metric in MONITOR_METRICS}
    rows = []
    for endpoint in endpoints:
        for change in endpoint["changes"]:
            metric = metrics[change["metric"]]
            rows.append(
                {
                    "endpoint": endpoint["name"],
                    "day": change["day"],
                    "metric": metric.label,
                    "value": fmt_value(metric, change["value"]),
                    "baseline": fmt_value(metric, change["baseline"]),
                    "change": fmt_change(metric, change["change"]),
                    "direction": change["direction"],
                }
            )
    return sorted(rows, key=lambda row: (row["day"], row["endpoint"]), reverse=True)


def _daily_rows(endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    flagged = {(c["day"], c["metric"]): c["direction"] for c in endpoint["changes"]}
    return [
        {
            "day": day["day"],
            "probes": day["probes"],
            "cells": [
                (fmt_value(m, day[m.key]), flagged.get((day["day"], m.key), ""))
                for m in MONITOR_METRICS
            ],
        }
        for day in reversed(endpoint["daily"])
    ]


def render_monitor_html(results: dict[str, Any]) -> str:
    """One page for every endpoint; opens offline (the Plotly bundle is inlined once)."""
    endpoints = results["endpoints"]
    figures = [
        metric_figure(metric, endpoints, f"fig-monitor-{number}")
        for number, metric in enumerate(MONITOR_METRICS)
    ]
    template = _environment().get_template("monitor.html.j2")
    return template.render(
        results=results,
        metric_labels=[metric.label for metric in MONITOR_METRICS],
        latest_rows=_latest_rows(endpoints),
        change_rows=_change_rows(endpoints),
        daily={endpoint["name"]: _daily_rows(endpoint) for endpoint in endpoints},
        figures=[figure for figure in figures if figure is not None],
        plotly_js=_plotly_js(),
    )


def write_monitor_report(
    store: Store, out_dir: Path, endpoints: Sequence[str] = ()
) -> tuple[Path, Path]:
    """Write `<out_dir>/monitor/monitor.json` and `monitor.html`; returns their paths."""
    results = monitor_results(store, endpoints)
    directory = out_dir / "monitor"
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "monitor.json"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    html_path = directory / "monitor.html"
    html_path.write_text(render_monitor_html(results), encoding="utf-8")
    return json_path, html_path
