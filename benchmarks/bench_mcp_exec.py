"""Synthesis with real execution against mcp-server-time (recipes/mcp_time.yaml), beside the simulated baseline.

Run: python benchmarks/bench_mcp_exec.py [--episodes N] [--set KEY=VALUE ...]
Each run compiles the recipe (which starts the server and reads its tools/list), then synthesises N
episodes into a fresh store. `execute` makes every call on the real server over one stdio session;
`simulate` is the same recipe with the procedural server role. Prints episodes per second, calls
made, the share of episodes that passed the execution gate, and the execution failures per tool by
reason (from the verdicts, as `inftool sql` would count them). `--set` overrides the recipe for both
runs, e.g. --set 'roles.server.pin={get_current_time: {timezone: Mars/Base}}' to see failures counted.
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
RECIPE = REPO / "recipes" / "mcp_time.yaml"
MODES = {"execute": [], "simulate": ["roles.server.mode=simulate", "roles.server.execute=[]"]}
FAILURES = """
    SELECT regexp_extract(reason, '^mcp (error|timeout) \\(([^)]+)\\)', 2) AS tool,
           regexp_replace(reason, '^mcp (error|timeout) \\([^)]+\\):? ?', '\\1: ') AS what, count(*) AS n
    FROM verdicts WHERE gate = 'execution' AND NOT passed GROUP BY ALL ORDER BY n DESC"""


def bench(mode: str, episodes: int, overrides: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_recipe(RECIPE, [f"run_dir={tmp}", *overrides, *MODES[mode]])
        start = time.perf_counter()
        compiled = compile_recipe(loaded)
        compiled_at = time.perf_counter() - start
        report = run_stage(loaded, compiled, episodes=episodes)
        total = time.perf_counter() - start
        with Store.open(tmp, read_only=True) as store:
            _, [(calls,)] = store.query("SELECT count(*) FROM episodes, unnest(CAST(messages AS JSON[])) AS m(msg) "
                                        "WHERE msg->>'role' = 'tool'")
            _, [(gated, passed)] = store.query("SELECT count(*), count(*) FILTER (WHERE passed) FROM verdicts "
                                               "WHERE gate = 'execution'")
            _, failures = store.query(FAILURES)
    print(f"[{mode}] {report.written} episodes, {calls} tool calls, in {report.seconds:.2f} s: "
          f"{report.per_second:,.0f} episodes/s, {calls / report.seconds:,.0f} calls/s "
          f"(compile incl. tools/list {compiled_at:.2f} s, wall {total:.2f} s)")
    print(f"[{mode}] execution gate: {passed}/{gated} passed ({passed / gated:.1%}); accepted overall "
          f"{report.accepted}/{report.written}; rejected by gate {dict(report.rejected)}")
    for tool, what, n in failures:
        print(f"[{mode}]   {n:>4} x {tool}: {what}")
    if not failures:
        print(f"[{mode}]   no execution failures")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    for mode in MODES:
        bench(mode, args.episodes, args.overrides)
    return 0


if __name__ == "__main__":
    sys.exit(main())
