"""Role-play with the procedural roles (and small fake roles): well-formed conversations, call ids answered
in order, multi_turn and irrelevance shapes, a consistent server, and unknown tools or invalid calls caught."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from inftool.catalog import Catalog, Tool, read_spec
from inftool.catalog.arguments import ArgumentChecks
from inftool.core.episode import Call, Episode, Goal
from inftool.synth.language.phrasing import PERSONAS, Phraser
from inftool.synth.planner import ScenarioPlanner, ScenarioSettings
from inftool.synth.roles.base import Result, Turn
from inftool.synth.roles.dialogue import MAX_TURNS, Cast, play
from inftool.synth.roles.procedural import (
    OUT_OF_SCOPE,
    ProceduralAssistant,
    ProceduralServer,
    ProceduralUser,
)
from inftool.synth.values.sampler import ValueSampler
from inftool.synth.verify.dedup import Deduplicator
from inftool.synth.verify.gates import GATE_ORDER, Verifier, conversation_problem

REPO = Path(__file__).resolve().parents[2]
DOMAINS = ("travel", "finance", "devops", "health", "commerce")
COMPLEXITIES = ("single", "parallel", "multiple", "parallel_multiple", "multi_step", "multi_turn", "irrelevance")


class World:
    """A catalog with procedural roles and a verifier, as a run builds them."""

    def __init__(self, tools: list[Tool], seed: int = 0):
        self.catalog = {t.name: t for t in Catalog(tools)}
        self.values, self.checks = ValueSampler(seed), ArgumentChecks()
        self.planner = ScenarioPlanner(Catalog(tools), self.values, ScenarioSettings(), PERSONAS)
        phraser = Phraser(seed, self.values)
        self.user = ProceduralUser(phraser, self.catalog, vagueness=0.3)
        self.assistant = ProceduralAssistant(phraser)
        self.server = ProceduralServer(self.values, self.checks)

    def cast(self, assistant=None, server=None) -> Cast:
        return Cast(self.user, assistant or self.assistant, server or self.server)

    def verifier(self, gates=GATE_ORDER) -> Verifier:
        return Verifier(self.catalog, list(gates), self.checks, Deduplicator(0.9))

    def episode(self, goal: Goal, cast: Cast | None = None, seed: Any = 0) -> Episode:
        played = play(goal, cast or self.cast(), self.catalog, random.Random(seed))
        return Episode("e", 0, 0, goal, played.messages, [self.catalog[n].to_openai() for n in goal.offered],
                       call_errors=played.call_errors)


@pytest.fixture(scope="module")
def world() -> World:
    return World([t for d in DOMAINS for t in read_spec(REPO / "catalog" / f"{d}.yaml").tools])


def eligible(tool: Tool, complexity: str) -> bool:
    if complexity in ("parallel", "parallel_multiple", "multi_step"):
        return bool(tool.properties)
    return bool(tool.required) if complexity == "multi_turn" else True


def roles(messages: list[dict]) -> list[str]:
    return [m["role"] + ("+calls" if m.get("tool_calls") else "") for m in messages]


def check_ids_answered_in_order(messages: list[dict]) -> list[str]:
    """Each assistant tool_calls message is followed by one tool message per call, in the calls' order."""
    ids = []
    for i, message in enumerate(messages):
        if message.get("tool_calls"):
            calls = message["tool_calls"]
            answers = messages[i + 1 : i + 1 + len(calls)]
            assert [a["role"] for a in answers] == ["tool"] * len(calls)
            assert [a["tool_call_id"] for a in answers] == [c["id"] for c in calls]
            assert [a["name"] for a in answers] == [c["function"]["name"] for c in calls]
            ids += [c["id"] for c in calls]
    assert len(ids) == len(set(ids)), ids
    return ids


# --- fake roles -------------------------------------------------------------------------------------


class ScriptedAssistant:
    """Plays a fixed list of turns, then says it is done."""

    def __init__(self, *turns: Turn):
        self.turns = list(turns)

    def respond(self, messages, tools, goal, rng) -> Turn:
        return self.turns.pop(0) if self.turns else Turn(content="All done.")


class AlwaysCalling:
    """Never stops calling tools."""

    def __init__(self, call: Call):
        self.call = call

    def respond(self, messages, tools, goal, rng) -> Turn:
        return Turn(calls=[self.call])


class OutageServer:
    """A server whose every call fails, however valid."""

    def call(self, tool, call, goal, earlier, rng) -> Result:
        return Result({"error": f"{tool.name} is temporarily unavailable"}, error=True)


# --- every complexity ---------------------------------------------------------------------------------


def test_every_complexity_plays_a_well_formed_conversation_that_passes_every_gate(world):
    verifier, played = world.verifier(), 0
    for t, tool in enumerate(world.catalog.values()):
        for complexity in COMPLEXITIES:
            if not eligible(tool, complexity):
                continue
            rng = random.Random(f"{t}:{complexity}")
            goal = world.planner.plan(complexity, tool.name, rng)
            played_ = play(goal, world.cast(), world.catalog, rng)
            messages = played_.messages
            assert conversation_problem(messages) is None, (complexity, tool.name, messages)
            assert played_.call_errors == []
            ids = check_ids_answered_in_order(messages)
            assert ids == [f"call_{i}" for i in range(len(goal.calls))]
            made = [Call(c["function"]["name"], json.loads(c["function"]["arguments"]))
                    for m in messages for c in m.get("tool_calls") or []]
            assert made == goal.calls  # the teacher replays the plan, step by step
            steps = [len(m["tool_calls"]) for m in messages if m.get("tool_calls")]
            assert steps == [len(s) for s in goal.steps]
            episode = Episode(f"{t}{complexity}", 0, played, goal, messages, [], call_errors=played_.call_errors)
            verdicts = verifier.verify(episode)
            assert [v.gate for v in verdicts] == list(GATE_ORDER) and all(v.passed for v in verdicts), verdicts
            played += 1
    assert played > 300


def test_multi_turn_asks_then_calls(world):
    for seed in range(10):
        goal = world.planner.plan("multi_turn", "book_appointment", random.Random(seed))
        episode = world.episode(goal, seed=seed)
        assert roles(episode.messages) == ["user", "assistant", "user", "assistant+calls", "tool", "assistant"]
        question, answer = episode.messages[1]["content"], episode.messages[2]["content"]
        assert question.strip() and answer.strip()
        value = goal.calls[0].arguments[goal.withheld]
        if isinstance(value, str) and len(value) > 3:  # the answer gives the withheld value
            assert value in answer or value.lower() in answer.lower(), (value, answer)


def test_irrelevance_answers_without_calling(world):
    for seed in range(10):
        goal = world.planner.plan("irrelevance", "search_flights", random.Random(seed))
        episode = world.episode(goal, seed=seed)
        assert roles(episode.messages) == ["user", "assistant"]
        assert episode.made_calls == [] and episode.call_errors == []
        assert episode.messages[0]["content"] not in OUT_OF_SCOPE  # a far tool's task, phrased


def test_irrelevance_on_a_one_tool_catalog_uses_an_out_of_scope_request():
    tool = read_spec(REPO / "catalog" / "travel.yaml").tools[0]
    world = World([tool])
    goal = world.planner.plan("irrelevance", tool.name, random.Random(0))
    episode = world.episode(goal)
    assert episode.messages[0]["content"] in OUT_OF_SCOPE
    assert roles(episode.messages) == ["user", "assistant"]
    assert all(v.passed for v in world.verifier().verify(episode))


# --- the server ----------------------------------------------------------------------------------------


def test_server_gives_the_same_result_for_the_same_call(world):
    tool = world.catalog["get_stock_quote"]
    goal = world.planner.plan("single", tool.name, random.Random(1))
    call = goal.calls[0]
    first = world.server.call(tool, call, goal, [], random.Random(1))
    assert not first.error
    again = world.server.call(tool, Call(call.name, dict(reversed(list(call.arguments.items())))), goal,
                              [(call, first)], random.Random(99))
    assert again.content == first.content
    fresh = world.server.call(tool, call, goal, [], random.Random(99))  # no memory: a new result
    assert fresh.content != first.content


def test_repeated_call_in_an_episode_gets_the_identical_tool_message(world):
    goal = world.planner.plan("single", "get_stock_quote", random.Random(2))
    call = goal.calls[0]
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn(calls=[call]), Turn(calls=[call]))))
    tool_messages = [m for m in episode.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_0", "call_1"]
    assert tool_messages[0]["content"] == tool_messages[1]["content"]


def test_server_returns_an_error_result_for_invalid_arguments(world):
    tool, goal = world.catalog["search_flights"], Goal("single", "search_flights", ["search_flights"], [])
    missing = world.server.call(tool, Call(tool.name, {"origin": "SFO", "destination": "NRT"}), goal, [],
                                random.Random(0))
    assert missing.error and missing.content == {"error": "search_flights: 'depart_date' is a required property"}
    wrong = world.server.call(tool, Call(tool.name, {"origin": "SFO", "destination": "NRT", "depart_date": "2025-03-14",
                                                     "adults": "two"}), goal, [], random.Random(0))
    assert wrong.error and wrong.content == {"error": "search_flights: argument 'adults': 'two' is not of type 'integer'"}
    ok = world.server.call(tool, Call(tool.name, {"origin": "SFO", "destination": "NRT", "depart_date": "2025-03-14",
                                                  "adults": 2}), goal, [], random.Random(0))
    assert not ok.error and isinstance(ok.content, dict)


def test_server_does_not_reuse_a_result_for_a_call_that_differs_only_by_bool_vs_int(world):
    tool, goal = world.catalog["search_flights"], Goal("single", "search_flights", ["search_flights"], [])
    arguments = {"origin": "SFO", "destination": "NRT", "depart_date": "2025-03-14"}
    valid = Call(tool.name, {**arguments, "adults": 1})
    first = world.server.call(tool, valid, goal, [], random.Random(0))
    assert not first.error
    invalid = Call(tool.name, {**arguments, "adults": True})
    assert world.checks.problem(tool, invalid.arguments) == "search_flights: argument 'adults': True is not of type 'integer'"
    second = world.server.call(tool, invalid, goal, [(valid, first)], random.Random(0))
    assert second.error


# --- misbehaving assistants and servers -------------------------------------------------------------


def test_calling_an_unknown_tool_gets_an_error_message_and_fails_the_schema_gate(world):
    goal = world.planner.plan("single", "get_fx_rate", random.Random(3))
    cast = world.cast(ScriptedAssistant(Turn(calls=[Call("launch_rocket", {"target": "moon"})])))
    episode = world.episode(goal, cast)
    assert roles(episode.messages) == ["user", "assistant+calls", "tool", "assistant"]
    tool_message = episode.messages[2]
    assert tool_message["name"] == "launch_rocket"
    assert json.loads(tool_message["content"]) == {"error": "no tool named 'launch_rocket' is offered"}
    assert episode.call_errors == ["no tool named 'launch_rocket' is offered"]
    verdicts = world.verifier().verify(episode)
    assert [(v.gate, v.passed) for v in verdicts] == [("format", True), ("schema", False)]
    assert verdicts[-1].reason == "called 'launch_rocket', which is not among the offered tools"
    # without the schema gate, execution catches it, still naming the tool
    verdicts = world.verifier(["format", "execution", "consistency"]).verify(episode)
    assert [(v.gate, v.passed) for v in verdicts] == [("format", True), ("execution", False)]
    assert verdicts[-1].reason == "the server rejected a call: no tool named 'launch_rocket' is offered"


def test_calling_a_catalog_tool_that_is_not_offered_is_refused(world):
    goal = world.planner.plan("single", "get_fx_rate", random.Random(3))
    wrong = world.planner.plan("single", "get_stock_quote", random.Random(3)).calls[0]
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn(calls=[wrong]))))
    assert json.loads(episode.messages[2]["content"]) == {"error": "no tool named 'get_stock_quote' is offered"}
    verdict = world.verifier().verify(episode)[-1]
    assert (verdict.gate, verdict.reason) == ("schema", "called 'get_stock_quote', which is not among the offered tools")


def test_invalid_arguments_fail_the_schema_gate_naming_the_argument(world):
    goal = world.planner.plan("single", "search_flights", random.Random(4))
    bad = Call("search_flights", {**goal.calls[0].arguments, "adults": "two"})
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn(calls=[bad]))))
    assert episode.call_errors == ["search_flights: argument 'adults': 'two' is not of type 'integer'"]
    verdict = world.verifier().verify(episode)[-1]
    assert (verdict.gate, verdict.passed) == ("schema", False)
    assert verdict.reason == "search_flights: argument 'adults': 'two' is not of type 'integer'"


def test_a_failing_server_fails_the_execution_gate(world):
    goal = world.planner.plan("single", "get_fx_rate", random.Random(5))
    episode = world.episode(goal, world.cast(server=OutageServer()))
    assert conversation_problem(episode.messages) is None
    verdicts = world.verifier().verify(episode)
    assert [(v.gate, v.passed) for v in verdicts] == [("format", True), ("schema", True), ("execution", False)]
    assert verdicts[-1].reason == "the server rejected a call: get_fx_rate is temporarily unavailable"


def test_calling_before_asking_in_multi_turn_fails_consistency(world):
    goal = world.planner.plan("multi_turn", "book_appointment", random.Random(6))
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn(calls=goal.calls[:1]))))
    # the user still answers once the assistant speaks; the call came before that
    assert roles(episode.messages) == ["user", "assistant+calls", "tool", "assistant", "user", "assistant"]
    verdict = world.verifier().verify(episode)[-1]
    assert (verdict.gate, verdict.passed) == ("consistency", False)
    assert verdict.reason == f"called a tool before asking for the missing '{goal.withheld}'"


def test_calling_in_irrelevance_fails_consistency(world):
    goal = world.planner.plan("irrelevance", "get_fx_rate", random.Random(7))
    call = world.planner.plan("single", "get_fx_rate", random.Random(7)).calls[0]
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn(calls=[call]))))
    verdict = world.verifier().verify(episode)[-1]
    assert (verdict.gate, verdict.reason) == ("consistency", "called 'get_fx_rate' although no offered tool fits the request")


def test_an_assistant_that_never_stops_calling_is_cut_off_and_fails_format(world):
    goal = world.planner.plan("single", "get_fx_rate", random.Random(8))
    episode = world.episode(goal, world.cast(AlwaysCalling(goal.calls[0])))
    assert sum(1 for m in episode.messages if m.get("tool_calls")) == MAX_TURNS
    check_ids_answered_in_order(episode.messages)
    verdicts = world.verifier().verify(episode)
    assert verdicts == [type(verdicts[0])("format", False, "the conversation must end with the assistant's answer")]


def test_an_empty_assistant_turn_fails_format(world):
    goal = world.planner.plan("single", "get_fx_rate", random.Random(9))
    episode = world.episode(goal, world.cast(ScriptedAssistant(Turn())))
    assert episode.messages[-1] == {"role": "assistant", "content": ""}
    assert world.verifier().verify(episode)[0].reason == "message 1: a 'assistant' message needs non-empty text"
