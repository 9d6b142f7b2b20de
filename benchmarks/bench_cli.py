"""Wall time of `inftool --help` and `inftool validate recipes/bfcl.yaml` (targets: < 0.5 s and < 1.5 s).

Run: python benchmarks/bench_cli.py [--repeat N]
Each command runs in a fresh process; the BFCL data is fetched once before timing if needed.
Exits non-zero when a median misses its target.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = [
    ("inftool --help", ["--help"], 0.5),
    ("inftool validate recipes/bfcl.yaml", ["validate", "recipes/bfcl.yaml"], 1.5),
]


def command() -> list[str]:
    exe = shutil.which("inftool")
    return [exe] if exe else [sys.executable, "-m", "inftool"]


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command() + args, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    timed(["validate", "recipes/bfcl.yaml"])  # warm-up: disk cache, BFCL data fetched if missing
    failed = False
    print(f"{'command':<40} {'median s':>9} {'best s':>7} {'target s':>9}")
    for label, args, target in CASES:
        times = [timed(args) for _ in range(repeat)]
        median = statistics.median(times)
        failed |= median >= target
        print(f"{label:<40} {median:>9.3f} {min(times):>7.3f} {target:>9.1f}{'  MISSED' if median >= target else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
