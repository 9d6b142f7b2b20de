"""Throughput of the LM-backed role-players against a local OpenAI-compatible endpoint.

    python benchmarks/bench_lm.py [--calls 640] [--workers 32] [--delay 0.1] [--repeat 3] [--in-process]

A ``FakeOpenAIServer`` answers every request after ``delay`` seconds, so ``workers`` threads can at
best make ``workers / delay`` LM calls per second (320/s by default). Each round runs ``calls`` role
calls (a mix of ``ToolServer.call`` and ``Assistant.respond`` on four travel-catalog tools, each one
real HTTP round trip through DSPy) on a warmed-up pool and reports the rate as a fraction of that
bound. The server runs in a child process, like a real endpoint, so that its request handling does
not compete with the client for the GIL (``--in-process`` serves it from a thread of this process).
Exits non-zero when the best round's fraction is below 0.8 or when any call failed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inftool.catalog import Tool, read_spec  # noqa: E402
from inftool.core.episode import Call, Goal  # noqa: E402
from inftool.errors import StageError  # noqa: E402
from inftool.spec.backends import OpenAIModelSpec  # noqa: E402
from inftool.synth.roles.base import RoleError  # noqa: E402
from inftool.synth.roles.lm import FailureBudget, client_for  # noqa: E402
from inftool.synth.roles.lm_roles import Assistant, ToolServer  # noqa: E402
from inftool.testing import FakeOpenAIProcess, FakeOpenAIServer  # noqa: E402

TARGET = 0.8
TOOLS = ("search_flights", "convert_currency", "get_destination_weather_forecast", "book_hotel_room")


def catalog_tools() -> list[Tool]:
    tools = {tool.name: tool for tool in read_spec(REPO / "catalog" / "travel.yaml").tools}
    return [tools[name] for name in TOOLS]


def job(i: int, tools: list[Tool], assistant: Assistant, server: ToolServer) -> str:
    """One role call: even i -> the assistant picks a call, odd i -> the server answers one."""
    tool, rng = tools[i % len(tools)], random.Random(i)
    goal = Goal(complexity="simple", target=tool.name, offered=[tool.name], steps=[])
    if i % 2 == 0:
        messages = [{"role": "user", "content": f"Please help me with {tool.description.lower()}"}]
        turn = assistant.respond(messages, tools, goal, rng)
        return "assistant" if turn.calls or turn.content else "empty"
    call = Call(tool.name, {name: "example" for name in tool.required} | {"request": i})
    server.call(tool, call, goal, [], rng)
    return "server"


def run(calls: int, workers: int, delay: float, repeat: int = 1, in_process: bool = False) -> list[dict[str, float]]:
    """``repeat`` timed rounds of ``calls`` role calls each, against one server and one warmed-up pool."""
    tools = catalog_tools()
    serve = FakeOpenAIServer if in_process else FakeOpenAIProcess
    with serve(delay_s=delay) as endpoint, ThreadPoolExecutor(max_workers=workers) as pool:
        spec = OpenAIModelSpec(backend="openai", model="bench-model", base_url=endpoint.base_url,
                               timeout_s=10, max_retries=0, concurrency=workers)
        client = client_for(spec, FailureBudget(0))
        assistant, server = Assistant(client), ToolServer(client)
        # warm-up, untimed: worker threads, one pooled connection per worker, signatures and prompts
        list(pool.map(lambda i: job(i, tools, assistant, server), range(-2 * workers, 0)))
        return [timed_round(pool, endpoint, calls, workers, delay, tools, assistant, server) for _ in range(repeat)]


def timed_round(pool: ThreadPoolExecutor, endpoint, calls: int, workers: int, delay: float, tools: list[Tool],
                assistant: Assistant, server: ToolServer) -> dict[str, float]:
    before = endpoint.requests
    start = time.perf_counter()
    kinds = list(pool.map(lambda i: job(i, tools, assistant, server), range(calls)))
    elapsed = time.perf_counter() - start
    requests = endpoint.requests - before
    rate, bound = requests / elapsed, workers / delay
    return {"calls": calls, "requests": requests, "assistant": kinds.count("assistant"),
            "server": kinds.count("server"), "seconds": elapsed, "rate": rate, "bound": bound,
            "fraction": rate / bound}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=640)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (the best one is judged)")
    parser.add_argument("--in-process", action="store_true", help="serve from a thread of this process")
    args = parser.parse_args()
    try:
        rounds = run(args.calls, args.workers, args.delay, args.repeat, args.in_process)
    except (RoleError, StageError) as exc:
        print(f"FAILED: an LM call failed: {exc}")
        return 1
    first = rounds[0]
    print(f"{args.calls} role calls per round ({first['assistant']:.0f} Assistant.respond, "
          f"{first['server']:.0f} ToolServer.call), {args.workers} workers, server delay {args.delay:g} s, "
          f"server {'in-process' if args.in_process else 'in a child process'}")
    print(f"{'round':>5} {'requests':>9} {'wall s':>7} {'LM calls/s':>11} {'bound/s':>8} {'fraction':>9}")
    for n, r in enumerate(rounds, 1):
        print(f"{n:>5} {r['requests']:>9.0f} {r['seconds']:>7.2f} {r['rate']:>11.1f} {r['bound']:>8.1f} "
              f"{r['fraction']:>9.3f}")
    best = max(r["fraction"] for r in rounds)
    median = statistics.median(r["fraction"] for r in rounds)
    print(f"fraction of bound: best {best:.3f}, median {median:.3f} (target >= {TARGET})")
    failed = best < TARGET or any(r["requests"] != r["calls"] for r in rounds)
    if failed:
        print("FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
