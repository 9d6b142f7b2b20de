"""How a policy's chat template wants tool-use conversations, found by probing it once.

Templates differ in three ways that matter for training data:

- **argument form**: most templates want a call's arguments as an object (they ``tojson`` it or walk
  its items); a few concatenate it as text (DeepSeek-V3's), so they get OpenAI's JSON string. A form that
  renders double-encoded (``"arguments": "{\\"city\\": ..."``) is never chosen.
- **calls per turn**: some templates refuse several calls in one assistant turn (Llama 3.1 / 3.2: "only
  supports single tool-calls at once"); for them a parallel step becomes one assistant turn per call,
  each followed by its result, which is how such a model makes parallel calls.
- **masking**: a template with ``{% generation %}`` markers says which tokens are the assistant's;
  otherwise a turn is found by rendering the conversation before it as a prefix of the whole.

A template that cannot render a tool call at all is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from inftool.core.messages import for_template, for_wire
from inftool.errors import StageError

GENERATION_MARKER = re.compile(r"{%-?\s*generation\s*-?%}")
MASK_BY_MARKERS, MASK_BY_PREFIX = "generation markers", "prefix"

_PROBE_TOOLS = [{"type": "function", "function": {
    "name": "probe_weather", "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                   "required": ["city"]}}}]
_PROBE_VALUES = ("Zanzibar", "Ulaanbaatar")


@dataclass(frozen=True)
class TemplateProfile:
    """What one chat template needs (see the module docstring)."""

    name: str
    wire_arguments: bool = False
    one_call_per_turn: bool = False
    mask_method: str = MASK_BY_PREFIX

    def messages(self, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored (OpenAI wire-form) messages as this template renders them."""
        messages = for_template(stored)
        if self.one_call_per_turn:
            messages = _one_call_per_turn(messages)
        return for_wire(messages) if self.wire_arguments else messages

    def render(self, tokenizer: Any, stored: list[dict[str, Any]], tools: list[dict[str, Any]], *,
               prompt: bool) -> str:
        """The conversation as the policy sees it; ``prompt=True`` adds the assistant's generation prompt."""
        return apply(tokenizer, self.messages(stored), tools, prompt=prompt)

    def describe(self) -> dict[str, Any]:
        """For the training stage's counts: how the data was rendered and masked."""
        return {"template": self.name, "mask": self.mask_method,
                "arguments": "JSON string" if self.wire_arguments else "object",
                "calls_per_turn": "one" if self.one_call_per_turn else "several"}


def apply(tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, prompt: bool) -> str:
    """Render messages already in the template's form (``TemplateProfile.messages``) to text."""
    return tokenizer.apply_chat_template(messages, tools=tools or None, add_generation_prompt=prompt, tokenize=False)


_PROFILES: dict[str, TemplateProfile] = {}


def profile(tokenizer: Any) -> TemplateProfile:
    """The profile of the tokenizer's chat template (probed once per template text)."""
    template = tokenizer.chat_template
    if not isinstance(template, str) or not template.strip():
        raise StageError(f"{_name(tokenizer)} has no chat template (hint: set one, e.g. one of TRL's "
                         "trl/chat_templates/*.jinja, in its tokenizer_config.json or chat_template.jinja)")
    key = hashlib.sha256(template.encode("utf-8")).hexdigest()
    if key not in _PROFILES:
        _PROFILES[key] = _probe(tokenizer, template)
    return _PROFILES[key]


def _probe(tokenizer: Any, template: str) -> TemplateProfile:
    name = _name(tokenizer)
    mask = MASK_BY_MARKERS if GENERATION_MARKER.search(template) else MASK_BY_PREFIX
    problems = []
    for one_call in (False, True):
        for wire in (False, True):
            candidate = TemplateProfile(name, wire_arguments=wire, one_call_per_turn=one_call, mask_method=mask)
            problem = _probe_problem(tokenizer, candidate)
            if problem is None:
                return candidate
            problems.append(problem)
    raise StageError(f"the chat template of {name} cannot render tool calls: {problems[0]} (tried arguments as "
                     "objects and as JSON strings, several and one call per turn; hint: use a template that renders "
                     "`tool_calls`, e.g. one of TRL's trl/chat_templates/*.jinja)")


def _probe_problem(tokenizer: Any, candidate: TemplateProfile) -> str | None:
    """Why the probe conversation does not render right with this candidate, or None when it does."""
    calls = [{"id": f"call_{i}", "type": "function",
              "function": {"name": "probe_weather", "arguments": json.dumps({"city": city, "days": 3})}}
             for i, city in enumerate(_PROBE_VALUES)]
    conversation = [{"role": "user", "content": "Weather in two cities?"},
                    {"role": "assistant", "content": None, "tool_calls": calls},
                    *({"role": "tool", "tool_call_id": c["id"], "content": '{"temp": 20}'} for c in calls)]
    try:
        text = candidate.render(tokenizer, conversation, _PROBE_TOOLS, prompt=False)
    except Exception as exc:  # noqa: BLE001 - templates raise anything (TemplateError, TypeError, ...)
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    if not all(value in text for value in _PROBE_VALUES):
        return "the rendered conversation does not contain the calls' arguments"
    if re.search(r'\\"city\\"', text):
        return "the arguments render double-encoded"
    return None


def _one_call_per_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each assistant turn with several calls becomes one turn per call, each followed by its result."""
    results = {m["tool_call_id"]: m for m in messages if m.get("role") == "tool" and m.get("tool_call_id")}
    out, moved = [], set()
    for message in messages:
        calls = message.get("tool_calls") or []
        if id(message) in moved:
            continue
        if message.get("role") != "assistant" or len(calls) < 2:
            out.append(message)
            continue
        for i, call in enumerate(calls):
            out.append({**message, "content": message.get("content", "") if i == 0 else "", "tool_calls": [call]})
            result = results.get(call.get("id"))
            if result is not None:
                out.append(result)
                moved.add(id(result))
    return out


def _name(tokenizer: Any) -> str:
    path = getattr(tokenizer, "name_or_path", "") or ""
    return f"'{path}'" if path else "the policy's tokenizer"
