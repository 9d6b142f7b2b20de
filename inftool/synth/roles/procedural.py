"""The procedural role-players: spec-grounded, seeded, no LLM.

The user phrases the hidden goal (turn by turn when it has several turns); the assistant is a teacher
that replays the goal's planned calls step by step (asking first for a withheld argument, declining
when nothing fits, answering at the end of each user turn); the server validates each call against the
tool's schema and returns a schema-consistent result, the same one for the same call within an episode,
with the fields a later step needs (a stateful goal's calls are answered by its environment instead).
"""

from __future__ import annotations

import json
import random
from typing import Any

from inftool.catalog import Tool
from inftool.catalog.arguments import ArgumentChecks
from inftool.core.episode import Call, Goal
from inftool.envs import result_data
from inftool.synth.language.phrasing import Phraser
from inftool.synth.roles.base import Result, Turn
from inftool.synth.values.sampler import ValueSampler

OUT_OF_SCOPE = [
    "Can you recommend a good novel to read on a long flight?",
    "What's a simple recipe for banana bread?",
    "Could you write a short poem about autumn leaves?",
    "How do I get red wine out of a white shirt?",
    "What are some good stretches after a long run?",
    "Can you explain the rules of cricket in a few sentences?",
]
"""Requests no tool can serve, used for irrelevance when the catalog has no tool from another domain."""


class ProceduralUser:
    def __init__(self, phraser: Phraser, catalog: dict[str, Tool], vagueness: float):
        self.phraser, self.catalog, self.vagueness = phraser, catalog, vagueness

    def request(self, goal: Goal, tools: dict[str, Tool], rng: random.Random) -> str:
        if goal.complexity == "irrelevance":
            if goal.topic is None:
                return rng.choice(OUT_OF_SCOPE)
            return self.phraser.irrelevant_request(self.catalog[goal.topic], rng, persona=goal.persona)
        if goal.turns:
            return self.phraser.turn_request(goal, 0, rng, persona=goal.persona)
        return self.phraser.request(goal, self.catalog, rng, persona=goal.persona, vague=rng.random() < self.vagueness)

    def clarify(self, goal: Goal, question: str, rng: random.Random) -> str:
        return self.phraser.clarification(goal, self.catalog[goal.target], rng)

    def follow_up(self, goal: Goal, turn: int, messages: list[dict[str, Any]], rng: random.Random) -> str:
        return self.phraser.turn_request(goal, turn, rng, persona=goal.persona)


class ProceduralAssistant:
    """The teacher: replays the goal (it is the only role that may read it)."""

    def __init__(self, phraser: Phraser):
        self.phraser = phraser

    def respond(self, messages: list[dict[str, Any]], tools: list[Tool], goal: Goal, rng: random.Random) -> Turn:
        if goal.complexity == "irrelevance":
            return Turn(content=self.phraser.refusal(messages[0]["content"], tools, rng))
        if goal.turns:
            return self._turn(messages, goal, rng)
        users = sum(1 for m in messages if m["role"] == "user")
        if goal.withheld and users == 1:
            target = next(t for t in tools if t.name == goal.target)
            return Turn(content=self.phraser.clarifying_question(target, goal.withheld, rng))
        done = sum(1 for m in messages if m["role"] == "assistant" and m.get("tool_calls"))
        if done < len(goal.steps):
            return Turn(calls=list(goal.steps[done]))
        return Turn(content=self.phraser.final_answer(goal, _results(messages), rng))

    def _turn(self, messages: list[dict[str, Any]], goal: Goal, rng: random.Random) -> Turn:
        """A goal of several turns: the current user turn's next planned step, or the reply that ends the turn."""
        users = sum(1 for m in messages if m["role"] == "user")
        done = sum(1 for m in messages if m["role"] == "assistant" and m.get("tool_calls"))
        if done < sum(turn.steps for turn in goal.turns[:users]):
            return Turn(calls=list(goal.steps[done]))
        last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
        return Turn(content=self.phraser.turn_answer(goal, _results(messages[last_user:]), rng))


def _results(messages: list[dict[str, Any]]) -> list[tuple[Call, Any]]:
    """(call, result) pairs of the conversation so far (a result that is not JSON, as an environment may give,
    as its text)."""
    calls = {c["id"]: Call(c["function"]["name"], json.loads(c["function"]["arguments"]))
             for m in messages for c in m.get("tool_calls") or []}
    return [(calls[m["tool_call_id"]], result_data(m["content"])) for m in messages if m["role"] == "tool"]


class ProceduralServer:
    def __init__(self, values: ValueSampler, checks: ArgumentChecks):
        self.values, self.checks = values, checks

    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]], rng: random.Random) -> Result:
        for before, result in earlier:
            if before.key() == call.key():  # JSON text: true and 1 are different calls
                return result
        problem = self.checks.problem(tool, call.arguments)
        if problem:
            return Result({"error": problem}, error=True)
        return Result(self.values.result(tool, call.arguments, rng, must_include=_linked_fields(goal, call)))


def _linked_fields(goal: Goal, call: Call) -> dict[str, Any] | None:
    """Fields this call's result must carry because a later step of the goal uses them."""
    fields = {}
    for link in goal.links:
        if goal.steps[link.from_step][link.from_call] == call:
            fields[link.field] = goal.steps[link.to_step][link.to_call].arguments.get(link.argument)
    return fields or None
