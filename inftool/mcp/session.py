"""Live sessions: one long-lived client session per MCP server for a run, and tools/call with a timeout.

The sessions live on a background event loop (an anyio blocking portal: one thread), so synchronous
code, from any number of threads, can call them. Each call is bounded by the server's ``timeout_s``;
whatever the server or the connection does becomes the call's ``Reply`` (its result, its error in its
own words, or a timeout), never an exception.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from .client import connect
from .origin import Origin


@dataclass(frozen=True)
class Reply:
    """What a live server answered one tools/call: its result, or why there is none."""

    content: Any = None
    """The result: its text (parsed when it is JSON), or its structured content when it has no text."""
    error: str | None = None
    """The server's error (or the connection's), or ``no answer within N s``; None when the call succeeded."""
    timed_out: bool = False
    """No answer came within the server's ``timeout_s``."""


class LiveSessions:
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

    def call(self, origin: Origin, name: str, arguments: dict[str, Any]) -> Reply:
        """Call the server's tool ``name`` with ``arguments`` on an open server, within ``origin.timeout_s``."""
        return self._portal.call(_call, self._sessions[origin], name, arguments, origin.timeout_s)

    def close(self) -> None:
        self._stack.close()


async def _call(session: Any, name: str, arguments: dict[str, Any], timeout: float) -> Reply:
    import anyio

    with anyio.move_on_after(timeout):
        try:
            return _reply(await session.call_tool(name, arguments))
        except Exception as exc:  # whatever the server or the connection did is this call's reply, not a crash
            return Reply(error=getattr(exc, "message", None) or str(exc) or type(exc).__name__)
    return Reply(error=f"no answer within {timeout:g} s", timed_out=True)


def _reply(result: Any) -> Reply:
    """A CallToolResult as a Reply: its text (JSON when it is JSON), or the server's error."""
    text = "\n".join(block.text if block.type == "text" else f"[{block.type}]" for block in result.content)
    if result.is_error:
        return Reply(error=text)
    if not text.strip() and result.structured_content is not None:
        return Reply(result.structured_content)
    try:
        return Reply(json.loads(text))
    except ValueError:
        return Reply(text)
