"""``roles.server.mode: execute``: allowlisted calls to live MCP tools are made on the real server.

A run holds one long-lived client session per server, on a background event loop (an anyio
blocking portal: one thread), so the synchronous role-play, from any number of threads, can call
it. Each call is bounded by the server's ``timeout_s``. The real result goes into the episode; a
real failure becomes an error ``Result`` whose ``failure`` the execution gate reports as it is:
``mcp error (TOOL): <the server's words>`` or ``mcp timeout (TOOL) after N s``, so that

    SELECT regexp_extract(reason, '^mcp (error|timeout) \\(([^)]+)\\)', 2) AS tool, count(*)
    FROM verdicts WHERE gate = 'execution' AND reason LIKE 'mcp %' GROUP BY tool

counts failures per tool. Every call that is not allowlisted stays with the simulated role.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.errors import CatalogError, StageError
from inftool.synth.roles.base import Result, ServerRole

from .client import connect
from .origin import Origin, executed_tools

_SHOWN = 300
"""Characters of a server's error kept in a verdict reason."""


class LiveServers:
    """One open client session per live server, on a background event loop; ``close`` stops them all."""

    def __init__(self) -> None:
        from anyio.from_thread import start_blocking_portal

        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._sessions: dict[Origin, Any] = {}

    def open(self, origin: Origin) -> None:
        """Start (or reach) the server and initialise a session; CatalogError when it cannot be had."""
        if origin not in self._sessions:
            session = self._stack.enter_context(self._portal.wrap_async_context_manager(connect(origin)))
            self._sessions[origin] = session

    def call(self, origin: Origin, tool: str, name: str, arguments: dict[str, Any]) -> Result:
        """Call ``name`` (the server's name for catalog tool ``tool``) with ``arguments`` on an open server."""
        return self._portal.call(_call, self._sessions[origin], tool, name, arguments, origin.timeout_s)

    def close(self) -> None:
        self._stack.close()


async def _call(session: Any, tool: str, name: str, arguments: dict[str, Any], timeout: float) -> Result:
    import anyio

    with anyio.move_on_after(timeout):
        try:
            return _result(tool, await session.call_tool(name, arguments))
        except Exception as exc:  # whatever the server or the connection did is this call's verdict, not a crash
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            return _failed(tool, message)
    return Result({"error": f"no answer within {timeout:g} s"}, error=True,
                  failure=f"mcp timeout ({tool}) after {timeout:g} s")


def _result(tool: str, result: Any) -> Result:
    """A CallToolResult as a Result: its text (JSON when it is JSON), or the server's error."""
    text = "\n".join(block.text if block.type == "text" else f"[{block.type}]" for block in result.content)
    if result.is_error:
        return _failed(tool, text)
    if not text.strip() and result.structured_content is not None:
        return Result(result.structured_content)
    try:
        return Result(json.loads(text))
    except ValueError:
        return Result(text)


def _failed(tool: str, message: str) -> Result:
    return Result({"error": message}, error=True, failure=f"mcp error ({tool}): {' '.join(message.split())[:_SHOWN]}")


class ExecutingServer:
    """The server role in ``mode: execute``: allowlisted live tools run for real, the rest is simulated."""

    def __init__(self, simulated: ServerRole, live: LiveServers, executed: dict[str, Origin]):
        self.simulated, self.live, self.executed = simulated, live, executed

    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]], rng: random.Random) -> Result:
        origin = self.executed.get(tool.name)
        if origin is None:
            return self.simulated.call(tool, call, goal, earlier, rng)
        return self.live.call(origin, tool.name, tool.original_name, call.arguments)


def start_executing(simulated: ServerRole, patterns: list[str], tools: Iterable[Tool],
                    resources: ExitStack) -> ExecutingServer:
    """The executing server role, its servers started now; ``resources`` stops them when it closes."""
    executed = executed_tools(tools, patterns)
    live = LiveServers()
    resources.callback(live.close)
    for origin in dict.fromkeys(executed.values()):
        try:
            live.open(origin)
        except CatalogError as exc:
            raise StageError(f"cannot execute calls on a live MCP server: {exc}") from None
    return ExecutingServer(simulated, live, executed)
