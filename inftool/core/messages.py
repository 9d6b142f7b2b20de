"""Chat messages in the two forms the ecosystem uses.

The store and OpenAI-format exports keep OpenAI's wire form: a tool call's ``arguments`` is a JSON
*string*. Chat templates (``apply_chat_template``) and Hugging Face trainers want the arguments as an
*object*: a template given a string either writes it double-encoded (``"arguments": "{\\"city\\": ..."``)
or fails inside (``arguments|items``). ``for_template`` turns stored messages into the object form that
every template renders; ``for_wire`` turns them back.
"""

from __future__ import annotations

import json
from typing import Any


def for_template(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages ready for ``apply_chat_template``: tool-call arguments as objects, null fields dropped
    (templates test ``'key' in message``), and ``content`` present on every message (some templates,
    DeepSeek's among them, read it unconditionally; an assistant turn with calls gets ``""``)."""
    out = []
    for message in messages:
        clean = {k: v for k, v in message.items() if v is not None}
        clean.setdefault("content", "")
        if clean.get("tool_calls"):
            clean["tool_calls"] = [_object_call(call) for call in clean["tool_calls"]]
        out.append(clean)
    return out


def for_wire(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages in OpenAI's wire form: tool-call arguments as JSON strings."""
    out = []
    for message in messages:
        if message.get("tool_calls"):
            message = {**message, "tool_calls": [_wire_call(call) for call in message["tool_calls"]]}
        out.append(message)
    return out


def arguments_object(arguments: Any) -> Any:
    """A call's arguments as an object: JSON text parsed (text that is not JSON stays as it is)."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return arguments
    return arguments


def _object_call(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    return {**call, "function": {**function, "arguments": arguments_object(function.get("arguments"))}}


def _wire_call(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    arguments = function.get("arguments")
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {**call, "function": {**function, "arguments": text}}
