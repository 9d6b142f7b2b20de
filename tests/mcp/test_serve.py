"""`inftool serve-mcp` as a real MCP server, driven by the SDK's own clients over stdio and streamable HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_session import served
from mcp_types import PaginatedRequestParams

from inftool.catalog import Catalog, read_spec

REPO = Path(__file__).resolve().parents[2]
TRAVEL = REPO / "catalog" / "travel.yaml"
FLIGHTS = {"origin": "SFO", "destination": "NRT", "depart_date": "2026-12-01", "adults": 2}


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


ECHO_WORLD = '''
import os, sys


class Echo:
    def repeat(self, text: str, times: int) -> str:
        """The text, repeated."""
        return text * times

    def chatter(self) -> str:
        """Print to stdout, stderr and fd 1 itself, as careless code does."""
        print("stray print")
        sys.stdout.flush()
        os.write(1, b"stray write\\n")
        return "said"
'''


def test_stdio_many_requests_in_flight_big_messages_and_stray_output(tmp_path):
    """The stdio transport (non-blocking pipes on the event loop): requests outstanding together each get their own
    answer; messages far larger than a pipe's buffer both ways; output a handler writes to stdout misses the wire."""
    (tmp_path / "echo_world.py").write_text(ECHO_WORLD)
    params = StdioServerParameters(command=sys.executable, cwd=str(tmp_path), env={"PYTHONPATH": str(REPO)},
                                   args=["-m", "inftool", "serve-mcp", "python:echo_world:Echo"])

    async def scenario():
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            answers: dict[int, str] = {}

            async def call(i: int, times: int) -> None:
                result = await session.call_tool("repeat", {"text": f"<{i}>", "times": times})
                answers[i] = result.content[0].text

            async with anyio.create_task_group() as tg:
                for i in range(40):
                    tg.start_soon(call, i, 50_000 if i % 10 == 0 else 3)  # 300-400 KB answers among small ones
            assert answers == {i: f"<{i}>" * (50_000 if i % 10 == 0 else 3) for i in range(40)}
            big = "x" * 500_000  # a request of 500 KB, read in many pieces
            assert (await session.call_tool("repeat", {"text": big, "times": 2})).content[0].text == big * 2
            said = await session.call_tool("chatter", {})
            assert not said.is_error and said.content[0].text == "said"
            assert (await session.call_tool("repeat", {"text": "ok", "times": 1})).content[0].text == "ok"

    anyio.run(scenario)


def test_the_quick_output_check_never_passes_what_jsonschema_rejects():
    """`_quick_check` answers True only for values jsonschema finds no error in (False sends a value to jsonschema),
    and is sure of the results the procedural server gives for every shipped catalog's output schemas."""
    import random

    from jsonschema import Draft202012Validator

    from inftool import serve_mcp
    from inftool.catalog import CatalogError, Tool
    from inftool.core.episode import Call, Goal
    from inftool.synth.values.sampler import ValueSampler

    schemas = [
        {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1, "exclusiveMaximum": 5},
                                          "s": {"type": "string", "pattern": "^[A-Z]{3}$", "maxLength": 3},
                                          "e": {"enum": ["a", 1, None, True]}, "c": {"const": 2.5},
                                          "a": {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 1},
                                          "p": {"type": "array", "prefixItems": [{"type": "string"}], "items": False}},
         "required": ["n"], "additionalProperties": {"type": "boolean"}},
        {"type": "object", "properties": {"x": {"type": "object", "properties": {"y": {"type": "number"}}}},
         "additionalProperties": False},
        True, False, {"type": "object", "properties": {"any": {"anyOf": [{"type": "string"}]}}},
    ]
    values = [{"n": 1}, {"n": 4.0}, {"n": 5}, {"n": 0}, {"n": True}, {"n": 2, "s": "SFO"}, {"n": 2, "s": "sfo"},
              {"n": 2, "s": "SFOX"}, {"n": 2, "e": "a"}, {"n": 2, "e": 1.0}, {"n": 2, "e": False}, {"n": 2, "e": None},
              {"n": 2, "c": 2.5}, {"n": 2, "c": 2}, {"n": 2, "a": []}, {"n": 2, "a": [1, None, 2.5]},
              {"n": 2, "a": ["1"]}, {"n": 2, "extra": True}, {"n": 2, "p": ["a"]}, {"n": 2, "p": []},
              {"n": 2, "p": [1]}, {"n": 2, "p": ["a", "b"]}, {"n": 2, "extra": 1}, {"x": {"y": 1}}, {"x": {"y": "1"}},
              {"x": {}, "z": 1}, {}, [], "text", 3, None, {"any": "a"}, {"any": 1}, {"n": float("nan")}]
    for schema in schemas:
        quick, validator = serve_mcp._quick_check(schema), Draft202012Validator(schema)
        for value in values:
            if quick is not None and quick(value):
                assert validator.is_valid(value), (schema, value)
    assert serve_mcp._quick_check(schemas[0])({"n": 2, "s": "SFO", "e": None, "a": [1], "p": ["a"], "extra": False})
    assert serve_mcp._quick_check(schemas[4]) is None  # anyOf: jsonschema decides
    level = Tool(name="level", original_name="level", parameters={"type": "object"}, source="test",
                 output_schema={"type": "object", "properties": {"e": {"enum": [1]}}})
    unsure = serve_mcp.for_tools([level])  # 1.0 is 1 to JSON Schema: the quick check is unsure, jsonschema agrees
    assert unsure._output_problem(level, {"e": 1.0}) is None and unsure._output_problem(level, {"e": 2}) == (
        "2 is not one of [1]")

    values_sampler, checked = ValueSampler(0), 0
    for path in sorted((REPO / "catalog").glob("*.*")):
        try:
            tools = read_spec(path).tools
        except CatalogError:
            continue
        server = serve_mcp.for_tools(tools)
        for tool in tools:
            if not serve_mcp._has_output_schema(tool):
                continue
            validator, quick = Draft202012Validator(tool.output_schema), server._quick[tool.name]
            if quick is None:  # a keyword it does not know: jsonschema decides
                continue
            for seed in range(5):
                rng = random.Random(seed)
                call = Call(tool.name, values_sampler.arguments(tool, rng))
                result = server.role.call(tool, call, Goal("single", tool.name, [tool.name], [[call]]), [], rng)
                if result.error:
                    continue
                verdict = quick(result.content)
                assert verdict == validator.is_valid(result.content), (path.name, tool.name, result.content)
                checked += verdict
    assert checked > 100
