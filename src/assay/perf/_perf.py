"""`assay perf`: a workload under a load profile, per-request timings into the store."""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay._errors import SpecError
from assay._version import __version__
from assay.core import Target
from assay.perf._metrics import Slo, summarize_step
from assay.perf._profiles import LoadProfile
from assay.perf._runner import run_step
from assay.perf._workload import Workload, file_workload, synthetic_workload
from assay.store._store import RunData, Store, utcnow

if TYPE_CHECKING:
    from assay.perf._processes import ClientProcesses

# Duration-bound steps cycle through this many distinct prompts.
PROMPTS_PER_DURATION_STEP = 2000


@dataclass(frozen=True)
class PerfOptions:
    profile: LoadProfile
    prompt_tokens: int = 128
    output_tokens: int = 64
    prompts_file: Path | None = None
    shared_prefix_tokens: int = 0
    ignore_eos: bool = False
    slo: Slo = field(default_factory=Slo)
    chat: bool = False
    # Spawned processes that send the load (HTTP targets); 1: this process's event loop.
    client_processes: int = 1

    def __post_init__(self) -> None:
        processes = self.client_processes
        if processes < 1:
            raise SpecError(f"--client-processes {processes}: give 1 or more")
        closed = self.profile.kind in ("sync", "concurrent", "sweep")
        if processes > 1 and closed and processes > min(self.profile.concurrency):
            raise SpecError(
                f"--client-processes {processes} is more than --concurrency "
                f"{min(self.profile.concurrency)}: each process needs a worker"
            )


_UNITS = {"ms": 0.001, "s": 1.0, "": 1.0}


def parse_slo(text: str | None) -> Slo:
    """`ttft=1s,tpot=50ms,e2e=10s` (units ms or s; a bare number is seconds)."""
    if not text:
        return Slo()
    bounds: dict[str, float] = {}
    for part in text.split(","):
        found = re.fullmatch(r"\s*(ttft|tpot|itl|e2e)\s*=\s*([\d.]+)\s*(ms|s)?\s*", part)
        if not found:
            raise SpecError(f"--slo {text!r}: write e.g. ttft=1s,tpot=50ms,e2e=10s")
        name = "tpot" if found.group(1) == "itl" else found.group(1)
        bounds[f"{name}_s"] = float(found.group(2)) * _UNITS[found.group(3) or ""]
    return Slo(**bounds)


async def _workload(target: Target, options: PerfOptions, count: int) -> Workload:
    return replace(await _prompts(target, options, count), chat=options.chat)


async def _prompts(target: Target, options: PerfOptions, count: int) -> Workload:
    if options.prompts_file is not None:
        return file_workload(
            options.prompts_file, output_tokens=options.output_tokens, ignore_eos=options.ignore_eos
        )
    return await synthetic_workload(
        target,
        prompt_tokens=options.prompt_tokens,
        output_tokens=options.output_tokens,
        count=count,
        shared_prefix_tokens=options.shared_prefix_tokens,
        ignore_eos=options.ignore_eos,
        seed=options.profile.seed,
    )


async def run_perf(
    target: Target, options: PerfOptions, store: Store, run_id: str, *, log: Any = None
) -> int:
    """Runs every step into the store; the number of measured requests (warmup excluded)."""
    if store.get_run(run_id) is not None:
        raise SpecError(
            f"run {run_id!r} already exists; perf runs are not resumed, pick a new --run-id"
        )
    await target.start()
    try:
        profile = options.profile
        workload = await _workload(target, options, _per_step(profile) * len(profile.steps()))
        with ExitStack() as stack:
            processes = None
            if options.client_processes > 1:
                processes = stack.enter_context(_client_processes(target, options, workload))
            measured = await _run_steps(target, options, workload, store, run_id, processes, log)
        store.update_run(run_id, status="complete")
        return measured
    except BaseException:
        if store.get_run(run_id) is not None:
            store.update_run(run_id, status="interrupted")
        raise
    finally:
        await target.close()


def _per_step(profile: LoadProfile) -> int:
    """Request indices each step owns (warmup included), so steps never share a prompt."""
    return (profile.requests or PROMPTS_PER_DURATION_STEP) + profile.warmup


def _client_processes(target: Target, options: PerfOptions, workload: Workload) -> ClientProcesses:
    from assay.perf._processes import ClientProcesses
    from assay.targets._openai import OpenAITarget

    if not isinstance(target, OpenAITarget):
        raise SpecError(
            f"--client-processes needs an openai: target; {target.spec} runs in this process"
        )
    return ClientProcesses(
        options.client_processes,
        base_url=target.base_url,
        model=target.model,
        max_concurrency=target.max_concurrency,
        workload=workload,
        profile=options.profile,
    )


async def _run_steps(
    target: Target,
    options: PerfOptions,
    workload: Workload,
    store: Store,
    run_id: str,
    processes: ClientProcesses | None,
    log: Any,
) -> int:
    profile = options.profile
    measured = 0
    now = utcnow()
    store.create_run(
        {
            "run_id": run_id,
            "created": now,
            "updated": now,
            "status": "running",
            "assay_version": __version__,
            "target_spec": target.spec,
            "model": target.model,
            "capabilities": target.capabilities.model_dump(),
            "manifest": _manifest(options, workload),
            "invocations": [],
        }
    )
    for number, step in enumerate(profile.steps()):
        if log:
            log(f"perf: {step.name} ...")
        offset = number * _per_step(profile)
        if processes is None:
            record = await run_step(target, workload, profile, step, offset)
        else:
            record = await processes.run_step(step, offset)
        meta = {
            "kind": "step",
            "name": step.name,
            "concurrency": step.concurrency,
            "rate": step.rate_per_s,
            "duration_s": record.finished - record.started,
            "loop_lag_s": record.loop_lag_s,
            "in_flight_cap_hit": record.in_flight_cap_hit,
        }
        rows = [
            {
                "run_id": run_id,
                "step": step.name,
                "request_id": None,
                "scheduled_s": None,
                "started_s": None,
                "data": meta,
            }
        ]
        rows += [
            {
                "run_id": run_id,
                "step": step.name,
                "request_id": r["index"],
                "scheduled_s": r["scheduled_s"],
                "started_s": r["started_s"],
                "data": {"kind": "request", **r},
            }
            for r in record.requests
        ]
        store.write_perf(rows)
        measured += len(record.requests)
    return measured


def _manifest(options: PerfOptions, workload: Workload) -> dict[str, Any]:
    profile = options.profile
    return {
        "kind": "perf",
        "profile": {**asdict(profile), "steps": [s.name for s in profile.steps()]},
        "workload": {
            "source": str(options.prompts_file) if options.prompts_file else "synthetic",
            "prompt_tokens": workload.prompt_tokens,
            "output_tokens": workload.output_tokens,
            "shared_prefix_tokens": workload.shared_prefix_tokens,
            "length_calibration": workload.calibration,
            "calibration": {"source": workload.calibration, "reason": workload.calibration_reason},
            "output_length_control": "ignore_eos" if workload.ignore_eos else "max_tokens only",
            "distinct_prompts": len(workload.prompts),
            "api": "chat" if workload.chat else "completion",
        },
        "slo": options.slo.describe(),
        "client_processes": options.client_processes,
        "assay_version": __version__,
    }


def perf_results(data: RunData) -> dict[str, Any] | None:
    """The `perf` section of results.json, recomputed from the stored per-request rows."""
    manifest = data.run["manifest"]
    if manifest.get("kind") != "perf":
        return None
    slo = Slo(**manifest.get("slo", {}))
    metas = [r["data"] for r in data.perf_samples if r["data"].get("kind") == "step"]
    summaries = []
    for meta in metas:
        rows = [
            r["data"]
            for r in data.perf_samples
            if r["step"] == meta["name"] and r["data"].get("kind") == "request"
        ]
        summaries.append(
            summarize_step(
                meta["name"],
                rows,
                duration_s=meta["duration_s"],
                requested_rate=meta["rate"],
                concurrency=meta["concurrency"],
                loop_lags_s=meta["loop_lag_s"],
                in_flight_cap_hit=meta["in_flight_cap_hit"],
                slo=slo,
            )
        )
    profile = manifest["profile"]["kind"]
    top: dict[str, Any] = dict(summaries[0]) if len(summaries) == 1 else {}
    top.update(
        profile=profile,
        client_processes=manifest.get("client_processes", 1),
        steps=summaries,
        workload=manifest["workload"],
        client_limited=any(s["client_limited"] for s in summaries),
    )
    return top
