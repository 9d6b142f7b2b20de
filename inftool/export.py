"""Writing verified episodes in the formats trainers read, split into train and held-out sets.

- ``openai``: JSON Lines of ``{"messages": [...], "tools": [...]}`` (OpenAI chat format, as TRL's
  SFT trainer and most fine-tuning APIs read it);
- ``sharegpt``: JSON Lines of ``{"conversations": [{"from": "human"|"gpt"|"function_call"|"observation",
  "value": ...}], "tools": "<JSON>"}`` (LLaMA-Factory's ShareGPT with function calling);
- ``parquet``: one row per episode with nested ``messages`` and ``tools`` columns, readable by
  ``datasets.load_dataset("parquet", ...)``;
- ``mcp``: JSON Lines of MCP transcripts ``{"id", "transcript": [...]}``: the ``tools/list`` request
  and result first, then the user's and assistant's text turns (``{"role", "content"}``) with every
  tool call as a JSON-RPC ``tools/call`` request and its result (``content``, ``structuredContent``
  for an object, ``isError``), in conversation order.
The split of every episode is fixed when it is synthesised (by the seed), so exports agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMATS = ("openai", "sharegpt", "parquet", "mcp")
SPLITS = ("train", "heldout")


def export(store, run_id: str, fmt: str, out_dir: Path) -> dict[str, tuple[Path, int]]:
    """Write ``<out_dir>/<split>.<ext>`` for each split; returns {split: (path, episodes written)}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for split in SPLITS:
        if fmt == "parquet":
            path = out_dir / f"{split}.parquet"
            written[split] = (path, store.copy_parquet(run_id, split, path))
            continue
        path, count = out_dir / f"{split}.jsonl", 0
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            for episode in store.episodes(run_id, accepted=True, split=split):
                record = RECORDS[fmt](episode)
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        tmp.replace(path)
        written[split] = (path, count)
    return written


def openai_record(episode: dict[str, Any]) -> dict[str, Any]:
    return {"messages": episode["messages"], "tools": episode["tools"]}


def sharegpt_record(episode: dict[str, Any]) -> dict[str, Any]:
    conversation: list[dict[str, str]] = []
    results: list[Any] = []
    for message in episode["messages"]:
        if message["role"] != "tool" and results:
            conversation.append(_observation(results))
            results = []
        if message["role"] == "user":
            conversation.append({"from": "human", "value": message["content"]})
        elif message["role"] == "tool":
            results.append(json.loads(message["content"]))
        elif message.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                     for c in message["tool_calls"]]
            conversation.append({"from": "function_call", "value": json.dumps(calls[0] if len(calls) == 1 else calls)})
        else:
            conversation.append({"from": "gpt", "value": message["content"]})
    if results:
        conversation.append(_observation(results))
    return {"conversations": conversation, "tools": json.dumps([t["function"] for t in episode["tools"]])}


def _observation(results: list[Any]) -> dict[str, str]:
    return {"from": "observation", "value": json.dumps(results[0] if len(results) == 1 else results)}


def mcp_record(episode: dict[str, Any]) -> dict[str, Any]:
    """An episode as an MCP transcript: JSON-RPC tools/list and tools/call messages among the text turns.

    A result is an error (``isError``) when it is ``{"error": ...}`` alone, as the tool servers write them."""
    tools = [{"name": t["function"]["name"], "description": t["function"].get("description", ""),
              "inputSchema": t["function"]["parameters"]} for t in episode["tools"]]
    transcript: list[dict[str, Any]] = [_rpc(0, method="tools/list", params={}), _rpc(0, result={"tools": tools})]
    ids: dict[str, int] = {}
    for message in episode["messages"]:
        if message["role"] == "tool":
            transcript.append(_rpc(ids[message["tool_call_id"]], result=_call_result(message["content"])))
        elif message.get("tool_calls"):
            for call in message["tool_calls"]:
                ids[call["id"]] = len(ids) + 1
                params = {"name": call["function"]["name"], "arguments": json.loads(call["function"]["arguments"])}
                transcript.append(_rpc(ids[call["id"]], method="tools/call", params=params))
        else:
            transcript.append({"role": message["role"], "content": message["content"]})
    return {"id": episode["episode_id"], "transcript": transcript}


def _rpc(id_: int, **fields: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, **fields}


def _call_result(text: str) -> dict[str, Any]:
    """A tool message's JSON text as a CallToolResult."""
    content = json.loads(text)
    error = isinstance(content, dict) and set(content) == {"error"}
    result: dict[str, Any] = {"content": [{"type": "text", "text": str(content["error"]) if error else text}]}
    if isinstance(content, dict) and not error:
        result["structuredContent"] = content
    return {**result, "isError": error}


RECORDS = {"openai": openai_record, "sharegpt": sharegpt_record, "mcp": mcp_record}
"""How each JSON Lines format writes one episode."""
