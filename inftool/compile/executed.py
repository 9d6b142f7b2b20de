"""Which calls a run makes for real: the tools of live MCP servers that ``roles.server.execute`` allowlists."""

from __future__ import annotations

from collections.abc import Iterable

from inftool.catalog import Tool
from inftool.mcp.origin import Origin


def executed_tools(tools: Iterable[Tool], patterns: list[str]) -> dict[str, Origin]:
    """The tools to call for real, by name, with their server: those from a live MCP server matching a pattern."""
    executed = {}
    for tool in tools:
        origin = Origin.from_meta(tool.meta)
        if origin is not None and tool.matches(patterns):
            executed[tool.name] = origin
    return executed
