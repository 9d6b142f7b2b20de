"""The LM-backed role-players: DSPy modules implementing ``UserRole``, ``AssistantRole`` and ``ServerRole``.

Each role's signature is built once, at construction, from ``ROLE_IO`` and the recipe's instructions
(``role_signature``); its predictor and adapter are reused for every call. Every LM call goes through
``LMClient.predict`` (the LM is passed explicitly, never configured globally), so several LMs can
serve different roles in one process and in many threads at once. The protocols' ``rng`` is not used
here: the LM does the sampling, and retries draw their jitter from the client's own generator.
"""

from __future__ import annotations

import json
import random
import re
import threading
import weakref
from typing import Any

import dspy
import pydantic
from dspy.adapters.utils import format_field_value

from inftool.catalog import Tool
from inftool.compile.programs import DEFAULT_INSTRUCTIONS, ROLE_IO
from inftool.core.episode import Call, Goal
from inftool.synth.roles.base import Result, RoleError, Turn
from inftool.synth.roles.lm import LMClient, as_client

FIELDS: dict[str, dict[str, tuple[Any, str]]] = {
    "user": {
        "goal": (str, ("JSON: your hidden goal: the tool calls your request must lead to (steps of calls with "
                       "their arguments), a detail to leave out or to give now, and any out-of-scope topic")),
        "tools": (str, "JSON: the tools the assistant can use (do not name them or their parameters)"),
        "persona": (str, "Who you are and how you write"),
        "conversation": (str, "JSON: the conversation so far, in OpenAI chat format"),
        "message": (str, "Your next message to the assistant, as plain text"),
    },
    "assistant": {
        "conversation": (str, "JSON: the conversation so far, in OpenAI chat format (tool results included)"),
        "tools": (list[dspy.Tool], "The tools you may call, each with the JSON Schema of its arguments"),
        "tool_calls": (dspy.ToolCalls, "The tool calls to make now; an empty list when you reply in text"),
        "answer": (str, "Your text reply (a clarifying question or the final answer); empty when you call tools"),
    },
    "server": {
        "tool": (str, "JSON: the tool's name, description, argument schema and output schema"),
        "arguments": (str, "JSON: the arguments of this call"),
        "earlier_calls": (str, "JSON: the earlier calls of this conversation and their results"),
        "result": (str, "The call's result as JSON, consistent with the output schema; empty on error"),
        "error": (str, "An error message when the arguments are invalid for the schema; otherwise empty"),
    },
}
OPTIONAL_OUTPUTS: dict[str, Any] = {"tool_calls": None, "answer": "", "result": "", "error": ""}
_HEADER = re.compile(r"\[\[ ## \w+ ## \]\]")
_NO_CALLS = re.compile(r"(\[\[ ## tool_calls ## \]\][ \t]*\n?)\s*(?:none|null|\[\]|n/a)?\s*(?=\[\[ ## |\Z)", re.IGNORECASE)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_JSON_TYPES: dict[Any, type] = {"object": dict, "array": list}
_NO_ERROR = {"", "none", "null", "n/a", "no", "no error", "false", '""'}


def role_signature(role: str, instructions: str | None = None) -> type[dspy.Signature]:
    """The DSPy signature of a role: ``ROLE_IO``'s fields, described, with the given (or default) instructions."""
    inputs, outputs = ROLE_IO[role]
    fields: dict[str, Any] = {}
    for name in inputs:
        annotation, desc = FIELDS[role][name]
        fields[name] = (annotation, dspy.InputField(desc=desc))
    for name in outputs:
        annotation, desc = FIELDS[role][name]
        default = {"default": OPTIONAL_OUTPUTS[name]} if name in OPTIONAL_OUTPUTS else {}
        fields[name] = (annotation, dspy.OutputField(desc=desc, **default))
    text = instructions if instructions and instructions.strip() else DEFAULT_INSTRUCTIONS[role]
    return dspy.make_signature(fields, text, signature_name=f"{role.title()}Role")


class RoleAdapter(dspy.ChatAdapter):
    """ChatAdapter without the JSON-adapter second call, lenient where real models commonly drift.

    An empty or ``None`` tool_calls field means no calls, and a reply with no field markers at all is
    taken as the value of a signature's single text output.
    """

    def __init__(self, native_tools: bool = False):
        super().__init__(use_native_function_calling=native_tools, use_json_adapter_fallback=False)
        self._system: weakref.WeakKeyDictionary[type, str] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def format_system_message(self, signature: type[dspy.Signature]) -> str:
        """The system message depends on the signature only: render it once per signature (a third of the
        per-call CPU otherwise, mostly pydantic JSON-schema generation for the tool_calls type)."""
        text = self._system.get(signature)
        if text is None:
            text = super().format_system_message(signature)
            with self._lock:
                self._system[signature] = text
        return text

    def format_user_message_content(self, signature: type[dspy.Signature], inputs: dict[str, Any], prefix: str = "",
                                    suffix: str = "", main_request: bool = False) -> str:
        """As ChatAdapter's, but a text value is used as it is (DSPy builds a pydantic TypeAdapter per value)."""
        parts = [prefix]
        for name, field in signature.input_fields.items():
            if name in inputs:
                value = inputs[name]
                text = value if isinstance(value, str) else format_field_value(field_info=field, value=value)
                parts.append(f"[[ ## {name} ## ]]\n{text}")
        if main_request:
            parts.append(self.user_message_output_requirements(signature))
        parts.append(suffix)
        return "\n\n".join(part for part in parts if part is not None).strip()

    def parse(self, signature: type[dspy.Signature], completion: str) -> dict[str, Any]:
        outputs = signature.output_fields
        if not _HEADER.search(completion) and len(outputs) == 1:
            name, field = next(iter(outputs.items()))
            if field.annotation is str and completion.strip():
                return {name: completion.strip()}
        completion = _NO_CALLS.sub(lambda m: m.group(1) + '{"tool_calls": []}\n\n', completion)
        return super().parse(signature, completion)


class SchemaTool(dspy.Tool):
    """A ``dspy.Tool`` that keeps the tool's full JSON Schema (``required`` included) for the LM to see."""

    parameters: dict[str, Any] = pydantic.Field(default_factory=dict)

    def __init__(self, tool: Tool):
        super().__init__(func=_never_run, name=tool.name, desc=tool.description, args=tool.properties)
        self.parameters = tool.parameters

    def format_as_litellm_function_call(self) -> dict[str, Any]:
        return {"type": "function",
                "function": {"name": self.name, "description": self.desc, "parameters": self.parameters}}

    def format(self) -> dict[str, Any]:  # type: ignore[override] - the text-mode rendering: one JSON object
        return {"name": self.name, "description": self.desc, "parameters": self.parameters}


def _never_run(**kwargs: Any) -> None:
    raise RuntimeError("role-play tools are answered by the ToolServer role, not executed")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def conversation_json(messages: list[dict[str, Any]]) -> str:
    """The conversation as compact JSON: roles, text, tool calls (name and arguments) and tool results."""
    out = []
    for message in messages:
        item: dict[str, Any] = {"role": message.get("role"), "content": message.get("content")}
        calls = message.get("tool_calls") or []
        if calls:
            item["tool_calls"] = [{"name": c.get("function", {}).get("name"),
                                   "arguments": c.get("function", {}).get("arguments")} for c in calls]
        out.append(item)
    return _dump(out)


class _Role(dspy.Module):
    role = ""

    def __init__(self, lm: LMClient | dspy.BaseLM, instructions: str | None = None):
        super().__init__()
        self.client = as_client(lm)
        self.signature = role_signature(self.role, instructions)
        self.predict = dspy.Predict(self.signature)
        self.adapter = RoleAdapter(native_tools=self.role == "assistant")

    def _run(self, **inputs: Any) -> dspy.Prediction:
        return self.client.predict(self.predict, self.adapter, **inputs)

    def _malformed(self, what: str) -> RoleError:
        return self.client.failure(f"malformed answer from {self.client.endpoint} ({self.role}): {what}")


def goal_brief(goal: Goal, *, give_withheld: bool = False, turn: int | None = None) -> str:
    """The user's hidden goal as JSON: the planned calls, and what to leave out (or give now). For a goal of several
    turns, only turn ``turn``'s: what to ask for now and the calls it leads to."""
    if goal.turns:
        return _turn_brief(goal, turn or 0)
    brief: dict[str, Any] = {"steps": _steps(goal.steps)}
    if goal.topic:
        brief["request"] = f"Ask for this, which none of the tools can do: {goal.topic}"
    if goal.withheld:
        value = next((c.arguments[goal.withheld] for c in goal.calls if goal.withheld in c.arguments), None)
        if give_withheld:
            brief["give_now"] = {goal.withheld: value}
        else:
            brief["leave_out"] = (f"Do not give the value of '{goal.withheld}' ({_dump(value)}) or hint at it; "
                                  "the assistant has to ask for it.")
    return _dump(brief)


def _turn_brief(goal: Goal, turn: int) -> str:
    first = sum(t.steps for t in goal.turns[:turn])
    steps = goal.steps[first : first + goal.turns[turn].steps]
    return _dump({"ask_now": goal.turns[turn].ask, "turn": f"{turn + 1} of {len(goal.turns)}",
                  "steps": _steps(steps),
                  "note": "Ask only for this turn's part; values that earlier results gave need not be repeated."})


def _steps(steps: list[list[Call]]) -> list[list[dict[str, Any]]]:
    return [[{"tool": c.name, "arguments": c.arguments} for c in step] for step in steps]


class UserSimulator(_Role):
    """The user: holds the goal; writes the first request, answers the assistant's questions, and opens each later
    turn of a goal of several turns."""

    role = "user"

    def request(self, goal: Goal, tools: dict[str, Tool], rng: random.Random) -> str:
        offered = [{"name": t.name, "description": t.description} for n, t in tools.items() if n in goal.offered]
        return self._message(goal=goal_brief(goal), tools=_dump(offered or list(goal.offered)),
                             persona=goal.persona, conversation="[]")

    def clarify(self, goal: Goal, question: str, rng: random.Random) -> str:
        conversation = conversation_json([{"role": "assistant", "content": question}])
        return self._message(goal=goal_brief(goal, give_withheld=True), tools=_dump(list(goal.offered)),
                             persona=goal.persona, conversation=conversation)

    def follow_up(self, goal: Goal, turn: int, messages: list[dict[str, Any]], rng: random.Random) -> str:
        return self._message(goal=goal_brief(goal, turn=turn), tools=_dump(list(goal.offered)), persona=goal.persona,
                             conversation=conversation_json(messages))

    def _message(self, **inputs: Any) -> str:
        message = (self._run(**inputs).message or "").strip()
        if not message:
            raise self._malformed("the message is empty")
        return message


class Assistant(_Role):
    """The assistant: sees the conversation and the offered tools (never the goal); calls tools or replies."""

    role = "assistant"

    def __init__(self, lm: LMClient | dspy.BaseLM, instructions: str | None = None):
        super().__init__(lm, instructions)
        self._tools: dict[str, tuple[Tool, SchemaTool]] = {}

    def _tool(self, tool: Tool) -> SchemaTool:
        known = self._tools.get(tool.name)
        if known is None or known[0] != tool:
            known = self._tools[tool.name] = (tool, SchemaTool(tool))
        return known[1]

    def respond(self, messages: list[dict[str, Any]], tools: list[Tool], goal: Goal, rng: random.Random) -> Turn:
        del goal  # the LM assistant never sees the goal
        prediction = self._run(conversation=conversation_json(messages), tools=[self._tool(t) for t in tools])
        calls = self._calls(prediction.tool_calls)
        if calls:
            return Turn(calls=calls)
        answer = (prediction.answer or "").strip()
        if not answer:
            raise self._malformed("neither tool calls nor a text answer")
        return Turn(content=answer)

    def _calls(self, tool_calls: Any) -> list[Call]:
        if tool_calls is None:
            return []
        items = getattr(tool_calls, "tool_calls", None)
        if not isinstance(items, list):
            raise self._malformed(f"tool_calls is not a list of calls: {str(tool_calls)[:200]}")
        calls = []
        for item in items:
            name, args = getattr(item, "name", None), getattr(item, "args", None)
            if not isinstance(name, str) or not name.strip() or not isinstance(args, dict):
                raise self._malformed(f"a tool call is not {{name, args: object}}: {str(item)[:200]}")
            calls.append(Call(name.strip(), args))
        return calls


class ToolServer(_Role):
    """The tool server: a JSON result (or an error) per call; the same call in an episode gets the same result."""

    role = "server"

    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]], rng: random.Random) -> Result:
        key = call.key()
        for previous, result in earlier:  # `earlier` is this episode's record: the per-episode cache
            if previous.key() == key:
                return result
        prediction = self._run(tool=_dump(self._describe(tool)), arguments=_dump(call.arguments),
                               earlier_calls=_dump([{"call": {"name": c.name, "arguments": c.arguments},
                                                     "result": r.content, "error": r.error} for c, r in earlier]))
        error = (prediction.error or "").strip()
        if error.lower() not in _NO_ERROR:
            return Result(content={"error": error}, error=True)
        return Result(content=self._content(tool, (prediction.result or "").strip()))

    @staticmethod
    def _describe(tool: Tool) -> dict[str, Any]:
        return {"name": tool.name, "description": tool.description, "parameters": tool.parameters,
                "output_schema": tool.output_schema}

    def _content(self, tool: Tool, text: str) -> Any:
        if not text:
            raise self._malformed("neither a result nor an error")
        fenced = _FENCE.match(text)
        text = fenced.group(1) if fenced else text
        expected = _JSON_TYPES.get((tool.output_schema or {}).get("type"))
        try:
            content = json.loads(text)
        except ValueError:
            if expected:
                raise self._malformed(f"the result is not JSON: {text[:200]}") from None
            return text
        if expected and not isinstance(content, expected):
            raise self._malformed(f"the result is not a JSON {tool.output_schema['type']}: {text[:200]}")
        return content


ROLES: dict[str, type[_Role]] = {"user": UserSimulator, "assistant": Assistant, "server": ToolServer}
