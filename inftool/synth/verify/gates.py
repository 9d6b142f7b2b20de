"""Verification gates, in order: format -> schema -> execution -> consistency -> dedup.

Each gate gives a Verdict with a reason; the first failure ends verification (later gates are not
evaluated) and the episode is kept, rejected, with that reason. Dedup remembers only accepted
requests, so a rejected episode never blocks a later good one.

A stateful episode (its goal runs on an environment) also passes the **state** gate, after execution:
replaying the conversation's calls on a fresh world from the goal's initial state must give exactly the
results the assistant was shown, and the episode's final state must equal the state the planned calls
reach from the same initial state (and have the digest the goal recorded). Other episodes never see it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from inftool.catalog import Tool
from inftool.catalog.arguments import ArgumentChecks
from inftool.core.episode import Call, Episode, Verdict
from inftool.synth.verify.dedup import Deduplicator
from inftool.synth.verify.state import state_problem

GATE_ORDER = ("format", "schema", "execution", "consistency", "dedup")
STATEFUL_GATE_ORDER = ("format", "schema", "execution", "state", "consistency", "dedup")
"""The gates of a stateful episode: the state gate always runs (after execution), with the recipe's others."""
EXECUTED_FAILURE = "mcp "
"""How a real server's failure begins (``mcp error (TOOL): ...``, ``mcp timeout (TOOL) after N s``, see
``Result.failure``): the execution gate reports it as it is, so SQL can count failures per tool."""


class Verifier:
    def __init__(self, catalog: dict[str, Tool], gates: list[str], checks: ArgumentChecks, dedup: Deduplicator):
        self.catalog, self.checks, self.dedup = catalog, checks, dedup
        self.gates = [g for g in GATE_ORDER if g in gates]
        self.stateful_gates = [g for g in STATEFUL_GATE_ORDER if g in gates or g == "state"]

    def verify(self, episode: Episode) -> list[Verdict]:
        verdicts, dedup_key = [], None
        for gate in self.stateful_gates if episode.goal.env is not None else self.gates:
            if gate == "dedup":
                reason, dedup_key = self.dedup.check(episode.request)
            else:
                reason = getattr(self, f"_{gate}")(episode)
            verdicts.append(Verdict(gate, reason is None, reason or ""))
            if reason:
                return verdicts
        if dedup_key is not None:
            self.dedup.add(dedup_key)
        return verdicts

    def _format(self, episode: Episode) -> str | None:
        if episode.error:
            return f"role-play failed: {episode.error}"
        return conversation_problem(episode.messages)

    def _schema(self, episode: Episode) -> str | None:
        offered = set(episode.goal.offered)
        for call in episode.made_calls:
            if call.name not in offered:
                return f"called '{call.name}', which is not among the offered tools"
            problem = self.checks.problem(self.catalog[call.name], call.arguments)
            if problem:
                return problem
        return None

    def _execution(self, episode: Episode) -> str | None:
        if not episode.call_errors:
            return None
        first = episode.call_errors[0]
        return first if first.startswith(EXECUTED_FAILURE) else f"the server rejected a call: {first}"

    def _state(self, episode: Episode) -> str | None:
        return state_problem(episode, self.catalog)

    def _consistency(self, episode: Episode) -> str | None:
        goal, made = episode.goal, episode.made_calls
        if goal.complexity == "irrelevance":
            return f"called '{made[0].name}' although no offered tool fits the request" if made else None
        if goal.withheld and _called_before_second_user_turn(episode.messages):
            return f"called a tool before asking for the missing '{goal.withheld}'"
        wanted, got = Counter(map(canonical, goal.calls)), Counter(map(canonical, made))
        if wanted - got:
            return f"missing call {_show(next(iter(wanted - got)))}"
        if got - wanted:
            return f"unexpected call {_show(next(iter(got - wanted)))}"
        order = [canonical(c) for c in made]
        for link in goal.links:
            before = canonical(goal.steps[link.from_step][link.from_call])
            after = canonical(goal.steps[link.to_step][link.to_call])
            if order.index(after) < order.index(before):
                return f"{_show(after)} needs the result of {_show(before)}, but came first"
        return None


def canonical(call: Call) -> str:
    """A call as text, with integral floats as integers (1.0 == 1), keys sorted."""
    return call.name + json.dumps(_integral(call.arguments), sort_keys=True, separators=(",", ":"), default=str)


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _show(key: str) -> str:
    name, _, arguments = key.partition("{")
    return f"{name}({{{arguments}"[:160] + ")"


def _called_before_second_user_turn(messages: list[dict[str, Any]]) -> bool:
    users = 0
    for message in messages:
        users += message.get("role") == "user"
        if message.get("tool_calls") and users < 2:
            return True
    return False


def conversation_problem(messages: list[dict[str, Any]]) -> str | None:
    """Why ``messages`` are not a well-formed tool-use conversation in OpenAI chat format, or None."""
    if not messages or messages[0].get("role") != "user" or not _text(messages[0].get("content")):
        return "the conversation must start with a non-empty user message"
    pending: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in pending or not isinstance(message.get("content"), str):
                return f"message {i}: a tool result must answer an open call and hold text"
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            return f"message {i}: a new {role} message before every tool call got its result"
        if role == "assistant" and message.get("tool_calls"):
            problem = _calls_problem(message["tool_calls"])
            if problem:
                return f"message {i}: {problem}"
            pending = {c["id"] for c in message["tool_calls"]}
        elif role not in ("user", "assistant") or not _text(message.get("content")):
            return f"message {i}: a {role!r} message needs non-empty text"
    if pending:
        return "the conversation ends with tool calls that got no result"
    if messages[-1].get("role") != "assistant" or messages[-1].get("tool_calls"):
        return "the conversation must end with the assistant's answer"
    return None


def _calls_problem(calls: Any) -> str | None:
    if not isinstance(calls, list):
        return "tool_calls must be a list"
    ids = set()
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not _text(function.get("name")) or not _text(call.get("id")):
            return "each tool call needs an id and a function name"
        try:
            arguments = json.loads(function.get("arguments") or "")
        except (TypeError, ValueError):
            return f"the arguments of '{function['name']}' are not valid JSON"
        if not isinstance(arguments, dict):
            return f"the arguments of '{function['name']}' are not a JSON object"
        ids.add(call["id"])
    return None if len(ids) == len(calls) else "tool call ids repeat"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
