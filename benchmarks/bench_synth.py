"""Procedural synthesis throughput on recipes/bfcl.yaml: role-play, all five gates and DuckDB writes.

Run: python benchmarks/bench_synth.py [--episodes N]
One process, the embedded procedural backends, a fresh store in a temporary run directory.
Prints verified (accepted) and written episodes per second; exits non-zero below 2,000 verified/s.
Also prints the verification pass rate per gate and per complexity (what `inftool gaps` shows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from inftool.compile import compile_recipe
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

REPO = Path(__file__).resolve().parents[1]
TARGET = 2000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_recipe(REPO / "recipes" / "bfcl.yaml", [f"run_dir={tmp}"])
        compiled = compile_recipe(loaded)
        start = time.perf_counter()
        report = run_stage(loaded, compiled, iteration=0, episodes=args.episodes)
        total = time.perf_counter() - start
        with Store.open(tmp, read_only=True) as store:
            rates = store.gate_pass_rates()
    verified = report.accepted / report.seconds
    print(f"episodes written      {report.written:>8}   ({report.per_second:,.0f}/s in the synthesis loop)")
    print(f"episodes verified     {report.accepted:>8}   ({verified:,.0f}/s, target >= {TARGET:,})")
    print(f"rejected by gate      {dict(report.rejected)}")
    print(f"stage wall time       {total:.2f} s (including setup: catalog, planner, store)")
    print("\ngate          complexity          evaluated   passed   pass rate")
    for row in rates:
        print(f"{row.gate:<13} {row.complexity:<18} {row.evaluated:>9} {row.passed:>8}   {row.pass_rate:.3f}")
    return 0 if verified >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
