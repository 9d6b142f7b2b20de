"""Talking to a live MCP server as a client: connecting (with errors a person can act on) and tools/list.

``connect`` starts the server (stdio) or reaches it (streamable HTTP), runs the MCP handshake within
the origin's timeout and yields an initialised ``mcp.ClientSession``. Every way this can fail becomes
a ``CatalogError`` naming the server: the program cannot start, exits before answering (with the end
of its stderr), prints something that is not JSON-RPC, stays silent, or speaks a protocol version
this SDK does not.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import IO, Any

from inftool.errors import CatalogError

from .origin import Origin

MAX_PAGES = 1000
"""Pages of tools/list followed before giving up on a server whose cursors never end."""

logging.getLogger("mcp").addHandler(logging.NullHandler())  # the SDK logs a traceback per stray stdout line


@dataclass(frozen=True)
class Listing:
    """A live server's tools/list: its name (serverInfo) and its tools as wire-format dicts."""

    server: str
    tools: list[dict[str, Any]]


def list_tools(origin: Origin) -> Listing:
    """Every tool the server lists (following ``nextCursor``), within ``origin.timeout_s`` per step."""
    import anyio

    return anyio.run(_list_tools, origin)


async def _list_tools(origin: Origin) -> Listing:
    import anyio
    from mcp import MCPError

    problem, tools = None, []
    async with connect(origin) as session:
        with anyio.move_on_after(origin.timeout_s) as waited:
            try:
                tools = await _all_pages(session)
            except (MCPError, ValueError) as exc:
                problem = f"tools/list failed: {exc}"
        if waited.cancelled_caught:
            problem = f"tools/list got no answer within {origin.timeout_s:g} s"
        server = session.initialize_result.server_info.name
    if problem:
        raise CatalogError(str(origin), "", problem)
    return Listing(server=server, tools=tools)


async def _all_pages(session: Any) -> list[dict[str, Any]]:
    import mcp_types

    tools, cursor, seen = [], None, set()
    for _ in range(MAX_PAGES):
        page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor))
        tools += [t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in page.tools]
        cursor = page.next_cursor
        if cursor is None:
            return tools
        if cursor in seen:
            raise ValueError(f"the server repeated the cursor {cursor!r}")
        seen.add(cursor)
    raise ValueError(f"the listing did not end after {MAX_PAGES} pages")


@asynccontextmanager
async def connect(origin: Origin) -> AsyncIterator[Any]:
    """An initialised ``mcp.ClientSession`` with the server, closed (and the server stopped) on exit."""
    import anyio
    from mcp import ClientSession

    if origin.url is None:
        origin.environment()  # a variable named in env_from and not set: say so before starting anything
    stray: list[Exception] = []
    handshake = anyio.CancelScope()

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception):  # a line on the server's stdout that is not JSON-RPC
            stray.append(message)
            handshake.cancel()

    ready = False
    with _errlog(origin) as errlog:
        try:  # the deadline covers start-up and handshake; task groups entered under it must exit under it
            with anyio.CancelScope(deadline=anyio.current_time() + origin.timeout_s) as limit:
                async with AsyncExitStack() as stack:
                    read, write = await stack.enter_async_context(_transport(origin, errlog))
                    session = await stack.enter_async_context(ClientSession(read, write, message_handler=on_message))
                    with handshake:
                        await session.initialize()
                    if stray:
                        raise _NotMCP()
                    limit.deadline = math.inf
                    ready = True
                    yield session
        except Exception as exc:
            if ready:
                raise
            raise CatalogError(str(origin), "", _why(_leaf(exc), origin, stray, errlog)) from None
        if not ready:  # the deadline passed: the scope swallowed the cancellation
            raise CatalogError(str(origin), "", f"no answer to the MCP handshake within {origin.timeout_s:g} s"
                               + _stderr_tail(errlog))


def _errlog(origin: Origin) -> Any:
    """Where a started server's stderr goes: a temporary file, read back when something fails."""
    if origin.url is not None:
        return nullcontext()
    return tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")


def _transport(origin: Origin, errlog: IO[str] | None) -> Any:
    if origin.url is not None:
        from mcp.client.streamable_http import streamable_http_client

        return streamable_http_client(origin.url)
    from mcp import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=origin.executable, args=list(origin.args), env=origin.environment(),
                                   cwd=origin.cwd)
    return stdio_client(params, errlog=errlog)


class _NotMCP(Exception):
    """The server wrote something on stdout that is not a JSON-RPC message."""


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups, as task groups wrap them."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _why(exc: BaseException, origin: Origin, stray: list[Exception], errlog: IO[str] | None) -> str:
    """What went wrong while connecting, in words, with the end of the server's stderr when it helps."""
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED
    from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

    if stray:
        line = _stray_line(stray[0])
        return f"not an MCP server: it wrote {line!r} on stdout, where MCP expects JSON-RPC messages"
    if isinstance(exc, OSError) and origin.url is None:
        return f"cannot start {origin.executable!r}: {exc.strerror or exc}"
    if isinstance(exc, MCPError) and exc.code == CONNECTION_CLOSED:
        return "the server closed the connection before the MCP handshake finished (did it exit?)" + _stderr_tail(errlog)
    if isinstance(exc, RuntimeError) and "protocol version" in str(exc):
        version = str(exc).rpartition(": ")[2]
        return (f"the server speaks MCP protocol version {version!r}, which this client does not (it speaks "
                f"{', '.join(HANDSHAKE_PROTOCOL_VERSIONS)})")
    if origin.url is not None and type(exc).__module__.startswith(("httpx", "httpcore")):
        return f"cannot reach {origin.url}: {exc}"
    return f"the MCP handshake failed: {type(exc).__name__}: {exc}" + _stderr_tail(errlog)


def _stray_line(error: Exception) -> str:
    """The offending stdout line of a JSON-RPC parse error (pydantic keeps it as the error's input)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        found = errors()
        if found and isinstance(found[0].get("input"), str):
            return found[0]["input"][:120]
    return str(error)[:120]


def _stderr_tail(errlog: IO[str] | None, lines: int = 5) -> str:
    """``; its stderr ends: ...`` with the last lines the server wrote, or nothing if it wrote none."""
    if errlog is None:
        return ""
    errlog.seek(0)
    tail = [line.strip() for line in errlog.read().splitlines() if line.strip()][-lines:]
    return f"; its stderr ends: {' | '.join(tail)[-400:]}" if tail else ""
