"""Our BFCL checker against the official bfcl-eval ast_checker: throughput and agreement.

Run: python benchmarks/bench_checker.py [--rounds N] [--repeat K]
In one process, on the same inputs (the ground truth of every BFCL v4 AST entry of the ten AST
categories, written as a model output: first acceptable value of each argument, Java/JavaScript as
source strings), times N rounds over all entries with inftool.evaluate.check and with the official
checker (best of K), and counts the entries where both give the same verdict. The official checker
is imported from the cached bfcl-eval wheel with a stub for its model_config module (it is never a
dependency of inftool). Prints a table per category; exits non-zero when ours is slower overall or
any verdict differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
import zipfile
from collections.abc import Callable
from typing import Any

from inftool.catalog import bfcl_data as bfcl_data_module
from inftool.evaluate import check, language_of, reference_calls

CATEGORIES = ["simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
              "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple"]


def official_checker() -> tuple[Callable[..., dict[str, Any]], dict[str, Any]]:
    """bfcl-eval's ast_checker and its Language enum, imported from the wheel with a model_config stub."""
    wheel = bfcl_data_module.cache_dir() / bfcl_data_module._WHEEL
    if not (wheel.is_file() and zipfile.is_zipfile(wheel)):
        bfcl_data_module._fetch_wheel(wheel.parent)
    os.environ.setdefault("BFCL_PROJECT_ROOT", tempfile.mkdtemp(prefix="bfcl_root_"))
    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = {}

    class Configs(dict):
        def __missing__(self, model: str) -> types.SimpleNamespace:
            return types.SimpleNamespace(underscore_to_dot=False)

    stub.MODEL_CONFIG_MAPPING = Configs()
    sys.modules["bfcl_eval.constants.model_config"] = stub
    sys.path.insert(0, str(wheel))
    try:
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    finally:
        sys.path.remove(str(wheel))
    return ast_checker, {"python": Language.PYTHON, "java": Language.JAVA, "javascript": Language.JAVASCRIPT}


def inputs(category: str) -> list[tuple[Any, ...]]:
    data = bfcl_data_module.bfcl_data()
    answers = data.answers(category)
    language = language_of(category)
    out = []
    for question in data.questions(category):
        ground_truth = answers.get(question["id"])
        if ground_truth is None:
            continue
        calls = reference_calls(question["function"], ground_truth, language=language)
        decoded = [{c.name: c.arguments} for c in calls]
        out.append((question["function"], calls, decoded, ground_truth))
    return out


def best_time(run: Callable[[], None], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over all entries per timing")
    parser.add_argument("--repeat", type=int, default=3, help="timings per checker (the best is kept)")
    args = parser.parse_args()
    ast_checker, languages = official_checker()

    rows, total_ours, total_official, total_entries, total_agree = [], 0.0, 0.0, 0, 0
    for category in CATEGORIES:
        cases = inputs(category)
        language = language_of(category)
        enum = languages[language]

        def ours(cases=cases, category=category, language=language) -> None:
            for _ in range(args.rounds):
                for functions, calls, _decoded, ground_truth in cases:
                    check(functions, calls, ground_truth, category=category, language=language)

        def official(cases=cases, category=category, enum=enum) -> None:
            for _ in range(args.rounds):
                for functions, _calls, decoded, ground_truth in cases:
                    ast_checker(functions, decoded, ground_truth, enum, category, "bench-model")

        agree = valid = 0
        for functions, calls, decoded, ground_truth in cases:
            mine = check(functions, calls, ground_truth, category=category, language=language).valid
            theirs = ast_checker(functions, decoded, ground_truth, enum, category, "bench-model")["valid"]
            agree += mine is theirs
            valid += mine
        t_ours, t_official = best_time(ours, args.repeat), best_time(official, args.repeat)
        n = len(cases) * args.rounds
        rows.append((category, len(cases), valid, n / t_ours, n / t_official, t_official / t_ours, agree))
        total_ours += t_ours
        total_official += t_official
        total_entries += len(cases)
        total_agree += agree

    header = (f"{'category':<24}{'entries':>8}{'valid':>7}{'ours chk/s':>13}{'official chk/s':>16}{'ratio':>7}"
              f"{'agree':>8}")
    print(header)
    print("-" * len(header))
    for category, entries, valid, ours_rate, official_rate, ratio, agree in rows:
        print(f"{category:<24}{entries:>8}{valid:>7}{ours_rate:>13,.0f}{official_rate:>16,.0f}{ratio:>7.2f}"
              f"{agree:>5}/{entries}")
    n = total_entries * args.rounds
    print("-" * len(header))
    print(f"{'all':<24}{total_entries:>8}{'':>7}{n / total_ours:>13,.0f}{n / total_official:>16,.0f}"
          f"{total_official / total_ours:>7.2f}{total_agree:>5}/{total_entries}")
    ok = total_ours <= total_official and total_agree == total_entries
    print("target (ours no slower, all verdicts agree):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
