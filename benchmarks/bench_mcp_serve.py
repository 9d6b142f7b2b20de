"""`inftool serve-mcp` over stdio: tools/call round trips per second through the MCP SDK's own client.

Run: python benchmarks/bench_mcp_serve.py [--calls N] [--catalog FILE]
Starts `python -m inftool serve-mcp FILE` (default: catalog/travel.yaml, procedural results) as a
subprocess, lists its tools, warms up, then makes N sequential tools/call requests on one session,
cycling over valid calls of every tool (arguments drawn once from the value sampler). Prints the
start-up time, calls per second and the latency percentiles.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import TextIO

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

from inftool.catalog import Catalog, read_spec
from inftool.synth.values.sampler import ValueSampler

REPO = Path(__file__).resolve().parents[1]
WARM_UP = 50


async def bench(catalog_file: Path, calls: int, quiet: TextIO) -> None:
    catalog = Catalog(read_spec(catalog_file).tools)
    values, rng = ValueSampler(0), random.Random(0)
    work = [(tool.name, values.arguments(tool, rng)) for tool in catalog for _ in range(4)]
    params = StdioServerParameters(command=sys.executable, args=["-m", "inftool", "serve-mcp", str(catalog_file)])
    start = time.perf_counter()
    async with stdio_client(params, errlog=quiet) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        ready = time.perf_counter() - start
        for name, arguments in work[:WARM_UP]:
            await session.call_tool(name, arguments)
        latencies, errors = [], 0
        begin = time.perf_counter()
        for i in range(calls):
            name, arguments = work[i % len(work)]
            sent = time.perf_counter()
            result = await session.call_tool(name, arguments)
            latencies.append(time.perf_counter() - sent)
            errors += result.is_error
        elapsed = time.perf_counter() - begin
    ms = sorted(1000 * t for t in latencies)
    print(f"server               python -m inftool serve-mcp {catalog_file} ({len(listed.tools)} tools)")
    print(f"start + initialize + tools/list  {ready:.2f} s")
    print(f"tools/call           {calls} sequential calls in {elapsed:.2f} s: {calls / elapsed:,.0f} calls/s "
          f"({errors} isError)")
    print(f"latency              median {statistics.median(ms):.2f} ms, p90 {ms[int(0.9 * len(ms))]:.2f} ms, "
          f"max {ms[-1]:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--catalog", type=Path, default=REPO / "catalog" / "travel.yaml")
    args = parser.parse_args()
    with open(os.devnull, "w") as quiet:  # the server's "serving ..." line
        anyio.run(bench, args.catalog.resolve(), args.calls, quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
