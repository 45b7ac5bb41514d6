"""Validates `assay perf`: accuracy against injected latencies, agreement with GuideLLM, and the
highest request rate each client sustains.

    python benchmarks/perf_validation.py [--guidellm PATH] [--quick] [--json PATH]

1. Accuracy. `assay.testing.StubServer` runs in a separate process (server and client do not
   share a GIL) and streams 32 tokens with an injected TTFT of 100 ms and ITL of 20 ms, timed by
   absolute deadlines from each request's arrival. `assay perf` measures it at concurrency 1, 32
   and 256; the target is within 2% or 1 ms (whichever is larger) of the injected values. The
   stub records how late it wrote each delta against its own deadline, so a miss can be put on
   the server (late writes) or on the client and the network (on-time writes, late arrivals).
2. Agreement with GuideLLM (the named baseline), same prompts (one JSONL file, also given to
   assay with --prompts), same output length, on the same stub and on llama-cpp-python's server
   with the bundled model. Per-request metrics are summarised the same way for both (numpy
   percentiles over the per-request values each tool recorded); agreement is within 5% where
   the two formulas agree. GuideLLM gets no tokenizer (it cannot reach the hub): its token
   counts are the server's usage, as assay's are.
3. Highest sustained request rate: constant-rate steps against a zero-latency stub (separate
   process), each tool run once per rate. A rate is sustained when the server saw requests
   arrive at >= 95% of it, the tool itself reports >= 95% of it completed, every request
   succeeded, and the tool did not flag the step (assay: `client_limited`; GuideLLM: its
   `root_late` warning). The ratio assay ÷ GuideLLM of the highest sustained rates is printed.

GuideLLM runs from its own virtual environment (`--guidellm`: its `guidellm` script; it pulls
torch, so it is kept apart from assay's environment) with HF_HUB_OFFLINE=1 and a fresh HF_HOME.
Every subprocess has a timeout and is killed with its process group; servers are stopped at the
end, also on error. Results belong in benchmarks/RESULTS.md; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

MODEL = "stub-model"
TTFT_S, ITL_S, OUTPUT_TOKENS = 0.100, 0.020, 32
ACCURACY_LEVELS = (1, 32, 256)
RATES = (50, 100, 200, 400, 800, 1600)
SUSTAINED = 0.95


# -- the stub server, in its own process ----------------------------------------------------


def _serve(conn: Connection, ttft_s: float, itl_s: float) -> None:
    """Child process: run the stub; answer 'reset' / 'stats' / 'stop' on the pipe."""
    from assay.testing import StubConfig, StubServer

    words = " ".join(f"tok{index}" for index in range(256))
    config = StubConfig(
        model=MODEL, answer=lambda _: words, ttft_s=ttft_s, itl_s=itl_s, record_timings=True
    )
    with StubServer(config) as server:
        conn.send(server.port)
        log = server.log
        while True:
            command = conn.recv()
            if command == "reset":
                log.requests = 0
                log.arrivals_s.clear()
                log.token_lateness_s.clear()
                log.first_token_lateness_s.clear()
                log.loop_lag_s.clear()
                conn.send(True)
            elif command == "stats":
                arrivals = sorted(log.arrivals_s)
                span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else None
                conn.send(
                    {
                        "requests": log.requests,
                        "arrival_rate": (len(arrivals) - 1) / span if span else None,
                        "token_late_s": _quantiles(log.token_lateness_s),
                        "first_token_late_s": _quantiles(log.first_token_lateness_s),
                        "loop_lag_s": _quantiles(log.loop_lag_s),
                    }
                )
            else:
                conn.send(True)
                return


def _quantiles(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    found = np.percentile(np.asarray(values), [50, 99])
    return {"p50": float(found[0]), "p99": float(found[1]), "max": float(max(values))}


class Stub:
    """The stub server process; `url` is its OpenAI base URL."""

    def __init__(self, ttft_s: float, itl_s: float) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, ttft_s, itl_s), daemon=True)
        self._process.start()
        if not self._conn.poll(60):
            self.stop()
            raise RuntimeError("the stub server did not start within 60 s")
        self.port = int(self._conn.recv())
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def call(self, command: str) -> Any:
        self._conn.send(command)
        if not self._conn.poll(60):
            raise RuntimeError(f"the stub server did not answer {command!r}")
        return self._conn.recv()

    def stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError, RuntimeError, EOFError):
                self.call("stop")
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(10)


@contextmanager
def stub(ttft_s: float, itl_s: float) -> Iterator[Stub]:
    server = Stub(ttft_s, itl_s)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def llama_server(log_path: Path) -> Iterator[str]:
    """`assay model serve builtin` (llama-cpp-python's OpenAI server), as tests/conftest.py
    starts it; its log (with llama.cpp's own per-request timings) goes to `log_path`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    argv = [sys.executable, "-m", "assay", "model", "serve", "builtin"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"assay model serve did not start; see {log_path}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                        break
                except OSError:
                    time.sleep(0.25)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


_EVAL = re.compile(rb"\beval time =\s+([\d.]+) ms /\s+(\d+) runs")
_TOTAL = re.compile(rb"total time =\s+([\d.]+) ms")


def llama_timing(log_path: Path, offset: int) -> dict[str, Any]:
    """The server's own per-request timings logged after byte `offset`: total time and decode
    time per token (llama.cpp's `llama_perf_context_print` lines)."""
    with log_path.open("rb") as log:
        log.seek(offset)
        text = log.read()
    per_token = [float(ms) / int(runs) for ms, runs in _EVAL.findall(text) if int(runs)]
    totals = [float(ms) for ms in _TOTAL.findall(text)]
    return {
        "requests": len(totals),
        "total_ms_p50": float(np.median(totals)) if totals else None,
        "decode_ms_per_token_p50": float(np.median(per_token)) if per_token else None,
    }


# -- running the clients --------------------------------------------------------------------


@dataclass
class Outcome:
    tool: str
    label: str
    ok: bool
    wall_s: float
    cpu_s: float = 0.0
    error: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)


def _run(
    argv: list[str], env: dict[str, str], cwd: Path, timeout_s: float
) -> tuple[int, str, float]:
    """Exit code, output and CPU seconds (user + system) of the command's process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: a timeout ends its children too
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        output, code = (output or "") + f"\n[timed out after {timeout_s:g} s]", -9
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return code, output or "", cpu


def _summary(values: Sequence[float | None], scale: float = 1.0) -> dict[str, float] | None:
    clean = [float(v) * scale for v in values if v is not None]
    if not clean:
        return None
    return {"p50": float(np.percentile(clean, 50)), "mean": float(np.mean(clean)), "n": len(clean)}


@dataclass
class Load:
    """One measurement: a closed loop of `concurrency` workers or an open loop at `rate`/s."""

    label: str
    requests: int | None = None
    concurrency: int | None = None
    rate: float | None = None
    duration_s: float | None = None
    output_tokens: int = OUTPUT_TOKENS
    ignore_eos: bool = False
    client_processes: int = 1


class Assay:
    name = "assay"

    def __init__(self, workdir: Path, timeout_s: float) -> None:
        found = shutil.which("assay", path=str(Path(sys.executable).parent))
        self.argv = (
            [found] if found else [sys.executable, "-c", "from assay.cli import main; main()"]
        )
        self.workdir = workdir
        self.timeout_s = timeout_s
        self.env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_API_KEY")}
        self.env.update(NO_COLOR="1", COLUMNS="200")

    def run(self, url: str, load: Load, prompts: Path, run_id: str) -> Outcome:
        out = self.workdir / "assay-out"
        argv = [*self.argv, "perf", f"openai:{url}", "--prompts", str(prompts)]
        argv += ["--output-tokens", str(load.output_tokens), "--out", str(out), "--run-id", run_id]
        if load.concurrency is not None:
            argv += ["--profile", "concurrent", "--concurrency", str(load.concurrency)]
        else:
            argv += ["--profile", "constant", "--rate", f"{load.rate:g}"]
        argv += ["--requests", str(load.requests)] if load.requests else []
        argv += ["--duration", f"{load.duration_s:g}"] if load.duration_s else []
        argv += ["--ignore-eos"] if load.ignore_eos else []
        argv += ["--client-processes", str(load.client_processes)]
        started = time.perf_counter()
        code, output, cpu = _run(argv, self.env, self.workdir, self.timeout_s)
        wall = time.perf_counter() - started
        if code != 0:
            return Outcome(self.name, load.label, False, wall, cpu, output.strip()[-400:])
        perf = json.loads((out / run_id / "results.json").read_text("utf-8"))["perf"]
        return Outcome(self.name, load.label, True, wall, cpu, metrics=self._metrics(perf, output))

    @staticmethod
    def _metrics(perf: dict[str, Any], output: str) -> dict[str, Any]:
        step = perf["steps"][0]

        def pick(name: str, scale: float = 1.0) -> dict[str, float] | None:
            values = step[name]
            if not values:
                return None
            return {"p50": values["p50"] * scale, "mean": values["mean"] * scale, "n": values["n"]}

        server_counted = step["output_token_source"] == "server"
        tokens = step["output_tokens_server" if server_counted else "output_tokens_client"]
        return {
            "requests": step["requests"],
            "success_rate": step["success_rate"],
            "output_tokens_per_request": tokens / max(1, step["e2e_s"].get("n", 0)),
            "ttft_ms": pick("ttft_s", 1000),
            "ttfat_ms": pick("ttfat_s", 1000),
            "itl_ms": pick("itl_s", 1000),
            "e2e_s": pick("e2e_s"),
            "output_tokens_per_s": pick("output_tokens_per_s"),
            "request_throughput": step["request_throughput"],
            "aggregate_output_tokens_per_s": step["aggregate_output_tokens_per_s"],
            "output_token_source": step["output_token_source"],
            "achieved_rate": step["request_throughput"],
            "send_rate": step["client"]["achieved_send_rate"],
            "flagged": step["client_limited"],
            "flags": step["client"]["reasons"],
            "warning_printed": "the client, not the server" in output,
        }


class GuideLLM:
    name = "guidellm"

    def __init__(self, script: str, workdir: Path, timeout_s: float) -> None:
        self.script = script
        self.workdir = workdir
        self.timeout_s = timeout_s
        hf_home = workdir / "hf-home"
        hf_home.mkdir(exist_ok=True)
        self.env = {k: v for k, v in os.environ.items() if k not in ("CI", "OPENAI_API_KEY")}
        self.env.update(
            HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", HF_HOME=str(hf_home), NO_COLOR="1"
        )

    def run(self, url: str, load: Load, prompts: Path, run_id: str, model: str) -> Outcome:
        output_path = self.workdir / f"guidellm-{run_id}.json"
        backend: dict[str, Any] = {
            "kind": "openai_http",
            "target": url.removesuffix("/v1"),
            "model": model,
            "request_format": "/v1/completions",  # assay's perf workloads are raw completions
            "validate_backend": False,  # the stub has no /health
            "http2": False,
            # assay sends temperature 0; without it llama-cpp-python samples at 0.8.
            "extras": {"body": {"temperature": 0.0}},
        }
        if load.concurrency is not None:
            profile: dict[str, Any] = {"kind": "concurrent", "streams": load.concurrency}
        else:
            profile = {"kind": "constant", "rate": load.rate}
        constraints: list[dict[str, Any]] = []
        if load.requests:
            constraints.append({"kind": "max_requests", "count": load.requests})
        if load.duration_s:
            constraints.append({"kind": "max_duration", "seconds": load.duration_s})
        scenario = {
            "spec": {
                "backend": backend,
                "profile": profile,
                "data": [{"kind": "json_file", "path": str(prompts)}],
                "constraints": constraints,
                "outputs": [{"kind": "json", "path": str(output_path)}],
            }
        }
        scenario_path = self.workdir / f"guidellm-{run_id}-scenario.json"
        scenario_path.write_text(json.dumps(scenario), "utf-8")
        argv = [self.script, "run", "-c", str(scenario_path), "--disable-console-interactive"]
        started = time.perf_counter()
        code, output, cpu = _run(argv, self.env, self.workdir, self.timeout_s)
        wall = time.perf_counter() - started
        if code != 0 or not output_path.is_file():
            return Outcome(self.name, load.label, False, wall, cpu, output.strip()[-400:])
        report = json.loads(output_path.read_text("utf-8"))
        return Outcome(self.name, load.label, True, wall, cpu, metrics=self._metrics(report))

    @staticmethod
    def _metrics(report: dict[str, Any]) -> dict[str, Any]:
        bench = report["benchmarks"][0]
        ok = bench["requests"]["successful"]
        errored = len(bench["requests"]["errored"])
        incomplete = len(bench["requests"]["incomplete"])
        total = len(ok) + errored  # requests cut off by the duration limit are apart
        metrics = bench["metrics"]

        def mean_of(name: str) -> float | None:
            value = (metrics.get(name) or {}).get("successful") or {}
            return float(value["mean"]) if value.get("mean") is not None else None

        warnings = [w["code"] for w in bench.get("warnings") or []]
        return {
            "requests": total,
            "incomplete": incomplete,
            "success_rate": len(ok) / total if total else None,
            "output_tokens_per_request": (_summary([r["output_tokens"] for r in ok]) or {}).get(
                "mean"
            ),
            "mean_concurrency": mean_of("request_concurrency"),
            "ttft_ms": _summary([r["time_to_first_token_ms"] for r in ok]),
            "ttfat_ms": _summary([r["time_to_first_output_token_ms"] for r in ok]),
            "itl_ms": _summary([r["inter_token_latency_ms"] for r in ok]),
            "tpot_ms": _summary([r["time_per_output_token_ms"] for r in ok]),
            "e2e_s": _summary([r["request_latency"] for r in ok]),
            "output_tokens_per_s": _summary([r["output_tokens_per_second"] for r in ok]),
            "request_throughput": mean_of("requests_per_second"),
            "aggregate_output_tokens_per_s": mean_of("output_tokens_per_second"),
            "achieved_rate": mean_of("requests_per_second"),
            "dispatch_delay_p95_s": (
                (metrics.get("root_dispatch_delay") or {}).get("percentiles") or {}
            ).get("p95"),
            "flagged": "root_late" in warnings,
            "flags": warnings,
        }


# -- the three parts ------------------------------------------------------------------------


def write_prompts(path: Path, count: int, words: int, output_tokens: int) -> Path:
    """Distinct prompts of `words` words (one token each for the stub's usage count)."""
    vocabulary = ("time", "year", "people", "way", "day", "man", "thing", "woman", "life")
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            body = " ".join(vocabulary[(index + k) % len(vocabulary)] for k in range(words - 1))
            row = {"prompt": f"{index:06d} {body}", "output_tokens_count": output_tokens}
            handle.write(json.dumps(row) + "\n")
    return path


def within(measured: float, injected: float) -> bool:
    return abs(measured - injected) <= max(0.02 * injected, 1.0)  # milliseconds


def accuracy(
    assay: Assay, prompts: Path, quick: bool, processes: Sequence[int] = (1,)
) -> list[Outcome]:
    """Each level once per client-process count (`assay perf --client-processes P`)."""
    outcomes = []
    with stub(TTFT_S, ITL_S) as server:
        for concurrency in ACCURACY_LEVELS:
            for count in processes:
                if count > concurrency:
                    continue
                rounds = 2 if quick else (20 if concurrency == 1 else 5)
                label = f"c={concurrency}" + (f" P={count}" if count > 1 else "")
                load = Load(
                    label,
                    requests=concurrency * rounds,
                    concurrency=concurrency,
                    client_processes=count,
                )
                server.call("reset")
                run_id = f"accuracy-c{concurrency}-p{count}"
                outcome = assay.run(server.url, load, prompts, run_id)
                outcome.server = server.call("stats")
                outcomes.append(outcome)
                print_accuracy(outcome)
    return outcomes


def print_accuracy(outcome: Outcome) -> None:
    if not outcome.ok:
        print(f"  {outcome.label}: FAILED {outcome.error}")
        return
    m, s = outcome.metrics, outcome.server
    ttft, itl = m["ttft_ms"], m["itl_ms"]
    late_first, late_all = s["first_token_late_s"], s["token_late_s"]
    print(
        f"  {outcome.label:>6}: n={ttft['n']:4d}  TTFT p50 {ttft['p50']:7.2f} mean "
        f"{ttft['mean']:7.2f} ms ({'ok' if within(ttft['p50'], TTFT_S * 1000) else 'MISS'})  "
        f"ITL p50 {itl['p50']:6.3f} mean {itl['mean']:6.3f} ms "
        f"({'ok' if within(itl['p50'], ITL_S * 1000) else 'MISS'})  "
        f"server late: first p50 {late_first['p50'] * 1000:.2f} p99 "
        f"{late_first['p99'] * 1000:.2f} ms, all p50 {late_all['p50'] * 1000:.2f} p99 "
        f"{late_all['p99'] * 1000:.2f} ms, server loop lag p99 {s['loop_lag_s']['p99'] * 1000:.1f} "
        f"max {s['loop_lag_s']['max'] * 1000:.1f} ms  client flagged: {m['flagged']}"
    )


def side_by_side(
    assay: Assay, guidellm: GuideLLM | None, prompts: Path, llama_prompts: Path, quick: bool
) -> list[tuple[str, Outcome, Outcome | None]]:
    pairs = []
    with stub(TTFT_S, ITL_S) as server:
        for concurrency in (1, 32):
            rounds = 2 if quick else (10 if concurrency == 1 else 5)
            load = Load(f"stub c={concurrency}", concurrency * rounds, concurrency)
            mine = assay.run(server.url, load, prompts, f"side-stub-c{concurrency}")
            theirs = (
                guidellm.run(server.url, load, prompts, f"stub-c{concurrency}", MODEL)
                if guidellm
                else None
            )
            pairs.append((load.label, mine, theirs))
            print_pair(load.label, mine, theirs)
    log_path = assay.workdir / "llama-server.log"
    with llama_server(log_path) as url:
        load = Load("llama c=1", 4 if quick else 12, 1, ignore_eos=True)
        warm = Load("warm-up", 2, 1, ignore_eos=True)
        assay.run(url, warm, llama_prompts, "side-llama-warmup")
        offset = log_path.stat().st_size
        mine = assay.run(url, load, llama_prompts, "side-llama")
        mine.server = llama_timing(log_path, offset)
        theirs = None
        if guidellm:
            offset = log_path.stat().st_size
            theirs = guidellm.run(url, load, llama_prompts, "llama", "gemma-3-270m")
            theirs.server = llama_timing(log_path, offset)
        pairs.append((load.label, mine, theirs))
        print_pair(load.label, mine, theirs)
    return pairs


COMPARED = (
    ("ttft_ms", "TTFT ms", True),
    ("itl_ms", "ITL ms", True),
    ("e2e_s", "E2E s", True),
    ("output_tokens_per_s", "out tok/s per request", True),
    ("request_throughput", "requests/s", True),
    ("aggregate_output_tokens_per_s", "aggregate out tok/s", True),
    ("tpot_ms", "TPOT ms (GuideLLM: E2E/N; assay: = ITL)", False),
)


def _point(metrics: dict[str, Any], key: str) -> float | None:
    value = metrics.get(key)
    if key == "tpot_ms" and value is None:
        value = metrics.get("itl_ms")  # assay's TPOT is its ITL
    if isinstance(value, dict):
        return float(value["p50"])
    return float(value) if value is not None else None


def print_pair(label: str, mine: Outcome, theirs: Outcome | None) -> None:
    print(f"  {label}:")
    if not mine.ok:
        print(f"    assay FAILED: {mine.error}")
    if theirs is not None and not theirs.ok:
        print(f"    guidellm FAILED: {theirs.error}")
    for key, name, same_formula in COMPARED:
        a = _point(mine.metrics, key) if mine.ok else None
        g = _point(theirs.metrics, key) if theirs is not None and theirs.ok else None
        diff = f"{(a - g) / g * 100:+6.1f}%" if a is not None and g else "   —"
        verdict = (
            ""
            if not same_formula
            else (
                "ok"
                if diff != "   —" and abs((a or 0) - (g or 0)) <= 0.05 * abs(g or 1)
                else "DIFF"
            )
        )
        a_text = "—" if a is None else f"{a:10.3f}"
        g_text = "—" if g is None else f"{g:10.3f}"
        print(f"    {name:<42} assay {a_text:>10}  guidellm {g_text:>10}  {diff} {verdict}")
    for outcome in (mine, theirs):
        if outcome is not None and outcome.ok:
            m = outcome.metrics
            extra = (
                f", mean concurrency {m['mean_concurrency']:.1f}"
                if m.get("mean_concurrency")
                else ""
            )
            extra += f", server's own timing {outcome.server}" if outcome.server else ""
            print(
                f"    {outcome.tool}: {m['requests']} requests, ok {m['success_rate']:.3f}, "
                f"{m['output_tokens_per_request']:.1f} output tokens each, CPU "
                f"{outcome.cpu_s:.1f} s in {outcome.wall_s:.1f} s wall{extra}"
            )


def rates(
    assay: Assay, guidellm: GuideLLM | None, prompts: Path, ladder: Sequence[float], seconds: float
) -> list[Outcome]:
    outcomes = []
    with stub(0.0, 0.0) as server:
        for rate in ladder:
            load = Load(f"{rate:g}/s", rate=rate, duration_s=seconds, output_tokens=4)
            clients: list[Any] = [assay] + ([guidellm] if guidellm else [])
            for client in clients:
                server.call("reset")
                run_id = f"rate-{rate:g}"
                if client is assay:
                    outcome = assay.run(server.url, load, prompts, run_id)
                else:
                    outcome = client.run(server.url, load, prompts, run_id, MODEL)
                outcome.server = server.call("stats")
                outcome.metrics["sustained"] = sustained(outcome, rate)
                outcomes.append(outcome)
                print_rate(outcome, rate)
    return outcomes


def sustained(outcome: Outcome, rate: float) -> bool:
    m = outcome.metrics
    seen = outcome.server.get("arrival_rate") or 0.0
    return bool(
        outcome.ok
        and seen >= SUSTAINED * rate
        and (m.get("achieved_rate") or 0.0) >= SUSTAINED * rate
        and m.get("success_rate") == 1.0
        and not m.get("flagged")
    )


def print_rate(outcome: Outcome, rate: float) -> None:
    if not outcome.ok:
        print(f"  {outcome.tool:>8} {rate:>6g}/s: FAILED {outcome.error}")
        return
    m = outcome.metrics
    seen = outcome.server.get("arrival_rate") or 0.0
    print(
        f"  {outcome.tool:>8} {rate:>6g}/s: server saw {seen:8.1f}/s, tool says "
        f"{m['achieved_rate'] or 0:8.1f}/s, ok {m['success_rate'] * 100:5.1f}%, "
        f"TTFT p50 {m['ttft_ms']['p50'] if m['ttft_ms'] else float('nan'):7.2f} ms, "
        f"flagged {m['flagged']} {m['flags']}  -> "
        f"{'SUSTAINED' if m['sustained'] else 'not sustained'}  ({outcome.wall_s:.1f} s)"
    )


def highest(outcomes: Sequence[Outcome], tool: str, ladder: Sequence[float]) -> float | None:
    best = None
    for rate in ladder:
        found = [o for o in outcomes if o.tool == tool and o.label == f"{rate:g}/s"]
        if found and found[0].metrics.get("sustained"):
            best = rate
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guidellm", default=shutil.which("guidellm"), help="its script")
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    parser.add_argument("--parts", default="accuracy,side,rates")
    parser.add_argument(
        "--client-processes", default="1", help="accuracy: P[,P...] client processes to try"
    )
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES))
    parser.add_argument("--rate-seconds", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="per tool run, seconds")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    ladder = [float(r) for r in args.rates.split(",")]

    print(f"perf_validation.py — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="assay-perfval-") as tmp:
        workdir = Path(tmp)
        assay = Assay(workdir, args.timeout)
        guidellm = GuideLLM(args.guidellm, workdir, args.timeout) if args.guidellm else None
        if guidellm is None:
            print("GuideLLM not found (pass --guidellm PATH): measuring assay alone")
        prompts = write_prompts(workdir / "prompts.jsonl", 20_000, 64, OUTPUT_TOKENS)
        llama_prompts = write_prompts(workdir / "llama.jsonl", 64, 64, OUTPUT_TOKENS)
        rate_prompts = write_prompts(workdir / "rate.jsonl", 20_000, 8, 4)
        record: dict[str, Any] = {"load_before": os.getloadavg()}
        if "accuracy" in parts:
            print(f"\n1. accuracy: injected TTFT {TTFT_S * 1000:g} ms, ITL {ITL_S * 1000:g} ms")
            counts = [int(p) for p in args.client_processes.split(",")]
            outcomes = accuracy(assay, prompts, args.quick, counts)
            record["accuracy"] = [o.__dict__ for o in outcomes]
        if "side" in parts:
            print("\n2. side by side with GuideLLM (p50 of per-request values)")
            pairs = side_by_side(assay, guidellm, prompts, llama_prompts, args.quick)
            record["side_by_side"] = [
                {"label": label, "assay": a.__dict__, "guidellm": g.__dict__ if g else None}
                for label, a, g in pairs
            ]
        if "rates" in parts:
            print(
                f"\n3. highest sustained rate ({args.rate_seconds:g} s per step, zero-latency stub)"
            )
            outcomes = rates(assay, guidellm, rate_prompts, ladder, args.rate_seconds)
            best_assay = highest(outcomes, "assay", ladder)
            best_guidellm = highest(outcomes, "guidellm", ladder)
            print(f"  highest sustained: assay {best_assay}, guidellm {best_guidellm}")
            if best_assay and best_guidellm:
                print(f"  ratio assay ÷ guidellm: {best_assay / best_guidellm:.1f}×")
            record["rates"] = [o.__dict__ for o in outcomes]
            record["highest"] = {"assay": best_assay, "guidellm": best_guidellm}
        record["load_after"] = os.getloadavg()
        if args.json:
            args.json.write_text(json.dumps(record, indent=1, default=str), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
