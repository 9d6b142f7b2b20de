"""Exports for trainers: OpenAI JSONL, ShareGPT, Parquet readable by `datasets`, splits fixed by the seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inftool.compile import compile_recipe
from inftool.export import export
from inftool.spec import load_recipe
from inftool.store import Store
from inftool.synth import run_stage

TRAVEL = Path(__file__).resolve().parents[1] / "catalog" / "travel.yaml"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    path = root / "r.yaml"
    path.write_text(f"name: ex\nseed: 2\nrun_dir: run\ncatalogs: [{{source: openai, path: {TRAVEL}}}]\n"
                    "evaluate: {bfcl: [], heldout: 0.2}\n")
    loaded = load_recipe(path)
    run_stage(loaded, compile_recipe(loaded), episodes=80)
    return root / "run"


def exported(store_dir: Path, fmt: str, out: Path) -> dict:
    with Store.open(store_dir, read_only=True) as store:
        return export(store, store.current_run(), fmt, out)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_openai_jsonl_holds_messages_and_tools_and_the_splits_add_up(store_dir, tmp_path):
    written = exported(store_dir, "openai", tmp_path)
    train, heldout = lines(written["train"][0]), lines(written["heldout"][0])
    with Store.open(store_dir, read_only=True) as store:
        _, [(accepted,)] = store.query("SELECT count(*) FROM episodes WHERE accepted")
    assert len(train) + len(heldout) == accepted and heldout
    record = train[0]
    assert set(record) == {"messages", "tools"} and record["messages"][0]["role"] == "user"
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in record["tools"])
    calls = [c for m in record["messages"] for c in m.get("tool_calls") or []]
    assert all(isinstance(json.loads(c["function"]["arguments"]), dict) for c in calls)


def test_sharegpt_roles_and_function_calls(store_dir, tmp_path):
    records = lines(exported(store_dir, "sharegpt", tmp_path)["train"][0])
    roles = {turn["from"] for r in records for turn in r["conversations"]}
    assert roles == {"human", "gpt", "function_call", "observation"}
    for record in records:
        assert record["conversations"][0]["from"] == "human"
        assert isinstance(json.loads(record["tools"]), list)
        for turn in record["conversations"]:
            if turn["from"] == "function_call":
                value = json.loads(turn["value"])
                assert all("name" in c and isinstance(c["arguments"], dict) for c in (value if isinstance(value, list) else [value]))


def test_parquet_reads_with_datasets_and_agrees_with_jsonl(store_dir, tmp_path):
    datasets = pytest.importorskip("datasets")
    written = exported(store_dir, "parquet", tmp_path / "pq")
    jsonl = exported(store_dir, "openai", tmp_path / "js")
    loaded = datasets.load_dataset("parquet", data_files={s: str(p) for s, (p, _) in written.items()})
    assert {s: loaded[s].num_rows for s in written} == {s: n for s, (_, n) in jsonl.items()}
    first, reference = loaded["train"][0], lines(jsonl["train"][0])[0]
    assert [m["role"] for m in first["messages"]] == [m["role"] for m in reference["messages"]]
    assert [t["function"]["name"] for t in first["tools"]] == [t["function"]["name"] for t in reference["tools"]]
    assert json.loads(first["tools"][0]["function"]["parameters"]) == reference["tools"][0]["function"]["parameters"]


def test_mcp_transcripts_replay_the_conversation_as_json_rpc(store_dir, tmp_path):
    written = exported(store_dir, "mcp", tmp_path)
    records = lines(written["train"][0])
    reference = {r["messages"][0]["content"]: r for r in lines(exported(store_dir, "openai", tmp_path / "oa")["train"][0])}
    assert len(records) == len(reference)
    for record in records:
        listing, listed, *turns = record["transcript"]
        assert set(record) == {"id", "transcript"}
        assert listing == {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {}}
        messages = reference[turns[0]["content"]]["messages"]
        tools = reference[turns[0]["content"]]["tools"]
        assert listed["result"]["tools"] == [{"name": t["function"]["name"], "description": t["function"]["description"],
                                              "inputSchema": t["function"]["parameters"]} for t in tools]
        calls = [c["function"] for m in messages for c in m.get("tool_calls") or []]
        requests = [m for m in turns if m.get("method") == "tools/call"]
        assert [(r["params"]["name"], r["params"]["arguments"]) for r in requests] == \
            [(c["name"], json.loads(c["arguments"])) for c in calls]
        results = [m for m in turns if "result" in m]
        assert [r["id"] for r in results] == [r["id"] for r in requests] == list(range(1, len(calls) + 1))
        tool_texts = [m["content"] for m in messages if m["role"] == "tool"]
        assert [r["result"]["content"][0]["text"] for r in results] == tool_texts
        assert all(r["result"]["isError"] is False for r in results)
        texts = [m for m in turns if "role" in m]
        assert texts == [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] != "tool"
                         and not m.get("tool_calls")]
