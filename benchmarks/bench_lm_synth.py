"""LM-backed synthesis throughput: the whole stage, all three roles played by an OpenAI-compatible endpoint.

    python benchmarks/bench_lm_synth.py [--episodes 640] [--concurrency 32] [--delay 0.1]

A local test server (``inftool.testing.FakeOpenAIProcess``, in a child process like a real
endpoint) answers every request after ``delay`` seconds, so ``concurrency`` episodes in flight can
at best make ``concurrency / delay`` LM calls per second. The synthesis stage (role-play,
verification, DuckDB writes) runs on the travel catalog with user, assistant and server all
LM-backed; the figure is LM calls per second over the stage, as a fraction of that bound (the
first and last episodes run with fewer in flight, so short runs read lower: 240 episodes ~0.8,
480 ~0.9). The test server's canned answers do not match the hidden goals, so the consistency gate
rejects most episodes: this measures throughput, not quality. Exits non-zero below 0.8.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from inftool.compile import compile_recipe
from inftool.spec import load_recipe
from inftool.synth import run_stage
from inftool.testing import FakeOpenAIProcess

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.8


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=640)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIProcess(delay_s=args.delay) as server:
        recipe = Path(tmp) / "lm.yaml"
        recipe.write_text(f"""
name: lm-bench
run_dir: {tmp}/run
catalogs: [{{source: openai, path: {REPO / 'catalog' / 'travel.yaml'}}}]
models:
  lm: {{backend: openai, model: fake-model, base_url: "{server.base_url}", concurrency: {args.concurrency},
        max_failures: 1000}}
  policy: {{backend: local}}
roles: {{user: {{model: lm}}, assistant: {{model: lm}}, server: {{model: lm}}}}
evaluate: {{bfcl: []}}
""")
        loaded = load_recipe(recipe)
        compiled = compile_recipe(loaded)
        before = server.requests
        report = run_stage(loaded, compiled, episodes=args.episodes)
        calls = server.requests - before
    rate, bound = calls / report.seconds, args.concurrency / args.delay
    print(f"episodes {report.written} ({report.accepted} accepted), LM calls {calls} in {report.seconds:.2f} s")
    print(f"LM calls/s {rate:.1f} of the bound {bound:.0f}/s: fraction {rate / bound:.3f} (target >= {TARGET})")
    return 0 if rate / bound >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
