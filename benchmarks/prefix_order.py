"""Send order and the prefix cache: MMLU 5-shot grouped by subject against dataset order.

MMLU's items interleave the 57 subjects round-robin (so `--limit N` spans many subjects), and
each subject has its own 5-shot exemplars: a ~2,600-token prompt prefix. Sent in dataset order,
consecutive prompts share only the header's first words and every prompt is prefilled from
scratch. `Task.prefix_group` makes the engine send a subject's items one after another, so
llama.cpp's (in-process or server) prefix cache keeps the exemplars.

    python benchmarks/prefix_order.py [--limit 114] [--target builtin] [--data-dir DIR]

Baseline: the same task with `prefix_group=None` (dataset order), same items, same target
string, each order in its own fresh store (no response cache). Prints the wall time of each
run, items/s, the ratio grouped ÷ dataset order, both accuracies and how many items' answers
differ. `--limit 114` is two items per subject. Results belong in benchmarks/RESULTS.md;
nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

from assay import RunSpec, evaluate
from assay.store import Store, default_store_url
from assay.tasks import Task, get_task, register_task

BASELINE = "mmlu_dataset_order"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@register_task(BASELINE)
def _mmlu_dataset_order() -> Task:
    return dataclasses.replace(get_task("mmlu"), name=BASELINE, prefix_group=None)


@dataclasses.dataclass
class Measured:
    wall_s: float
    items_per_s: float
    accuracy: float
    n: int
    method: str
    answers: dict[str, str | None]


def _run(task: str, args: argparse.Namespace, out: Path) -> Measured:
    spec = RunSpec(
        target=args.target,
        tasks=(task,),
        limit=args.limit,
        data_dir=str(args.data_dir),
        concurrency=args.concurrency,
    )
    started = time.perf_counter()
    result = evaluate(spec, out_dir=out)
    wall = time.perf_counter() - started
    (row,) = json.loads(result.results_path.read_text())["tasks"]
    store = Store(default_store_url(out))
    try:
        scores = store.read_run(result.outcome.run_id).scores
    finally:
        store.close()
    return Measured(
        wall_s=round(wall, 1),
        items_per_s=round(args.limit / wall, 3),
        accuracy=row["value"],
        n=row["n"],
        method=row["method"],
        answers={s["sample_id"]: s["answer"] for s in scores},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=114)
    parser.add_argument("--target", default="builtin")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("ASSAY_SHARED_DATA", SHARED_DATA))
    )
    args = parser.parse_args()
    runs: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, task in (("dataset order (baseline)", BASELINE), ("grouped by subject", "mmlu")):
            runs[name] = _run(task, args, Path(tmp) / task)
            shown = {k: v for k, v in dataclasses.asdict(runs[name]).items() if k != "answers"}
            print(f"{name}: {json.dumps(shown)}", flush=True)
    baseline, grouped = runs.values()
    differ = sum(1 for key, got in baseline.answers.items() if grouped.answers.get(key) != got)
    print(f"items/s grouped ÷ dataset order: {grouped.items_per_s / baseline.items_per_s:.2f}×")
    print(f"answers that differ: {differ} of {len(baseline.answers)}")


if __name__ == "__main__":
    main()
