"""The self-contained HTML report of one run, rendered from results.json and the store's rows.

Plotly's JS is inlined once so the page works offline; autoescaping keeps model text inert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from assay.core import SAFETY_DIMENSION, metric_value
from assay.perf._metrics import request_series, ttft_s
from assay.store._store import RunData

SAMPLES_PER_TASK = 10
TEXT_LIMIT_CHARS = 400
MISSING = "—"
# Latencies are stored in seconds and shown in milliseconds; throughput is shown as is.
SERVING_METRICS: tuple[tuple[str, str, bool], ...] = (
    ("ttft_s", "Time to first token", True),
    ("itl_s", "Inter-token latency", True),
    ("e2e_s", "End-to-end latency", True),
    ("output_tokens_per_s", "Output tokens/s per request", False),
)
_FIGURE_CONFIG = {"responsive": True, "displaylogo": False}
# Figures are plain plotly.js JSON: building plotly.py objects cost more than the rest of
# a report. This layout stands in for plotly.py's "plotly_white" template.
_AXIS = {"gridcolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "automargin": True}
_BASE_LAYOUT: dict[str, Any] = {
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "margin": {"l": 10, "r": 20, "t": 40, "b": 40},
    "polar": {"bgcolor": "white"},
}
Figure = dict[str, Any]


# -- formatting (also the template's filters) ----------------------------------------------


def fmt_score(value: float | None) -> str:
    return MISSING if value is None else f"{value:.3f}"


def fmt_ci(ci95: Sequence[float | None] | None) -> str:
    if not ci95 or any(bound is None for bound in ci95):
        return MISSING
    low, high = ci95
    return f"[{fmt_score(low)}, {fmt_score(high)}]"


def fmt_ms(seconds: float | None) -> str:
    return MISSING if seconds is None else f"{seconds * 1000:.1f} ms"


def fmt_number(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f}"


def fmt_ms_value(seconds: float | None) -> str:
    """Milliseconds without the unit (tables name it in the header), to 3 significant-ish
    figures: 2.18, 10.8, 1234."""
    if seconds is None:
        return MISSING
    ms = seconds * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


def fmt_lag(seconds: float | None) -> str:
    """A client-side lag, in µs below a millisecond (closed-loop lags are that small)."""
    if seconds is None:
        return MISSING
    return f"{seconds * 1e6:.1f} µs" if seconds < 0.001 else f"{seconds * 1000:.1f} ms"


def fmt_percent(fraction: float | None) -> str:
    return MISSING if fraction is None else f"{fraction * 100:.1f}%"


def truncate(text: str | None, limit: int = TEXT_LIMIT_CHARS) -> str:
    if text is None:
        return ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text)} chars]"


def _environment() -> Environment:
    # select_autoescape() alone would not match "report.html.j2": name the extension.
    env = Environment(
        loader=PackageLoader("assay.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        score=fmt_score,
        ci=fmt_ci,
        ms=fmt_ms,
        ms_value=fmt_ms_value,
        lag=fmt_lag,
        number=fmt_number,
        percent=fmt_percent,
    )
    return env


# -- figures: each returns an HTML fragment, or None when there is nothing to draw --------


def _figure(traces: list[dict[str, Any]], title: str, **layout: Any) -> Figure:
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**_AXIS, **layout.get(axis, {})}
    return {"data": traces, "layout": {**_BASE_LAYOUT, "title": {"text": title}, **layout}}


def _figure_html(fig: Figure, div_id: str) -> str:
    # "<" escaped inside the JSON, so no string in a figure can close the script element.
    payload = json.dumps([fig["data"], fig["layout"], _FIGURE_CONFIG]).replace("<", "\\u003c")
    height = int(fig["layout"].get("height", 400))
    return (
        f'<div id="{div_id}" class="plotly-graph-div" style="height:{height}px;width:100%">'
        f"</div>\n<script>Plotly.newPlot({json.dumps(div_id)}, ...{payload});</script>"
    )


def _error_bars(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Asymmetric error bars from each row's value and ci95 (missing bounds draw no bar)."""
    plus, minus = [], []
    for row in rows:
        low, high = row["ci95"] if row["ci95"] else (None, None)
        plus.append(0.0 if high is None else max(high - row["value"], 0.0))
        minus.append(0.0 if low is None else max(row["value"] - low, 0.0))
    return {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus}


def _unit_range(rows: Sequence[Mapping[str, Any]]) -> list[float] | None:
    """[0, 1] for scores that all live there, so runs read alike; None lets Plotly choose."""
    points = [row["value"] for row in rows] + [b for row in rows for b in row["ci95"] or []]
    inside = all(p is None or 0.0 <= p <= 1.0 for p in points)
    return [0.0, 1.02] if inside else None


def task_figure(tasks: Sequence[Mapping[str, Any]]) -> str | None:
    rows = [t for t in tasks if t["value"] is not None]
    if not rows:
        return None
    bar = {
        "type": "bar",
        "x": [t["value"] for t in rows],
        "y": [t["task"] for t in rows],
        "orientation": "h",
        "error_x": _error_bars(rows),
        "customdata": [[fmt_ci(t["ci95"]), t["n"]] for t in rows],
        "hovertemplate": "%{y}: %{x:.3f}<br>95% CI %{customdata[0]}, n=%{customdata[1]}"
        "<extra></extra>",
    }
    fig = _figure(
        [bar],
        "Task scores (95% CI)",
        height=140 + 32 * len(rows),
        xaxis={"range": _unit_range(rows)},
        yaxis={"autorange": "reversed"},
    )
    return _figure_html(fig, "fig-tasks")


def dimension_figure(dimensions: Sequence[Mapping[str, Any]]) -> str | None:
    rows = [d for d in dimensions if d["value"] is not None]
    if not rows:
        return None
    bar = {
        "type": "bar",
        "x": [d["dimension"] for d in rows],
        "y": [d["value"] for d in rows],
        "error_y": _error_bars(rows),
        "marker": {"color": "#4c78a8"},
        "hovertemplate": "%{x}: %{y:.3f}<extra></extra>",
    }
    fig = _figure([bar], "Dimensions (95% CI)", height=380, yaxis={"range": _unit_range(rows)})
    return _figure_html(fig, "fig-dimensions")


def radar_figure(dimensions: Sequence[Mapping[str, Any]]) -> str | None:
    rows = [d for d in dimensions if d["value"] is not None]
    if len(rows) < 3:
        return None
    names = [d["dimension"] for d in rows] + [rows[0]["dimension"]]

    def ring(values: list[float | None], name: str, **style: Any) -> dict[str, Any]:
        return {
            "type": "scatterpolar",
            "r": [*values, values[0]],
            "theta": names,
            "name": name,
            **style,
        }

    traces = [
        ring([d["ci95"][1] for d in rows], "CI high", line={"dash": "dot", "width": 1}),
        ring([d["value"] for d in rows], "value", fill="toself", line={"width": 2}),
        ring([d["ci95"][0] for d in rows], "CI low", line={"dash": "dot", "width": 1}),
    ]
    radial = {"range": _unit_range(rows)} if _unit_range(rows) else {}
    fig = _figure(
        traces, "Dimensions", height=380, polar={"bgcolor": "white", "radialaxis": radial}
    )
    return _figure_html(fig, "fig-radar")


def _ecdf(values: Sequence[float]) -> tuple[list[float], list[float]]:
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    fractions = np.arange(1, len(ordered) + 1, dtype=np.float64) / len(ordered)
    return ordered.tolist(), fractions.tolist()


def _ecdf_trace(seconds: Sequence[float], label: str) -> dict[str, Any]:
    """A step line of the fraction of values ≤ x, x in milliseconds."""
    ordered, fractions = _ecdf(seconds)
    return {
        "type": "scatter",
        "x": [s * 1000 for s in ordered],
        "y": fractions,
        "mode": "lines",
        "line": {"shape": "hv"},
        "name": f"{label} (n={len(ordered)})",
    }


def latency_figure(requests: Sequence[Mapping[str, Any]]) -> str | None:
    series = request_series([dict(row) for row in requests])
    traces = []
    for name, label in (("ttft_s", "TTFT"), ("e2e_s", "End-to-end")):
        if series[name]:
            traces.append(_ecdf_trace(series[name], label))
    if not traces:
        return None
    fig = _figure(
        traces,
        "Latency distribution (successful requests)",
        height=360,
        xaxis={"title": {"text": "ms"}},
        yaxis={"title": {"text": "fraction of requests ≤ x"}, "range": [0, 1.02]},
    )
    return _figure_html(fig, "fig-latency")


# -- tables ---------------------------------------------------------------------------------


def _plain(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or MISSING
    return str(value)


def _config_text(config: Mapping[str, Any]) -> str:
    """Generation config as k=v, leaving out unset options."""
    shown = [f"{key}={_plain(value)}" for key, value in config.items() if value not in (None, [])]
    return ", ".join(shown) or MISSING


def manifest_rows(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The invocation: a capability run's spec, or a perf run's load profile."""
    fields: dict[str, Any] = dict(manifest.get("spec") or {})
    if manifest.get("kind") == "perf":
        profile = dict(manifest.get("profile") or {})
        kind = profile.pop("kind", None)
        if kind in ("constant", "poisson"):  # open loop: the concurrency default means nothing
            profile.pop("concurrency", None)
        fields = {"profile": kind, **{k: v for k, v in profile.items() if v not in (None, [])}}
    if "seed" in manifest:
        fields["seed"] = manifest["seed"]
    backends = manifest.get("backends") or {}
    if backends or manifest.get("kind") != "perf":
        fields["backends"] = [f"{name} {version}" for name, version in sorted(backends.items())]
    return [(key, _plain(value)) for key, value in fields.items()]


def manifest_tasks(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "task": name,
            "dataset_hash": str(entry.get("dataset_hash", "")),
            "n": entry.get("n"),
            "config": _config_text(entry.get("config") or {}),
        }
        for name, entry in (manifest.get("tasks") or {}).items()
    ]


def error_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per error class: requests that finally failed, failed attempts a retry recovered, and
    samples left out of their metric by an error (the scorer's included; a cut answer is no
    error: it counts as wrong)."""
    final = results["requests"]["errors"]
    retried = results["requests"]["retried"]
    samples: dict[str, int] = {}
    for task in results["tasks"]:
        for name, count in task["error_classes"].items():
            samples[name] = samples.get(name, 0) + count
    names = sorted(set(final) | set(retried) | set(samples))
    return [
        {
            "class": name,
            "final": final.get(name, 0),
            "retried": retried.get(name, 0),
            "samples": samples.get(name, 0),
        }
        for name in names
    ]


def contamination_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per probed task, the overall paired drop, then one row per perturbation kind."""
    rows = []
    for task, probe in (results.get("contamination") or {}).items():
        for kind, entry in [("all", probe), *probe["kinds"].items()]:
            low = entry["ci95"][0]
            rows.append({"task": task, "kind": kind, **entry, "significant": bool(low and low > 0)})
    return rows


def serving_rows(serving: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    rows = []
    for key, label, is_latency in SERVING_METRICS:
        summary = serving.get(key) or {}
        show = fmt_ms if is_latency else fmt_number
        rows.append(
            {
                "metric": label,
                "n": int(summary.get("n", 0)),
                **{p: show(summary.get(p)) for p in ("p50", "p90", "p99", "mean")},
            }
        )
    return rows


def _outcome_text(score: Mapping[str, Any] | None) -> str:
    if score is None:
        return "not scored"
    if score["outcome"] == "scored":
        return fmt_score(score["value"])
    if score["outcome"] == "truncated":
        return f"{fmt_score(metric_value('truncated', score['value']))} (cut at max_tokens)"
    detail = f" ({score['error_class']})" if score["error_class"] else ""
    return f"{score['outcome']}{detail}"


def sample_rows(data: RunData) -> dict[str, list[dict[str, Any]]]:
    """Up to SAMPLES_PER_TASK samples of each task with their first epoch's score."""
    scores: dict[tuple[str, str], Mapping[str, Any]] = {}
    for row in sorted(data.scores, key=lambda row: row["epoch"]):
        scores.setdefault((row["task"], row["sample_id"]), row)
    by_task: dict[str, list[dict[str, Any]]] = {task["task"]: [] for task in data.tasks}
    # A safety task's responses may be harmful: shown only behind a reveal toggle.
    hidden = {task["task"] for task in data.tasks if task["dimension"] == SAFETY_DIMENSION}
    for sample in sorted(data.samples, key=lambda row: (row["task"], row["position"])):
        shown = by_task.setdefault(sample["task"], [])
        if len(shown) >= SAMPLES_PER_TASK:
            continue
        score = scores.get((sample["task"], sample["sample_id"]))
        shown.append(
            {
                "sample_id": sample["sample_id"],
                "input": truncate(sample["input"]),
                "target": truncate(sample["target"]),
                "output": truncate(score["output"] if score else None),
                "answer": truncate(score["answer"] if score else None),
                "outcome": _outcome_text(score),
                "scored": bool(score and score["outcome"] != "error"),
                "explanation": truncate(score["explanation"] if score else None),
                "hidden": sample["task"] in hidden,
            }
        )
    return by_task


# -- safety (results["safety"], "safety_summary", "over_refusal") ----------------------------


def safety_heatmap(cells: Sequence[Mapping[str, Any]]) -> str | None:
    """Domain x attack level, coloured by R, each cell's text R with D beside it and n."""
    if not cells:
        return None
    domains = sorted({c["domain"] for c in cells})
    levels = sorted({c["level"] for c in cells})
    found = {(c["domain"], c["level"]): c for c in cells}
    z, text = [], []
    for domain in domains:
        z.append([(found[(domain, lv)]["R"] if (domain, lv) in found else None) for lv in levels])
        text.append(
            [
                (
                    f"R {fmt_percent(cell['R'])} · D {fmt_percent(cell['D'])}<br>n={cell['n']}"
                    if (cell := found.get((domain, lv)))
                    else ""
                )
                for lv in levels
            ]
        )
    trace = {
        "type": "heatmap",
        "x": levels,
        "y": domains,
        "z": z,
        "text": text,
        "texttemplate": "%{text}",
        "hoverinfo": "text",
        "colorscale": [[0.0, "#dafbe1"], [0.5, "#fff8c5"], [1.0, "#ff8182"]],
        "zmin": 0.0,
        "zmax": 1.0,
        "colorbar": {"title": {"text": "R"}},
    }
    fig = _figure(
        [trace],
        "Attack success rate R by risk domain and attack level (D: refused)",
        height=max(260, 70 * len(domains) + 120),
    )
    return _figure_html(fig, "safety-heatmap")


def safety_judges(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The judges behind the table's R, each once, with their measured accuracy."""
    judges: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        judge = row.get("judge")
        if judge:
            judges.setdefault((str(judge.get("name")), str(judge.get("version"))), dict(judge))
    return list(judges.values())


# -- perf runs (results["perf"]) -------------------------------------------------------------

# Per-step latency columns of the report, each as p50/p90/p99 in ms.
PERF_LATENCIES: tuple[tuple[str, str], ...] = (
    ("ttft_s", "TTFT"),
    ("ttfat_s", "TTFAT"),
    ("itl_s", "ITL"),
    ("e2e_s", "E2E"),
)
PERF_PERCENTILES = ("p50", "p90", "p99")
CLIENT_LIMITED_TEXT = (
    "the client, not the server, was the bottleneck: these latencies understate the server"
)
_SLO_NAMES = {"ttft_s": "TTFT", "tpot_s": "TPOT", "e2e_s": "E2E"}


def perf_workload_rows(workload: Mapping[str, Any]) -> list[tuple[str, str]]:
    def tokens(key: str) -> str:
        value = workload.get(key)
        return MISSING if value is None else f"{value} tokens"

    shared = workload.get("shared_prefix_tokens") or 0
    return [
        ("Prompts", _plain(workload.get("source"))),
        ("Prompt length", tokens("prompt_tokens")),
        ("Output length", tokens("output_tokens")),
        ("Length calibration", _calibration_text(workload)),
        ("Output-length control", _plain(workload.get("output_length_control"))),
        ("Shared prefix", f"{shared} tokens" if shared else "none"),
        ("Distinct prompts", _plain(workload.get("distinct_prompts"))),
        ("API", _plain(workload.get("api"))),
    ]


def _calibration_text(workload: Mapping[str, Any]) -> str:
    """The source, and why it was used (runs stored before the reason was recorded: no why)."""
    calibration = workload.get("calibration") or {}
    source = _plain(calibration.get("source", workload.get("length_calibration")))
    reason = calibration.get("reason")
    return f"{source}: {reason}" if reason else source


def slo_text(slo: Mapping[str, float]) -> str:
    """`TTFT ≤ 1000.0 ms, TPOT ≤ 50.0 ms`, or a note that goodput then counts every success."""
    bounds = [f"{_SLO_NAMES.get(k, k)} ≤ {fmt_ms(v)}" for k, v in slo.items() if v is not None]
    return ", ".join(bounds) or "none (goodput counts every successful request)"


def _failure_text(failures: Mapping[str, int]) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in sorted(failures.items()))


def perf_step_rows(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per step: what the per-step tables show, formatted."""
    rows = []
    for step in steps:
        server, client = step.get("output_tokens_server"), step.get("output_tokens_client")
        source = step.get("output_token_source") or "none"
        client_info = step.get("client") or {}
        lag = client_info.get("schedule_lag_s") or {}
        loop = client_info.get("event_loop_lag_s") or {}
        rows.append(
            {
                "step": step["step"],
                "client_limited": bool(step.get("client_limited")),
                "requests": step.get("requests"),
                "duration": fmt_number(step.get("duration_s")),
                "success": fmt_percent(step.get("success_rate")),
                "failures": _failure_text(step.get("failures") or {}),
                "latency": {
                    key: [fmt_ms_value((step.get(key) or {}).get(p)) for p in PERF_PERCENTILES]
                    for key, _ in PERF_LATENCIES
                },
                "speed_p50": fmt_number((step.get("output_tokens_per_s") or {}).get("p50")),
                "speed_mean": fmt_number((step.get("output_tokens_per_s") or {}).get("mean")),
                "aggregate": fmt_number(step.get("aggregate_output_tokens_per_s")),
                "throughput": _fmt_rate(step.get("request_throughput")),
                "goodput": _fmt_rate(step.get("goodput")),
                "source": source,
                "tokens_server": server,
                "tokens_client": client,
                # Server usage and streamed chunks disagree (a chunk may carry several tokens):
                # shown, never reconciled silently.
                "tokens_disagree": bool(server and client and server != client),
                "requested_rate": _fmt_rate(client_info.get("requested_rate")),
                "achieved_rate": _fmt_rate(client_info.get("achieved_send_rate")),
                "schedule_lag": [fmt_lag(lag.get(p)) for p in PERF_PERCENTILES],
                "loop_lag": [fmt_lag(loop.get(p)) for p in ("p50", "p99")],
                "reasons": list(client_info.get("reasons") or []),
            }
        )
    return rows


def _fmt_rate(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def perf_warnings(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every client-limited step with its reasons."""
    return [
        {"step": step["step"], "reasons": list((step.get("client") or {}).get("reasons") or [])}
        for step in steps
        if step.get("client_limited")
    ]


def sweep_figure(steps: Sequence[Mapping[str, Any]]) -> str | None:
    """Latency against throughput, one point per step; buttons switch the x axis between
    request throughput and aggregate output tokens/s."""
    if len(steps) < 2:
        return None
    names = [str(step["step"]) for step in steps]

    def ms(key: str, p: str) -> list[float | None]:
        values = [(step.get(key) or {}).get(p) for step in steps]
        return [None if v is None else v * 1000 for v in values]

    axes = [
        ("request_throughput", "request throughput (req/s)"),
        ("aggregate_output_tokens_per_s", "aggregate output tokens/s"),
    ]
    xs = {key: [step.get(key) for step in steps] for key, _ in axes}
    series: list[tuple[str, list[float | None], str, str]] = [
        ("TTFT p50", ms("ttft_s", "p50"), "#4c78a8", "solid"),
        ("TTFT p99", ms("ttft_s", "p99"), "#4c78a8", "dot"),
        ("ITL p50", ms("itl_s", "p50"), "#f58518", "solid"),
    ]
    traces = []
    for label, ys, color, dash in series:
        labelled = label == "TTFT p99"  # the top line: its labels overlap no other line
        traces.append(
            {
                "type": "scatter",
                "x": xs[axes[0][0]],
                "y": ys,
                "name": label,
                "mode": "lines+markers+text" if labelled else "lines+markers",
                "text": names,
                "textposition": "top center",
                "marker": {"color": color, "size": 8},
                "line": {"color": color, "dash": dash},
                "hovertemplate": f"%{{text}}<br>{label}: %{{y:.2f}} ms<br>x: %{{x:.2f}}"
                "<extra></extra>",
            }
        )
    buttons = [
        {
            "label": title,
            "method": "update",
            "args": [{"x": [xs[key]] * len(traces)}, {"xaxis.title.text": title}],
        }
        for key, title in axes
    ]
    fig = _figure(
        traces,
        "Latency vs throughput (one point per step)",
        height=420,
        xaxis={"title": {"text": axes[0][1]}, "rangemode": "tozero"},
        yaxis={"title": {"text": "ms"}, **_headroom([y for _, ys, _, _ in series for y in ys])},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "right",
                "buttons": buttons,
                # Above the plot's left corner: the modebar takes the right one.
                "x": 0.0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
                "showactive": True,
                "font": {"size": 11},
            }
        ],
        margin={**_BASE_LAYOUT["margin"], "t": 90},
        legend={"orientation": "h", "y": -0.2},
    )
    return _figure_html(fig, "fig-perf-sweep")


def _headroom(values: Sequence[float | None]) -> dict[str, Any]:
    """A y range from 0 with room above the top point for its label."""
    top = max((v for v in values if v is not None), default=None)
    return {"range": [0, top * 1.18]} if top else {"rangemode": "tozero"}


def ttft_cdf_figure(
    steps: Sequence[Mapping[str, Any]], perf_samples: Sequence[Mapping[str, Any]]
) -> str | None:
    """Per step, the TTFT of every successful request as an empirical CDF."""
    by_step: dict[str, list[float]] = {str(step["step"]): [] for step in steps}
    for row in perf_samples:
        request = row["data"]
        if request.get("kind") != "request" or request.get("error_class"):
            continue
        value = ttft_s(request.get("token_times_s") or [])
        if value is not None and row["step"] in by_step:
            by_step[row["step"]].append(float(value))
    traces = []
    for name, values in by_step.items():
        if values:
            traces.append(_ecdf_trace(values, name))
    if not traces:
        return None
    fig = _figure(
        traces,
        "Time to first token by step (successful requests)",
        height=380,
        xaxis={"title": {"text": "TTFT (ms)"}},
        yaxis={"title": {"text": "fraction of requests ≤ x"}, "range": [0, 1.02]},
    )
    return _figure_html(fig, "fig-perf-ttft")


def perf_context(perf: Mapping[str, Any], data: RunData) -> dict[str, Any]:
    steps = perf.get("steps") or []
    slo = (steps[0].get("slo") if steps else None) or data.run["manifest"].get("slo") or {}
    return {
        "profile": perf.get("profile"),
        "client_limited": bool(perf.get("client_limited")),
        "workload": [
            *perf_workload_rows(perf.get("workload") or {}),
            ("Client processes", _plain(perf.get("client_processes", 1))),
        ],
        "slo": slo_text(slo),
        "steps": perf_step_rows(steps),
        "warnings": perf_warnings(steps),
        "warning_text": CLIENT_LIMITED_TEXT,
        "latencies": PERF_LATENCIES,
        "percentiles": PERF_PERCENTILES,
        "figures": {
            "sweep": sweep_figure(steps),
            "ttft": ttft_cdf_figure(steps, data.perf_samples),
        },
    }


# -- the page ------------------------------------------------------------------------------


def _figures(results: Mapping[str, Any], data: RunData) -> dict[str, str | None]:
    summary = results.get("safety_summary") or {}
    return {
        "safety": safety_heatmap(summary.get("by_domain_level") or []),
        "tasks": task_figure(results["tasks"]),
        "dimensions": dimension_figure(results["dimensions"]),
        "radar": radar_figure(results["dimensions"]),
        "latency": latency_figure(data.requests),
    }


def render_html(results: dict[str, Any], data: RunData) -> str:
    """One HTML page for one run; opens offline (the Plotly bundle is inlined once)."""
    template = _environment().get_template("report.html.j2")
    manifest = results.get("manifest") or {}
    perf = results.get("perf")
    return template.render(
        # A perf run has no tasks: its sections replace the capability ones.
        show_tasks=bool(results["tasks"]),
        show_requests=perf is None or bool(data.requests),
        perf=perf_context(perf, data) if perf is not None else None,
        results=results,
        capabilities=sorted((results["target"].get("capabilities") or {}).items()),
        manifest_rows=manifest_rows(manifest),
        manifest_tasks=manifest_tasks(manifest),
        error_rows=error_rows(results),
        serving_rows=serving_rows(results["serving"]),
        contamination=contamination_rows(results),
        samples=sample_rows(data),
        safety_judges=safety_judges(results.get("safety") or []),
        figures=_figures(results, data),
        plotly_js=_plotly_js(),
    )


def _plotly_js() -> str:
    """plotly.js as shipped inside the plotly package, so the page needs no network."""
    return files("plotly").joinpath("package_data", "plotly.min.js").read_text("utf-8")
