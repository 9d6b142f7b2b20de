"""Live MCP servers for real: a token passed with `env_from` reaches the server and is written nowhere; a literal
secret in `env` is a recipe error; a server that dies mid-run is restarted, and one that keeps dying fails the stage."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from inftool.compile import compile_recipe, read_catalogs
from inftool.errors import RecipeError, StageError
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

SERVER = Path(__file__).with_name("fragile_server.py")
SECRET = "s3cr3t-Vq8Zk2PwLx7Rt4Ny"


def recipe(tmp_path: Path, catalog: str, execute: str) -> Path:
    """A recipe reading the fragile server live and executing ``execute`` on it."""
    path = tmp_path / "r.yaml"
    path.write_text(f"name: live\nrun_dir: {tmp_path / 'run'}\ncatalogs:\n  - {catalog}\n"
                    f"roles: {{server: {{mode: execute, execute: [{execute}]}}}}\n"
                    "scenarios: {mix: {single: 1}}\nevaluate: {bfcl: []}\n")
    return path


def inftool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inftool", *args], capture_output=True, text=True, cwd=cwd,
                          env=os.environ.copy())


def tool_results(run_dir: Path, sql: str = "SELECT messages FROM episodes") -> list[dict]:
    with Store.open(run_dir, read_only=True) as store:
        rows = store.query(sql)[1]
    return [json.loads(m["content"]) for (messages,) in rows for m in json.loads(messages) if m["role"] == "tool"]


def dump_store(store: Path, out: Path) -> Path:
    """Every table of the DuckDB store as plain CSV files under ``out``."""
    import duckdb

    with duckdb.connect(str(store), read_only=True) as db:
        db.execute(f"EXPORT DATABASE '{out}' (FORMAT csv)")
    return out


def test_a_token_from_env_from_reaches_the_server_and_is_written_nowhere(tmp_path, monkeypatch):
    monkeypatch.setenv("INFTOOL_TEST_TOKEN", SECRET)
    path = recipe(tmp_path, f"{{source: mcp, command: python, args: [{SERVER}], env_from: [INFTOOL_TEST_TOKEN]}}",
                  "secret_length")
    for command in (["compile", str(path)], ["synth", str(path), "-n", "20"],
                    ["export", str(path), "--format", "openai"], ["report", str(path)]):
        done = inftool(*command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout + done.stderr
    results = [r for r in tool_results(tmp_path / "run") if "length" in r]
    assert len(results) >= 5 and all(r == {"set": True, "length": len(SECRET)} for r in results)
    tools = json.loads((tmp_path / "run" / "tools.json").read_text())
    assert {t["meta"]["mcp_server"]["env_from"][0] for t in tools} == {"INFTOOL_TEST_TOKEN"}
    dump = dump_store(tmp_path / "run" / "store.duckdb", tmp_path / "dump")  # the store's bytes may be compressed
    assert b"secret_length" in b"".join(p.read_bytes() for p in dump.iterdir())  # the dump holds text as text
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != path]
    assert any(p.suffix == ".jsonl" for p in written) and any(p.suffix == ".duckdb" for p in written)
    assert any(p.name == "report.html" for p in written) and any(p.name == "plan.json" for p in written)
    assert [p for p in written if SECRET.encode() in p.read_bytes()] == []


def test_a_variable_named_in_env_from_and_not_set_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("INFTOOL_TEST_TOKEN", raising=False)
    path = recipe(tmp_path, f"{{source: mcp, command: python, args: [{SERVER}], env_from: [INFTOOL_TEST_TOKEN]}}",
                  "secret_length")
    with pytest.raises(RecipeError) as raised:
        read_catalogs(load_recipe(path))
    [problem] = raised.value.problems
    assert problem.where.endswith("r.yaml:4") and "environment variable INFTOOL_TEST_TOKEN (named in `env_from`) " \
                                                  "is not set" in problem.message


def test_a_literal_secret_in_env_is_a_recipe_error_at_its_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(f"name: live\ncatalogs:\n  - source: mcp\n    command: python\n    args: [{SERVER}]\n"
                    f"    env:\n      LOG_LEVEL: debug\n      Api_Key: {SECRET}\n")
    done = inftool("validate", str(path), cwd=tmp_path)
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert ("r.yaml:8: catalogs.0.env.Api_Key: 'Api_Key' looks like a secret: a literal `env` value is written into "
            "the run (each tool's origin in tools.json) (pass it from your environment: `env_from: [Api_Key]`)"
            in done.stderr + done.stdout)


def test_a_server_that_dies_mid_run_is_restarted_and_later_calls_are_real(tmp_path):
    catalog = f"{{source: mcp, command: python, args: [{SERVER}, --die-after, '8'], include: [tick]}}"
    path = recipe(tmp_path, catalog, "tick")
    loaded = load_recipe(path)
    report = run_stage(loaded, compile_recipe(loaded), episodes=20)
    assert report.written == 20 and report.server_restarts >= 1
    run_dir = tmp_path / "run"
    with Store.open(run_dir, read_only=True) as store:
        reasons = [r for (r,) in store.query("SELECT reason FROM episodes WHERE failed_gate = 'execution'")[1]]
    assert len(reasons) == report.server_restarts == report.rejected["execution"]
    assert all(r.startswith("mcp error (tick): Connection closed (the server was restarted: restart ")
               for r in reasons)
    ticks = [r for r in tool_results(run_dir, "SELECT messages FROM episodes WHERE accepted") if "pid" in r]
    assert len({r["pid"] for r in ticks}) == report.server_restarts + 1  # each restart served real calls
    assert all(1 <= r["call"] < 8 for r in ticks)


def test_a_server_that_keeps_dying_fails_the_stage(tmp_path):
    path = recipe(tmp_path, f"{{source: mcp, command: python, args: [{SERVER}, --die-after, '1']}}", "tick")
    loaded = load_recipe(path)
    compiled = compile_recipe(loaded)
    with pytest.raises(StageError) as raised:
        run_stage(loaded, compiled, episodes=20)
    server = shlex.join(["python", str(SERVER), "--die-after", "1"])
    assert str(raised.value) == (f"a live MCP server kept failing: {server}: the server closed the connection again "
                                 "after 3 restarts in this stage (at most 3); is it crashing? run it by hand to see why")
