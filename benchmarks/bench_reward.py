"""Gated-reward throughput on text completions (parse + gates), one core.

Run: python benchmarks/bench_reward.py
Completions are Hermes-style `<tool_call>` texts built from BFCL ground truths (simple_python,
multiple, parallel, parallel_multiple): a third correct, a third with a wrong value, a third
unreadable. Prints rewards/s; exits non-zero below 20,000/s.
"""

from __future__ import annotations

import json
import sys
import time

from inftool.catalog.bfcl_data import bfcl_data
from inftool.reward import score

TARGET = 20000


def samples() -> list[tuple[str, dict]]:
    data, out = bfcl_data(), []
    for category in ("simple_python", "multiple", "parallel", "parallel_multiple"):
        answers = data.answers(category)
        for i, question in enumerate(data.questions(category)):
            truth = answers[question["id"]]
            label = {"functions": question["function"], "ground_truth": truth, "category": category}
            calls = [{"name": n, "arguments": {p: v[0] for p, v in params.items() if v and v[0] != ""}}
                     for answer in truth for n, params in answer.items()]
            if i % 3 == 1 and calls and calls[0]["arguments"]:
                first = next(iter(calls[0]["arguments"]))
                calls[0]["arguments"][first] = "changed"
            text = "".join(f"<tool_call>{json.dumps(c)}</tool_call>" for c in calls)
            out.append((text if i % 3 != 2 else text[: len(text) // 2], label))
    return out


def main() -> int:
    items = samples()
    for completion, label in items[:200]:  # warm-up
        score(completion, label)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for completion, label in items:
            score(completion, label)
        best = max(best, len(items) / (time.perf_counter() - start))
    print(f"{len(items)} completions, best of 3: {best:,.0f} rewards/s (target >= {TARGET:,})")
    return 0 if best >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
