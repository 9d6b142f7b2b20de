"""The three role programs as data: their inputs, outputs and default instructions.

Issue-independent and import-free, so that compiling a plan never imports DSPy; the synthesis
stage builds DSPy signatures from these (``dspy.make_signature``) when an LM plays a role.
"""

from __future__ import annotations

ROLE_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "user": (("goal", "tools", "persona", "conversation"), ("message",)),
    "assistant": (("conversation", "tools"), ("tool_calls", "answer")),
    "server": (("tool", "arguments", "earlier_calls"), ("result", "error")),
}

DEFAULT_INSTRUCTIONS = {
    "user": (
        "You are a user talking to an assistant that can call tools. You hold a hidden goal. Write your next "
        "message: a natural request that needs the goal's tool calls, in the persona's voice. Do not name the "
        "tools or their parameters; say what you want. When the assistant asks for a missing detail, give it."
    ),
    "assistant": (
        "You are a tool-calling assistant. Decide whether the user's request needs tools. If it does, call the "
        "right tools with arguments that satisfy their JSON Schemas, in a valid order; ask for a required detail "
        "that the user did not give. If no offered tool fits, do not call any and say so. After the results "
        "arrive, answer the user from them."
    ),
    "server": (
        "You simulate the server behind a tool. Given the tool's schema and the call's arguments, return a "
        "realistic JSON result consistent with the tool's output schema and with earlier results in this "
        "conversation. If the arguments are invalid for the schema, return an error message instead."
    ),
}


def signature(role: str) -> str:
    """A role's signature in DSPy's string form, e.g. ``"tool, arguments, earlier_calls -> result, error"``."""
    inputs, outputs = ROLE_IO[role]
    return f"{', '.join(inputs)} -> {', '.join(outputs)}"
