"""Write results.json and report.html for a run, reading only the store."""

from __future__ import annotations

import json
from pathlib import Path

from assay.report._results import build_results
from assay.store._store import Store


def write_report(store: Store, run_id: str, out_dir: Path) -> tuple[Path, Path]:
    from assay.report._html import render_html

    data = store.read_run(run_id)
    results = build_results(data)
    run_dir = out_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    results_path = run_dir / "results.json"
    results_path.write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    html_path = run_dir / "report.html"
    html_path.write_text(render_html(results, data), encoding="utf-8")
    return results_path, html_path
