"""Client overhead: samples/s of `assay run` beside `inspect eval` and `lm_eval`, same server.

Every tool evaluates the same arithmetic items (assay's own `arithmetic` task, prompts rendered
by its solvers) against one zero-latency OpenAI-compatible stub (`assay.testing.StubServer`)
that runs in a separate process on 127.0.0.1, so the server does not compete with the client
for the GIL. The stub answers "The answer is 42." at once, so what is measured is the cost of the
evaluation framework itself: start-up, request building, HTTP, parsing, scoring and storage
(assay writes its SQLite store; inspect writes its .eval log; lm_eval writes results JSON).

    python benchmarks/overhead.py [--items 1000] [--concurrency 32] [--repeat 3]

For each tool it prints the whole command's wall clock, the eval-only time the tool reports
(where it reports one), the span from the first to the last request seen by the server, the
CPU seconds the tool used, and the ratios of assay to each peer (the named baselines). Peers that
are not installed are reported as such (`pip install -e '.[bench]'` installs them). Results
belong in benchmarks/RESULTS.md; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

TOOLS = ("assay", "inspect", "lm_eval")
PACKAGES = {"assay": "assay", "inspect": "inspect_ai", "lm_eval": "lm_eval"}
MODEL = "stub-model"

# -- the server, in its own process ------------------------------------------------------------


def _serve(conn: Connection) -> None:
    """Child process: run the stub and answer 'reset' / 'stats' / 'stop' on the pipe."""
    from assay.testing import StubConfig, StubServer

    arrivals: list[float] = []

    def answer(prompt: str) -> str:
        # Called once per request as it is answered (capability probes say "Hello").
        if prompt != "Hello":
            arrivals.append(time.perf_counter())
        return "The answer is 42."

    with StubServer(StubConfig(model=MODEL, answer=answer)) as server:
        conn.send(server.port)
        while True:
            command = conn.recv()
            if command == "reset":
                arrivals.clear()
                server.log.requests = 0
                server.log.by_prompt.clear()
                conn.send(True)
            elif command == "stats":
                prompts = sorted(_normalise_prompt(p) for p in server.log.by_prompt.elements())
                conn.send(
                    {
                        "requests": server.log.requests,
                        "span_s": arrivals[-1] - arrivals[0] if len(arrivals) > 1 else None,
                        "prompts_sha": _digest(prompts),
                    }
                )
            else:
                conn.send(True)
                break


def _normalise_prompt(prompt: str) -> str:
    # lm_eval sends `prompt` as a one-element list (a batch of one); the stub logs str() of it.
    if prompt.startswith(("['", '["')):
        try:
            value = ast.literal_eval(prompt)
            if isinstance(value, list) and len(value) == 1:
                return str(value[0])
        except (ValueError, SyntaxError):
            pass
    return prompt


def _digest(prompts: Sequence[str]) -> str:
    return hashlib.sha256("\x00".join(sorted(prompts)).encode()).hexdigest()[:16]


class Server:
    """The stub in a child process; stopped on exit, whatever happens."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self.port = 0

    def __enter__(self) -> Server:
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError("stub server did not start within 60 s")
        self.port = int(self._conn.recv())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._conn.send("stop")
            self._conn.poll(10)
        except (BrokenPipeError, EOFError, OSError):
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def call(self, command: str) -> Any:
        self._conn.send(command)
        return self._conn.recv()


# -- the items ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Items:
    rows: list[dict[str, str]]  # id, input (the fully rendered prompt), target
    max_tokens: int
    stop: tuple[str, ...]
    seed: int

    @property
    def digest(self) -> str:
        return _digest([row["input"] for row in self.rows])


def build_items(count: int, seed: int) -> Items:
    """assay's `arithmetic` items, rendered by its own solvers exactly as `assay run` sends them."""
    from assay.core import Capabilities, State
    from assay.tasks import TaskContext, get_task

    task = get_task("arithmetic")
    samples = list(task.dataset(TaskContext(seed=seed)))[:count]
    if len(samples) < count:
        print(
            f"note: the arithmetic task makes only {len(samples)} items for seed {seed}; "
            f"measuring {len(samples)} instead of {count}",
            file=sys.stderr,
        )
    capabilities = Capabilities(chat=True, completion=True, logprobs=True, streaming=True)

    async def render(sample: Any) -> str:
        seen: list[str] = []

        async def generate(state: State) -> State:
            seen.append(state.prompt)
            return state

        state = State(
            sample=sample, mode="completion", capabilities=capabilities, config=task.config
        )
        for solver in task.solvers:
            state = await solver(state, generate)
        return seen[0]

    async def render_all() -> list[str]:
        return [await render(sample) for sample in samples]

    prompts = asyncio.run(render_all())
    rows = [
        {"id": s.id, "input": p, "target": s.target} for s, p in zip(samples, prompts, strict=True)
    ]
    return Items(rows, task.config.max_tokens, task.config.stop, seed)


# -- running one tool --------------------------------------------------------------------------


@dataclass
class Measurement:
    tool: str
    round: int
    ok: bool
    wall_s: float
    cpu_s: float
    eval_s: float | None = None  # what the tool itself reports, where it does
    span_s: float | None = None  # first to last request at the server
    requests: int = 0
    same_items: bool = False
    score: float | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Command:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    # Reads the tool's own eval time and score from its outputs: (eval_s, score).
    read: Callable[[subprocess.CompletedProcess[str]], tuple[float | None, float | None]]


def run_tool(
    name: str,
    command: Command,
    server: Server,
    items: Items,
    round_: int,
    timeout_s: float,
) -> Measurement:
    server.call("reset")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        command.argv,
        cwd=command.cwd,
        env=command.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group, so a timeout ends its children too
    )
    try:
        output, _ = process.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        timed_out = True
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats = server.call("stats")
    result = Measurement(
        tool=name,
        round=round_,
        ok=process.returncode == 0 and not timed_out,
        wall_s=wall,
        cpu_s=cpu,
        span_s=stats["span_s"],
        requests=stats["requests"],
        same_items=stats["prompts_sha"] == items.digest,
    )
    completed = subprocess.CompletedProcess(command.argv, process.returncode, output or "", "")
    if timed_out:
        result.error = f"timed out after {timeout_s:g} s"
    elif process.returncode != 0:
        tail = (output or "").strip().splitlines()[-3:]
        result.error = f"exit {process.returncode}: " + " | ".join(tail)
    else:
        try:
            result.eval_s, result.score = command.read(completed)
        except (OSError, ValueError, KeyError, IndexError, subprocess.SubprocessError) as exc:
            result.notes.append(f"could not read its own timing: {exc}")
    return result


# -- the three commands ------------------------------------------------------------------------


def _clean_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Nothing may reach the network: no hub downloads, no telemetry, no proxy for loopback.
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HOME=str(workdir / "hf-home"),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


def assay_command(server: Server, items: Items, workdir: Path, concurrency: int) -> Command:
    out = workdir / "assay-out"
    argv = [
        *_entry("assay", "assay.cli"),
        "run",
        "--target",
        f"openai:{server.url}#{MODEL}",
        "--task",
        "arithmetic",
        "--seed",
        str(items.seed),
        "--limit",
        str(len(items.rows)),
        "--concurrency",
        str(concurrency),
        "--out",
        str(out),
    ]

    def read(done: subprocess.CompletedProcess[str]) -> tuple[float | None, float | None]:
        # The progress line: "samples: 1000/1000 (2015.0/s, errors 0)".
        found = re.findall(r"samples: (\d+)/\d+ \(([\d.]+)/s", done.stdout)
        eval_s = int(found[-1][0]) / float(found[-1][1]) if found else None
        results = next(out.glob("*/results.json"))
        value = json.loads(results.read_text("utf-8"))["tasks"][0]["value"]
        return eval_s, value

    return Command(argv, _clean_env(workdir), workdir, read)


_INSPECT_TASK = """\
from inspect_ai import Task, task
from inspect_ai.dataset import json_dataset
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import match
from inspect_ai.solver import generate


@task
def arithmetic():
    return Task(
        dataset=json_dataset({items!r}),
        solver=generate(),
        scorer=match(numeric=True),
        config=GenerateConfig(max_tokens={max_tokens}, stop_seqs={stop!r}, temperature=0.0),
    )
"""


def inspect_command(
    server: Server, items: Items, workdir: Path, concurrency: int, items_path: Path
) -> Command:
    task_file = workdir / "inspect_task.py"
    # Paths relative to the working directory (inspect globs them): copy the items beside it.
    shutil.copyfile(items_path, workdir / "items.jsonl")
    task_file.write_text(
        _INSPECT_TASK.format(
            items="items.jsonl", max_tokens=items.max_tokens, stop=list(items.stop)
        ),
        "utf-8",
    )
    logs = workdir / "inspect-logs"
    env = _clean_env(workdir)
    # Provider `openai-api/<service>/<model>` reads <SERVICE>_BASE_URL and <SERVICE>_API_KEY.
    env.update(STUB_BASE_URL=server.url, STUB_API_KEY="stub", INSPECT_LOG_DIR=str(logs))
    argv = [
        *_entry("inspect", "inspect_ai"),
        "eval",
        task_file.name,  # relative to its cwd: inspect globs the path and rejects absolute ones
        "--model",
        f"openai-api/stub/{MODEL}",
        "--max-connections",
        str(concurrency),
        "--log-dir",
        str(logs),
        "--display",
        "none",
    ]

    def read(done: subprocess.CompletedProcess[str]) -> tuple[float | None, float | None]:
        log = next(logs.glob("*.eval"))
        dump = subprocess.run(
            [*_entry("inspect", "inspect_ai"), "log", "dump", "--header-only", str(log)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        header = json.loads(dump.stdout)
        stats = header["stats"]
        # Whole seconds only: inspect records started_at/completed_at without fractions.
        eval_s = (
            dt.datetime.fromisoformat(stats["completed_at"])
            - dt.datetime.fromisoformat(stats["started_at"])
        ).total_seconds()
        scores = header["results"]["scores"][0]["metrics"]
        return eval_s, scores["accuracy"]["value"]

    return Command(argv, env, workdir, read)


def lm_eval_command(
    server: Server, items: Items, workdir: Path, concurrency: int, items_path: Path
) -> Command:
    task_dir = workdir / "lm_eval_tasks"
    task_dir.mkdir(exist_ok=True)
    task = {
        "task": "assay_arithmetic",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(items_path)}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": "{{input}}",
        "doc_to_target": "{{target}}",
        "generation_kwargs": {
            "until": list(items.stop),
            "max_gen_toks": items.max_tokens,
            "do_sample": False,
            "temperature": 0.0,
        },
        "filter_list": [
            {
                "name": "number",
                "filter": [
                    {"function": "regex", "regex_pattern": r"answer is (-?[0-9]+)"},
                    {"function": "take_first"},
                ],
            }
        ],
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }
    # JSON is YAML; lm_eval reads any *.yaml under --include_path.
    (task_dir / "assay_arithmetic.yaml").write_text(json.dumps(task, indent=2), "utf-8")
    out = workdir / "lm_eval-out"
    model_args = ",".join(
        [
            f"model={MODEL}",
            f"base_url={server.url}/completions",
            f"num_concurrent={concurrency}",
            "tokenized_requests=False",
            "tokenizer_backend=None",
        ]
    )
    argv = [
        *_entry("lm_eval", "lm_eval"),
        "--model",
        "local-completions",
        "--model_args",
        model_args,
        "--tasks",
        "assay_arithmetic",
        "--include_path",
        str(task_dir),
        "--output_path",
        str(out),
    ]

    def read(done: subprocess.CompletedProcess[str]) -> tuple[float | None, float | None]:
        results = json.loads(next(out.glob("**/results_*.json")).read_text("utf-8"))
        eval_s = results.get("total_evaluation_time_seconds")
        value = results["results"]["assay_arithmetic"]["exact_match,number"]
        return (float(eval_s) if eval_s is not None else None), value

    return Command(argv, _clean_env(workdir), workdir, read)


def _entry(script: str, module: str) -> list[str]:
    """The console script next to this interpreter, else `python -m module`."""
    found = shutil.which(script, path=str(Path(sys.executable).parent)) or shutil.which(script)
    return [found] if found else [sys.executable, "-m", module]


def installed(tool: str) -> str | None:
    try:
        return version(PACKAGES[tool])
    except PackageNotFoundError:
        return None


# -- reporting ---------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(
    measurements: Sequence[Measurement], tools: Sequence[str], items: int
) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for tool in tools:
        runs = [m for m in measurements if m.tool == tool and m.ok]
        if not runs:
            continue
        wall = _median([m.wall_s for m in runs])
        span = _median([m.span_s for m in runs])
        evaluation = _median([m.eval_s for m in runs])
        summary[tool] = {
            "runs": len(runs),
            "wall_s": wall,
            "eval_s": evaluation,
            "span_s": span,
            "cpu_s": _median([m.cpu_s for m in runs]),
            "wall_per_s": items / wall if wall else None,
            "eval_per_s": items / evaluation if evaluation else None,
            "span_per_s": items / span if span else None,
            "requests": runs[-1].requests,
            "same_items": all(m.same_items for m in runs),
            "score": runs[-1].score,
        }
    return summary


def print_report(
    measurements: Sequence[Measurement],
    summary: dict[str, dict[str, Any]],
    items: int,
    skipped: dict[str, str],
) -> None:
    print("\nraw runs (wall = whole command; span = first to last request at the server)")
    print(
        f"{'tool':<8} {'round':>5} {'ok':>3} {'wall s':>8} {'eval s':>8} {'span s':>8} "
        f"{'cpu s':>7} {'requests':>8} {'same items':>10} {'score':>6}"
    )
    for m in measurements:
        print(
            f"{m.tool:<8} {m.round:>5} {'yes' if m.ok else 'NO':>3} {m.wall_s:>8.2f} "
            f"{_fmt(m.eval_s):>8} {_fmt(m.span_s, 3):>8} {m.cpu_s:>7.2f} {m.requests:>8} "
            f"{'yes' if m.same_items else 'NO':>10} {_fmt(m.score, 3):>6}"
        )
        for line in ([m.error] if m.error else []) + m.notes:
            print(f"{'':<8} {line}")
    for tool, why in skipped.items():
        print(f"{tool:<8} skipped: {why}")

    print(f"\nmedians over rounds, {items} items (samples/s = items / seconds)")
    print(
        f"{'tool':<8} {'wall s':>8} {'samples/s':>10} {'eval s':>8} {'samples/s':>10} "
        f"{'span s':>8} {'samples/s':>10} {'cpu s':>7}"
    )
    for tool, row in summary.items():
        print(
            f"{tool:<8} {_fmt(row['wall_s']):>8} {_fmt(row['wall_per_s'], 0):>10} "
            f"{_fmt(row['eval_s']):>8} {_fmt(row['eval_per_s'], 0):>10} "
            f"{_fmt(row['span_s'], 3):>8} {_fmt(row['span_per_s'], 0):>10} "
            f"{_fmt(row['cpu_s']):>7}"
        )

    assay = summary.get("assay")
    if assay is None:
        print("\nassay did not complete a run: no ratios")
        return
    peers = [tool for tool in summary if tool != "assay"]
    if not peers:
        print("\nno peer completed a run: no ratios")
    else:
        print("\nratios (assay samples/s ÷ peer samples/s; > 1 means assay is faster)")
    for peer in peers:
        row = summary[peer]
        parts = []
        for key, label in (("wall_per_s", "wall"), ("eval_per_s", "eval"), ("span_per_s", "span")):
            if assay[key] and row[key]:
                parts.append(f"{label} {assay[key] / row[key]:.2f}×")
        print(f"  assay/{peer}: " + ", ".join(parts))
    if peers:
        fastest = max(peers, key=lambda tool: summary[tool]["wall_per_s"] or 0.0)
        ratio = assay["wall_per_s"] / summary[fastest]["wall_per_s"]
        print(
            f"\ntarget ≥ 3× the faster peer ({fastest}) by wall clock: {ratio:.2f}× "
            f"({'met' if ratio >= 3 else 'NOT met'})"
        )
    rate = assay["wall_per_s"]
    print(
        f"target ≥ 1,000 samples/s (assay, wall clock): {rate:,.0f}/s "
        f"({'met' if rate >= 1000 else 'NOT met'}); "
        f"excluding start-up (server span): {_fmt(assay['span_per_s'], 0)}/s"
    )


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=600.0, help="per tool run, seconds")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset")
    parser.add_argument("--json", type=Path, default=None, help="also write raw results here")
    args = parser.parse_args(argv)
    tools = [t for t in args.tools.split(",") if t]
    unknown = sorted(set(tools) - set(TOOLS))
    if unknown:
        parser.error(f"unknown tools {unknown}; known: {', '.join(TOOLS)}")

    items = build_items(args.items, args.seed)
    count = len(items.rows)
    skipped = {t: "not installed (pip install -e '.[bench]')" for t in tools if not installed(t)}
    active = [t for t in tools if t not in skipped]
    versions = {t: installed(t) for t in tools}
    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    print("versions: " + ", ".join(f"{t} {v or 'missing'}" for t, v in versions.items()))
    print(
        f"{count} arithmetic items (seed {args.seed}), concurrency {args.concurrency}, "
        f"{args.repeat} round(s), items digest {items.digest}"
    )

    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="assay-overhead-") as tmp, Server() as server:
        root = Path(tmp)
        items_path = root / "items.jsonl"
        items_path.write_text("".join(json.dumps(row) + "\n" for row in items.rows), "utf-8")
        print(f"stub server: {server.url} (separate process)")
        for round_ in range(1, args.repeat + 1):
            for tool in active:
                workdir = root / f"{tool}-{round_}"
                workdir.mkdir()
                if tool == "assay":
                    command = assay_command(server, items, workdir, args.concurrency)
                elif tool == "inspect":
                    command = inspect_command(server, items, workdir, args.concurrency, items_path)
                else:
                    command = lm_eval_command(server, items, workdir, args.concurrency, items_path)
                result = run_tool(tool, command, server, items, round_, args.timeout)
                if result.ok and result.requests != count:
                    result.notes.append(f"server saw {result.requests} requests, not {count}")
                measurements.append(result)
                print(
                    f"  round {round_} {tool:<8} wall {result.wall_s:6.2f} s "
                    f"{'ok' if result.ok else 'FAILED: ' + result.error}",
                    flush=True,
                )

    summary = summarise(measurements, active, count)
    print_report(measurements, summary, count, skipped)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "versions": versions,
                    "items": count,
                    "concurrency": args.concurrency,
                    "skipped": skipped,
                    "runs": [asdict(m) for m in measurements],
                    "summary": summary,
                },
                indent=2,
            ),
            "utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
