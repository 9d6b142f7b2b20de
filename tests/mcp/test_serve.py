"""`inftool serve-mcp` as a real MCP server, driven by the SDK's own clients over stdio and streamable HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import PaginatedRequestParams

from inftool.catalog import Catalog, read_spec

REPO = Path(__file__).resolve().parents[2]
TRAVEL = REPO / "catalog" / "travel.yaml"
FLIGHTS = {"origin": "SFO", "destination": "NRT", "depart_date": "2026-12-01", "adults": 2}


@asynccontextmanager
async def served(*args: str):
    """A client session with `inftool serve-mcp ARGS` started over stdio."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "inftool", "serve-mcp", *args], cwd=str(REPO))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def all_tools(session: ClientSession) -> tuple[list, int]:
    tools, cursor, pages = [], None, 0
    while True:
        page = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        tools, cursor, pages = tools + page.tools, page.next_cursor, pages + 1
        if cursor is None:
            return tools, pages


def test_stdio_lists_the_exact_schemas_in_pages_and_answers_calls():
    catalog = Catalog(read_spec(TRAVEL).tools)

    async def scenario():
        async with served(str(TRAVEL), "--page-size", "4") as session:
            tools, pages = await all_tools(session)
            assert pages == 3 and [t.name for t in tools] == catalog.names
            with pytest.raises(MCPError, match="invalid cursor 'zz'"):
                await session.list_tools(params=PaginatedRequestParams(cursor="zz"))
            for tool in tools:
                assert tool.input_schema == catalog[tool.name].parameters
                assert tool.description == catalog[tool.name].description

            first = await session.call_tool("search_flights", FLIGHTS)
            assert not first.is_error and isinstance(json.loads(first.content[0].text), dict)
            again = await session.call_tool("search_flights", FLIGHTS)
            assert again.content[0].text == first.content[0].text  # the same call, the same result

            bad = await session.call_tool("search_flights", {**FLIGHTS, "origin": "San Francisco"})
            assert bad.is_error and "search_flights: argument 'origin'" in bad.content[0].text
            assert "does not match" in bad.content[0].text
            missing = await session.call_tool("search_flights", {"origin": "SFO"})
            assert missing.is_error and "'destination' is a required property" in missing.content[0].text
            with pytest.raises(MCPError, match="unknown tool 'launch_rocket'"):
                await session.call_tool("launch_rocket", {})

            after = await session.call_tool("search_flights", FLIGHTS)  # still serving
            assert not after.is_error and after.content[0].text == first.content[0].text

    anyio.run(scenario)


def test_a_recipe_is_served_with_its_compiled_catalog(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: served\nseed: 4\ncatalogs: [{{source: openai, path: {TRAVEL}, limit: 3}}]\n")

    async def scenario():
        async with served(str(recipe)) as session:
            tools = (await session.list_tools()).tools
            assert [t.name for t in tools] == Catalog(read_spec(TRAVEL).tools).names[:3]
            result = await session.call_tool("search_flights", FLIGHTS)
            assert not result.is_error

    anyio.run(scenario)


def test_streamable_http_on_a_free_loopback_port():
    process = subprocess.Popen([sys.executable, "-m", "inftool", "serve-mcp", str(TRAVEL), "--http", "--port", "0"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        line = process.stderr.readline()
        assert "serving 11 tools" in line, line
        url = line.split(" at ")[-1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/mcp")

        async def scenario():
            async with streamable_http_client(url) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                tools = (await session.list_tools()).tools
                assert len(tools) == 11 and tools[0].input_schema == read_spec(TRAVEL).tools[0].parameters
                good = await session.call_tool("search_flights", FLIGHTS)
                bad = await session.call_tool("search_flights", {"adults": "two"})
                assert not good.is_error and bad.is_error and "'two' is not of type 'integer'" in bad.content[0].text

        anyio.run(scenario)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_taken_port_is_a_usage_error():
    process = subprocess.Popen([sys.executable, "-m", "inftool", "serve-mcp", str(TRAVEL), "--http", "--port", "0"],
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=REPO)
    try:
        port = process.stderr.readline().split(":")[-1].split("/")[0]
        done = subprocess.run([sys.executable, "-m", "inftool", "serve-mcp", str(TRAVEL), "--http", "--port", port],
                              capture_output=True, text=True, cwd=REPO, timeout=30)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port 0" in done.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_recipe_with_an_lm_server_role_answers_with_the_lm(tmp_path, tools_file):
    recipe = tmp_path / "lm.yaml"
    recipe.write_text(f"catalogs: [{{source: openai, path: {tools_file}}}]\n"
                      "models:\n  synth: {backend: procedural}\n  policy: {backend: local}\n"
                      "  lm: {backend: engine, factory: 'inftool.testing:fake_engine'}\n"
                      "roles: {server: {model: lm}}\n")

    async def scenario():
        async with served(str(recipe)) as session:
            result = await session.call_tool("get_weather", {"city": "Paris"})
            assert not result.is_error and json.loads(result.content[0].text)["status"] == "ok"  # the fake engine's answer
            bad = await session.call_tool("get_weather", {"city": 5})  # checked before the LM is asked
            assert bad.is_error and bad.content[0].text == "get_weather: argument 'city': 5 is not of type 'string'"

    anyio.run(scenario)
