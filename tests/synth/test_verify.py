"""Verifier gates on hand-built episodes: each gate's failure and its exact reason, the order of gates,
skipped gates, canonical call comparison, and dedup remembering accepted requests only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inftool.catalog import Tool
from inftool.catalog.arguments import ArgumentChecks
from inftool.core.episode import Call, Episode, Goal, Link, Verdict
from inftool.synth.verify.dedup import Deduplicator
from inftool.synth.verify.gates import GATE_ORDER, Verifier, canonical, conversation_problem

WEATHER = Tool(name="get_weather", original_name="get_weather", description="Current weather for a city.",
               source="test", parameters={"type": "object", "properties": {
                   "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                   "required": ["city"]})
CONVERT = Tool(name="convert_currency", original_name="convert_currency", description="Convert an amount.",
               source="test", parameters={"type": "object", "properties": {
                   "amount": {"type": "number", "minimum": 0}, "from_currency": {"type": "string"},
                   "to_currency": {"type": "string"}}, "required": ["amount", "from_currency", "to_currency"]})
FLIGHTS = Tool(name="search_flights", original_name="search_flights", description="Search flights.", source="test",
               parameters={"type": "object", "properties": {"origin": {"type": "string"},
                                                            "adults": {"type": "integer"}}, "required": ["origin"]},
               output_schema={"type": "object", "properties": {"flight_id": {"type": "string"}}})
SEATS = Tool(name="get_seat_map", original_name="get_seat_map", description="Seat map of a flight.", source="test",
             parameters={"type": "object", "properties": {"flight_id": {"type": "string"}}, "required": ["flight_id"]})
CATALOG = {t.name: t for t in (WEATHER, CONVERT, FLIGHTS, SEATS)}

PARIS = Call("get_weather", {"city": "Paris"})
EUROS = Call("convert_currency", {"amount": 100, "from_currency": "USD", "to_currency": "EUR"})


def verifier(gates=GATE_ORDER, threshold: float = 0.9) -> Verifier:
    return Verifier(CATALOG, list(gates), ArgumentChecks(), Deduplicator(threshold))


def user(text: str = "What's the weather in Paris?") -> dict:
    return {"role": "user", "content": text}


def calls(*pairs: tuple[str, Any], first: int = 0) -> dict:
    """An assistant message calling ``(name, arguments)`` pairs; arguments that are not str are JSON-encoded."""
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": f"call_{first + i}", "type": "function",
         "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for i, (name, args) in enumerate(pairs)]}


def result(i: int, content: Any = None) -> dict:
    return {"role": "tool", "tool_call_id": f"call_{i}", "content": json.dumps(content or {"ok": True})}


def answer(text: str = "Here you go.") -> dict:
    return {"role": "assistant", "content": text}


def episode(goal: Goal, messages: list[dict], **kw: Any) -> Episode:
    return Episode("e1", 0, 0, goal, messages, [CATALOG[n].to_openai() for n in goal.offered], **kw)


def single(call: Call = PARIS, offered: list[str] | None = None) -> Goal:
    return Goal("single", call.name, offered or [call.name], [[call]])


def good(request: str = "What's the weather in Paris?", call: Call = PARIS) -> Episode:
    return episode(single(call), [user(request), calls((call.name, call.arguments)), result(0), answer()])


def failed(verdicts: list[Verdict]) -> tuple[str, str]:
    """(gate, reason) of the last verdict, which must be the only failure."""
    assert all(v.passed for v in verdicts[:-1]) and not verdicts[-1].passed, verdicts
    return verdicts[-1].gate, verdicts[-1].reason


def test_a_good_episode_passes_every_gate_in_order():
    verdicts = verifier().verify(good())
    assert verdicts == [Verdict(g, True, "") for g in GATE_ORDER]


# --- format --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("messages", "reason"), [
    ([], "the conversation must start with a non-empty user message"),
    ([answer(), user(), answer()], "the conversation must start with a non-empty user message"),
    ([user("   "), answer()], "the conversation must start with a non-empty user message"),
    ([user(), calls(("get_weather", '{"city": "Paris"')), result(0), answer()],
     "message 1: the arguments of 'get_weather' are not valid JSON"),
    ([user(), calls(("get_weather", "")), result(0), answer()],
     "message 1: the arguments of 'get_weather' are not valid JSON"),
    ([user(), calls(("get_weather", '["Paris"]')), result(0), answer()],
     "message 1: the arguments of 'get_weather' are not a JSON object"),
    ([user(), calls(("get_weather", {"city": "Paris"})), answer()],
     "message 2: a new assistant message before every tool call got its result"),
    ([user(), calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})), result(0), answer()],
     "message 3: a new assistant message before every tool call got its result"),
    ([user(), calls(("get_weather", {"city": "Paris"}))], "the conversation ends with tool calls that got no result"),
    ([user(), calls(("get_weather", {"city": "Paris"})), result(0)],
     "the conversation must end with the assistant's answer"),
    ([user()], "the conversation must end with the assistant's answer"),
    ([user(), calls(("get_weather", {"city": "Paris"})), result(1), answer()],
     "message 2: a tool result must answer an open call and hold text"),
    ([user(), calls(("get_weather", {"city": "Paris"})), result(0), result(0), answer()],
     "message 3: a tool result must answer an open call and hold text"),
    ([user(), calls(("get_weather", {"city": "Paris"})), {"role": "tool", "tool_call_id": "call_0", "content": {"a": 1}},
      answer()], "message 2: a tool result must answer an open call and hold text"),
    ([user(), {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "c", "content": "{}"}, answer()], "message 1: tool call ids repeat"),
    ([user(), {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {
        "name": "get_weather", "arguments": "{}"}}]}, answer()], "message 1: each tool call needs an id and a function name"),
    ([user(), answer(""), ], "message 1: a 'assistant' message needs non-empty text"),
    ([user(), {"role": "system", "content": "You are helpful."}, answer()],
     "message 1: a 'system' message needs non-empty text"),
])
def test_format_failures(messages, reason):
    verdicts = verifier().verify(episode(single(), messages))
    assert verdicts == [Verdict("format", False, reason)]
    assert conversation_problem(messages) == reason


def test_format_reports_a_role_play_failure_first():
    bad = good()
    bad.error = "LM returned no tool call after 3 retries"
    assert verifier().verify(bad) == [Verdict("format", False, "role-play failed: LM returned no tool call after 3 retries")]


def test_parallel_results_may_come_in_any_order_for_the_format_gate():
    messages = [user(), calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})), result(1),
                result(0), answer()]
    assert conversation_problem(messages) is None


# --- schema --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "reason"), [
    (("get_weather", {"city": 5}), "get_weather: argument 'city': 5 is not of type 'string'"),
    (("get_weather", {"city": "Paris", "unit": "kelvin"}),
     "get_weather: argument 'unit': 'kelvin' is not one of ['celsius', 'fahrenheit']"),
    (("get_weather", {"unit": "celsius"}), "get_weather: 'city' is a required property"),
    (("get_weather", {"city": "Paris", "country": "FR"}),
     "get_weather: unknown argument 'country' (expected one of: city, unit)"),
    (("convert_currency", {"amount": -1, "from_currency": "USD", "to_currency": "EUR"}),
     "convert_currency: argument 'amount': -1 is less than the minimum of 0"),
    (("search_flights", {"origin": "SFO"}), "called 'search_flights', which is not among the offered tools"),
])
def test_schema_failures_name_the_argument_or_tool(call, reason):
    goal = Goal("multiple", "get_weather", ["get_weather", "convert_currency"], [[PARIS]])
    messages = [user(), calls(call), result(0), answer()]
    assert failed(verifier().verify(episode(goal, messages))) == ("schema", reason)


def test_schema_checks_every_call_of_the_episode():
    goal = Goal("parallel", "get_weather", ["get_weather"], [[PARIS, Call("get_weather", {"city": "Rome"})]])
    messages = [user(), calls(("get_weather", {"city": "Paris"})), result(0),
                calls(("get_weather", {"city": ["Rome"]}), first=1), result(1), answer()]
    assert failed(verifier().verify(episode(goal, messages))) == (
        "schema", "get_weather: argument 'city': ['Rome'] is not of type 'string'")


# --- execution -----------------------------------------------------------------------------------


def test_execution_fails_on_a_server_error_with_its_text():
    ep = good()
    ep.call_errors = ["get_weather: upstream timeout", "second error"]
    assert failed(verifier().verify(ep)) == ("execution", "the server rejected a call: get_weather: upstream timeout")


# --- consistency ---------------------------------------------------------------------------------


def consistency(goal: Goal, messages: list[dict]) -> tuple[str, str]:
    return failed(verifier(["format", "schema", "execution", "consistency"]).verify(episode(goal, messages)))


def test_missing_call():
    goal = Goal("parallel_multiple", "get_weather", ["get_weather", "convert_currency"], [[PARIS, EUROS]])
    messages = [user(), calls(("get_weather", {"city": "Paris"})), result(0), answer()]
    assert consistency(goal, messages) == (
        "consistency", 'missing call convert_currency({"amount":100,"from_currency":"USD","to_currency":"EUR"})')


def test_unexpected_call():
    messages = [user(), calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Paris", "unit": "celsius"})),
                result(0), result(1), answer()]
    assert consistency(single(), messages) == ("consistency", 'unexpected call get_weather({"city":"Paris","unit":"celsius"})')


def test_a_repeated_call_is_unexpected():
    messages = [user(), calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Paris"})),
                result(0), result(1), answer()]
    assert consistency(single(), messages) == ("consistency", 'unexpected call get_weather({"city":"Paris"})')


def test_wrong_argument_value_is_a_missing_call():
    messages = [user(), calls(("get_weather", {"city": "Lyon"})), result(0), answer()]
    assert consistency(single(), messages) == ("consistency", 'missing call get_weather({"city":"Paris"})')


def test_multi_step_order_must_follow_the_link():
    first, second = Call("search_flights", {"origin": "SFO"}), Call("get_seat_map", {"flight_id": "F1"})
    goal = Goal("multi_step", "get_seat_map", ["search_flights", "get_seat_map"], [[first], [second]],
                links=[Link(0, 0, "flight_id", 1, 0, "flight_id")])
    right = [user(), calls(("search_flights", first.arguments)), result(0, {"flight_id": "F1"}),
             calls(("get_seat_map", second.arguments), first=1), result(1), answer()]
    assert all(v.passed for v in verifier().verify(episode(goal, right)))
    wrong = [user(), calls(("get_seat_map", second.arguments)), result(0),
             calls(("search_flights", first.arguments), first=1), result(1, {"flight_id": "F1"}), answer()]
    assert consistency(goal, wrong) == (
        "consistency", 'get_seat_map({"flight_id":"F1"}) needs the result of search_flights({"origin":"SFO"}), but came first')


def test_multi_turn_must_ask_before_calling():
    goal = Goal("multi_turn", "get_weather", ["get_weather"], [[PARIS]], withheld="city")
    asked = [user("What's the weather?"), answer("Which city?"), user("Paris."), calls(("get_weather", PARIS.arguments)),
             result(0), answer()]
    assert all(v.passed for v in verifier().verify(episode(goal, asked)))
    hasty = [user("What's the weather?"), calls(("get_weather", PARIS.arguments)), result(0), answer("Which city?"),
             user("Paris."), answer()]
    assert consistency(goal, hasty) == ("consistency", "called a tool before asking for the missing 'city'")


def test_irrelevance_must_not_call():
    goal = Goal("irrelevance", "get_weather", ["get_weather"], [], topic="convert_currency")
    declined = [user("Convert 100 USD to EUR."), answer("Sorry, I can only look up the weather.")]
    assert all(v.passed for v in verifier().verify(episode(goal, declined)))
    called = [user("Convert 100 USD to EUR."), calls(("get_weather", {"city": "Paris"})), result(0), answer()]
    assert consistency(goal, called) == ("consistency", "called 'get_weather' although no offered tool fits the request")


def test_integer_valued_floats_equal_integers():
    goal = single(EUROS)
    messages = [user("Convert 100 USD to EUR."),
                calls(("convert_currency", {"amount": 100.0, "from_currency": "USD", "to_currency": "EUR"})),
                result(0), answer()]
    assert all(v.passed for v in verifier().verify(episode(goal, messages)))
    messages[1] = calls(("convert_currency", {"amount": 100.5, "from_currency": "USD", "to_currency": "EUR"}))
    assert consistency(goal, messages)[1].startswith("missing call convert_currency(")
    assert canonical(Call("t", {"b": [1.0, {"c": 2.0}], "a": 3.5})) == 't{"a":3.5,"b":[1,{"c":2}]}'
    assert canonical(Call("t", {"x": 1.0})) == canonical(Call("t", {"x": 1}))
    assert canonical(Call("t", {"x": True})) != canonical(Call("t", {"x": 1}))
    assert canonical(Call("t", {"b": 1, "a": 2})) == canonical(Call("t", {"a": 2, "b": 1}))


# --- which gates run --------------------------------------------------------------------------------


def test_gates_after_the_first_failure_are_not_evaluated():
    ep = episode(single(), [user(), calls(("get_weather", {"city": 5})), result(0), answer()])
    ep.call_errors = ["get_weather: argument 'city': 5 is not of type 'string'"]  # execution would fail too
    dedup = Deduplicator(0.9)
    verdicts = Verifier(CATALOG, list(GATE_ORDER), ArgumentChecks(), dedup).verify(ep)
    assert [v.gate for v in verdicts] == ["format", "schema"]
    assert dedup.signatures == [] and dedup.exact == set()


def test_gates_not_listed_are_skipped_and_order_is_fixed():
    ep = episode(single(), [user(), calls(("get_weather", {"city": 5})), result(0), answer()])  # fails schema
    verdicts = verifier(["dedup", "consistency"]).verify(ep)
    assert verdicts == [Verdict("consistency", False, 'missing call get_weather({"city":"Paris"})')]
    verdicts = verifier(["dedup", "format"]).verify(ep)
    assert verdicts == [Verdict("format", True), Verdict("dedup", True)]
    assert verifier([]).verify(ep) == [] and not ep.accepted


# --- dedup through the verifier -----------------------------------------------------------------------


def test_a_rejected_episode_does_not_enter_the_dedup_index():
    v = verifier()
    request = "What's the weather in Paris today?"
    rejected = episode(single(), [user(request), calls(("get_weather", {"city": "Lyon"})), result(0), answer()])
    assert failed(v.verify(rejected))[0] == "consistency"
    accepted = good(request)
    assert all(x.passed for x in v.verify(accepted)) and len(v.dedup.signatures) == 1
    again = good(request.upper() + "!!")
    assert failed(v.verify(again)) == ("dedup", "exact duplicate of an earlier request")
    assert len(v.dedup.signatures) == 1  # the duplicate is not added either


def test_dedup_gate_flags_near_duplicates_through_the_verifier():
    v = verifier(threshold=0.8)
    base = ("Could you check the current weather in Paris for me, since I am flying there tomorrow morning and want "
            "to know whether I should pack an umbrella and a warm coat for the long walk from the station")
    assert all(x.passed for x in v.verify(good(base)))
    # one extra word adds one 3-gram to 36: true Jaccard 36/37 = 0.97; 60 of 64 MinHash values agree
    assert failed(v.verify(good(base + " please"))) == (
        "dedup", "near-duplicate of an earlier request (estimated Jaccard 0.94)")
    assert all(x.passed for x in v.verify(good("Convert 100 dollars into euros at today's rate, please.")))
