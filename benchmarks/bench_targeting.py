"""Gap targeting against uniform sampling: the same recipe, seed and episode budget, run twice.

Run: python benchmarks/bench_targeting.py [--recipe recipes/bfcl.yaml] [--set KEY=VALUE ...] [--keep DIR]
Runs the loop with `loop.targeting: gaps` and with `uniform` (default: the main recipe with
`loop.iterations=2`, about 2 x 6 minutes on 2 CPU cores). The cells targeting selected are those
whose weight it raised above their base weight for a later iteration. Both runs are then scored on
the evaluation items of those cells: held-out synthetic episodes of iteration 0 (the same episodes in
both runs, since iteration 0 is sampled before any targeting) and BFCL questions whose tools were
seen, mapped to a cell by tool and category. Prints exact-match accuracy and right-tool share of the
last checkpoint of each run on those items, and on all items for reference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARGUMENT_ERRORS = ("wrong_value", "wrong_type", "missing_parameter", "unexpected_parameter")


def run(recipe: Path, overrides: list[str], run_dir: Path) -> None:
    command = [sys.executable, "-m", "inftool", "run", str(recipe), "--set", f"run_dir={run_dir}"]
    for override in overrides:
        command += ["--set", override]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"inftool run failed ({done.returncode}):\n{done.stderr[-3000:]}")


def selected_cells(run_dir: Path) -> set[tuple[str, str]]:
    from inftool.store import Store

    with Store.open(run_dir, read_only=True) as store:
        _, rows = store.query("""
            WITH shares AS (
                SELECT complexity, tool, weight / sum(weight) OVER (PARTITION BY iteration) AS share,
                       base_weight / sum(base_weight) OVER (PARTITION BY iteration) AS base_share
                FROM scenarios WHERE run_id = (SELECT run_id FROM current_run) AND base_weight IS NOT NULL)
            SELECT DISTINCT complexity, tool FROM shares WHERE share > base_share * 1.0001""")
    return set(rows)


def last_results(run_dir: Path) -> list[dict]:
    """The last checkpoint's results, each with the scenario cell it speaks for (None for unseen BFCL)."""
    from inftool.loop.targeting import complexity_of
    from inftool.store import Store

    with Store.open(run_dir, read_only=True) as store:
        _, rows = store.query("""
            SELECT r.item_id, r.suite, r.category, r.tool, r.seen, r.valid, r.error_kind, e.complexity, e.tool
            FROM eval_results r LEFT JOIN episodes e ON e.episode_id = r.item_id
            WHERE r.run_id = (SELECT run_id FROM current_run)
              AND r.iteration = (SELECT max(iteration) FROM eval_results WHERE run_id = r.run_id)
              AND r.policy = 'grpo' ORDER BY r.item_id""")
        _, names = store.query("SELECT original_name, name FROM tools WHERE run_id = (SELECT run_id FROM current_run)")
    catalog = dict(names)
    results = []
    for item_id, suite, category, tool, seen, valid, error_kind, cell_kind, cell_tool in rows:
        if suite == "heldout":
            cell = (cell_kind, cell_tool)
        elif seen == "seen":
            cell = (complexity_of(suite, category), catalog.get(tool, tool))
        else:
            cell = None
        results.append({"item_id": item_id, "cell": cell, "valid": valid,
                        "right_tool": valid or error_kind in ARGUMENT_ERRORS})
    return results


def score(results: list[dict], cells: set | None) -> dict:
    chosen = [r for r in results if cells is None or r["cell"] in cells]
    n = len(chosen)
    return {"items": n, "accuracy": round(sum(r["valid"] for r in chosen) / n, 4) if n else None,
            "right_tool": round(sum(r["right_tool"] for r in chosen) / n, 4) if n else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=None, metavar="KEY=VALUE")
    parser.add_argument("--keep", type=Path, help="Run here and keep both run directories (finished runs found "
                                                  "there are reused).")
    args = parser.parse_args()
    overrides = args.overrides if args.overrides is not None else ["loop.iterations=2"]
    with tempfile.TemporaryDirectory(prefix="inftool-bench-targeting-") as scratch:
        directory = args.keep or Path(scratch)
        runs = {mode: directory / mode for mode in ("gaps", "uniform")}
        for mode, run_dir in runs.items():
            if not (run_dir / "report.html").is_file():  # a finished run kept under --keep is reused
                run(args.recipe.resolve(), [*overrides, f"loop.targeting={mode}"], run_dir)
        cells = selected_cells(runs["gaps"])
        results = {mode: last_results(run_dir) for mode, run_dir in runs.items()}
    report = {"recipe": str(args.recipe), "overrides": overrides, "selected_cells": len(cells),
              "on_selected_cells": {mode: score(r, cells) for mode, r in results.items()},
              "on_all_items": {mode: score(r, None) for mode, r in results.items()}}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
