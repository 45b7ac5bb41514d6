"""The command line: parses options into a RunSpec and calls the public API.

User errors (the AssayError family) print as one line on stderr and exit 2; Ctrl-C exits 130
after what finished has been saved.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from assay._errors import AssayError, SpecError

if TYPE_CHECKING:
    from assay.spec import RunSpec

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure how capable, safe and well served a language model is.",
)
list_app = typer.Typer(no_args_is_help=True, help="List tasks, suites or runs.")
app.add_typer(list_app, name="list")

OutOption = Annotated[Path, typer.Option("--out", help="Directory for reports and the store.")]
StoreOption = Annotated[
    str | None, typer.Option("--store", help="Store URL (default sqlite:///<out>/assay.db).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
WeakSandboxOption = Annotated[
    bool,
    typer.Option(
        "--allow-weak-sandbox",
        help="Run generated code even where Linux namespaces are refused (then it runs as "
        "your uid behind only a Python socket guard).",
    ),
]


@app.command()
def run(
    ctx: typer.Context,
    spec_file: Annotated[
        Path | None,
        typer.Option("--spec", help="RunSpec as a YAML or TOML file; options given override it."),
    ] = None,
    target: Annotated[
        str, typer.Option(help="builtin, gguf:PATH, openai:URL[#MODEL], file:ANSWERS.jsonl")
    ] = "builtin",
    suite: Annotated[
        str | None,
        typer.Option(
            help="Built-in suite name or a YAML file; several joined by ',' run in one run "
            "(quick,safety-quick)."
        ),
    ] = None,
    task: Annotated[
        list[str] | None, typer.Option("--task", help="Task name (repeatable).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most N samples per task.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for generated items and sampling.")] = 0,
    concurrency: Annotated[int, typer.Option(help="Requests in flight per target.")] = 32,
    epochs: Annotated[int, typer.Option(help="Times each sample is asked.")] = 1,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Resume this run.")] = None,
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Local copies of public datasets.")
    ] = None,
    judge_target: Annotated[
        str | None,
        typer.Option("--judge-target", help="Target that grades LLM-judged tasks (any target)."),
    ] = None,
    attacker_target: Annotated[
        str | None,
        typer.Option("--attacker-target", help="Target that writes attacks for safety tasks."),
    ] = None,
    attacker_judge_target: Annotated[
        str | None,
        typer.Option(
            "--attacker-judge-target", help="Target that grades attacks for the attacker."
        ),
    ] = None,
    safety_judge: Annotated[
        str,
        typer.Option(
            "--safety-judge",
            help="Judge of safety verdicts: offline (no network) or llm (the --judge-target).",
        ),
    ] = "offline",
    probes: Annotated[
        list[str] | None,
        typer.Option(
            "--probe",
            help="Extra probe (repeatable): contamination = also score perturbed variants.",
        ),
    ] = None,
    allow_weak_sandbox: WeakSandboxOption = False,
) -> None:
    """Evaluate a target on a suite or tasks; write results.json and report.html."""
    from assay._api import evaluate_async
    from assay.spec import build_spec, load_spec_file

    raw: dict[str, Any] = {
        "target": target,
        "seed": seed,
        "concurrency": concurrency,
        "epochs": epochs,
        "limit": limit,
        "data_dir": data_dir,
        "judge_target": judge_target,
        "attacker_target": attacker_target,
        "attacker_judge_target": attacker_judge_target,
        "safety_judge": safety_judge,
        "probes": tuple(probes or ()),
        "allow_weak_sandbox": allow_weak_sandbox,
    }
    if task:
        raw.update(tasks=tuple(task), suite=None)
    elif suite:
        raw["suite"] = suite
    given = {name for name in raw if _given(ctx, name)}
    if task:
        given |= {"tasks", "suite"}
    elif suite:
        given.add("suite")
    if spec_file is None:
        spec = build_spec(raw, where="command line")
    else:
        spec, given = _merge_spec_file(load_spec_file(spec_file), raw, given)
    # The weak sandbox is chosen per invocation: a resumed run does not inherit the consent.
    given.add("allow_weak_sandbox")
    # Long-lived objects from imports need no cycle collection: frozen, each collection during
    # the run scans only what the run allocates.
    gc.freeze()
    result = asyncio.run(
        evaluate_async(
            spec,
            out_dir=out,
            store_url=store,
            run_id=run_id,
            progress=True,
            given=frozenset(given),
        )
    )
    _print_summary(result.results_path)
    typer.echo(f"report: {result.report_path}")
    gc.freeze()  # nothing left to collect: spare the interpreter's teardown the scan


def _merge_spec_file(
    from_file: RunSpec, raw: dict[str, Any], given: set[str]
) -> tuple[RunSpec, set[str]]:
    """The file's spec with the options given on the command line put over it; every field the
    file sets counts as given too (a resumed run takes them from the file, not the manifest)."""
    from assay.spec import build_spec

    merged = {name: getattr(from_file, name) for name in from_file.model_fields_set}
    if "suite" in given and "tasks" not in given:
        merged["tasks"] = ()  # tasks outrank a suite: --suite must replace the file's tasks
        given.add("tasks")
    merged.update({name: raw[name] for name in given if name in raw})
    return build_spec(merged, where="command line"), given | from_file.model_fields_set


def _given(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def _value_and_ci(row: dict[str, Any]) -> tuple[str, str]:
    low, high = row["ci95"]
    value = "—" if row["value"] is None else f"{row['value']:.3f}"
    return value, "—" if low is None else f"[{low:.3f}, {high:.3f}]"


def _cut_text(cut: int, answered: int) -> str:
    """Answers cut at max_tokens (in n, counted wrong) with their share of the answers."""
    return f"{cut} ({cut / answered:.0%})" if cut and answered else str(cut)


def _errors_text(classes: dict[str, int]) -> str:
    """Samples left out by failed requests, by class: one wording for table and footer."""
    total = sum(classes.values())
    named = ", ".join(f"{name} {count}" for name, count in sorted(classes.items()))
    return f"{total} ({named})" if total else "0"


def _print_summary(results_path: Path) -> None:
    results = json.loads(results_path.read_text("utf-8"))
    table = Table(title=f"run {results['run_id']} — {results['target']['spec']}")
    columns = ("task", "dimension", "metric", "value", "95% CI", "n", "cut", "errors", "method")
    for column in columns:
        table.add_column(column)
    answered = cut = 0
    errors: Counter[str] = Counter()
    for row in results["tasks"]:
        value, ci = _value_and_ci(row)
        table.add_row(
            row["task"],
            row["dimension"],
            row["metric"],
            value,
            ci,
            str(row["n"]),
            _cut_text(row["truncated"], row["n"]),
            _errors_text(row["error_classes"]),
            row["method"],
        )
        answered, cut = answered + row["n"], cut + row["truncated"]
        errors.update(row["error_classes"])
    console = Console()
    console.print(table)
    if len(results["dimensions"]) > 1:
        parts = [f"{d['dimension']} {' '.join(_value_and_ci(d))}" for d in results["dimensions"]]
        overall = results["overall"]
        console.print("dimensions: " + "; ".join(parts))
        console.print("overall: " + " ".join(_value_and_ci(overall)) + f" ({overall['weighting']})")
    _print_safety(console, results)
    req = results["requests"]
    console.print(
        f"requests: {req['total']} ({req['cached']} cached, {req['sent']} sent); "
        f"answers: {answered}, {_cut_text(cut, answered)} cut at max_tokens (counted wrong); "
        f"errors: {_errors_text(errors)}"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _pct_ci(ci: list[float | None]) -> str:
    low, high = ci
    return "" if low is None or high is None else f"[{low * 100:.1f}, {high * 100:.1f}]"


def _print_safety(console: Console, results: dict[str, Any]) -> None:
    """R and D per attack level, over-refusal and the judge, below the task table."""
    summary = results.get("safety_summary")
    if not summary:
        return
    for row in summary["by_level"]:
        corrected = row.get("R_corrected")
        fixed = f"; corrected {_pct(corrected['value'])}" if corrected else ""
        console.print(
            f"safety {row['level']}: R {_pct(row['R'])} {_pct_ci(row['ci95_R'])}{fixed}, "
            f"D {_pct(row['D'])} {_pct_ci(row['ci95_D'])}, n={row['n']}, "
            f"errors {row['errors']} (content filter {row['content_filter']})"
        )
    refused = (results.get("over_refusal") or {}).get("overall")
    if refused:
        console.print(
            f"over-refusal: {_pct(refused['D'])} {_pct_ci(refused['ci95_D'])} of "
            f"{refused['n']} benign look-alikes refused"
        )
    judge = (summary.get("overall") or {}).get("judge")
    if judge:
        measured = (
            f"sensitivity {_pct(judge.get('sensitivity'))}, specificity "
            f"{_pct(judge.get('specificity'))}"
            if judge.get("sensitivity") is not None
            else "accuracy not measured"
        )
        console.print(f"judge of R: {judge['name']} {judge['version']} ({measured})")


@app.command()
def perf(
    target: Annotated[str, typer.Argument(help="openai:URL[#MODEL], gguf:PATH or builtin.")],
    profile: Annotated[
        str, typer.Option(help="sync, concurrent, sweep, constant or poisson.")
    ] = "sync",
    concurrency: Annotated[
        str, typer.Option(help="Workers (closed loop); a sweep takes N,N,...")
    ] = "1",
    rate: Annotated[
        str | None, typer.Option(help="Requests per second (open loop); R[,R...]")
    ] = None,
    requests: Annotated[int | None, typer.Option(help="Requests per step.")] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds per step.")] = None,
    prompt_tokens: Annotated[int, typer.Option(help="Synthetic prompt length.")] = 128,
    output_tokens: Annotated[int, typer.Option(help="max_tokens per request.")] = 64,
    prompts: Annotated[
        Path | None, typer.Option(help='JSONL file of {"prompt": ...} lines.')
    ] = None,
    shared_prefix: Annotated[
        int, typer.Option("--shared-prefix", help="Tokens shared by every prompt.")
    ] = 0,
    ignore_eos: Annotated[
        bool, typer.Option("--ignore-eos", help="Ask the server to produce exactly max_tokens.")
    ] = False,
    chat: Annotated[
        bool, typer.Option("--chat", help="Use /chat/completions (reasoning models).")
    ] = False,
    warmup: Annotated[int, typer.Option(help="Unrecorded requests before each step.")] = 0,
    slo: Annotated[str | None, typer.Option(help="e.g. ttft=1s,tpot=50ms,e2e=10s")] = None,
    client_processes: Annotated[
        int,
        typer.Option(
            "--client-processes",
            help="Processes sending the load (openai: targets), each with its own event loop.",
        ),
    ] = 1,
    seed: Annotated[int, typer.Option(help="Seed for prompts and Poisson arrivals.")] = 0,
    run_id: Annotated[str | None, typer.Option("--run-id", help="Id of the new run.")] = None,
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Measure serving: TTFT, ITL, throughput and goodput under a load profile."""
    from assay._api import perf_async
    from assay.core import did_you_mean
    from assay.perf._perf import PerfOptions, parse_slo
    from assay.perf._profiles import PROFILES, LoadProfile, parse_numbers

    if profile not in PROFILES:
        raise SpecError(did_you_mean("--profile", profile, PROFILES, "assay perf --help"))
    options = PerfOptions(
        profile=LoadProfile(
            kind=profile,  # checked against PROFILES above
            concurrency=tuple(int(c) for c in parse_numbers(concurrency, int, "--concurrency")),
            rates_per_s=parse_numbers(rate, float, "--rate"),
            requests=requests,
            duration_s=duration,
            warmup=warmup,
            seed=seed,
        ),
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
        prompts_file=prompts,
        shared_prefix_tokens=shared_prefix,
        chat=chat,
        ignore_eos=ignore_eos,
        slo=parse_slo(slo),
        client_processes=client_processes,
    )
    gc.freeze()
    result = asyncio.run(perf_async(target, options, out_dir=out, store_url=store, run_id=run_id))
    _print_perf(result.results_path)
    typer.echo(f"report: {result.report_path}")


def _print_perf(results_path: Path) -> None:
    perf = json.loads(results_path.read_text("utf-8"))["perf"]
    table = Table(title=f"perf — {perf['profile']}")
    columns = (
        "step",
        "req",
        "ok %",
        "TTFT p50",
        "TTFT p99",
        "ITL p50",
        "E2E p50",
        "out tok/s",
        "req/s",
        "goodput/s",
        "client",
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for step in perf["steps"]:
        table.add_row(*_perf_cells(step))
    Console(width=max(132, Console().width)).print(table)
    calibration = perf["workload"].get("calibration")
    if calibration:  # runs stored before it was recorded have only `length_calibration`
        print(f"length calibration: {calibration['source']}: {calibration['reason']}")
    for step in perf["steps"]:
        if step["client_limited"]:
            print(
                f"assay: warning: step {step['step']}: the client, not the server, was the "
                f"bottleneck ({'; '.join(step['client']['reasons'])}); its numbers "
                "understate the server",
                file=sys.stderr,
            )


def _perf_cells(step: dict[str, Any]) -> list[str]:
    def ms(metric: str, point: str) -> str:
        value = step[metric].get(point)
        return "—" if value is None else f"{value * 1000:.1f} ms"

    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}"

    rate = step["success_rate"]
    return [
        step["step"],
        str(step["requests"]),
        "—" if rate is None else f"{rate * 100:.1f}",
        ms("ttft_s", "p50"),
        ms("ttft_s", "p99"),
        ms("itl_s", "p50"),
        ms("e2e_s", "p50"),
        num(step["aggregate_output_tokens_per_s"]),
        num(step["request_throughput"]),
        num(step["goodput"]),
        "LIMITED" if step["client_limited"] else "ok",
    ]


@app.command()
def rescore(
    run_id: Annotated[str, typer.Argument(help="The stored run to score again.")],
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
    allow_weak_sandbox: WeakSandboxOption = False,
) -> None:
    """Score a stored run again from its stored answers, sending nothing: the tasks' current
    solvers and scorers, new scores and metrics in the store, results.json and report.html."""
    from assay._api import rescore as rescore_run

    result = rescore_run(
        run_id, out_dir=out, store_url=store, allow_weak_sandbox=allow_weak_sandbox, progress=True
    )
    _print_summary(result.results_path)
    typer.echo(f"report: {result.report_path}")


@app.command()
def rejudge(
    run_id: Annotated[str, typer.Argument(help="The stored run whose safety verdicts to redo.")],
    judge: Annotated[
        str, typer.Option(help="offline (refusal and harm classifiers) or llm (--judge-target).")
    ] = "offline",
    judge_target: Annotated[
        str | None, typer.Option(help="The LLM judge's target (--judge llm).")
    ] = None,
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Judge a stored safety run again with another judge, under a new run id, from the
    responses the store holds: the target under test is not asked again."""
    from assay._api import rejudge as rejudge_run

    if judge not in ("offline", "llm"):
        raise SpecError(f"--judge {judge!r}: use offline or llm (with --judge-target SPEC)")
    result = rejudge_run(
        run_id,
        judge="llm" if judge == "llm" else "offline",
        judge_target=judge_target,
        out_dir=out,
        store_url=store,
        progress=True,
    )
    typer.echo(f"run: {result.outcome.run_id} (rejudged from {run_id})")
    _print_summary(result.results_path)
    typer.echo(f"report: {result.report_path}")


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="The run to render.")],
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Re-render results.json and report.html of a run from the store alone."""
    from assay._api import report as render

    results_path, html_path = render(run_id, out_dir=out, store_url=store)
    typer.echo(f"results: {results_path}\nreport: {html_path}")


@app.command()
def compare(
    run_a: Annotated[str, typer.Argument(help="The baseline run (A).")],
    run_b: Annotated[str, typer.Argument(help="The run compared with it (B).")],
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Compare two runs: B - A per task with paired tests, and what differs in their manifests."""
    from assay._api import compare as compare_runs

    json_path, html_path = compare_runs(run_a, run_b, store=store, out=out)
    comparison = json.loads(json_path.read_text(encoding="utf-8"))
    for row in comparison["tasks"]:
        line = f"{row['task']}: B - A = {_tested_diff(row)}"
        share = row["truncated_share"]
        if share is not None:
            cut = [
                f"{round(side['value'] * side['n'])}/{side['n']}"
                for side in (share["a"], share["b"])
            ]
            line += f"; cut {cut[0]} vs {cut[1]}: {_tested_diff(share)}"
        typer.echo(line)
    typer.echo(f"comparison: {json_path}\nreport: {html_path}")


def _tested_diff(row: dict[str, Any]) -> str:
    """`+0.083 (unpaired, p=0.458, not significant)` for one row of compare.json."""
    diff = "—" if row["diff"] is None else f"{row['diff']:+.3f}"
    p_value = "—" if row["p_value"] is None else f"{row['p_value']:.3g}"
    verdict = "significant" if row["significant"] else "not significant"
    paired = f"paired n={row['n_paired']}" if row["paired"] else "unpaired"
    return f"{diff} ({paired}, p={p_value}, {verdict})"


@list_app.command("tasks")
def list_tasks(as_json: JsonOption = False) -> None:
    """Tasks that can be run, with their dimension."""
    from assay.core._task import get_task, task_names

    rows = []
    for name in task_names():
        task = get_task(name)
        description = task.description
        if not as_json:  # the table gets the first sentence; --json the whole text
            description = _first_sentence(description)
        rows.append(
            {
                "task": name,
                "dimension": task.dimension,
                "metric": task.metric,
                "description": description,
            }
        )
    _emit(rows, as_json, ("task", "dimension", "metric", "description"))


def _first_sentence(text: str, limit: int = 90) -> str:
    first = text.split(". ", 1)[0].split("; ", 1)[0].strip().rstrip(".")
    return first if len(first) <= limit else first[: limit - 1] + "…"


@list_app.command("suites")
def list_suites(as_json: JsonOption = False) -> None:
    """Built-in suites and their tasks."""
    from assay.suites._suites import get_suite, suite_names

    rows = []
    for name in suite_names():
        suite = get_suite(name)
        rows.append(
            {
                "suite": name,
                "tasks": ", ".join(t.task for t in suite.tasks),
                "description": suite.description.strip(),
            }
        )
    _emit(rows, as_json, ("suite", "tasks", "description"))


@list_app.command("attacks")
def list_attacks(as_json: JsonOption = False) -> None:
    """Attacks (solvers) with their level L1-L4, family and the request languages they apply
    to; compose them with '+' (base64+persona)."""
    from assay.safety import attack_infos

    rows = [info.as_dict() for info in attack_infos()]
    if not as_json:
        rows = [{**row, "languages": ",".join(row["languages"])} for row in rows]
    _emit(
        rows,
        as_json,
        ("name", "level", "family", "languages", "description"),
    )


@list_app.command("runs")
def list_runs(
    as_json: JsonOption = False, out: OutOption = Path("assay-results"), store: StoreOption = None
) -> None:
    """Runs in the store."""
    from assay.store._store import Store, default_store_url

    opened = Store(store or default_store_url(out))
    try:
        rows = [
            {
                "run_id": r["run_id"],
                "created": r["created"].isoformat(timespec="seconds"),
                "status": r["status"],
                "target": r["target_spec"],
                "model": r["model"],
            }
            for r in opened.list_runs()
        ]
    finally:
        opened.close()
    _emit(rows, as_json, ("run_id", "created", "status", "target", "model"))


def _emit(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console().print(table)


judges_app = typer.Typer(
    no_args_is_help=True, help="The safety judges: list them; measure them against human labels."
)
app.add_typer(judges_app, name="judges")


@judges_app.command("list")
def judges_list(as_json: JsonOption = False) -> None:
    """The offline judges with their version and measured sensitivity and specificity."""
    from assay.safety import offline_judge, offline_judge_names

    rows = []
    for name in offline_judge_names():
        judge = offline_judge(name)
        accuracy = judge.accuracy
        rows.append(
            {
                "name": name,
                "version": judge.version,
                "positive": judge.positive,
                "sensitivity": None if accuracy is None else round(accuracy.sensitivity, 4),
                "specificity": None if accuracy is None else round(accuracy.specificity, 4),
                "measured_on": None if accuracy is None else accuracy.measured_on,
            }
        )
    _emit(rows, as_json, ("name", "version", "positive", "sensitivity", "specificity"))


@judges_app.command("evaluate")
def judges_evaluate(
    name: Annotated[str, typer.Argument(help="The judge: refusal, harm or llm.")],
    dataset: Annotated[
        str | None, typer.Option(help="A public labelled set: xstest_human_labels.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Local copies of public datasets.")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="JSONL: prompt, response, label (refused/complied, harmful/not_harmful)."
        ),
    ] = None,
    judge_target: Annotated[
        str | None, typer.Option(help="The LLM judge's target (NAME llm).")
    ] = None,
    kind: Annotated[
        str | None, typer.Option(help="llm only: score its verdicts as refusal or harm labels.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A judge's accuracy, precision, recall, specificity and confusion matrix with 95% CIs
    against human labels (never on the items it was trained on). NAME: refusal, harm, or llm
    (the --judge-target with the pinned rubric)."""
    from assay._api import evaluate_safety_judge

    result = evaluate_safety_judge(
        name,
        dataset=dataset,
        data_dir=data_dir,
        labels=labels,
        judge_target=judge_target,
        kind=kind,
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    judge = result["judge"]
    typer.echo(f"judge {judge['name']} {judge['version']} on {result['labels']}: n={result['n']}")
    if result["excluded_trained"]:
        typer.echo(
            f"  ({result['excluded_trained']} items left out: the judge was trained on them)"
        )
    for metric in ("accuracy", "precision", "recall", "specificity"):
        low, high = result[f"ci95_{metric}"]
        typer.echo(f"  {metric:<12} {result[metric]:.3f}  [{low:.3f}, {high:.3f}]")
    confusion = result["confusion"]
    typer.echo(
        f"  confusion (positive = {result['positive']}): tp {confusion['tp']}, "
        f"fp {confusion['fp']}, tn {confusion['tn']}, fn {confusion['fn']}"
    )
    typer.echo(f"  {result['items_per_second']:.0f} items/s")


monitor_app = typer.Typer(
    no_args_is_help=True, help="Probe model services on a schedule and report them over time."
)
app.add_typer(monitor_app, name="monitor")


@monitor_app.command("run")
def monitor_run(
    config: Annotated[Path, typer.Argument(help="YAML or TOML file listing the endpoints.")],
    once: Annotated[
        bool, typer.Option("--once", help="Probe every endpoint once, then exit.")
    ] = False,
    max_cycles: Annotated[
        int | None, typer.Option("--max-cycles", help="Stop after N probes of each endpoint.")
    ] = None,
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Probe each endpoint on its schedule (a small perf run each), appending to the store."""
    from assay.perf._monitor import run_monitor

    try:
        run_ids = run_monitor(
            config, out_dir=out, store_url=store, once=once, max_cycles=max_cycles, log=typer.echo
        )
    except KeyboardInterrupt:
        print("assay: monitor stopped; finished probes are stored", file=sys.stderr)
        raise SystemExit(130) from None
    typer.echo(f"monitor: {len(run_ids)} probes stored")


@monitor_app.command("report")
def monitor_report(
    endpoint: Annotated[
        list[str] | None, typer.Option("--endpoint", help="Only this endpoint (repeatable).")
    ] = None,
    out: OutOption = Path("assay-results"),
    store: StoreOption = None,
) -> None:
    """Write <out>/monitor/monitor.html and monitor.json from the store's probes."""
    from assay.report._monitor_html import write_monitor_report
    from assay.store._store import Store, default_store_url

    opened = Store(store or default_store_url(out))
    try:
        json_path, html_path = write_monitor_report(opened, out, endpoint or ())
    finally:
        opened.close()
    typer.echo(f"results: {json_path}\nreport: {html_path}")


model_app = typer.Typer(no_args_is_help=True, help="Serve a local model over HTTP.")
app.add_typer(model_app, name="model")


@model_app.command("serve")
def model_serve(
    model: Annotated[
        str,
        typer.Argument(help="builtin or gguf:PATH, optionally ?extra_bufts=auto|on|off."),
    ] = "builtin",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    interrupt_requests: Annotated[
        bool,
        typer.Option(
            "--interrupt-requests",
            hidden=True,
            help="Cut a running stream when another request waits (llama-cpp-python's "
            "default; for testing clients against such a server).",
        ),
    ] = False,
) -> None:
    """Serve MODEL with an OpenAI-compatible API (/v1); concurrent requests queue."""
    from assay.targets._serve import ServeOptions, serve

    options = ServeOptions(model=model, host=host, port=port, interrupt_requests=interrupt_requests)
    serve(options, log=typer.echo)


def main() -> None:
    """Console entry point with the user-error hook."""
    interrupted = "assay: interrupted; finished samples are saved (resume with --run-id)"
    try:
        # Without standalone mode, click turns Ctrl-C (and any typer.Exit) into a returned code.
        code = app(standalone_mode=False)
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        # Usage errors carry their own exit code. typer ships its own copy of click, so they
        # are not `click.ClickException`: recognise them by their interface instead.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    if code == 130:
        print(interrupted, file=sys.stderr)
    if isinstance(code, int) and code:
        sys.exit(code)
