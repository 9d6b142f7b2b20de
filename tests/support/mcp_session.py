"""An MCP client session with `inftool serve-mcp ARGS` started over stdio, for the serve-mcp tests."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from pathlib import Path

from mcp import ClientSession, StdioServerParameters, stdio_client

REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def served(*args: str):
    """A client session with `inftool serve-mcp ARGS` started over stdio (run from the repository root)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "inftool", "serve-mcp", *args], cwd=str(REPO))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session
