"""The Hermes call form, ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, in a chat template: whether a
template writes calls that way (probed by rendering one), and the response template that reads them back (for
TRL's multi-turn GRPO and for constrained decoding, which can only enforce this form)."""

from __future__ import annotations

import json
import re
from typing import Any

_PROBE = {"name": "probe_tool", "arguments": {"city": "Ulaanbaatar", "days": 3}}


def hermes_template(tokenizer: Any) -> dict[str, Any] | None:
    """A response template for a chat template that writes each call as ``<tool_call>{JSON}</tool_call>``, right
    after its generation prompt, and ends the turn with the tokenizer's EOS token (None: it does not)."""
    eos = tokenizer.eos_token
    asked = [{"role": "user", "content": "Weather?"}]
    answer = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": _PROBE}]}
    try:
        prompt = tokenizer.apply_chat_template(asked, add_generation_prompt=True, tokenize=False)
        bare = tokenizer.apply_chat_template(asked, add_generation_prompt=False, tokenize=False)
        turn = tokenizer.apply_chat_template([*asked, answer], add_generation_prompt=False, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that cannot render the probe writes no Hermes calls
        return None
    anchor = prompt[len(bare):] if prompt.startswith(bare) else ""
    written = turn[len(prompt):] if anchor and turn.startswith(prompt) else ""
    found = re.fullmatch(r"\s*<tool_call>\s*(\{.*\})\s*</tool_call>\s*" + re.escape(eos or "") + r"\s*", written,
                         re.DOTALL) if eos else None
    if found is None or _json(found.group(1)) != _PROBE:
        return None
    return {"defaults": {"role": "assistant"}, "start_anchor": anchor,
            "fields": {"tool_calls": {"open": "<tool_call>", "close_pattern": r"</tool_call>\s*", "repeats": True,
                                      "content": "json", "transform": {"type": "function", "function": "{content}"}},
                       "content": {"close_pattern": re.escape(eos) + r"\s*", "content": "text"}}}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
