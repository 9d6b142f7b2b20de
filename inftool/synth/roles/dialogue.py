"""Role-play: the user asks, the assistant calls tools or answers, the server plays the tools.

The conversation is built directly in OpenAI chat format. The user answers one clarifying question
when its goal withholds an argument; the conversation ends at the assistant's first text reply
after that, or after ``MAX_TURNS`` assistant turns. A stateful goal runs on its own environment (the
environment answers every call, `EnvironmentServer`) over several user turns: each text reply of the
assistant ends a turn and the user opens the next, up to ``MAX_TURNS`` assistant turns per user turn.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.synth.roles.base import AssistantRole, Result, ServerRole, UserRole
from inftool.synth.roles.environment import EnvironmentServer

MAX_TURNS = 8


@dataclass(frozen=True)
class Cast:
    """Who plays the three roles in an episode."""

    user: UserRole
    assistant: AssistantRole
    server: ServerRole


@dataclass
class Played:
    messages: list[dict[str, Any]]
    call_errors: list[str]
    """Errors the server returned (an invalid call, an unknown tool), or a real server's failure as it is."""
    final_state: dict[str, Any] | None = None
    """stateful: the state of the episode's world at the end (``Environment.state()``); None for other goals."""


def play(goal: Goal, cast: Cast, catalog: dict[str, Tool], rng: random.Random) -> Played:
    offered = [catalog[name] for name in goal.offered]
    by_name = {tool.name: tool for tool in offered}
    server: ServerRole = EnvironmentServer.open(goal) if goal.env else cast.server
    messages: list[dict[str, Any]] = [{"role": "user", "content": cast.user.request(goal, catalog, rng)}]
    earlier: list[tuple[Call, Result]] = []
    errors: list[str] = []
    answered, user_turn = False, 0
    for _ in range(MAX_TURNS * max(1, len(goal.turns))):
        turn = cast.assistant.respond(messages, offered, goal, rng)
        if turn.calls:
            _run_calls(turn.calls, messages, earlier, errors, by_name, goal, server, rng)
            continue
        messages.append({"role": "assistant", "content": turn.content or ""})
        if goal.withheld and not answered:
            messages.append({"role": "user", "content": cast.user.clarify(goal, turn.content or "", rng)})
            answered = True
            continue
        if user_turn + 1 < len(goal.turns):
            user_turn += 1
            messages.append({"role": "user", "content": cast.user.follow_up(goal, user_turn, messages, rng)})
            continue
        break
    final = server.state() if isinstance(server, EnvironmentServer) else None
    return Played(messages, errors, final)


def _run_calls(calls: list[Call], messages: list, earlier: list, errors: list, by_name: dict[str, Tool],
               goal: Goal, server: ServerRole, rng: random.Random) -> None:
    first = sum(len(m.get("tool_calls") or []) for m in messages)
    ids = [f"call_{first + i}" for i in range(len(calls))]
    messages.append({"role": "assistant", "content": None, "tool_calls": [
        {"id": id_, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
        for id_, c in zip(ids, calls, strict=True)]})
    for id_, call in zip(ids, calls, strict=True):
        tool = by_name.get(call.name)
        if tool is None:
            result = Result({"error": f"no tool named '{call.name}' is offered"}, error=True)
        else:
            result = server.call(tool, call, goal, earlier, rng)
        earlier.append((call, result))
        if result.error:
            said = result.content.get("error") if isinstance(result.content, dict) else result.content
            errors.append(result.failure or str(said))
        content = result.text if result.text is not None else json.dumps(result.content)
        messages.append({"role": "tool", "tool_call_id": id_, "name": call.name, "content": content})
