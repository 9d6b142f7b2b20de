"""The run store: episode write throughput, and the views' latency on a store of 1,000,000 episodes.

Run: python benchmarks/bench_store.py [--episodes N] [--big N] [--verdicts K] [--keep DIR]
(a) N synthetic Episode objects (~4 KB of messages + tools JSON, 5 verdicts each) go through
    Store.write_episodes in batches of 1,000 (target >= 10,000 episodes/s);
(b) a store of --big episodes over 800 tools x 7 complexities and 3 iterations, generated in SQL with
    skewed tool popularity, a complexity mix and gate failures (K verdict rows per episode at most,
    fewer after a failure: ~4.4 for K = 5), then the views `coverage`, `coverage_cells`, `gaps LIMIT 20`,
    `gate_pass_rates` and the Store methods gaps() and gate_pass_rates(), best of 3 each.
Exits non-zero when the best of 3 write runs misses the target or a query takes >= 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from inftool.catalog.tool import Catalog, Tool
from inftool.compile.plan import Plan
from inftool.core.episode import Call, Episode, Goal, Verdict
from inftool.store import Store

GATES = ["format", "schema", "execution", "consistency", "dedup"]
MIX = {"single": 0.3, "parallel": 0.15, "multiple": 0.2, "parallel_multiple": 0.1, "multi_step": 0.1,
       "multi_turn": 0.1, "irrelevance": 0.05}
TOOLS = 800
WRITE_TARGET = 10_000
QUERY_LIMIT = 1.0


def plan(name: str) -> Plan:
    digest = hashlib.sha256(name.encode()).hexdigest()
    return Plan.model_construct(name=name, recipe=f"recipes/{name}.yaml", seed=7, content_hash=digest)


def catalog_tool(i: int) -> Tool:
    properties = {f"param_{k}": {"type": ["string", "integer", "number", "boolean", "array"][k % 5],
                                 "description": f"Parameter {k} of tool {i}: " + "what it means, its format. " * 3}
                  for k in range(5)}
    return Tool(name=f"tool_{i}", original_name=f"tool.{i}", source="bench",
                description=f"Tool {i} does something useful with a resource. " * 4,
                parameters={"type": "object", "properties": properties, "required": ["param_0", "param_1"]})


CATALOG = Catalog(catalog_tool(i) for i in range(TOOLS))


def synthetic(i: int, rng: random.Random) -> Episode:
    """An episode shaped like synthesis makes them (offered tools via Tool.to_openai(), as synthesize.py)."""
    target = rng.randrange(TOOLS)
    offered = [target, *rng.sample(range(TOOLS), 2)]
    arguments = {"param_0": f"value {rng.random():.6f}", "param_1": rng.randrange(1000), "param_2": rng.random()}
    call = Call(f"tool_{target}", arguments)
    complexity = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    goal = Goal(complexity=complexity, target=f"tool_{target}", offered=[f"tool_{t}" for t in offered],
                steps=[[call]], persona="a data analyst who writes tersely")
    messages = [
        {"role": "system", "content": "You are a helpful assistant that calls tools when they fit the request. " * 3},
        {"role": "user", "content": f"Please run tool {target} on value {arguments['param_0']} with count "
                                    f"{arguments['param_1']}, and tell me what comes back. " * 2},
        {"role": "assistant", "content": None, "tool_calls": [{"id": f"call_{i}", "type": "function", "function": {
            "name": call.name, "arguments": json.dumps(arguments)}}]},
        {"role": "tool", "tool_call_id": f"call_{i}",
         "content": json.dumps({"status": "ok", "items": [{"id": k, "name": f"item {k}", "score": k / 7}
                                                          for k in range(8)]})},
        {"role": "assistant", "content": "The tool returned 8 items; the best is item 7 with score 1.0. " * 2},
    ]
    failing = rng.choices([None, 0, 1, 2, 3, 4], weights=[70, 2, 10, 5, 10, 3])[0]
    ran = GATES if failing is None else GATES[: failing + 1]
    passed = [failing is None or k < failing for k in range(len(ran))]
    verdicts = [Verdict(g, ok, "" if ok else f"{g} failed: detail") for g, ok in zip(ran, passed, strict=True)]
    return Episode(id=hashlib.sha1(str(i).encode()).hexdigest()[:16], iteration=0, index=i, goal=goal,
                   messages=messages, tools=[CATALOG[f"tool_{t}"].to_openai() for t in offered], verdicts=verdicts,
                   split="heldout" if rng.random() < 0.1 else "train")


def write_once(directory: Path, episodes: list[Episode], batch: int) -> tuple[float, float, float]:
    """Seconds to write ``episodes`` in batches into a new store, the same plus closing it (its last
    checkpoint), and seconds to re-write one stored batch (all skipped)."""
    store = Store.open(directory)
    run = store.ensure_run(plan("writes"))
    start = time.perf_counter()
    for k in range(0, len(episodes), batch):
        store.write_episodes(run, episodes[k:k + batch])
    elapsed = time.perf_counter() - start
    store.close()  # the last checkpoint: compressing what the WAL still holds into the file
    closed = time.perf_counter() - start
    with Store.open(directory) as store:
        again = time.perf_counter()
        skipped = store.write_episodes(run, episodes[:batch])
        rewrite = time.perf_counter() - again
        stored = store.query("SELECT count(*) FROM episodes")[1][0][0]
    assert stored == len(episodes) and skipped == 0, (stored, skipped)
    return elapsed, closed, rewrite


def bench_writes(root: Path, n: int, batch: int = 1000, repeat: int = 3) -> float:
    rng = random.Random(1)
    episodes = [synthetic(i, rng) for i in range(n)]
    size = sum(len(json.dumps(e.messages)) + len(json.dumps(e.tools)) for e in episodes[:200]) / 200
    print(f"(a) writing {n:,} episodes (~{size / 1024:.1f} KB messages+tools JSON, 5 verdicts at most each) "
          f"in batches of {batch:,} into a new store, {repeat} times:")
    runs = [write_once(root / f"writes{k}", episodes, batch) for k in range(repeat)]
    for elapsed, closed, rewrite in runs:
        print(f"    {elapsed:.2f} s = {n / elapsed:>6,.0f} episodes/s; with closing the store (last checkpoint) "
              f"{closed:.2f} s = {n / closed:>6,.0f} episodes/s; re-writing a stored batch (all skipped) "
              f"{rewrite * 1000:.0f} ms")
    rate = n / min(elapsed for elapsed, _, _ in runs)
    print(f"    best {rate:,.0f} episodes/s (target {WRITE_TARGET:,}), with closing "
          f"{n / min(closed for _, closed, _ in runs):,.0f} episodes/s")
    return rate


# Generates the big store in SQL. h(i, salt) stands for a uniform number in [0, 1) made from a hash.
_BIG = """
INSERT INTO tools
SELECT $run, 'tool_' || t, 'tool.' || t, 'bench', 'Tool ' || t, '{"type":"object"}'::JSON, NULL,
       list_transform(range((t % 6)::BIGINT), lambda k: 'p' || k),
       list_transform(range((t % 6)::BIGINT),
                      lambda k: ['string', 'integer', 'number', 'boolean', 'array', 'object'][1 + (t * 7 + k) % 6])
FROM range($tools) r(t);
INSERT INTO scenarios
SELECT $run, it, c.complexity, 'tool_' || t, c.share / $tools
FROM range(3) i(it), range($tools) r(t),
     (SELECT * FROM (VALUES ('single', 0.3), ('parallel', 0.15), ('multiple', 0.2), ('parallel_multiple', 0.1),
                            ('multi_step', 0.1), ('multi_turn', 0.1), ('irrelevance', 0.05)) v(complexity, share)) c;
INSERT INTO episodes
SELECT substr(md5(i::VARCHAR), 1, 16), $run, (i * 3 // $n)::INTEGER, i, complexity, 'tool_' || tool,
       ['tool_' || tool], ['tool_' || tool, 'tool_' || ((tool + 1) % $tools)], 'persona', 'request ' || i,
       ('[{"role":"user","content":"request ' || i || '"}]')::JSON, '[]'::JSON, '{}'::JSON,
       fail IS NULL, ['format', 'schema', 'execution', 'consistency', 'dedup'][fail + 1],
       CASE WHEN fail IS NOT NULL THEN 'failed' END, CASE WHEN h(i, 5) < 0.1 THEN 'heldout' ELSE 'train' END,
       NULL, TIMESTAMP '2026-01-01'
FROM (
    SELECT i,
           floor($tools * pow(h(i, 1), 2))::INTEGER AS tool,  -- popular tools first: a skewed distribution
           CASE WHEN h(i, 2) < 0.3 THEN 'single' WHEN h(i, 2) < 0.45 THEN 'parallel' WHEN h(i, 2) < 0.65 THEN 'multiple'
                WHEN h(i, 2) < 0.75 THEN 'parallel_multiple' WHEN h(i, 2) < 0.85 THEN 'multi_step'
                WHEN h(i, 2) < 0.95 THEN 'multi_turn' ELSE 'irrelevance' END AS complexity,
           CASE WHEN h(i, 3) < 0.70 THEN NULL WHEN h(i, 3) < 0.72 THEN 0 WHEN h(i, 3) < 0.82 THEN 1
                WHEN h(i, 3) < 0.87 THEN 2 WHEN h(i, 3) < 0.97 THEN 3 ELSE 4 END AS fail
    FROM range($n) r(i)
);
INSERT INTO verdicts
SELECT e.episode_id, p, ['format', 'schema', 'execution', 'consistency', 'dedup'][p + 1],
       e.accepted OR ['format', 'schema', 'execution', 'consistency', 'dedup'][p + 1] <> e.failed_gate,
       CASE WHEN NOT e.accepted AND ['format', 'schema', 'execution', 'consistency', 'dedup'][p + 1] = e.failed_gate
            THEN 'failed' ELSE '' END
FROM episodes e, range($verdicts) g(p)
WHERE e.run_id = $run
  AND (e.accepted OR p <= list_position(['format', 'schema', 'execution', 'consistency', 'dedup'], e.failed_gate) - 1);
"""


def best_of(run, repeat: int = 3) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = len(run())
        times.append(time.perf_counter() - start)
    return min(times), found


def bench_queries(root: Path, n: int, verdicts: int) -> bool:
    with Store.open(root / "big") as store:
        run = store.ensure_run(plan("big"))
        start = time.perf_counter()
        sql = re.sub(r"\bh\((\w+), (\d+)\)", r"((hash(\1, \2) % 1000003) / 1000003.0)", _BIG)
        values = {"run": run, "tools": TOOLS, "n": n, "verdicts": verdicts}
        for statement in filter(str.strip, sql.split(";")):
            store.query(statement, {k: v for k, v in values.items() if f"${k}" in statement})
        store.query("CHECKPOINT")
        built = time.perf_counter() - start
        counts = store.query("SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM verdicts), "
                             "(SELECT count(*) FROM scenarios WHERE iteration = 2)")[1][0]
    size = (root / "big" / "store.duckdb").stat().st_size
    print(f"(b) built a store of {counts[0]:,} episodes, {counts[1]:,} verdicts, {counts[2]:,} cells per iteration "
          f"in {built:.1f} s ({size / 2**20:.0f} MiB)")
    ok = True
    with Store.open(root / "big", read_only=True) as store:
        print(f"    {'query':<32} {'best of 3 s':>11} {'rows':>7}")
        cases = {sql: (lambda sql=sql: store.query(sql)[1]) for sql in (
            "SELECT * FROM coverage", "SELECT * FROM coverage_cells", "SELECT * FROM gaps LIMIT 20",
            "SELECT * FROM gate_pass_rates")}
        cases |= {"Store.gaps()": store.gaps, "Store.gate_pass_rates()": store.gate_pass_rates}
        for label, run in cases.items():
            seconds, found = best_of(run)
            ok &= seconds < QUERY_LIMIT
            print(f"    {label:<32} {seconds:>11.3f} {found:>7,}{'  TOO SLOW' if seconds >= QUERY_LIMIT else ''}")
        start = time.perf_counter()
        requests = len(store.accepted_requests(store.current_run()))
        print(f"    {'accepted_requests (resume)':<32} {time.perf_counter() - start:>11.3f} {requests:>7,}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--verdicts", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        rate = bench_writes(root, args.episodes)
        ok = bench_queries(root, args.big, args.verdicts)
    return 0 if ok and rate >= WRITE_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
