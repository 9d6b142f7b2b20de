"""Writing verified episodes in the formats trainers read, split into train and held-out sets.

- ``openai``: JSON Lines of ``{"messages": [...], "tools": [...]}`` (OpenAI chat format, as TRL's
  SFT trainer and most fine-tuning APIs read it);
- ``sharegpt``: JSON Lines of ``{"conversations": [{"from": "human"|"gpt"|"function_call"|"observation",
  "value": ...}], "tools": "<JSON>"}`` (LLaMA-Factory's ShareGPT with function calling);
- ``parquet``: one row per episode with nested ``messages`` and ``tools`` columns, readable by
  ``datasets.load_dataset("parquet", ...)``.
The split of every episode is fixed when it is synthesised (by the seed), so exports agree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FORMATS = ("openai", "sharegpt", "parquet")
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
                record = openai_record(episode) if fmt == "openai" else sharegpt_record(episode)
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
