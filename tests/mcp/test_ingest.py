"""`source: mcp` catalogs read from live servers: a third-party server over stdio, our own server over
streamable HTTP with pagination, and every way a server can fail to be one, reported at the recipe line."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inftool.catalog import read_spec
from inftool.compile import read_catalogs
from inftool.errors import RecipeError
from inftool.spec import load_recipe

REPO = Path(__file__).resolve().parents[2]
TRAVEL = REPO / "catalog" / "travel.yaml"
TIME_SERVER = "{source: mcp, command: python, args: [-m, mcp_server_time, --local-timezone, Etc/UTC]}"


def recipe(tmp_path: Path, catalog: str, extra: str = "") -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(f"name: live\ncatalogs:\n  - {catalog}\n{extra}")
    return path


def problem(tmp_path: Path, catalog: str) -> str:
    with pytest.raises(RecipeError) as raised:
        read_catalogs(load_recipe(recipe(tmp_path, catalog)))
    [found] = raised.value.problems
    assert found.where.endswith("r.yaml:3") and found.key == "catalogs.0"
    return found.message


def test_a_live_server_over_stdio_becomes_catalog_tools(tmp_path):
    loaded = read_catalogs(load_recipe(recipe(tmp_path, TIME_SERVER)))
    assert loaded.catalog.names == ["get_current_time", "convert_time"]
    [summary] = loaded.summaries
    assert summary.name == "mcp-time" and summary.tools == 2 and not summary.warnings
    assert summary.location == "python -m mcp_server_time --local-timezone Etc/UTC"
    convert = loaded.catalog["convert_time"]
    assert convert.required == ["source_timezone", "time", "target_timezone"]
    assert "HH:MM" in convert.properties["time"]["description"] and convert.output_schema["type"] == "object"
    assert convert.meta["mcp_server"] == {"command": "python", "args": ["-m", "mcp_server_time", "--local-timezone",
                                                                        "Etc/UTC"], "env": {}, "cwd": None,
                                          "timeout_s": 20.0}
    assert convert.source == "mcp:python -m mcp_server_time --local-timezone Etc/UTC"


def test_a_streamable_http_server_is_read_page_by_page(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "inftool", "serve-mcp", str(TRAVEL), "--http", "--port", "0",
                                "--page-size", "3"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        url = process.stderr.readline().split(" at ")[-1].strip()
        loaded = read_catalogs(load_recipe(recipe(tmp_path, f"{{source: mcp, url: '{url}'}}")))
    finally:
        process.terminate()
        process.wait(timeout=10)
    expected = read_spec(TRAVEL).tools
    assert [t.name for t in loaded.catalog] == [t.name for t in expected]  # 4 pages of 3
    assert [t.parameters for t in loaded.catalog] == [t.parameters for t in expected]
    assert all(t.meta["mcp_server"] == {"url": url, "timeout_s": 20.0} for t in loaded.catalog)


def test_validate_does_not_start_servers(tmp_path):
    path = recipe(tmp_path, "{source: mcp, command: no-such-mcp-server}")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "inftool", "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "ok (0 tools from 1 catalogs, not counting 1 live MCP server: compile starts it)" in done.stdout
    assert time.perf_counter() - start < 10


def test_a_server_that_exits_at_once_is_a_usage_error_without_traceback(tmp_path):
    path = recipe(tmp_path, """{source: mcp, command: python, args: [-c, "import sys; sys.exit('bad config: no token')"]}""")
    done = subprocess.run([sys.executable, "-m", "inftool", "compile", str(path)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "r.yaml:3: catalogs.0:" in done.stderr
    assert "closed the connection before the MCP handshake finished (did it exit?)" in done.stderr
    assert "its stderr ends: bad config: no token" in done.stderr


def test_a_program_that_is_not_an_mcp_server(tmp_path):
    message = problem(tmp_path, """{source: mcp, command: python, args: [-c, "print('Usage: tool FILE', flush=True); input()"]}""")
    assert message.endswith("not an MCP server: it wrote 'Usage: tool FILE' on stdout, where MCP expects JSON-RPC messages")


def test_a_missing_program(tmp_path):
    assert problem(tmp_path, "{source: mcp, command: no-such-mcp-server}").endswith(
        "no-such-mcp-server: cannot start 'no-such-mcp-server': No such file or directory")


def test_a_silent_server_times_out(tmp_path):
    message = problem(tmp_path, """{source: mcp, command: python, args: [-c, "import sys; sys.stdin.read()"], timeout_s: 1}""")
    assert message.endswith("no answer to the MCP handshake within 1 s")


OLD_SERVER = """
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("method") == "initialize":
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": {"protocolVersion": "2023-01-01",
              "capabilities": {}, "serverInfo": {"name": "old", "version": "0"}}}), flush=True)
"""


def test_a_server_speaking_another_protocol_version(tmp_path):
    (tmp_path / "old_server.py").write_text(OLD_SERVER)
    message = problem(tmp_path, f"{{source: mcp, command: python, args: [{tmp_path / 'old_server.py'}]}}")
    assert "the server speaks MCP protocol version '2023-01-01', which this client does not (it speaks 2024-11-05" in message


def test_an_unreachable_url(tmp_path):
    message = problem(tmp_path, "{source: mcp, url: 'http://127.0.0.1:9/mcp', timeout_s: 5}")
    assert message.startswith("http://127.0.0.1:9/mcp: cannot reach http://127.0.0.1:9/mcp:")


ONE_ORIGIN = "set exactly one of `path` (a saved tools/list), `command` (a server started over stdio) or `url` (a " \
    "streamable-HTTP server); got "


@pytest.mark.parametrize(("catalog", "message"), [
    ("{source: mcp, path: t.json, command: x}", ONE_ORIGIN + "path and command"),
    ("{source: mcp}", ONE_ORIGIN + "none"),
    ("{source: mcp, url: 'http://x/mcp', args: [a]}", "`args`, `env`, `env_from` and `cwd` go with `command`"),
])
def test_an_mcp_catalog_names_one_origin(tmp_path, catalog, message):
    (tmp_path / "t.json").write_text(json.dumps({"tools": []}))
    with pytest.raises(RecipeError) as raised:
        load_recipe(recipe(tmp_path, catalog))
    assert [str(p).split("r.yaml")[-1] for p in raised.value.problems] == [f":3: catalogs.0: {message}"]


def test_cwd_resolves_relative_to_the_recipe(tmp_path):
    (tmp_path / "srv").mkdir()
    spec = load_recipe(recipe(tmp_path, "{source: mcp, command: python, args: [server.py], cwd: srv}")).spec
    assert spec.catalogs[0].cwd == tmp_path / "srv"
