"""Stateful synthesis throughput on BFCL's eight executed environments: planning on live worlds, multi-turn
role-play answered by the environments, all six gates (the state gate included) and DuckDB writes.

Run: python benchmarks/bench_stateful.py [--episodes N] [--repeat K]
One process, the procedural backends, ``recipes/bfcl_multi_turn.yaml`` with every episode ``stateful`` (all 128
tools of the eight environments), a fresh store in a temporary run directory each time (best of K).
Prints verified (accepted) stateful episodes per second, and the parts: planning alone (goals/s) and the state
gate alone (episodes/s); exits non-zero below 200 verified/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _machine import cpu_model

from inftool.compile import compile_recipe
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage
from inftool.synth.synthesize import Synthesizer
from inftool.synth.verify.state import state_problem

REPO = Path(__file__).resolve().parents[1]
TARGET = 200
OVERRIDES = ["scenarios.mix={stateful: 1.0}"]


def stage(episodes: int) -> tuple[float, int, Counter, Counter, float]:
    """(verified/s, accepted, rejected by gate, episodes per environment, wall s) of one synthesis stage."""
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_recipe(REPO / "recipes" / "bfcl_multi_turn.yaml", [f"run_dir={tmp}", *OVERRIDES])
        start = time.perf_counter()
        report = run_stage(loaded, compile_recipe(loaded), iteration=0, episodes=episodes)
        wall = time.perf_counter() - start
        with Store.open(tmp, read_only=True) as store:
            _, rows = store.query("SELECT goal->>'env', count(*) FROM episodes GROUP BY 1")
    return report.accepted / report.seconds, report.accepted, report.rejected, Counter(dict(rows)), wall


def parts(episodes: int) -> tuple[float, float, float]:
    """(plans/s, role-played episodes/s, state-gate checks/s) on ``episodes`` goals, without the store."""
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_recipe(REPO / "recipes" / "bfcl_multi_turn.yaml", [f"run_dir={tmp}", *OVERRIDES])
        synth = Synthesizer(loaded, compile_recipe(loaded), "bench")
        targets = [tool for kind, tool in synth.cells if kind == "stateful"]
        start = time.perf_counter()
        for i in range(episodes):
            synth.planner.plan("stateful", targets[i % len(targets)], random.Random(f"bench:{i}"))
        plans = episodes / (time.perf_counter() - start)
        start = time.perf_counter()
        played = [synth.episode(0, i) for i in range(episodes)]
        playing = episodes / (time.perf_counter() - start)
        start = time.perf_counter()
        problems = [state_problem(episode, synth.catalog) for episode in played]
        checks = episodes / (time.perf_counter() - start)
    if any(problems):
        raise SystemExit(f"the state gate rejected a procedural episode: {next(p for p in problems if p)}")
    return plans, playing, checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [stage(args.episodes) for _ in range(args.repeat)]
    verified, accepted, rejected, per_env, wall = max(runs, key=lambda run: run[0])
    plans, playing, checks = parts(min(args.episodes, 2000))
    print(f"machine               {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"episodes verified     {accepted:>6} of {args.episodes}   ({verified:,.0f}/s, best of {args.repeat}; "
          f"all runs {', '.join(f'{r[0]:,.0f}' for r in runs)}; target >= {TARGET:,})")
    print(f"rejected by gate      {dict(rejected)}")
    print(f"stage wall time       {wall:.2f} s (including setup: catalog, planner, store)")
    print(f"per environment       {dict(sorted(per_env.items()))}")
    print(f"planning alone        {plans:,.0f} goals/s (world drawn, chain run on a planning instance)")
    print(f"role-play + planning  {playing:,.0f} episodes/s (the episode's own world answers every call)")
    print(f"state gate alone      {checks:,.0f} episodes/s (replay on fresh worlds, final state ==, digest)")
    return 0 if verified >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
