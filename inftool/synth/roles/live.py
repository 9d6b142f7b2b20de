"""The ToolServer role in ``roles.server.mode: execute``: allowlisted calls to live MCP tools are made on the
real server (through ``inftool.mcp.session``), every other call stays with the wrapped (simulated) role.

The real result goes into the episode; a real failure becomes an error ``Result`` whose ``failure`` the
execution gate reports as it is: ``mcp error (TOOL): <the server's words>`` or ``mcp timeout (TOOL) after
N s``, so that

    SELECT regexp_extract(reason, '^mcp (error|timeout) \\(([^)]+)\\)', 2) AS tool, count(*)
    FROM verdicts WHERE gate = 'execution' AND reason LIKE 'mcp %' GROUP BY tool

counts failures per tool. A server whose connection closes is restarted (a few times per stage, with backoff);
one that keeps dying fails the stage with a ``StageError``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from contextlib import ExitStack

from inftool.catalog import Tool
from inftool.compile.executed import executed_tools
from inftool.core.episode import Call, Goal
from inftool.errors import CatalogError, StageError
from inftool.mcp.origin import Origin
from inftool.mcp.session import LiveSessions, Reply, ServerDied
from inftool.synth.roles.base import Result, ServerRole

_SHOWN = 300
"""Characters of a server's error kept in a verdict reason."""


class ExecutingServer:
    """The server role in ``mode: execute``: allowlisted live tools run for real, the rest is simulated."""

    def __init__(self, simulated: ServerRole, live: LiveSessions, executed: dict[str, Origin]):
        self.simulated, self.live, self.executed = simulated, live, executed

    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]],
             rng: random.Random) -> Result:
        origin = self.executed.get(tool.name)
        if origin is None:
            return self.simulated.call(tool, call, goal, earlier, rng)
        try:
            reply = self.live.call(origin, tool.original_name, call.arguments)
        except (ServerDied, CatalogError) as exc:
            raise StageError(f"a live MCP server kept failing: {exc}") from None
        return _result(tool.name, reply, origin.timeout_s)

    @property
    def restarts(self) -> int:
        """How many times live servers were restarted after their connection closed, all servers together."""
        return sum(self.live.restarts.values())


def _result(tool: str, reply: Reply, timeout: float) -> Result:
    """A live server's reply as the role's Result, a failure worded for the execution gate."""
    if reply.error is None:
        return Result(reply.content)
    if reply.timed_out:
        failure = f"mcp timeout ({tool}) after {timeout:g} s"
    else:
        failure = f"mcp error ({tool}): {' '.join(reply.error.split())[:_SHOWN]}"
    return Result({"error": reply.error}, error=True, failure=failure)


def start_executing(simulated: ServerRole, patterns: list[str], tools: Iterable[Tool],
                    resources: ExitStack) -> ExecutingServer:
    """The executing server role, its servers started now; ``resources`` stops them when it closes."""
    executed = executed_tools(tools, patterns)
    live = LiveSessions()
    resources.callback(live.close)
    for origin in dict.fromkeys(executed.values()):
        try:
            live.open(origin)
        except CatalogError as exc:
            raise StageError(f"cannot execute calls on a live MCP server: {exc}") from None
    return ExecutingServer(simulated, live, executed)
