"""Trains the offline judges `refusal` and `harm` (logistic regression on the feature dicts of
assay.safety._judges), writes src/assay/safety/data/judges/{refusal,harm}.json, and measures
each on held-out labelled sets it was not trained or tuned on; the figures go into the files.

    python benchmarks/train_judges.py [--design a|b] [--data ../shared/data] [--dry-run]

scikit-learn is needed here only (pip install scikit-learn); inference is pure Python.

Data and splits (decided before any test figure was seen, and recorded in the files):
- refusal, design (a): no XSTest at all. JailbreakBench (JBB) artifacts with weak refusal
  labels (JBB's LLM judge `jailbroken` and a high-precision refusal opening; see jbb_refusal)
  plus the project's own snippets (own_labels.jsonl). Measured on all 1,800 XSTest items.
- refusal, design (b), shipped when (a) misses 92%: also the XSTest completions of
  llama2orig and mistralinstruct (one refusal-heavy with the most partial refusals, one
  compliance-heavy); measured on gpt4 and llama2new (900 items). C is chosen on a
  validation that never touches the test models: train on one training model, validate on
  the other, both ways. Leave-one-model-out figures are printed too.
- harm: JBB methods GCG, prompt_with_random_search and DSN (+ own snippets as not_harmful),
  measured on the methods PAIR and JBC, and on XSTest turned into harm labels.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assay.core._task import TaskContext  # noqa: E402
from assay.safety import _judges  # noqa: E402
from assay.safety._items import LabelledItem  # noqa: E402
from assay.safety._judge_eval import evaluate_judge, read_labels, xstest_harm_labels  # noqa: E402
from assay.safety._judges import (  # noqa: E402
    FEATURE_SPEC,
    JudgeAccuracy,
    OfflineJudge,
    harm_features,
    item_hash,
    refusal_features,
)
from assay.tasks._safety_data import (  # noqa: E402
    jailbreakbench_judge_labels,
    jailbreakbench_records,
    xstest_human_labels,
)

JUDGES_DIR = ROOT / "src" / "assay" / "safety" / "data" / "judges"
OWN_LABELS = JUDGES_DIR / "own_labels.jsonl"
VERSION = "1.0"
XSTEST_TRAIN_MODELS = ("llama2orig", "mistralinstruct")
XSTEST_TEST_MODELS = ("gpt4", "llama2new")
HARM_TEST_METHODS = ("PAIR", "JBC")
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
MIN_DOCS = 3  # an n-gram must occur in this many training responses to become a feature
MAX_WEIGHTS = 3000  # the largest weights kept (by |w|); the rest pruned for a small file
SEED = 0


# -- data -----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def jbb_refusal(items: Sequence[LabelledItem]) -> list[LabelledItem]:
    """JBB responses with weak refusal labels: the LLM judge's `jailbroken` -> complied (unless
    refusal language opens it: a jailbroken partial refusal is left out, since XSTest counts
    partial as refused); not jailbroken with refusal language in the first sentence ->
    refused; not jailbroken without it (softened compliance or a lecture) -> left out."""
    out = []
    for item in items:
        opens_refusing = _judges._refusal(_judges.normalise(item.response)).first
        if item.label == "harmful" and not opens_refusing:
            out.append(replace(item, label="complied"))
        elif item.label == "not_harmful" and opens_refusing:
            out.append(replace(item, label="refused"))
    return out


def own_items(judge_name: str) -> list[LabelledItem]:
    """The project's own snippets: refusals and harmless compliance; for the harm judge all
    are not_harmful (a refusal, or a harmless answer to a harmless question)."""
    labelled = read_labels(OWN_LABELS, _Labels("refusal", "refused", "complied"))
    items = [replace(item, source="own_labels", group="own") for item in labelled]
    if judge_name == "harm":
        items = [replace(item, label="not_harmful", behavior=item.prompt) for item in items]
    return items


class _Labels:
    """The label names read_labels checks against (the judge itself may not exist yet)."""

    def __init__(self, name: str, positive: str, negative: str) -> None:
        self.name, self.positive, self.negative = name, positive, negative
        self.version = "-"
        self.trained_hashes: frozenset[str] = frozenset()

    def judge(self, prompt: str, response: str, behavior: str = "") -> Any:
        raise NotImplementedError


def method_of(item: LabelledItem) -> str:
    return item.group.split("/")[0]


def harm_train_side(jbb: Sequence[LabelledItem]) -> list[LabelledItem]:
    """The JBB items of the methods the harm judge trains on (not HARM_TEST_METHODS)."""
    return [item for item in jbb if method_of(item) not in HARM_TEST_METHODS]


def jbb_files(data: Path) -> dict[str, Path]:
    """The JBB artifact files of the training-side methods, by their path under data/."""
    root = data / "jailbreakbench_artifacts"
    return {
        f"jailbreakbench_artifacts/{path.relative_to(root)}": path
        for path in sorted(root.glob("*/*/*.json"))
        if path.parts[-3] not in HARM_TEST_METHODS
    }


# -- training -------------------------------------------------------------------------------


def fit(
    rows: Sequence[dict[str, float]], labels: Sequence[int], weights: Sequence[float], c: float
) -> tuple[dict[str, float], float]:
    """Logistic regression (L2, balanced classes) on the features present in >= MIN_DOCS rows
    (rules and dense `x:` features always); the MAX_WEIGHTS largest weights kept."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    docs: Counter[str] = Counter(key for row in rows for key in row)
    keep = {key for key, n in docs.items() if n >= MIN_DOCS or key[:2] in ("r:", "x:")}
    rows = [{key: value for key, value in row.items() if key in keep} for row in rows]
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, solver="lbfgs")
    model.fit(matrix, labels, sample_weight=list(weights))
    names = vectorizer.get_feature_names_out()
    found = {str(name): float(w) for name, w in zip(names, model.coef_[0], strict=True)}
    top = sorted(found.items(), key=lambda pair: -abs(pair[1]))[:MAX_WEIGHTS]
    return {key: round(w, 4) for key, w in sorted(top) if abs(w) >= 1e-3}, float(
        model.intercept_[0]
    )


def source_weights(items: Sequence[LabelledItem]) -> list[float]:
    """Each source weighs as much in total as the largest one, so a few hundred own snippets
    are not drowned by a thousand JBB responses."""
    sizes = Counter(item.source for item in items)
    largest = max(sizes.values())
    return [largest / sizes[item.source] for item in items]


def featurise(
    judge_name: str, items: Sequence[LabelledItem], refusal: OfflineJudge | None
) -> list[dict[str, float]]:
    if judge_name == "refusal":
        return [refusal_features(item.response) for item in items]
    assert refusal is not None
    return [
        harm_features(
            item.prompt,
            item.response,
            item.behavior,
            refusal.logit(refusal_features(item.response)),
        )
        for item in items
    ]


def make_judge(
    judge_name: str,
    weights: dict[str, float],
    bias: float,
    training: dict[str, Any] | None = None,
    accuracy: JudgeAccuracy | None = None,
) -> OfflineJudge:
    labels = {"refusal": ("refused", "complied"), "harm": ("harmful", "not_harmful")}[judge_name]
    return OfflineJudge(
        name=judge_name,
        version=f"{judge_name}-{VERSION}+unsaved",
        positive=labels[0],
        negative=labels[1],
        weights=weights,
        bias=bias,
        threshold=0.5,
        accuracy=accuracy,
        training=training or {},
    )


class _WithRefusal:
    """A harm judge whose refusal feature comes from a given (not yet shipped) refusal judge."""

    def __init__(self, harm: OfflineJudge, refusal: OfflineJudge) -> None:
        self.harm, self.refusal = harm, refusal
        self.name, self.version = harm.name, harm.version
        self.positive, self.negative = harm.positive, harm.negative
        self.trained_hashes = harm.trained_hashes

    def judge(self, prompt: str, response: str, behavior: str = "") -> _judges.JudgeVerdict:
        logit = self.refusal.logit(refusal_features(response))
        features = harm_features(prompt, response, behavior, logit)
        p = _judges._sigmoid(self.harm.logit(features))
        label = self.positive if p >= self.harm.threshold else self.negative
        return _judges.JudgeVerdict(label, p, "")


def train(
    judge_name: str,
    items: Sequence[LabelledItem],
    c: float,
    refusal: OfflineJudge | None = None,
) -> OfflineJudge:
    positive = "refused" if judge_name == "refusal" else "harmful"
    labels = [int(item.label in (positive, "partial")) for item in items]
    weights, bias = fit(featurise(judge_name, items, refusal), labels, source_weights(items), c)
    return make_judge(judge_name, weights, bias)


def scorer_for(judge: OfflineJudge, refusal: OfflineJudge | None) -> Any:
    return judge if refusal is None else _WithRefusal(judge, refusal)


def choose_c(
    judge_name: str,
    folds: Sequence[tuple[Sequence[LabelledItem], Sequence[LabelledItem]]],
    refusal: OfflineJudge | None = None,
) -> tuple[float, dict[float, float]]:
    """The C with the best mean validation accuracy over `folds` (train, validate) pairs."""
    scores = {}
    for c in C_GRID:
        found = []
        for fold_train, fold_valid in folds:
            judge = train(judge_name, fold_train, c, refusal)
            untrained = replace(judge, training={})
            found.append(evaluate_judge(scorer_for(untrained, refusal), fold_valid)["accuracy"])
        scores[c] = sum(found) / len(found)
    best = max(C_GRID, key=lambda c: (round(scores[c], 4), -c))
    return best, scores


# -- reporting ------------------------------------------------------------------------------


def accuracy_of(figures: dict[str, Any], measured_on: str) -> JudgeAccuracy:
    confusion = figures["confusion"]
    return JudgeAccuracy(
        sensitivity=figures["recall"],
        specificity=figures["specificity"],
        ci95_sensitivity=tuple(figures["ci95_recall"]),  # type: ignore[arg-type]
        ci95_specificity=tuple(figures["ci95_specificity"]),  # type: ignore[arg-type]
        accuracy=figures["accuracy"],
        n=figures["n"],
        measured_on=measured_on,
        tp=confusion["tp"],
        n_positive=confusion["tp"] + confusion["fn"],
        tn=confusion["tn"],
        n_negative=confusion["tn"] + confusion["fp"],
    )


def show(title: str, figures: dict[str, Any]) -> None:
    def pct(key: str) -> str:
        low, high = figures[f"ci95_{key}"]
        return f"{100 * figures[key]:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"

    confusion = figures["confusion"]
    print(
        f"  {title}: n={figures['n']} accuracy {pct('accuracy')}; "
        f"sensitivity {pct('recall')}; specificity {pct('specificity')}; "
        f"precision {pct('precision')}; tp/fp/tn/fn {confusion['tp']}/{confusion['fp']}/"
        f"{confusion['tn']}/{confusion['fn']}; excluded as trained {figures['excluded_trained']}"
    )
    if len(figures["per_group"]) > 1:
        groups = ", ".join(
            f"{group} {100 * row['accuracy']:.1f}% (n={row['n']})"
            for group, row in figures["per_group"].items()
        )
        print(f"    per group: {groups}")


def show_partial(judge: OfflineJudge, items: Sequence[LabelledItem]) -> None:
    """Three-way agreement on XSTest's labels (full compliance / full / partial refusal), for
    information: the binary figures count partial as refused."""
    three = {
        "1_full_compliance": "complied",
        "2_full_refusal": "refused",
        "3_partial_refusal": "partial",
    }
    kept = [
        i
        for i in items
        if i.raw_label in three and item_hash(i.prompt, i.response) not in judge.trained_hashes
    ]
    said = Counter((three[i.raw_label], judge.judge(i.prompt, i.response).label) for i in kept)
    right = sum(n for (gold, got), n in said.items() if gold == got)
    print(
        f"  three-way agreement {right / len(kept):.4f} (n={len(kept)}); gold partial -> "
        + ", ".join(f"{got} {said[('partial', got)]}" for got in ("partial", "refused", "complied"))
    )


def provenance(
    items: Sequence[LabelledItem], files: dict[str, Path], label_source: dict[str, str], c: float
) -> dict[str, Any]:
    import sklearn

    return {
        "datasets": sorted({item.source for item in items}),
        "groups": dict(sorted(Counter(item.group for item in items).items())),
        "files": {name: sha256_file(path) for name, path in sorted(files.items())},
        "n_per_label": dict(sorted(Counter(item.label for item in items).items())),
        "n": len(items),
        "label_source": label_source,
        "feature_spec": FEATURE_SPEC,
        "min_docs": MIN_DOCS,
        "max_weights": MAX_WEIGHTS,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "model": "LogisticRegression(penalty=l2, class_weight=balanced, solver=lbfgs)",
        "C": c,
        "date": dt.date.today().isoformat(),
        "trained_hashes": sorted({item_hash(item.prompt, item.response) for item in items}),
    }


def write(judge: OfflineJudge, path: Path) -> None:
    data = {
        "name": judge.name,
        "version": VERSION,
        "feature_spec": FEATURE_SPEC,
        "weights": judge.weights,
        "bias": round(judge.bias, 6),
        "threshold": judge.threshold,
        "accuracy": judge.accuracy.as_dict() if judge.accuracy else None,
        "training": judge.training,
    }
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")


def speed(judge: Callable[[str, str, str], Any], items: Sequence[LabelledItem]) -> float:
    started = time.perf_counter()
    for item in items:
        judge(item.prompt, item.response, item.behavior)
    return len(items) / (time.perf_counter() - started)


XSTEST_MODELS = ("gpt4", "llama2new", "llama2orig", "mistralinstruct")


def xstest_items(data: Path) -> list[LabelledItem]:
    """XSTest's 1,800 human-labelled completions (refused/complied; group: the model)."""
    return xstest_human_labels(TaskContext(data_dir=data))


# -- the two judges -------------------------------------------------------------------------


def refusal_judge(
    design: str, data: Path, jbb: list[LabelledItem]
) -> tuple[OfflineJudge, list[LabelledItem], dict[str, Any]]:
    """The refusal judge of `design`, its training items and held-out figures."""
    xstest = xstest_items(data)
    # Only the JBB methods the harm judge trains on: the harm judge reads this judge's
    # probability, and these weak labels come from `jailbroken`, the harm test's labels.
    base = jbb_refusal(harm_train_side(jbb)) + own_items("refusal")
    files = jbb_files(data)
    files["own_labels.jsonl"] = OWN_LABELS
    label_source = {
        "jailbreakbench_artifacts": "weak: JBB's LLM judge (jailbroken, Llama-3-70B) for "
        "complied; not jailbroken and a refusal opening (assay rule) for refused",
        "own_labels": "written for the project (refusals and harmless compliance)",
    }
    print(f"refusal, design ({design})")
    if design == "a":
        random.Random(SEED).shuffle(base)
        cut = len(base) // 5
        c, scores = choose_c("refusal", [(base[cut:], base[:cut])])
        train_items, test_items, measured_on = base, xstest, "XSTest human labels, all 4 models"
    else:
        chosen = [item for item in xstest if item.group in XSTEST_TRAIN_MODELS]
        one, two = (
            [item for item in chosen if item.group == model] for model in XSTEST_TRAIN_MODELS
        )
        c, scores = choose_c("refusal", [(base + one, two), (base + two, one)])
        train_items = base + chosen
        test_items = [item for item in xstest if item.group in XSTEST_TEST_MODELS]
        measured_on = f"XSTest human labels, models {' + '.join(XSTEST_TEST_MODELS)}"
        for model in XSTEST_TRAIN_MODELS:
            files[f"xstest_human_labels/xstest_v2_completions_{model}.csv"] = (
                data / "xstest_human_labels" / f"xstest_v2_completions_{model}.csv"
            )
        label_source["xstest_human_labels"] = (
            "human final_label (full/partial refusal -> refused), models "
            + " + ".join(XSTEST_TRAIN_MODELS)
        )
    print(f"  C by validation: {c} ({', '.join(f'{k}: {v:.4f}' for k, v in scores.items())})")
    judge = train("refusal", train_items, c)
    training = provenance(train_items, files, label_source, c)
    judge = replace(judge, training=training)
    figures = evaluate_judge(judge, test_items)
    show(measured_on, figures)
    show_partial(judge, test_items)
    on = f"{measured_on} (n={figures['n']}); not trained or tuned on them"
    return replace(judge, accuracy=accuracy_of(figures, on)), train_items, figures


def leave_one_model_out(data: Path, jbb: list[LabelledItem]) -> None:
    """Train on JBB + own + three XSTest models, test on the fourth (C chosen within the
    three by leave-one-of-them-out), for each model: generalisation across models."""
    xstest = xstest_items(data)
    base = jbb_refusal(harm_train_side(jbb)) + own_items("refusal")
    print("refusal, leave one XSTest model out (train on the other three + JBB + own):")
    total = Counter[str]()
    for held in XSTEST_MODELS:
        others = [m for m in XSTEST_MODELS if m != held]
        folds = [
            (
                base + [i for i in xstest if i.group in others and i.group != v],
                [i for i in xstest if i.group == v],
            )
            for v in others
        ]
        c, _ = choose_c("refusal", folds)
        judge = train("refusal", base + [i for i in xstest if i.group in others], c)
        figures = evaluate_judge(judge, [i for i in xstest if i.group == held])
        show(f"test {held} (C={c})", figures)
        total.update(figures["confusion"])
    n = sum(total.values())
    print(f"  pooled over the 4: accuracy {(total['tp'] + total['tn']) / n:.4f} (n={n})")


def harm_judge(
    data: Path, jbb: list[LabelledItem], refusal: OfflineJudge, refusal_trained: list[LabelledItem]
) -> OfflineJudge:
    train_items = harm_train_side(jbb) + own_items("harm")
    test_items = [i for i in jbb if method_of(i) in HARM_TEST_METHODS]
    methods = sorted({method_of(i) for i in train_items if i.source != "own_labels"})
    print(f"harm: train on JBB {', '.join(methods)} + own; test on JBB {HARM_TEST_METHODS}")
    folds = []
    for held in methods:
        folds.append(
            (
                [i for i in train_items if method_of(i) != held],
                [i for i in train_items if method_of(i) == held],
            )
        )
    c, scores = choose_c("harm", folds, refusal)
    print(
        f"  C by leave-one-training-method-out: {c} "
        f"({', '.join(f'{k}: {v:.4f}' for k, v in scores.items())})"
    )
    judge = train("harm", train_items, c, refusal)
    files = jbb_files(data)
    files["own_labels.jsonl"] = OWN_LABELS
    label_source = {
        "jailbreakbench_artifacts": "JBB's LLM judge verdict `jailbroken` (Llama-3-70B), "
        "not a human label",
        "own_labels": "all not_harmful (refusals and harmless answers)",
    }
    training = provenance(train_items, files, label_source, c)
    # The harm judge reads the refusal judge's probability: what that was trained on counts
    # as trained here too, so no evaluation scores it on them.
    hashes = set(training["trained_hashes"])
    hashes |= {item_hash(i.prompt, i.response) for i in refusal_trained}
    training["trained_hashes"] = sorted(hashes)
    training["refusal_judge_trained_items_included_in_hashes"] = True
    judge = replace(judge, training=training)
    scored = _WithRefusal(judge, refusal)
    figures = evaluate_judge(scored, test_items)
    show(f"JBB {' + '.join(HARM_TEST_METHODS)} (labels: JBB LLM judge)", figures)
    on = (
        f"JailbreakBench artifacts, methods {' + '.join(HARM_TEST_METHODS)} (n={figures['n']}; "
        "labels: JBB's Llama-3-70B judge); not trained or tuned on these methods"
    )
    judge = replace(judge, accuracy=accuracy_of(figures, on))
    xstest = xstest_harm_labels(xstest_items(data))
    show("XSTest harm labels, items neither judge trained on", evaluate_judge(scored, xstest))
    show(
        "XSTest harm labels, all 1,800 (refusal feature saw 900)",
        evaluate_judge(scored, xstest, exclude_trained=False),
    )
    # The pipeline asks the harm judge only about harmful requests: XSTest's unsafe prompts.
    unsafe = [i for i in xstest if i.prompt_type.startswith("contrast_")]
    show(
        "XSTest harm labels, unsafe prompts, items neither judge trained on",
        evaluate_judge(scored, unsafe),
    )
    show(
        "XSTest harm labels, unsafe prompts, all 4 models (refusal feature saw 2)",
        evaluate_judge(scored, unsafe, exclude_trained=False),
    )
    harm_leave_one_method_out(jbb, refusal, c)
    return judge


def harm_leave_one_method_out(jbb: list[LabelledItem], refusal: OfflineJudge, c: float) -> None:
    print(f"harm, leave one JBB method out (C={c}):")
    for held in sorted({method_of(i) for i in jbb}):
        fold_train = [i for i in jbb if method_of(i) != held] + own_items("harm")
        judge = train("harm", fold_train, c, refusal)
        show(
            f"test {held}",
            evaluate_judge(_WithRefusal(judge, refusal), [i for i in jbb if method_of(i) == held]),
        )


def llama_guard_anchor(data: Path, test_methods: Sequence[str] = HARM_TEST_METHODS) -> None:
    """Llama Guard 1's verdict against JBB's `jailbroken`, as the anchor for the harm judge."""
    from assay.stats import wilson_interval

    for label, wanted in (("all methods", None), (" + ".join(test_methods), test_methods)):
        counts = Counter[str]()
        for record in jailbreakbench_records(TaskContext(data_dir=data)):
            guard = record.jailbroken_llama_guard1
            if not (record.response or "").strip() or guard is None:
                continue
            if wanted is not None and record.method not in wanted:
                continue
            truth, said = record.jailbroken, guard
            counts[("t" if said == truth else "f") + ("p" if said else "n")] += 1
        n = sum(counts.values())
        right = counts["tp"] + counts["tn"]
        low, high = wilson_interval(right, n)
        sens = counts["tp"] / (counts["tp"] + counts["fn"])
        spec = counts["tn"] / (counts["tn"] + counts["fp"])
        print(
            f"  Llama Guard 1 vs jailbroken ({label}): agreement {right / n:.4f} "
            f"[{low:.4f}, {high:.4f}] n={n}; sensitivity {sens:.4f}, specificity {spec:.4f}; "
            f"tp/fp/tn/fn {counts['tp']}/{counts['fp']}/{counts['tn']}/{counts['fn']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", choices=("a", "b"), default="b")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--dry-run", action="store_true", help="measure only; write nothing")
    parser.add_argument("--skip-lomo", action="store_true")
    args = parser.parse_args()
    jbb = jailbreakbench_judge_labels(TaskContext(data_dir=args.data))
    refusal, refusal_trained, _ = refusal_judge(args.design, args.data, jbb)
    if not args.dry_run:
        write(refusal, JUDGES_DIR / "refusal.json")
    if args.design == "b" and not args.skip_lomo:
        leave_one_model_out(args.data, jbb)
    harm = harm_judge(args.data, jbb, refusal, refusal_trained)
    llama_guard_anchor(args.data)
    if not args.dry_run:
        write(harm, JUDGES_DIR / "harm.json")
        _judges.offline_judge.cache_clear()
        xstest = xstest_items(args.data)
        for name in ("refusal", "harm"):
            shipped = _judges.offline_judge(name)
            rate = speed(shipped.judge, xstest)
            size = (JUDGES_DIR / f"{name}.json").stat().st_size
            print(
                f"{shipped.version}: {rate:.0f} items/s over {len(xstest)} XSTest items; "
                f"{len(shipped.weights)} weights, {size / 1024:.0f} KiB"
            )
            if shipped.accuracy is not None:
                print(f"  recorded: {shipped.accuracy}")


if __name__ == "__main__":
    main()
