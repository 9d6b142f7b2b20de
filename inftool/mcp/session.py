"""Live sessions: one long-lived client session per MCP server for a run, and tools/call with a timeout.

The sessions live on a background event loop (an anyio blocking portal: one thread), so synchronous
code, from any number of threads, can call them. Each call is bounded by the server's ``timeout_s``;
whatever the server or the connection does becomes the call's ``Reply`` (its result, its error in its
own words, or a timeout), never an exception. A server whose connection closes is restarted, a bounded number
of times (``LiveSessions``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

from .client import connect
from .origin import Origin

MAX_RESTARTS = 3
"""Restarts of one live server in one stage before the stage fails."""
BACKOFF_S = 0.25
"""Wait before the first restart of a server; doubled on each further one."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What a live server answered one tools/call: its result, or why there is none."""

    content: Any = None
    """The result: its text (parsed when it is JSON), or its structured content when it has no text."""
    error: str | None = None
    """The server's error (or the connection's), or ``no answer within N s``; None when the call succeeded."""
    timed_out: bool = False
    """No answer came within the server's ``timeout_s``."""
    lost: bool = False
    """The connection to the server closed (it exited or crashed): no answer will come on it."""


class ServerDied(Exception):
    """A live server's connection closed more often than the restarts allowed for one stage."""


class LiveSessions:
    """One open client session per live server, on a background event loop; ``close`` stops them all.

    A server whose connection closes (it exited, it crashed) is started again, after a backoff of
    ``backoff_s`` doubled on each restart, at most ``max_restarts`` times for the life of these sessions
    (one stage); the call that met the closed connection keeps its error (its effect on the server is
    unknown), later calls go to the new session. One death more raises ``ServerDied``."""

    def __init__(self, max_restarts: int = MAX_RESTARTS, backoff_s: float = BACKOFF_S) -> None:
        from anyio.from_thread import start_blocking_portal

        self.max_restarts, self.backoff_s = max_restarts, backoff_s
        self.restarts: Counter[Origin] = Counter()
        """Restarts so far, per server."""
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._sessions: dict[Origin, tuple[Any, ExitStack]] = {}
        self._lock = threading.Lock()

    def open(self, origin: Origin) -> None:
        """Start (or reach) the server and initialise a session; CatalogError when it cannot be had."""
        with self._lock:
            if origin not in self._sessions:
                self._start(origin)

    def call(self, origin: Origin, name: str, arguments: dict[str, Any]) -> Reply:
        """Call the server's tool ``name`` with ``arguments`` on an open server, within ``origin.timeout_s``;
        a closed connection restarts the server (CatalogError when it cannot start, ServerDied past the limit)."""
        session = self._sessions[origin][0]
        reply = self._portal.call(_call, session, name, arguments, origin.timeout_s)
        if reply.lost:
            self._restart(origin, session)
            reply = replace(reply, error=f"{reply.error} (the server was restarted: restart "
                                         f"{self.restarts[origin]} of at most {self.max_restarts})")
        return reply

    def close(self) -> None:
        with self._lock:
            for _, stack in self._sessions.values():
                _close_quietly(stack)
            self._sessions.clear()
        self._stack.close()

    def _start(self, origin: Origin) -> None:
        stack = ExitStack()
        session = stack.enter_context(self._portal.wrap_async_context_manager(connect(origin)))
        self._sessions[origin] = (session, stack)

    def _restart(self, origin: Origin, dead: Any) -> None:
        """Start the server again unless another thread already did after ``dead`` closed."""
        with self._lock:
            session, stack = self._sessions[origin]
            if session is not dead:
                return
            if self.restarts[origin] >= self.max_restarts:
                raise ServerDied(f"{origin}: the server closed the connection again after {self.restarts[origin]} "
                                 f"restart{'s' if self.restarts[origin] != 1 else ''} in this stage (at most "
                                 f"{self.max_restarts}); is it crashing? run it by hand to see why")
            _close_quietly(stack)
            time.sleep(self.backoff_s * 2 ** self.restarts[origin])
            self.restarts[origin] += 1
            _log.warning("live MCP server %s closed the connection; restarted it (restart %d of at most %d)",
                         origin, self.restarts[origin], self.max_restarts)
            self._start(origin)


def _close_quietly(stack: ExitStack) -> None:
    """Close a session (stopping its server); a dead server's transport may complain, which changes nothing."""
    try:
        stack.close()
    except Exception as exc:
        _log.debug("closing a live MCP session: %s", exc)


async def _call(session: Any, name: str, arguments: dict[str, Any], timeout: float) -> Reply:
    import anyio

    with anyio.move_on_after(timeout):
        try:
            return _reply(await session.call_tool(name, arguments))
        except Exception as exc:  # whatever the server or the connection did is this call's reply, not a crash
            return Reply(error=getattr(exc, "message", None) or str(exc) or type(exc).__name__, lost=_lost(exc))
    return Reply(error=f"no answer within {timeout:g} s", timed_out=True)


def _lost(exc: Exception) -> bool:
    """Whether ``exc`` says the connection is gone (the SDK's CONNECTION_CLOSED, or a closed stream)."""
    import anyio
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    return isinstance(exc, (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream))


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
