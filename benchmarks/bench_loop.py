"""The main job: wall time of `inftool run recipes/bfcl.yaml` and the learning signal it shows.

Run: python benchmarks/bench_loop.py [--recipe recipes/bfcl.yaml] [--set KEY=VALUE ...] [--keep DIR]
Runs the closed loop in a fresh directory (the BFCL data must be available; it is fetched once),
then prints the wall time, the time per stage kind, and for every evaluated checkpoint (untrained,
after SFT, after each GRPO iteration) the exact-match accuracy and the right-tool share on held-out
synthetic episodes, BFCL questions whose tools were seen in synthesis, BFCL questions whose tools
were never seen, BFCL irrelevance and BFCL multi-turn; and the GRPO reward of each iteration's first and
last quarter. When the recipe evaluates BFCL's multi-turn categories (recipes/bfcl_multi_turn.yaml) it also
prints each checkpoint's accuracy per multi-turn category with its error kinds, and each GRPO step's reward
and, for multi-turn GRPO, the share of rollouts whose turn ended in the planned state (``state_passed``).
With --constrained it then scores the last checkpoint again with constrained decoding (`inftool eval
--decoding constrained`, stored as `<checkpoint>+constrained`, outside the run's wall time) and prints it as
its own policy mode. Exits non-zero when the run fails or takes longer than --limit seconds (default 600: the
10-minute target on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(recipe: Path, overrides: list[str], directory: Path) -> float:
    command = [sys.executable, "-m", "inftool", "run", str(recipe), "--set", f"run_dir={directory / 'run'}"]
    for override in overrides:
        command += ["--set", override]
    started = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=directory, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"inftool run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


def constrained(recipe: Path, overrides: list[str], directory: Path) -> dict:
    """The last checkpoint scored with constrained decoding: its accuracy per split, and the seconds it took."""
    from inftool.store import Store

    run_dir = directory / "run"
    with Store.open(run_dir, read_only=True) as store:
        last = [s for s in store.stages(store.current_run()) if s.stage in ("grpo", "sft") and s.output][-1]
    command = [sys.executable, "-m", "inftool", "eval", str(recipe), "--set", f"run_dir={run_dir}", "--policy",
               last.output, "--iteration", str(last.iteration), "--decoding", "constrained"]
    for override in overrides:
        command += ["--set", override]
    started = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=directory, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"inftool eval --decoding constrained failed ({done.returncode}):\n{done.stderr[-3000:]}")
    seconds = time.perf_counter() - started
    with Store.open(run_dir, read_only=True) as store:
        rows = [r for r in store.checkpoint_accuracy(store.current_run()) if r.policy == f"{last.output}+constrained"]
    return {"checkpoint": f"iteration {last.iteration} {last.stage}+constrained", "eval_seconds": round(seconds, 1),
            "splits": {r.split: {"accuracy": round(r.accuracy, 4), "right_tool": round(r.right_tool, 4),
                                 "items": r.items} for r in rows}}


def signal(run_dir: Path) -> dict:
    from inftool.store import Store
    from inftool.train.local import quarter_means

    with Store.open(run_dir, read_only=True) as store:
        run_id = store.current_run()
        accuracy = store.checkpoint_accuracy(run_id)
        curve = store.train_log(run_id)
        stages = store.stages(run_id)
        _, steps = store.query("SELECT iteration, step, reward, (metrics->>'state_passed')::DOUBLE FROM train_log "
                               "WHERE run_id = ? AND phase = 'grpo' ORDER BY iteration, step", [run_id])
        _, conversations = store.query(
            "SELECT iteration, policy, category, error_kind, count(*) FROM eval_results WHERE run_id = ? AND "
            "suite = 'bfcl' AND category LIKE 'multi_turn%' AND error_kind IS DISTINCT FROM 'not_evaluated' GROUP BY ALL "
            "ORDER BY iteration, policy, category", [run_id])
    checkpoints: dict[str, dict] = {}
    for row in accuracy:
        name = row.policy if row.policy == "untrained" else f"iteration {row.iteration} {row.policy}"
        checkpoints.setdefault(name, {})[row.split] = {
            "accuracy": round(row.accuracy, 4), "right_tool": round(row.right_tool, 4), "items": row.items}
    rewards: dict[int, list[float]] = {}
    for row in curve:
        if row.phase == "grpo" and row.reward is not None:
            rewards.setdefault(row.iteration, []).append(row.reward)
    reward = {k: dict(zip(("first_quarter", "last_quarter"), (round(m, 4) for m in quarter_means(v)), strict=True))
              for k, v in sorted(rewards.items())}
    seconds: dict[str, float] = {}
    for stage in stages:
        seconds[stage.stage] = round(seconds.get(stage.stage, 0.0) + (stage.seconds or 0.0), 1)
    out = {"checkpoints": checkpoints, "grpo_reward": reward, "stage_seconds": seconds}
    if conversations:
        out["multi_turn"] = multi_turn(conversations)
        out["grpo_steps"] = {k: [{"step": step, "reward": round(r, 4),
                                  **({"state_passed": round(p, 4)} if p is not None else {})}
                                 for i, step, r, p in steps if i == k and r is not None]
                             for k in sorted({i for i, *_ in steps})}
    return out


def multi_turn(rows: list[tuple]) -> dict:
    """Per checkpoint: accuracy per multi-turn category (correct / items) and the error kinds of the failures."""
    found: dict[str, dict] = {}
    for iteration, policy, category, error, count in rows:
        name = policy if policy == "untrained" else f"iteration {iteration} {policy}"
        entry = found.setdefault(name, {}).setdefault(category, {"correct": 0, "items": 0, "errors": {}})
        entry["items"] += count
        if error is None:
            entry["correct"] += count
        else:
            entry["errors"][error] = entry["errors"].get(error, 0) + count
    for categories in found.values():
        for entry in categories.values():
            entry["accuracy"] = round(entry["correct"] / entry["items"], 4)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "bfcl.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep", type=Path, help="Run here and keep the run directory.")
    parser.add_argument("--limit", type=float, default=600.0, help="Fail when the run takes longer (seconds).")
    parser.add_argument("--constrained", action="store_true",
                        help="Also score the last checkpoint with constrained decoding (its own policy mode).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inftool-bench-loop-") as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        seconds = run(args.recipe.resolve(), args.overrides, directory)
        result = {"recipe": str(args.recipe), "wall_seconds": round(seconds, 1), **signal(directory / "run")}
        if args.constrained:
            result["constrained"] = constrained(args.recipe.resolve(), args.overrides, directory)
    print(json.dumps(result, indent=1))
    if seconds > args.limit:
        sys.exit(f"the run took {seconds:.0f} s, over the {args.limit:.0f} s target")


if __name__ == "__main__":
    main()
