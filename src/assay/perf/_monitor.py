"""`assay monitor`: small perf probes of model services on a schedule, kept as ordinary perf runs.

A probe is a closed-loop perf run whose manifest also carries `"monitor": {"endpoint", "config"}`;
the monitor report finds probes by that mark. An endpoint that is down is a measurement (a probe
with success rate 0), never a reason for the monitor to stop. API keys come from the environment
variable an endpoint names and go only into the request header.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import os
import re
import secrets
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from assay._errors import SpecError, StoreError, TargetError
from assay._files import invalid_field, load_yaml_or_toml
from assay._redact import redact
from assay._version import __version__
from assay.perf._perf import PerfOptions, _manifest, perf_results, run_perf
from assay.perf._profiles import LoadProfile
from assay.perf._workload import Workload
from assay.store._store import RunData, Store, utcnow

Log = Callable[[str], None]

# -- configuration ------------------------------------------------------------------------

_EVERY = re.compile(r"(\d+)(s|m|h|d)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ProbeWorkload(BaseModel):
    """What one probe sends: `requests` synthetic prompts, `concurrency` at a time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_tokens: int = Field(default=64, gt=0)
    output_tokens: int = Field(default=32, gt=0)
    requests: int = Field(default=8, gt=0)
    concurrency: int = Field(default=2, gt=0)
    # /chat/completions instead of /completions (hosted APIs often speak only chat).
    chat: bool = False


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    every: str = "1h"

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str) -> str:
        found = _EVERY.fullmatch(value.strip())
        if not found or int(found.group(1)) == 0:
            raise ValueError("write a positive duration such as 15m, 1h or 1d (units s, m, h, d)")
        return value.strip()

    @property
    def every_s(self) -> float:
        found = _EVERY.fullmatch(self.every)
        assert found is not None  # checked by the validator
        return float(int(found.group(1)) * _UNIT_S[found.group(2)])


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    url: str
    model: str | None = None
    # The *name* of the environment variable that holds the key; the key is never stored.
    api_key_env: str | None = None
    workload: ProbeWorkload = ProbeWorkload()
    schedule: Schedule = Schedule()

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from assay.targets._openai import normalise_base_url

        try:
            normalise_base_url(value)  # the check the probe's target makes, at load time
        except TargetError:
            raise ValueError("not an http(s) URL; write e.g. http://127.0.0.1:8000/v1") from None
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        # Never echo the value: someone may have pasted the key itself here.
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError(
                "give the name of an environment variable (letters, digits, _), not the key"
            )
        return value

    def perf_options(self) -> PerfOptions:
        work = self.workload
        profile = LoadProfile(
            kind="concurrent", concurrency=(work.concurrency,), requests=work.requests
        )
        return PerfOptions(
            profile=profile,
            prompt_tokens=work.prompt_tokens,
            output_tokens=work.output_tokens,
            chat=work.chat,
        )


class MonitorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: tuple[Endpoint, ...] = Field(min_length=1)
    store: str | None = None

    @field_validator("endpoints")
    @classmethod
    def _unique_names(cls, endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
        seen: set[str] = set()
        for endpoint in endpoints:
            if endpoint.name in seen:
                raise ValueError(f"endpoint names must be unique; {endpoint.name!r} repeats")
            seen.add(endpoint.name)
        return endpoints


def load_monitor_config(path: Path) -> MonitorConfig:
    """Read a YAML (or .toml) monitor config; any mistake is one SpecError naming file and field."""
    raw = load_yaml_or_toml(path, "monitor config")
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping with an 'endpoints' list")
    try:
        return MonitorConfig.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_config_error(path, raw, exc)) from None


def _config_error(path: Path, raw: dict[str, Any], exc: ValidationError) -> str:
    loc = exc.errors()[0]["loc"]
    if len(loc) >= 2 and loc[0] == "endpoints" and isinstance(loc[1], int):
        entries = raw.get("endpoints")
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"endpoint {name!r}" if isinstance(name, str) else f"endpoints[{loc[1]}]"
        return invalid_field(f"{path}: {where}", exc, whole="endpoint", skip=2)
    return invalid_field(str(path), exc, whole="config")


def resolve_api_keys(config: MonitorConfig, path: Path) -> dict[str, str | None]:
    """Each endpoint's key, read now from the variable it names (checked before any probe)."""
    keys: dict[str, str | None] = {}
    for endpoint in config.endpoints:
        if endpoint.api_key_env is None:
            keys[endpoint.name] = None
            continue
        key = os.environ.get(endpoint.api_key_env)
        if not key:
            raise SpecError(
                f"{path}: endpoint {endpoint.name!r}: field 'api_key_env': environment variable "
                f"{endpoint.api_key_env} is not set; export it before starting the monitor"
            )
        keys[endpoint.name] = key
    return keys


# -- one probe ------------------------------------------------------------------------------


def new_probe_id() -> str:
    return time.strftime("mon-%Y%m%d-%H%M%S-", time.gmtime()) + secrets.token_hex(3)


async def probe(endpoint: Endpoint, store: Store, *, config_path: Path, api_key: str | None) -> str:
    """Run one probe of `endpoint` into `store`; returns its run id. Endpoint failures are
    recorded as a probe whose requests all failed, with the reason in the manifest."""
    from assay.targets._openai import OpenAITarget

    run_id = new_probe_id()
    mark: dict[str, Any] = {"endpoint": endpoint.name, "config": str(config_path)}
    options = endpoint.perf_options()
    # The URL was checked when the config loaded: building the target cannot fail.
    target = OpenAITarget(
        endpoint.url,
        endpoint.model,
        max_concurrency=endpoint.workload.concurrency,
        api_key=api_key,
        tools=False,  # a probe measures serving; no tool-calling probe request
    )
    started = time.perf_counter()
    try:
        await run_perf(target, options, store, run_id)
    except Exception as exc:  # a down or broken endpoint is a measurement, not a crash
        error_class = str(exc.error_class) if isinstance(exc, TargetError) else "client_error"
        detail = redact(f"{type(exc).__name__}: {exc}")[:300]
        mark["error"] = detail
        elapsed_s = time.perf_counter() - started
        _record_failure(
            store, target.spec, endpoint, options, run_id, error_class, detail, elapsed_s
        )
    finally:
        # Also when cancelled (Ctrl-C): the interrupted run keeps its mark.
        _mark(store, run_id, mark)
    return run_id


def _mark(store: Store, run_id: str, mark: dict[str, Any]) -> None:
    try:
        run = store.get_run(run_id)
        if run is not None:
            store.update_run(run_id, manifest={**run["manifest"], "monitor": mark})
    except SQLAlchemyError as exc:
        raise _store_error(store, exc) from None


def _store_error(store: Store, exc: Exception) -> StoreError:
    url = make_url(store.url).render_as_string(hide_password=True)
    return StoreError(f"{url}: cannot record a probe ({type(exc).__name__})")


def _record_failure(
    store: Store,
    target_spec: str,
    endpoint: Endpoint,
    options: PerfOptions,
    run_id: str,
    error_class: str,
    detail: str,
    elapsed_s: float,
) -> None:
    """Store a probe that could not measure anything as one whose every request failed."""
    step = options.profile.steps()[0]
    try:
        run = store.get_run(run_id)
        if run is None:
            now = utcnow()
            unsent = Workload((), options.output_tokens, False, "none", options.prompt_tokens)
            store.create_run(
                {
                    "run_id": run_id,
                    "created": now,
                    "updated": now,
                    "status": "failed",
                    "assay_version": __version__,
                    # As a successful probe of the endpoint records it (normalised, redacted).
                    "target_spec": target_spec,
                    "model": endpoint.model or "",
                    "capabilities": {},
                    "manifest": _manifest(options, unsent),
                    "invocations": [],
                }
            )
        if not any(r["data"].get("kind") == "step" for r in store.read_run(run_id).perf_samples):
            rows = _failure_rows(run_id, step.name, endpoint, error_class, detail)
            store.write_perf([*rows, _failure_meta(run_id, step.name, step.concurrency, elapsed_s)])
        store.update_run(run_id, status="failed")
    except SQLAlchemyError as exc:
        raise _store_error(store, exc) from None


def _failure_meta(
    run_id: str, step: str, concurrency: int | None, elapsed_s: float
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "kind": "step",
        "name": step,
        "concurrency": concurrency,
        "rate": None,
        "duration_s": elapsed_s,
        "loop_lag_s": [],
        "in_flight_cap_hit": 0,
    }
    return {
        "run_id": run_id,
        "step": step,
        "request_id": None,
        "scheduled_s": None,
        "started_s": None,
        "data": meta,
    }


def _failure_rows(
    run_id: str,
    step: str,
    endpoint: Endpoint,
    error_class: str,
    detail: str,
) -> list[dict[str, Any]]:
    # Every planned request counts as failed, so the probe reads as success rate 0.
    rows = []
    for index in range(endpoint.workload.requests):
        data = {
            "kind": "request",
            "index": index,
            "scheduled_s": 0.0,
            "started_s": 0.0,
            "ended_s": 0.0,
            "schedule_lag_s": 0.0,
            "ttft_s": None,
            "ttfat_s": None,
            "token_times_s": [],
            "e2e_s": 0.0,
            "prompt_tokens": None,
            "completion_tokens": None,
            "usage_source": "client",
            "client_chunks": 0,
            "finish_reason": None,
            "error_class": error_class,
            "error_detail": f"not sent: {detail}",
        }
        rows.append(
            {
                "run_id": run_id,
                "step": step,
                "request_id": index,
                "scheduled_s": 0.0,
                "started_s": 0.0,
                "data": data,
            }
        )
    return rows


# -- the loop -------------------------------------------------------------------------------


def next_due(previous_due: float, every_s: float, now: float) -> float:
    """The next slot on the endpoint's own cadence; slots missed while probing are skipped."""
    due = previous_due + every_s
    if due <= now:
        due = previous_due + math.ceil((now - previous_due) / every_s) * every_s
        if due <= now:
            due += every_s
    return due


async def monitor_async(
    config: MonitorConfig,
    config_path: Path,
    store: Store,
    *,
    max_cycles: int | None = None,
    log: Log | None = None,
) -> list[str]:
    """Probe each endpoint on its own schedule, forever or `max_cycles` times each (1 = once).

    Every endpoint has its own loop, so a stalled endpoint never delays another's probes.
    Returns the run ids of the probes made.
    """
    keys = resolve_api_keys(config, config_path)
    start = time.monotonic()
    run_ids: list[str] = []

    async def watch(endpoint: Endpoint) -> None:
        due, made = start, 0
        while max_cycles is None or made < max_cycles:
            wait_s = due - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
            run_id = await probe(
                endpoint, store, config_path=config_path, api_key=keys[endpoint.name]
            )
            run_ids.append(run_id)
            made += 1
            if log is not None:
                log(describe_probe(endpoint.name, store.read_run(run_id)))
            due = next_due(due, endpoint.schedule.every_s, time.monotonic())

    await asyncio.gather(*(watch(endpoint) for endpoint in config.endpoints))
    return run_ids


def run_monitor(
    config_path: Path,
    *,
    out_dir: Path = Path("assay-results"),
    store_url: str | None = None,
    once: bool = False,
    max_cycles: int | None = None,
    log: Log | None = None,
) -> list[str]:
    """Load the config and run the monitor (synchronous; the store URL given here wins over
    the config's, which wins over `<out_dir>/assay.db`)."""
    from assay.store._store import default_store_url

    if max_cycles is not None and max_cycles < 1:
        raise SpecError(f"--max-cycles {max_cycles}: give a positive number")
    config_path = config_path.resolve()
    config = load_monitor_config(config_path)
    resolve_api_keys(config, config_path)  # fail before opening anything
    store = Store(store_url or config.store or default_store_url(out_dir))
    try:
        return asyncio.run(
            monitor_async(config, config_path, store, max_cycles=1 if once else max_cycles, log=log)
        )
    finally:
        store.close()


# -- what a probe measured, and how it changes over days --------------------------------------


@dataclass(frozen=True)
class MonitorMetric:
    key: str
    label: str
    unit: str  # "fraction", "s" or "tok/s"
    higher_is_better: bool


MONITOR_METRICS: tuple[MonitorMetric, ...] = (
    MonitorMetric("success_rate", "Success rate", "fraction", True),
    MonitorMetric("ttft_p50_s", "TTFT p50", "s", False),
    MonitorMetric("ttft_p90_s", "TTFT p90", "s", False),
    MonitorMetric("aggregate_output_tokens_per_s", "Output tokens/s (aggregate)", "tok/s", True),
    MonitorMetric("output_tokens_per_s_p50", "Output tokens/s per request (p50)", "tok/s", True),
)

# The change rule, stated once: the report prints CHANGE_RULE.
CHANGE_WINDOW_DAYS = 7
CHANGE_MIN_BASELINE_DAYS = 3
CHANGE_RELATIVE = 0.20
CHANGE_SUCCESS_RATE_POINTS = 0.05
CHANGE_RULE = (
    f"A day is highlighted for a metric when its daily median differs from the baseline, the "
    f"median of the daily medians of the previous {CHANGE_WINDOW_DAYS} calendar days (at least "
    f"{CHANGE_MIN_BASELINE_DAYS} of them with probes), by more than "
    f"{CHANGE_RELATIVE:.0%} of the baseline, or for success rate by more than "
    f"{CHANGE_SUCCESS_RATE_POINTS * 100:.0f} percentage points. Days are UTC."
)


def probe_summary(data: RunData) -> dict[str, Any] | None:
    """The monitor's figures of one stored probe, or None if the run is not a finished probe."""
    mark = data.run["manifest"].get("monitor")
    if not isinstance(mark, dict):
        return None
    perf = perf_results(data)
    if perf is None or not perf["steps"]:
        return None  # interrupted before its step was stored
    step = perf["steps"][0]
    return {
        "endpoint": str(mark.get("endpoint")),
        "run_id": data.run["run_id"],
        "created": as_utc(data.run["created"]).isoformat(timespec="seconds"),
        "status": data.run["status"],
        "target": data.run["target_spec"],
        "model": data.run["model"],
        "requests": step["requests"],
        "success_rate": step["success_rate"],
        "ttft_p50_s": step["ttft_s"].get("p50"),
        "ttft_p90_s": step["ttft_s"].get("p90"),
        "aggregate_output_tokens_per_s": step["aggregate_output_tokens_per_s"]
        if step["success_rate"]
        else None,
        "output_tokens_per_s_p50": step["output_tokens_per_s"].get("p50"),
        "failures": step["failures"],
        "client_limited": step["client_limited"],
        "error": mark.get("error"),
    }


def describe_probe(name: str, data: RunData) -> str:
    summary = probe_summary(data)
    run_id = data.run["run_id"]
    if summary is None:
        return f"monitor: {name}: no measurement stored (run {run_id})"
    rate = summary["success_rate"]
    ok = "—" if rate is None else f"{rate * 100:.0f}% ok"
    ttft = summary["ttft_p50_s"]
    speed = summary["aggregate_output_tokens_per_s"]
    parts = [
        ok,
        "TTFT p50 —" if ttft is None else f"TTFT p50 {ttft * 1000:.1f} ms",
        "— out tok/s" if speed is None else f"{speed:.1f} out tok/s",
    ]
    failures = ", ".join(f"{k} {v}" for k, v in sorted(summary["failures"].items()))
    if failures:
        parts.append(f"failures: {failures}")
    return f"monitor: {name}: {'; '.join(parts)} (run {run_id})"


def as_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the store writes UTC.
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def daily_medians(probes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per UTC day with probes: the median of each metric over that day's probes
    (probes without a value, e.g. TTFT of a probe where every request failed, are left out)."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for item in probes:
        by_day.setdefault(str(item["created"])[:10], []).append(item)
    rows = []
    for day in sorted(by_day):
        row: dict[str, Any] = {"day": day, "probes": len(by_day[day])}
        for metric in MONITOR_METRICS:
            values = [p[metric.key] for p in by_day[day] if p[metric.key] is not None]
            row[metric.key] = statistics.median(values) if values else None
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Change:
    day: str
    metric: str
    value: float
    baseline: float
    change: float  # relative (fraction of the baseline), or points for success rate
    direction: str  # "better" or "worse"


def detect_changes(days: Sequence[dict[str, Any]]) -> list[Change]:
    """Days whose median moved past the threshold against the previous days (CHANGE_RULE)."""
    changes = []
    dated = [(dt.date.fromisoformat(row["day"]), row) for row in days]
    for day, row in dated:
        window = [
            other
            for when, other in dated
            if day - dt.timedelta(days=CHANGE_WINDOW_DAYS) <= when < day
        ]
        for metric in MONITOR_METRICS:
            change = _change(metric, row[metric.key], [w[metric.key] for w in window])
            if change is not None:
                delta, moved_up = change
                baseline = statistics.median(v for w in window if (v := w[metric.key]) is not None)
                better = moved_up == metric.higher_is_better
                changes.append(
                    Change(
                        row["day"],
                        metric.key,
                        row[metric.key],
                        baseline,
                        delta,
                        "better" if better else "worse",
                    )
                )
    return changes


def _change(
    metric: MonitorMetric, value: float | None, window: Sequence[float | None]
) -> tuple[float, bool] | None:
    history = [v for v in window if v is not None]
    if value is None or len(history) < CHANGE_MIN_BASELINE_DAYS:
        return None
    baseline = statistics.median(history)
    if metric.unit == "fraction":
        delta = value - baseline
        return (delta, delta > 0) if abs(delta) > CHANGE_SUCCESS_RATE_POINTS else None
    if baseline == 0:
        return None
    relative = (value - baseline) / baseline
    return (relative, relative > 0) if abs(relative) > CHANGE_RELATIVE else None
