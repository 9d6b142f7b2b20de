"""`inftool serve-mcp`: tools/call round trips per second through the MCP SDK's own client (stdio and HTTP).

Run: python benchmarks/bench_mcp_serve.py [--calls N] [--warm-up N] [--in-flight K] [--http-clients 1,4,8]
                                         [--catalog FILE | --env NAME] [--no-http]
Starts `python -m inftool serve-mcp FILE` (default: catalog/travel.yaml, procedural results), or with
`--env NAME` the stateful environment `bfcl_env:NAME` (one world per session, from `--config`: the first
multi-turn entry's initial state of that environment), and drives it with the SDK's `ClientSession`:
- stdio, the first calls (the warm-up, measured: a tool's first call compiles its checks and generators);
- stdio, sequential: one connection, one request at a time, after the warm-up (the headline figure);
- stdio, K in flight: the same connection with K requests outstanding (K tasks of one anyio task group);
- HTTP: `serve-mcp --http`, C client sessions (streamable HTTP, each its own connection and MCP session, all
  in this process's event loop), one request at a time each.
Every phase lists the tools (the client checks each result against its tool's output schema), warms up,
then makes N calls, each with arguments of its own (drawn from the value sampler, cycling over the tools;
a call is not repeated, so no verdict or result is answered from a cache). With `--env`, the calls are the
ground-truth calls of BFCL's multi-turn entries (base, miss_func, miss_param) that name one of the
environment's tools, in the entries' order, cycled over on each session's one world: later calls meet a world
earlier ones changed, so some results are the API's own errors (`{"error": ...}`, counted, not isError).
Prints calls per second, latency percentiles and the CPU time each side spent per call (the server's from
/proc, Linux only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from itertools import cycle, islice
from pathlib import Path
from typing import Any, Self

import anyio
import jsonschema  # noqa: F401 - the client checks results with it: imported before any clock starts
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from inftool.catalog import Catalog, read_spec
from inftool.synth.values.sampler import ValueSampler

REPO = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def distinct_calls(catalog_file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Valid calls of every tool in turn, none twice."""
    catalog = Catalog(read_spec(catalog_file).tools)
    values, rng, seen = ValueSampler(0), random.Random(0), set()
    while True:
        for tool in catalog:
            for _ in range(20):
                arguments = values.arguments(tool, rng)
                key = tool.name + json.dumps(arguments, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    yield tool.name, arguments
                    break


def ground_truth_calls(env: str) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """(the first entry's initial state of environment ``env``, the ground-truth calls of BFCL's multi-turn
    entries that name one of its tools), read as the evaluation reads them (``reference_call``)."""
    from inftool.envs.bfcl import class_names, env_tools
    from inftool.evaluate.multi_turn import multi_turn_items

    class_name, names = class_names()[env], {tool["function"]["name"] for tool in env_tools(env)}
    items = [item for category in ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param")
             for item in multi_turn_items(category) if class_name in item.conversation.involved]
    calls = [(call.name, call.arguments) for item in items for turn in item.conversation.reference
             for call in turn if call.name in names]
    return items[0].conversation.initial_config.get(class_name, {}), calls


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (None where /proc cannot say)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def child_pid() -> int | None:
    """The serve-mcp process this one started (stdio_client does not say which it is)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == os.getpid() and b"serve-mcp" in (stat.parent / "cmdline").read_bytes():
            return int(stat.parent.name)
    return None


class Phase:
    """One measured phase: calls/s, latency and CPU per call on both sides."""

    def __init__(self, label: str, server_pid: int | None, refusals: bool = False):
        self.label, self.server_pid, self.latencies, self.errors = label, server_pid, [], 0
        self.refused = 0 if refusals else None  # results that are the API's own error ({"error": ...})

    def __enter__(self) -> Self:
        self.server_cpu, self.client_cpu = cpu_seconds(self.server_pid), time.process_time()
        self.begin = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.begin
        self.client_cpu = time.process_time() - self.client_cpu
        after = cpu_seconds(self.server_pid)
        self.server_cpu = None if after is None or self.server_cpu is None else after - self.server_cpu

    async def call(self, session: ClientSession, name: str, arguments: dict[str, Any]) -> None:
        sent = time.perf_counter()
        result = await session.call_tool(name, arguments)
        self.latencies.append(time.perf_counter() - sent)
        self.errors += result.is_error
        if self.refused is not None and result.content:
            self.refused += result.content[0].text.startswith('{"error"')

    def report(self) -> str:
        n, ms = len(self.latencies), sorted(1000 * t for t in self.latencies)
        cpu = f"client {1000 * self.client_cpu / n:.2f} ms"
        if self.server_cpu is not None:
            cpu = f"server {1000 * self.server_cpu / n:.2f} ms, " + cpu
        refused = "" if self.refused is None else f", {self.refused} error results"
        return (f"{self.label:<24} {n / self.elapsed:7,.0f} calls/s  ({n:,} calls in {self.elapsed:.2f} s, "
                f"{self.errors} isError{refused})  latency median {statistics.median(ms):.2f} ms, "
                f"p90 {ms[int(0.9 * n)]:.2f} ms  CPU per call: {cpu}")


async def drive(phase: Phase, sessions: list[ClientSession], calls: Iterator, count: int, per_session: int) -> None:
    """``count`` calls with ``per_session`` requests outstanding on each session."""
    left = iter(range(count))

    async def worker(session: ClientSession) -> None:
        for _ in left:
            await phase.call(session, *next(calls))

    with phase:
        async with anyio.create_task_group() as tg:
            for session in sessions:
                for _ in range(per_session):
                    tg.start_soon(worker, session)


async def warm(sessions: list[ClientSession], calls: Iterator, count: int) -> None:
    for i in range(count):
        await sessions[i % len(sessions)].call_tool(*next(calls))


async def bench_stdio(served: list[str], label: str, args: argparse.Namespace, calls: Iterator, quiet: Any) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "inftool", "serve-mcp", *served])
    start = time.perf_counter()
    async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        ready = time.perf_counter() - start
        print(f"server                   python -m inftool serve-mcp {label} ({len(listed.tools)} tools)"
              f", {args.warm_up} warm-up calls, then {args.calls:,} calls a phase")
        print(f"{'stdio ready':<24} start + initialize + tools/list {ready:.2f} s")
        pid, refusals = child_pid(), bool(args.env)
        cold = Phase(f"stdio first {args.warm_up} calls", pid, refusals)  # the warm-up: a tool's first call compiles
        await drive(cold, [session], calls, args.warm_up, 1)
        print(cold.report())
        sequential = Phase("stdio sequential", pid, refusals)
        await drive(sequential, [session], calls, args.calls, 1)
        print(sequential.report())
        pipelined = Phase(f"stdio {args.in_flight} in flight", pid, refusals)
        await drive(pipelined, [session], calls, args.calls, args.in_flight)
        print(pipelined.report())


async def bench_http(url: str, pid: int, args: argparse.Namespace, calls: Iterator) -> None:
    for count in args.http_clients:
        async with AsyncExitStack() as stack:
            sessions = []
            for _ in range(count):
                read, write = await stack.enter_async_context(streamable_http_client(url))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                await session.list_tools()
                sessions.append(session)
            await warm(sessions, calls, args.warm_up)
            phase = Phase(f"http {count} client{'s' if count > 1 else ''}", pid, bool(args.env))
            await drive(phase, sessions, calls, args.calls, 1)
            print(phase.report())


def run_http(served: list[str], args: argparse.Namespace, calls: Iterator) -> None:
    process = subprocess.Popen([sys.executable, "-m", "inftool", "serve-mcp", *served, "--http",
                                "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        line = process.stderr.readline()
        url = line.split(" at ")[-1].strip()
        if not url.startswith("http"):
            raise RuntimeError(f"serve-mcp --http did not start: {line}")
        anyio.run(bench_http, url, process.pid, args, calls)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls a phase (default 2000)")
    parser.add_argument("--warm-up", type=int, default=200, help="calls before each phase (default 200)")
    parser.add_argument("--in-flight", type=int, default=8, help="requests outstanding when pipelined (default 8)")
    parser.add_argument("--http-clients", type=lambda text: [int(n) for n in text.split(",")], default=[1, 4, 8],
                        help="client sessions of each HTTP phase (default 1,4,8)")
    parser.add_argument("--no-http", action="store_true", help="stdio only")
    parser.add_argument("--catalog", type=Path, default=REPO / "catalog" / "travel.yaml")
    parser.add_argument("--env", metavar="NAME", help="serve bfcl_env:NAME (e.g. gorilla_file_system) instead of a "
                        "catalog, called with the ground-truth calls of BFCL's multi-turn entries")
    args = parser.parse_args()
    phases = 2 + (0 if args.no_http else len(args.http_clients))
    with tempfile.TemporaryDirectory() as scratch, open(os.devnull, "w") as quiet:  # quiet: "serving ..."
        if args.env:
            config, truth = ground_truth_calls(args.env)
            config_file = Path(scratch) / f"{args.env}.json"
            config_file.write_text(json.dumps(config))
            served, label = [f"bfcl_env:{args.env}", "--config", str(config_file)], f"bfcl_env:{args.env}"
            print(f"calls                    {len(truth):,} ground-truth calls of BFCL's multi-turn entries, cycled; "
                  "--config: the first entry's initial state")
            source: Iterator = cycle(truth)
        else:
            catalog_file = args.catalog.resolve()
            served, label, source = [str(catalog_file)], catalog_file.name, distinct_calls(catalog_file)
        calls = iter(list(islice(source, (args.warm_up + args.calls) * phases)))  # drawn up front
        anyio.run(bench_stdio, served, label, args, calls, quiet)
        if not args.no_http:
            run_http(served, args, calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
