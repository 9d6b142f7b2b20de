"""The state gate of stateful episodes: the results shown are the environment's, and the world ends where planned.

Two checks, each on fresh worlds of the goal's environment reset to the goal's initial state:

- replay: every call of the conversation, in the order its results were shown, runs again; each tool message
  must be exactly the output the environment gives (a result the assistant saw but the world never produced is
  a tampered episode);
- final state: the episode's world (``Episode.final_state``) must equal (``==``, as BFCL compares worlds) the
  state the goal's planned calls reach, whose digest must be the one the goal recorded when it was planned.

When the conversation's calls are the planned ones, the replay's world is the planned state (one replay).
"""

from __future__ import annotations

import json
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Episode
from inftool.envs import Environment, first_difference, load_env, state_digest


def state_problem(episode: Episode, catalog: dict[str, Tool]) -> str | None:
    """Why a stateful episode fails the state gate, or None."""
    goal = episode.goal
    if goal.env is None:
        return None
    if episode.final_state is None:
        return "no final state was recorded for the episode's world"
    shown = shown_results(episode.messages)
    replay = _fresh(goal.env, goal.initial_state)
    for position, (call, text) in enumerate(shown, 1):
        real = replay.call(_method(call.name, catalog), call.arguments)
        if text != real:
            return (f"the result shown for call {position} ({call.name}) is not the environment's output: "
                    f"shown {_short(text)}, the environment gives {_short(real)}")
    planned = goal.calls
    if [_key(c) for c, _ in shown] == [_key(c) for c in planned]:
        expected = replay.state()
    else:
        world = _fresh(goal.env, goal.initial_state)
        for call in planned:
            world.call(_method(call.name, catalog), call.arguments)
        expected = world.state()
    if episode.final_state != expected:
        where = first_difference(episode.final_state, expected) or "their plain forms are equal, their == is not"
        return f"the final state differs from the one the planned calls reach: {where}"
    if goal.final_state is not None and state_digest(expected) != goal.final_state:
        return (f"the planned calls reach a state with digest {state_digest(expected)}, not the planned "
                f"{goal.final_state} (the environment is not deterministic, or the goal was changed)")
    return None


def shown_results(messages: list[dict[str, Any]]) -> list[tuple[Call, str]]:
    """(call, the tool message's text) for every result shown, in the order shown."""
    calls: dict[str, Call] = {}
    shown = []
    for message in messages:
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except (TypeError, ValueError):
                arguments = {}
            calls[call.get("id")] = Call(str(function.get("name")), arguments if isinstance(arguments, dict) else {})
        if message.get("role") == "tool" and message.get("tool_call_id") in calls:
            shown.append((calls[message["tool_call_id"]], str(message.get("content"))))
    return shown


def _fresh(ref: str, config: dict[str, Any] | None) -> Environment:
    world = load_env(ref)
    world.reset(config)
    return world


def _method(name: str, catalog: dict[str, Tool]) -> str:
    """The environment's name of a catalog tool (the spec name; a catalog may have renamed the tool)."""
    tool = catalog.get(name)
    return tool.original_name if tool is not None else name


def _key(call: Call) -> str:
    return call.name + json.dumps(call.arguments, sort_keys=True, default=str)


def _short(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:117] + "...")
