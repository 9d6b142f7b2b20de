"""`roles.server.mode: execute` end to end: the shipped recipe ingests mcp-server-time live and makes its
calls for real; server errors and timeouts are recorded per episode and countable per tool; transcripts."""

from __future__ import annotations

import datetime
import json
import random
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from inftool.compile import compile_recipe, read_catalogs
from inftool.core.episode import Call, Goal
from inftool.export import export
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage
from inftool.synth.roles.base import Result
from inftool.synth.roles.live import start_executing

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "recipes" / "mcp_time.yaml"
SLOW_SERVER = Path(__file__).with_name("slow_server.py")
PER_TOOL = ("SELECT regexp_extract(reason, '^mcp (error|timeout) \\(([^)]+)\\)', 2) AS tool, count(*) FROM verdicts "
            "WHERE gate = 'execution' AND reason LIKE 'mcp %' GROUP BY tool ORDER BY tool")


def query(run_dir: Path, sql: str) -> list[tuple]:
    with Store.open(run_dir, read_only=True) as store:
        return store.query(sql)[1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """`inftool synth recipes/mcp_time.yaml -n 40` into a fresh run directory."""
    run_dir = tmp_path_factory.mktemp("mcp_time") / "run"
    done = subprocess.run([sys.executable, "-m", "inftool", "synth", str(RECIPE), "-n", "40", "--set",
                           f"run_dir={run_dir}"], capture_output=True, text=True, cwd=run_dir.parent)
    assert done.returncode == 0, done.stderr
    return run_dir


def test_episodes_hold_what_the_real_server_answered(run_dir):
    now = datetime.datetime.now(datetime.UTC)
    checked = 0
    for (messages,) in query(run_dir, "SELECT messages FROM episodes"):
        messages = json.loads(messages)
        calls = {c["id"]: (c["function"]["name"], json.loads(c["function"]["arguments"]))
                 for m in messages for c in m.get("tool_calls") or []}
        for message in (m for m in messages if m["role"] == "tool"):
            name, arguments = calls[message["tool_call_id"]]
            result = json.loads(message["content"])
            if name == "get_current_time":  # the real clock, in the zone asked for: no simulator writes that
                moment = datetime.datetime.fromisoformat(result["datetime"])
                assert result["timezone"] == arguments["timezone"]
                assert moment.utcoffset() == moment.astimezone(ZoneInfo(arguments["timezone"])).utcoffset()
                assert abs(moment - now) < datetime.timedelta(minutes=10)
            else:
                assert result["source"]["datetime"][11:16] == arguments["time"]
                assert result["target"]["timezone"] == arguments["target_timezone"]
            checked += 1
    assert checked >= 40


def test_the_execution_gate_passes_and_nothing_failed_on_the_server(run_dir):
    [(episodes, executed, passed)] = query(run_dir, "SELECT (SELECT count(*) FROM episodes), count(*), "
                                                    "count(*) FILTER (WHERE passed) FROM verdicts WHERE gate = 'execution'")
    assert episodes == 40 and executed >= 38 and passed / executed >= 0.8
    assert query(run_dir, PER_TOOL) == []


def test_mcp_transcripts_of_the_real_calls(run_dir, tmp_path):
    with Store.open(run_dir, read_only=True) as store:
        written = export(store, store.current_run(), "mcp", tmp_path)
    records = [json.loads(line) for split in written.values() for line in split[0].read_text().splitlines()]
    assert len(records) == sum(n for _, n in written.values()) >= 30
    for record in records:
        listing, listed, *turns = record["transcript"]
        assert listing == {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {}}
        assert {t["name"] for t in listed["result"]["tools"]} <= {"get_current_time", "convert_time"}
        assert turns[0]["role"] == "user" and turns[-1]["role"] == "assistant"
        requests = {m["id"]: m for m in turns if m.get("method") == "tools/call"}
        results = {m["id"]: m["result"] for m in turns if "result" in m}
        assert requests.keys() == results.keys()
        for id_, result in results.items():
            assert result["isError"] is False and result["structuredContent"] == json.loads(result["content"][0]["text"])
            if requests[id_]["params"]["name"] == "get_current_time":
                assert result["structuredContent"]["timezone"] == requests[id_]["params"]["arguments"]["timezone"]


def test_a_bad_pinned_value_is_a_recorded_server_error(tmp_path):
    loaded = load_recipe(RECIPE, [f"run_dir={tmp_path}", "scenarios.mix={single: 1}",
                                  "roles.server.pin={get_current_time: {timezone: Mars/Olympus_Mons}}"])
    report = run_stage(loaded, compile_recipe(loaded), episodes=12)
    assert report.rejected["execution"] >= 3
    [(tool, failures)] = query(tmp_path, PER_TOOL)
    assert tool == "get_current_time" and failures == report.rejected["execution"]
    [(reason, content)] = query(tmp_path, "SELECT any_value(reason), any_value(messages->>'$[2].content') FROM episodes "
                                          "WHERE failed_gate = 'execution'")
    assert reason == ("mcp error (get_current_time): Error executing tool get_current_time: Invalid timezone: "
                      "'No time zone found with key Mars/Olympus_Mons'")
    assert "Invalid timezone" in json.loads(content)["error"]  # the tool message holds the server's own words


def test_a_call_past_the_timeout_is_a_recorded_timeout(tmp_path):
    path = tmp_path / "slow.yaml"
    path.write_text(f"name: slow\nrun_dir: {tmp_path / 'run'}\n"
                    f"catalogs: [{{source: mcp, command: python, args: [{SLOW_SERVER}], timeout_s: 1.5}}]\n"
                    "roles: {server: {mode: execute, execute: [wait], pin: {wait: {seconds: 2}}}}\n"
                    "scenarios: {mix: {single: 1}}\nevaluate: {bfcl: []}\n")
    loaded = load_recipe(path)
    report = run_stage(loaded, compile_recipe(loaded), episodes=1)
    assert report.rejected["execution"] == 1
    assert query(tmp_path / "run", "SELECT reason FROM episodes") == [("mcp timeout (wait) after 1.5 s",)]


class Recorder:
    """A stand-in for the simulated server role: records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def call(self, tool, call, goal, earlier, rng) -> Result:
        self.calls.append(call.name)
        return Result({"simulated": True})


def test_only_allowlisted_live_tools_are_executed():
    catalog = read_catalogs(load_recipe(RECIPE)).catalog
    simulated = Recorder()
    with ExitStack() as resources:
        server = start_executing(simulated, ["get_*"], list(catalog), resources)
        goal = Goal("single", "get_current_time", [], [])
        real = server.call(catalog["get_current_time"], Call("get_current_time", {"timezone": "Asia/Tokyo"}), goal, [],
                           random.Random(0))
        sim = server.call(catalog["convert_time"], Call("convert_time", {}), goal, [], random.Random(0))
        unknown = server.call(catalog["get_current_time"], Call("get_current_time", {"timezone": "Nowhere/Land"}), goal,
                              [], random.Random(0))
    assert real.content["timezone"] == "Asia/Tokyo" and not real.error
    assert sim == Result({"simulated": True}) and simulated.calls == ["convert_time"]
    assert unknown.error and unknown.failure.startswith("mcp error (get_current_time): Error executing tool")


SAVED = {"tools": [{"name": "get_current_time", "description": "Current time in an IANA timezone",
                    "inputSchema": {"type": "object", "required": ["timezone"],
                                    "properties": {"timezone": {"type": "string"}}}}]}


def saved_recipe(tmp_path: Path, roles: str) -> Path:
    (tmp_path / "tools.json").write_text(json.dumps(SAVED))
    path = tmp_path / "r.yaml"
    path.write_text(f"name: saved\nrun_dir: {tmp_path / 'run'}\ncatalogs: [{{source: mcp, path: tools.json}}]\n"
                    f"roles: {roles}\nevaluate: {{bfcl: []}}\n")
    return path


def test_compile_checks_the_allowlist_and_the_pins(tmp_path):
    from inftool.errors import RecipeError

    path = saved_recipe(tmp_path, "{server: {mode: execute, execute: [get_*], pin: {get_time: {timezone: UTC}, "
                                  "get_current_time: {timezone: 5, zone: UTC}}}}")
    with pytest.raises(RecipeError) as raised:
        compile_recipe(load_recipe(path))
    assert [f"{p.key}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in raised.value.problems] == [
        "roles.server.execute.0: 'get_*' matches no tool of a live MCP server (add a `source: mcp` catalog with "
        "`command` or `url`)",
        "roles.server.pin.get_time: 'get_time' matches no tool",
        "roles.server.pin.get_current_time.timezone: 5 does not fit get_current_time(timezone): 5 is not of type 'string'",
        "roles.server.pin.get_current_time.zone: no tool matching 'get_current_time' has an argument 'zone'",
    ]


def test_pinned_values_are_in_every_planned_call(tmp_path):
    loaded = load_recipe(saved_recipe(tmp_path, "{server: {pin: {'get_*': {timezone: Europe/Oslo}}}}"))
    run_stage(loaded, compile_recipe(loaded), episodes=20)
    rows = query(tmp_path / "run", "SELECT goal FROM episodes")
    calls = [call for (goal,) in rows for step in json.loads(goal)["steps"] for call in step]
    assert len(calls) >= 15 and all(call["arguments"] == {"timezone": "Europe/Oslo"} for call in calls)
