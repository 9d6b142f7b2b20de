"""`inftool serve-mcp bfcl_env:NAME`: a stateful environment served over MCP, one world per session, driven by
the SDK's own clients (stdio and streamable HTTP)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp_session import served

REPO = Path(__file__).resolve().parents[2]
FILES = {"root": {"alex": {"type": "directory", "contents": {
    "notes.txt": {"type": "file", "content": "budget analysis"}, "archive": {"type": "directory", "contents": {}}}}}}


pytestmark = pytest.mark.usefixtures("bfcl_available")


async def listing(session: ClientSession) -> list[str]:
    return json.loads((await session.call_tool("ls", {})).content[0].text)["current_directory_content"]


def test_stdio_serves_the_environment_and_calls_change_its_state(tmp_path):
    from inftool.envs import load_env

    config = tmp_path / "files.json"
    config.write_text(json.dumps(FILES))
    expected = load_env("bfcl_env:gorilla_file_system").tools()

    async def scenario():
        async with served("bfcl_env:gorilla_file_system", "--config", str(config)) as session:
            tools = (await session.list_tools()).tools
            assert [t.name for t in tools] == [t["function"]["name"] for t in expected]
            assert tools[0].input_schema == expected[0]["function"]["parameters"]
            assert await listing(session) == ["notes.txt", "archive"]
            made = await session.call_tool("mkdir", {"dir_name": "temp"})
            assert not made.is_error and made.content[0].text == "None"
            moved = await session.call_tool("mv", {"source": "notes.txt", "destination": "archive"})
            assert not moved.is_error
            assert await listing(session) == ["archive", "temp"]  # the same world, changed by the calls
            bad = await session.call_tool("cd", {"fold": "archive"})
            assert bad.is_error and "unexpected keyword argument 'fold'" in bad.content[0].text
            refused = await session.call_tool("cd", {"folder": "nowhere"})  # the API's own error: a result
            assert not refused.is_error and "No such file or directory" in refused.content[0].text
            with pytest.raises(MCPError, match="unknown tool 'launch_rocket'"):
                await session.call_tool("launch_rocket", {})

    anyio.run(scenario)


def test_two_sessions_never_share_a_world():
    process = subprocess.Popen([sys.executable, "-m", "inftool", "serve-mcp", "bfcl_env:gorilla_file_system",
                                "--http", "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               cwd=REPO)
    try:
        line = process.stderr.readline()
        assert "serving 18 tools from bfcl_env:gorilla_file_system" in line, line
        url = line.split(" at ")[-1].strip()

        async def scenario():
            async with streamable_http_client(url) as (read_a, write_a), ClientSession(read_a, write_a) as first, \
                    streamable_http_client(url) as (read_b, write_b), ClientSession(read_b, write_b) as second:
                await first.initialize()
                await second.initialize()
                before = await listing(second)
                await first.call_tool("mkdir", {"dir_name": "only_in_first"})
                assert "only_in_first" in await listing(first)
                assert await listing(second) == before  # the other session's world is its own
                await second.call_tool("touch", {"file_name": "only_in_second.txt"})
                assert "only_in_second.txt" not in await listing(first)

        anyio.run(scenario)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_environment_options_are_checked():
    done = subprocess.run([sys.executable, "-m", "inftool", "serve-mcp", "bfcl_env:gorila_file_system"],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 2 and "did you mean 'gorilla_file_system'" in done.stderr
    done = subprocess.run([sys.executable, "-m", "inftool", "serve-mcp", str(REPO / "catalog" / "travel.yaml"),
                           "--long-context"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 2 and "apply to environments only" in done.stderr


def test_sessionless_requests_share_one_world_per_server():
    from mcp import Client

    from inftool.serve_mcp import for_environment

    server = for_environment("bfcl_env:gorilla_file_system", config=FILES).lowlevel()

    async def scenario():
        async with Client(server) as client:  # in process, MCP 2026-07-28: every request stands alone
            await client.call_tool("mkdir", {"dir_name": "temp"})
            assert json.loads((await client.call_tool("ls", {})).content[0].text)["current_directory_content"] == [
                "notes.txt", "archive", "temp"]

    anyio.run(scenario)
