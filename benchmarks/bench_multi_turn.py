"""BFCL v4 multi-turn evaluation throughput, against bfcl-eval's own multi-turn checker, and environment calls/s.

Run: python benchmarks/bench_multi_turn.py [--repeat K]
On the 800 entries of multi_turn_base, _miss_func, _miss_param and _long_context, in one process (best of K):

- evaluation with the oracle policy (``inftool.evaluate.runner.evaluate``): every conversation driven turn by
  turn on fresh worlds, each step's calls executed and answered, each turn judged (the ground truth on a
  world of its own): entries/s;
- our judge alone on the ground-truth trajectories (``check_trajectory``): entries/s;
- bfcl-eval's ``multi_turn_checker`` on the same trajectories (BFCL's ground-truth strings), imported from
  the cached wheel: entries/s;
- environment calls in-process: every ground-truth call of every entry on its world (worlds made beforehand):
  calls/s, ours (``Environment.call``) and bfcl-eval's executor (``execute_multi_turn_func_call``, the
  calls as strings it evaluates).

Exits non-zero when our evaluation is slower than the official checker or a verdict is not valid.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from inftool.catalog import bfcl_data as bfcl_data_module
from inftool.evaluate import runner
from inftool.evaluate.multi_turn import CATEGORIES, environment_for
from inftool.evaluate.multi_turn_check import check_trajectory


def official_modules() -> tuple[Any, Any]:
    """bfcl-eval's multi_turn_checker and multi_turn_utils modules, imported from the cached wheel."""
    wheel = bfcl_data_module._fetch_wheel(bfcl_data_module.cache_dir())
    os.environ.setdefault("BFCL_PROJECT_ROOT", tempfile.mkdtemp(prefix="bfcl_root_"))
    sys.path.insert(0, str(wheel))
    try:
        from bfcl_eval.eval_checker.multi_turn_eval import (
            multi_turn_checker,
            multi_turn_utils,
        )
    finally:
        sys.path.remove(str(wheel))
    return multi_turn_checker, multi_turn_utils


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(the best wall time of ``repeat`` runs, the last run's result)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def forget(utils: Any, prefix: str) -> None:
    """Drop the official executor's instances of one run (it keeps them in its module's globals)."""
    for name in [n for n in vars(utils) if n.startswith(prefix)]:
        del vars(utils)[name]


def official_checks(entries: list[tuple[dict[str, Any], list[list[str]], str]], modules: tuple[Any, Any]) -> int:
    checker, utils = modules
    valid = 0
    for n, (entry, truth, category) in enumerate(entries):
        decoded = [[turn] if turn else [] for turn in truth]
        valid += checker.multi_turn_checker(decoded, truth, entry, category, f"bench{n}")["valid"]
        forget(utils, f"bench{n}")
    return valid


def our_calls(items: list[Any]) -> tuple[float, int]:
    """(seconds, calls) for every ground-truth call on worlds made beforehand."""
    worlds = [environment_for(item) for item in items]
    start, calls = time.perf_counter(), 0
    for item, world in zip(items, worlds, strict=True):
        for turn in item.conversation.reference:
            for call in turn:
                world.call(call.name, call.arguments)
                calls += 1
    return time.perf_counter() - start, calls


def official_calls(entries: list[tuple[dict[str, Any], list[list[str]], str]], utils: Any) -> tuple[float, int]:
    """The same with bfcl-eval's executor, its instances made (by an empty first call) before the clock runs."""
    seconds = calls = 0
    for n, (entry, truth, category) in enumerate(entries):
        args = {"initial_config": entry["initial_config"], "involved_classes": entry["involved_classes"],
                "model_name": f"calls{n}", "test_entry_id": entry["id"], "long_context": "long_context" in category}
        utils.execute_multi_turn_func_call([], **args)
        start = time.perf_counter()
        for turn in truth:
            utils.execute_multi_turn_func_call(turn, **args)
            calls += len(turn)
        seconds += time.perf_counter() - start
        forget(utils, f"calls{n}")
    return seconds, calls


def machine() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each measurement; the best counts.")
    repeat = parser.parse_args().repeat

    start = time.perf_counter()
    items = runner.bfcl_items(list(CATEGORIES))
    built = time.perf_counter() - start
    data = bfcl_data_module.bfcl_data()
    entries = []
    for category in CATEGORIES:
        answers = data.answers(category)
        entries += [(entry, answers[entry["id"]], category) for entry in data.questions(category)]
    modules = official_modules()

    evaluation, results = best(lambda: runner.evaluate(items, runner.oracle), repeat)
    judged, verdicts = best(lambda: [check_trajectory(i, [[list(t)] if t else [] for t in i.conversation.reference])
                                     for i in items], repeat)
    official, official_valid = best(lambda: official_checks(entries, modules), repeat)
    ours_calls = min((our_calls(items) for _ in range(repeat)), key=lambda r: r[0])
    theirs_calls = min((official_calls(entries, modules[1]) for _ in range(repeat)), key=lambda r: r[0])

    n = len(items)
    print(f"machine: {machine()}")
    print(f"{n} entries ({', '.join(CATEGORIES)}); items built in {built:.2f} s (bfcl-eval imported from the wheel)")
    print(f"{'measure':58} {'count':>6} {'seconds':>8} {'per second':>11}")
    rows = [("inftool eval, oracle policy: rollout + judge (entries)", evaluation, n),
            ("inftool judge alone, ground-truth trajectories (entries)", judged, n),
            ("bfcl-eval multi_turn_checker, same trajectories (entries)", official, n),
            ("inftool environment calls, in-process (calls)", ours_calls[0], ours_calls[1]),
            ("bfcl-eval executor calls, eval of call strings (calls)", theirs_calls[0], theirs_calls[1])]
    for label, seconds, count in rows:
        print(f"{label:58} {count:6} {seconds:8.3f} {count / seconds:11,.0f}")
    print(f"oracle evaluation vs official checker: {official / evaluation:.2f}x; "
          f"judge alone: {official / judged:.2f}x; "
          f"calls: {theirs_calls[0] / theirs_calls[1] / (ours_calls[0] / ours_calls[1]):.2f}x")
    valid = sum(r["valid"] for r in results)
    print(f"valid: ours {valid}/{n} (evaluation), {sum(v.valid for v in verdicts)}/{n} (judge); official "
          f"{official_valid}/{n}")
    return 0 if evaluation < official and valid == n == official_valid else 1


if __name__ == "__main__":
    sys.exit(main())
