"""Whole conversations: OpenAI chat JSON Lines and Parquet rows, ShareGPT, MCP transcripts, rejected episodes.

Every record function takes a stored episode (``StoreReader.episodes``), its position in its split and the
export's `Options`, and returns one JSON-ready record.
"""

from __future__ import annotations

import json
from typing import Any

from inftool.core.messages import arguments_object, for_template, for_wire
from inftool.envs import ERROR_PREFIX, result_data

from .options import Options


def messages_of(episode: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    """The episode's messages as trainers read them (``for_template``: arguments as objects, no null
    fields, content always present), or with the arguments back in OpenAI's wire form (JSON strings)."""
    messages = for_template(episode["messages"])
    return for_wire(messages) if options.wire_arguments else messages


def openai_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """``{"messages", "tools"}``: OpenAI's chat format, as TRL's SFTTrainer and fine-tuning APIs read it."""
    return {"messages": messages_of(episode, options), "tools": episode["tools"]}


def parquet_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """The OpenAI record with the episode's place in the run (id, iteration, index, scenario cell, split)."""
    keys = ("episode_id", "iteration", "idx", "complexity", "tool", "split")
    return {**{key: episode[key] for key in keys}, **openai_record(episode, position, options)}


def sharegpt_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """LLaMA-Factory's ShareGPT with function calling: ``function_call`` and ``observation`` turns."""
    conversation: list[dict[str, str]] = []
    results: list[Any] = []
    for message in episode["messages"]:
        if message["role"] != "tool" and results:
            conversation.append(_observation(results))
            results = []
        if message["role"] == "user":
            conversation.append({"from": "human", "value": message["content"]})
        elif message["role"] == "tool":
            results.append(result_data(message["content"]))
        elif message.get("tool_calls"):
            calls = [{"name": c["function"]["name"], "arguments": arguments_object(c["function"]["arguments"])}
                     for c in message["tool_calls"]]
            conversation.append({"from": "function_call", "value": json.dumps(calls[0] if len(calls) == 1 else calls)})
        else:
            conversation.append({"from": "gpt", "value": message["content"]})
    if results:
        conversation.append(_observation(results))
    return {"conversations": conversation, "tools": json.dumps([t["function"] for t in episode["tools"]])}


def _observation(results: list[Any]) -> dict[str, str]:
    return {"from": "observation", "value": json.dumps(results[0] if len(results) == 1 else results)}


def mcp_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """An episode as an MCP transcript: JSON-RPC tools/list and tools/call messages among the text turns.

    A result is an error (``isError``) when it is ``{"error": ...}`` alone, as the tool servers write them, or an
    environment's ``Error during execution: ...``."""
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
                function = call["function"]
                params = {"name": function["name"], "arguments": arguments_object(function["arguments"])}
                transcript.append(_rpc(ids[call["id"]], method="tools/call", params=params))
        else:
            transcript.append({"role": message["role"], "content": message["content"]})
    return {"id": episode["episode_id"], "transcript": transcript}


def _rpc(id_: int, **fields: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, **fields}


def _call_result(text: str) -> dict[str, Any]:
    """A tool message's text (JSON, or an environment's output as it printed it) as a CallToolResult."""
    content = result_data(text)
    error = (isinstance(content, dict) and set(content) == {"error"}) or text.startswith(ERROR_PREFIX)
    said = str(content["error"]) if error and isinstance(content, dict) else text
    result: dict[str, Any] = {"content": [{"type": "text", "text": said}]}
    if isinstance(content, dict) and not error:
        result["structuredContent"] = content
    return {**result, "isError": error}


def rejected_record(episode: dict[str, Any], position: int, options: Options) -> dict[str, Any]:
    """A rejected episode: the conversation as far as it went, the first gate that failed and why, and the
    calls its goal planned (steps of ``{"name", "arguments"}``; calls in one step are parallel), for
    preference pairs (planned calls as the chosen answer) or error analysis."""
    goal = episode["goal"]
    return {"episode_id": episode["episode_id"], "iteration": episode["iteration"], "split": episode["split"],
            "complexity": episode["complexity"], "tool": episode["tool"], "failed_gate": episode["failed_gate"],
            "reason": episode["reason"], "error": episode["error"], "planned_calls": goal.get("steps", []),
            "messages": messages_of(episode, options), "tools": episode["tools"]}
