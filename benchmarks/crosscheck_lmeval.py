"""Cross-check of assay's GSM8K and MMLU accuracy against lm-evaluation-harness, same server.

One llama.cpp server (llama-cpp-python, the bundled Gemma 3 270M GGUF) on 127.0.0.1 answers both
tools, one after the other, on the same items in the same order: `assay run` first, then
`lm-eval run` with task YAMLs written here to reproduce assay's published prompts (GSM8K: 'Question:
{q}\\nAnswer:' after the same exemplars, greedy, stop 'Question:', same max tokens, final number
read by assay's documented rule; MMLU 0-shot: the paper's header and item layout, answer letter by
log-probability). Items are those assay's loaders yield from --data-dir, written to a temporary
folder for lm-eval, never into the repository.

    python benchmarks/crosscheck_lmeval.py --lm-eval-python /tmp/bench-venv/bin/python \\
        [--data-dir /work/shared/data] [--gsm8k-limit 200] [--mmlu-limit 200] [--concurrency 1]

lm-eval goes in its own virtual environment (`pip install "lm-eval[api]" transformers gguf
sentencepiece`): its loglikelihood requests need a client-side tokenizer, which is converted
here from the GGUF itself, so nothing is downloaded. Prints each tool's accuracy, assay's 95% CI,
whether lm-eval's accuracy lies inside it, per-item agreement (identical prompts, identical
generations or letter choices, same verdicts), and the wall time of each tool and their ratio.

Cost: lm-eval reads MMLU as four loglikelihood requests per item (`echo` with logprobs), and
llama-cpp-python's server as shipped sorts the whole 262k-token vocabulary in Python for every
echoed prompt token (tens of seconds a request on a small CPU). The server is therefore started
with `assay model serve builtin`, which lists the same top entries by `argpartition` (token
log-probabilities untouched); `--plain-server` runs `python -m llama_cpp.server` as shipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL = "gemma-3-270m"
LETTERS = "ABCD"

# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server in its own process group."""

    def __init__(
        self, model: Path, log_path: Path, n_ctx: int = 4096, *, fast_top_logprobs: bool = True
    ) -> None:
        self.port = free_port()
        address = ("--host", "127.0.0.1", "--port", str(self.port))
        # `assay model serve`: the same server, listing top_logprobs without a 262k-entry sort,
        # with the bundled model (alias gemma-3-270m, n_ctx 4096) and requests queued.
        self._argv = (
            [sys.executable, "-m", "assay", "model", "serve", "builtin", *address]
            if fast_top_logprobs
            else [
                *(sys.executable, "-m", "llama_cpp.server", "--model", str(model), *address),
                *("--n_ctx", str(n_ctx), "--model_alias", MODEL),
            ]
        )
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LlamaServer:
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            self._argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited; see {self._log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=5):
                    return self
            except OSError:
                time.sleep(1)
        raise RuntimeError(f"llama.cpp server not up within 300 s; see {self._log_path}")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()

    def clear_prefix_cache(self) -> None:
        """llama-cpp-python reuses the KV cache of the previous prompt's common prefix; one
        unrelated request first makes each tool start cold, so neither inherits the other's."""
        body = json.dumps({"model": MODEL, "prompt": "Hello", "max_tokens": 1}).encode()
        request = urllib.request.Request(
            f"{self.url}/completions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()


# -- the items, exactly as assay selects them --------------------------------------------------


def assay_items(task_name: str, data_dir: Path, limit: int) -> list[Any]:
    """The samples `assay run --task NAME --limit N` evaluates, planned by assay itself."""
    from assay import RunSpec
    from assay.engine._run import plan_tasks

    spec = RunSpec(tasks=(task_name,), limit=limit, data_dir=str(data_dir))
    [planned] = plan_tasks(spec)
    return list(planned.samples)


def gsm8k_shots(data_dir: Path) -> list[dict[str, str]]:
    """The exemplars assay puts before every GSM8K item (train split if present, else its own)."""
    from assay.tasks import TaskContext
    from assay.tasks import _loaders as loaders
    from assay.tasks._public import GSM8K_SHOTS_FROM_TRAIN, GSM8K_WRITTEN_SHOTS

    train = loaders.gsm8k(TaskContext(seed=0, data_dir=data_dir)).train
    shots = train[:GSM8K_SHOTS_FROM_TRAIN] if train else list(GSM8K_WRITTEN_SHOTS)
    return [{"question": s.input, "solution": s.metadata["solution"]} for s in shots]


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")


# -- lm-eval task files ------------------------------------------------------------------------

# lm-eval's process_results for GSM8K: assay's documented extraction (scorers/_match.py: the
# number after '####', else after 'answer is', else after 'answer:', else the last number),
# written again here so the two tools do not share code.
LM_EVAL_UTILS = r"""
import re

NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
MARKERS = (
    re.compile(r"####\s*\$?(" + NUMBER + ")"),
    re.compile(r"answer is[:\s]*\$?\s*(" + NUMBER + ")", re.IGNORECASE),
    re.compile(r"answer:\s*\$?\s*(" + NUMBER + ")", re.IGNORECASE),
)


def normalise(raw):
    value = raw.replace(",", "").rstrip(".")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value or "0"


def extract(text):
    for marker in MARKERS:
        found = marker.findall(text)
        if found:
            return normalise(found[-1])
    numbers = re.findall(NUMBER, text)
    return normalise(numbers[-1]) if numbers else None


def process_results(doc, results):
    answer = extract(results[0])
    return {"exact_match": float(answer is not None and answer == normalise(doc["target"]))}
"""


def gsm8k_yaml(items: Path, shots: list[dict[str, str]], max_tokens: int) -> dict[str, Any]:
    return {
        "task": "crosscheck_gsm8k",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(items)}},
        "test_split": "test",
        "output_type": "generate_until",
        # lm-eval's gsm8k layout, which assay's gsm8k also uses: exemplars are
        # 'Question: q\nAnswer: solution' joined by blank lines, the item ends at 'Answer:'.
        "doc_to_text": "Question: {{question}}\nAnswer:",
        "doc_to_target": "{{solution}}",
        "target_delimiter": " ",
        "fewshot_delimiter": "\n\n",
        "num_fewshot": len(shots),
        "fewshot_config": {"sampler": "first_n", "samples": shots},
        "generation_kwargs": {
            "until": ["Question:"],
            "max_gen_toks": max_tokens,
            "do_sample": False,
            "temperature": 0.0,
        },
        "process_results": "!function utils.process_results",
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }


def mmlu_yaml(items: Path) -> dict[str, Any]:
    return {
        "task": "crosscheck_mmlu",
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(items)}},
        "test_split": "test",
        "output_type": "multiple_choice",
        # The header of lm-eval's per-subject mmlu description, inlined because the items mix
        # subjects; then lm-eval's mmlu item template. Choices are the continuations ' A'..' D'.
        "doc_to_text": (
            "The following are multiple choice questions (with answers) about "
            "{{subject_name}}.\n\n{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\n"
            "C. {{choices[2]}}\nD. {{choices[3]}}\nAnswer:"
        ),
        "doc_to_choice": list(LETTERS),
        "doc_to_target": "answer",
        "target_delimiter": " ",
        "num_fewshot": 0,
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
        "metadata": {"version": 1.0},
    }


def write_yaml(path: Path, config: dict[str, Any]) -> None:
    # JSON is YAML, except for lm-eval's `!function` tag, which must stay an unquoted tag.
    text = json.dumps(config, indent=2, ensure_ascii=False)
    text = text.replace('"!function utils.process_results"', "!function utils.process_results")
    path.write_text(text, "utf-8")


# transformers reads a GGUF vocabulary only through torch; this reads it with the `gguf` package
# and hands it to transformers' own GGUF-to-fast-tokenizer converter.
TOKENIZER_FROM_GGUF = """
import sys
from gguf import GGUFReader
from transformers import PreTrainedTokenizerFast
from transformers.integrations.gguf.gguf_tokenizer_mapping import (
    _SPECIAL_TOKENS, GGUF_TOKENIZER_MAPPING, convert_gguf_tokenizer)
reader = GGUFReader(sys.argv[1])
meta = {k: f.contents() for k, f in reader.fields.items()
        if k.startswith(("tokenizer.", "general.architecture"))}
grouped = {group: {name: meta["tokenizer." + key] for key, name in renames.items()
                   if "tokenizer." + key in meta}
           for group, renames in GGUF_TOKENIZER_MAPPING.items()}
vocab, config = grouped["tokenizer"], grouped["tokenizer_config"]
for name, key in _SPECIAL_TOKENS.items():
    index = meta.get("tokenizer.ggml." + key)
    config[name] = vocab["tokens"][index] if index is not None else None
config.pop("chat_template", None)
fast, extra = convert_gguf_tokenizer(meta["general.architecture"], vocab)
PreTrainedTokenizerFast(tokenizer_object=fast, **config, **extra).save_pretrained(sys.argv[2])
"""


def gguf_tokenizer(lm_eval_python: str, model: Path, out: Path) -> None:
    """A Hugging Face tokenizer converted from the GGUF's own vocabulary (no hub download)."""
    subprocess.run(
        [lm_eval_python, "-c", TOKENIZER_FROM_GGUF, str(model), str(out)],
        check=True,
        env=offline_env(),
        capture_output=True,
        text=True,
    )


# -- running the tools -------------------------------------------------------------------------


def offline_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


@dataclass
class Timed:
    argv: list[str]
    wall_s: float
    returncode: int
    log: Path


def run_timed(argv: list[str], log: Path, cwd: Path, env: dict[str, str]) -> Timed:
    started = time.perf_counter()
    with log.open("w") as sink:
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT)
    return Timed(argv, time.perf_counter() - started, done.returncode, log)


def run_tool(server: LlamaServer, name: str, argv: list[str], root: Path) -> Timed | None:
    """One tool's run from a cold prefix cache, timed, logged to ROOT/NAME.log; None (with a
    line naming the log) when it failed."""
    server.clear_prefix_cache()
    timed = run_timed(argv, root / f"{name}.log", root, offline_env())
    if timed.returncode != 0:
        print(f"{name} failed (exit {timed.returncode}); see {timed.log}")
        return None
    return timed


def assay_bin() -> list[str]:
    found = shutil.which("assay", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "assay.cli"]


@dataclass
class ItemResult:
    key: str  # assay's sample id
    prompt: str
    correct: float | None
    answer: str | None
    output: str = ""


@dataclass
class ToolResult:
    tool: str
    wall_s: float
    accuracy: float | None
    items: dict[str, ItemResult] = field(default_factory=dict)
    ci: tuple[float, float] | None = None
    n: int = 0
    notes: list[str] = field(default_factory=list)


def read_assay(out: Path, task: str, wall_s: float) -> ToolResult:
    db = sqlite3.connect(out / "assay.db")
    try:
        value, low, high, n, errors = db.execute(
            "select value, ci_low, ci_high, n, errors from metrics where task = ?", (task,)
        ).fetchone()
        rows = db.execute(
            "select s.sample_id, s.value, s.answer, s.outcome, s.output, r.payload, r.logprobs "
            "from scores s join requests r on r.run_id = s.run_id and r.task = s.task "
            "and r.sample_id = s.sample_id where s.task = ?",
            (task,),
        ).fetchall()
    finally:
        db.close()
    result = ToolResult("assay", wall_s, value, ci=(low, high), n=n)
    if errors:
        result.notes.append(f"{errors} items errored or were truncated (left out of n)")
    for sample_id, correct, answer, outcome, output, payload, logprobs in rows:
        item = ItemResult(sample_id, json.loads(payload)["prompt"], correct, answer, output)
        if logprobs and task.startswith("mmlu"):
            # The ' X'-only reading, which is what lm-eval's loglikelihood of ' X' compares.
            top = dict((tok, lp) for tok, lp in json.loads(logprobs)[0][2])
            spaced = {letter: top.get(f" {letter}", -math.inf) for letter in LETTERS}
            item.output = max(LETTERS, key=lambda letter: spaced[letter])
        if outcome != "scored":
            item.correct = None
        result.items[sample_id] = item
    return result


def read_lm_eval(out: Path, task: str, keys: list[str], wall_s: float) -> ToolResult:
    results_file = next(out.glob("**/results_*.json"))
    metric = "exact_match,none" if task == "crosscheck_gsm8k" else "acc,none"
    accuracy = json.loads(results_file.read_text("utf-8"))["results"][task][metric]
    result = ToolResult("lm-eval", wall_s, accuracy)
    samples = next(out.glob(f"**/samples_{task}_*.jsonl"))
    for line in samples.read_text("utf-8").splitlines():
        record = json.loads(line)
        key = keys[record["doc_id"]]
        if record["doc_id"] != record["doc"]["position"]:
            result.notes.append(f"doc {record['doc_id']} is not at position {key}")
        context = record["arguments"]["gen_args_0"]["arg_0"]
        if task == "crosscheck_gsm8k":
            text = record["resps"][0][0]
            item = ItemResult(key, context, record["exact_match"], None, text)
        else:
            scores = [float(r[0][0]) for r in record["resps"]]
            letter = LETTERS[max(range(len(scores)), key=lambda i: scores[i])]
            item = ItemResult(key, context, record["acc"], letter, letter)
        result.items[key] = item
    result.n = len(result.items)
    return result


# -- comparison --------------------------------------------------------------------------------


def compare(task: str, assay: ToolResult, lm: ToolResult) -> dict[str, Any]:
    keys = list(assay.items)
    same_prompt = sum(assay.items[k].prompt == lm.items[k].prompt for k in keys if k in lm.items)
    same_output = sum(assay.items[k].output == lm.items[k].output for k in keys if k in lm.items)
    same_verdict = sum(
        (assay.items[k].correct or 0.0) == lm.items[k].correct for k in keys if k in lm.items
    )
    inside = (
        assay.ci is not None
        and lm.accuracy is not None
        and assay.ci[0] <= lm.accuracy <= assay.ci[1]
    )
    return {
        "task": task,
        "items": len(keys),
        "lm_eval_items": len(lm.items),
        "assay_accuracy": assay.accuracy,
        "assay_ci95": assay.ci,
        "assay_n": assay.n,
        "lm_eval_accuracy": lm.accuracy,
        "lm_eval_inside_ci": inside,
        "same_prompt": same_prompt,
        "same_output": same_output,  # GSM8K: generated text; MMLU: ' X'-argmax letter
        "same_verdict": same_verdict,
        "assay_wall_s": assay.wall_s,
        "lm_eval_wall_s": lm.wall_s,
        "wall_ratio_lm_eval_over_assay": lm.wall_s / assay.wall_s if assay.wall_s else None,
        "notes": assay.notes + lm.notes,
    }


def show(row: dict[str, Any]) -> None:
    low, high = row["assay_ci95"]
    print(f"\n{row['task']}: {row['items']} items")
    print(
        f"  assay   accuracy {row['assay_accuracy']:.3f}  95% CI [{low:.3f}, {high:.3f}]  "
        f"n={row['assay_n']}  wall {row['assay_wall_s']:.1f} s"
    )
    print(
        f"  lm-eval accuracy {row['lm_eval_accuracy']:.3f}  "
        f"{'inside' if row['lm_eval_inside_ci'] else 'OUTSIDE'} assay's CI  "
        f"wall {row['lm_eval_wall_s']:.1f} s"
    )
    print(
        f"  identical prompts {row['same_prompt']}/{row['items']}, identical "
        f"{'generations' if 'gsm8k' in row['task'] else 'letter choices'} "
        f"{row['same_output']}/{row['items']}, same verdict {row['same_verdict']}/{row['items']}"
    )
    print(f"  wall time lm-eval / assay: {row['wall_ratio_lm_eval_over_assay']:.2f}")
    for note in row["notes"]:
        print(f"  note: {note}")


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lm-eval-python", required=True, help="python of lm-eval's venv")
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--gsm8k-limit", type=int, default=200, help="0 skips GSM8K")
    parser.add_argument("--mmlu-limit", type=int, default=200, help="0 skips MMLU")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    parser.add_argument("--keep", type=Path, default=None, help="keep outputs in this folder")
    parser.add_argument(
        "--plain-server",
        action="store_true",
        help="run llama_cpp.server as shipped (its top_logprobs sort makes lm-eval's MMLU slow)",
    )
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the server's context manager still stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from assay.targets._builtin import bundled_model_path
    from assay.tasks._public import gsm8k as gsm8k_task

    model = bundled_model_path()
    max_tokens = gsm8k_task().config.max_tokens
    root = Path(tempfile.mkdtemp(prefix="assay-crosscheck-")) if args.keep is None else args.keep
    root.mkdir(parents=True, exist_ok=True)
    lm_version = subprocess.run(
        [args.lm_eval_python, "-c", "import lm_eval; print(lm_eval.__version__)"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    from importlib.metadata import version

    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; assay {version('assay')}, "
        f"lm-eval {lm_version}, llama-cpp-python {version('llama_cpp_python')}"
    )
    tasks_dir = root / "lm_eval_tasks"
    tasks_dir.mkdir(exist_ok=True)
    (tasks_dir / "utils.py").write_text(LM_EVAL_UTILS, "utf-8")
    tokenizer = root / "tokenizer"
    if not (tokenizer / "tokenizer.json").is_file():
        gguf_tokenizer(args.lm_eval_python, model, tokenizer)

    plan: list[tuple[str, str, int]] = []
    if args.gsm8k_limit:
        plan.append(("gsm8k", "crosscheck_gsm8k", args.gsm8k_limit))
    if args.mmlu_limit:
        plan.append(("mmlu_0shot", "crosscheck_mmlu", args.mmlu_limit))
    rows: list[dict[str, Any]] = []
    server_log = root / "server.log"
    with LlamaServer(model, server_log, fast_top_logprobs=not args.plain_server) as server:
        kind = "as shipped" if args.plain_server else "assay model serve, fast top_logprobs"
        print(f"server {server.url} ({kind}), concurrency {args.concurrency} for both tools")
        for assay_task, lm_task, limit in plan:
            samples = assay_items(assay_task, args.data_dir, limit)
            keys = [s.id for s in samples]
            items = root / f"{lm_task}.jsonl"
            if assay_task == "gsm8k":
                shots = gsm8k_shots(args.data_dir)
                write_jsonl(
                    items,
                    [
                        {
                            "position": i,
                            "question": s.input,
                            "solution": s.metadata["solution"],
                            "target": s.target,
                        }
                        for i, s in enumerate(samples)
                    ],
                )
                config = gsm8k_yaml(items, shots, max_tokens)
            else:
                write_jsonl(
                    items,
                    [
                        {
                            "position": i,
                            "subject_name": s.metadata["subject"].replace("_", " "),
                            "question": s.input,
                            "choices": list(s.choices),
                            "answer": LETTERS.index(s.target),
                        }
                        for i, s in enumerate(samples)
                    ],
                )
                config = mmlu_yaml(items)
            write_yaml(tasks_dir / f"{lm_task}.yaml", config)

            print(
                f"\n{assay_task}: {len(samples)} items; running assay (uptime load "
                f"{os.getloadavg()[0]:.1f})",
                flush=True,
            )
            assay_out = root / f"assay-{assay_task}"
            timed = run_tool(
                server,
                f"assay-{assay_task}",
                [
                    *assay_bin(),
                    "run",
                    *("--target", f"openai:{server.url}#{MODEL}"),
                    *("--task", assay_task),
                    *("--data-dir", str(args.data_dir)),
                    *("--limit", str(limit)),
                    *("--concurrency", str(args.concurrency)),
                    *("--out", str(assay_out)),
                ],
                root,
            )
            if timed is None:
                return 1
            assay = read_assay(assay_out, assay_task, timed.wall_s)
            print(
                f"  assay done in {timed.wall_s:.0f} s; running lm-eval (load "
                f"{os.getloadavg()[0]:.1f})",
                flush=True,
            )

            lm_out = root / f"lm_eval-{lm_task}"
            model_args = ",".join(
                [
                    f"model={MODEL}",
                    f"base_url={server.url}/completions",
                    f"num_concurrent={args.concurrency}",
                    "tokenized_requests=False",
                    "tokenizer_backend=huggingface",
                    f"tokenizer={tokenizer}",
                    "max_retries=3",
                    "timeout=1800",
                ]
            )
            timed = run_tool(
                server,
                f"lm_eval-{lm_task}",
                [
                    args.lm_eval_python,
                    *("-m", "lm_eval", "run"),
                    *("--model", "local-completions", "--model_args", model_args),
                    *("--tasks", lm_task, "--include_path", str(tasks_dir)),
                    *("--output_path", str(lm_out), "--log_samples"),
                ],
                root,
            )
            if timed is None:
                return 1
            lm = read_lm_eval(lm_out, lm_task, keys, timed.wall_s)
            row = compare(assay_task, assay, lm)
            rows.append(row)
            show(row)
    kept = f"; outputs in {root}" if args.keep is not None else ""
    print(f"\nload after: {os.getloadavg()[0]:.1f}{kept}")
    if args.json is not None:
        args.json.write_text(json.dumps({"rows": rows}, indent=2, default=str), "utf-8")
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
