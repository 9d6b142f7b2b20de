"""A tiny real MCP server for the tests (stdio): `secret_length` says whether INFTOOL_TEST_TOKEN reached it (and its
length, never its value); `tick` counts its calls. With `--die-after N` the process exits, without answering, on
its Nth tools/call, as a crashing server does."""

from __future__ import annotations

import argparse
import json
import os

import anyio
import mcp_types
from mcp.server import Server
from mcp.server.stdio import stdio_server

TOOLS = [
    mcp_types.Tool(name="secret_length", description="Say whether the server's API token is set, and its length.",
                   input_schema={"type": "object", "properties": {"label": {"type": "string"}}}),
    mcp_types.Tool(name="tick", description="Count a tick and say which process counted it.",
                   input_schema={"type": "object", "properties": {"label": {"type": "string"}}}),
]
calls = 0
die_after: int | None = None


async def list_tools(ctx, params) -> mcp_types.ListToolsResult:
    return mcp_types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx, params) -> mcp_types.CallToolResult:
    global calls
    calls += 1
    if die_after is not None and calls >= die_after:
        os._exit(3)
    if params.name == "secret_length":
        token = os.environ.get("INFTOOL_TEST_TOKEN")
        result = {"set": token is not None, "length": len(token or "")}
    else:
        result = {"pid": os.getpid(), "call": calls}
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=json.dumps(result))])


async def main() -> None:
    server = Server("fragile", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--die-after", type=int, default=None)
    die_after = parser.parse_args().die_after
    anyio.run(main)
