"""A tiny real MCP server for the tests (stdio): `wait` sleeps for `seconds`, then says so."""

from __future__ import annotations

import anyio
import mcp_types
from mcp.server import Server
from mcp.server.stdio import stdio_server

TOOLS = [mcp_types.Tool(name="wait", description="Wait a number of seconds, then say how long it waited.",
                        input_schema={"type": "object", "properties": {"seconds": {"type": "number", "minimum": 0}},
                                      "required": ["seconds"]})]


async def list_tools(ctx, params) -> mcp_types.ListToolsResult:
    return mcp_types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx, params) -> mcp_types.CallToolResult:
    seconds = float(params.arguments["seconds"])
    await anyio.sleep(seconds)
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=f'{{"waited": {seconds}}}')])


async def main() -> None:
    server = Server("slow", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
