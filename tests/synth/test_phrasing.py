"""Phraser: requests state every value (and only the ones they should), vary in shape, and are deterministic."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from inftool.catalog import Tool, read_bfcl, read_spec
from inftool.core.episode import Call, Goal, Link
from inftool.errors import DataUnavailableError
from inftool.synth.language.parts import args_text, named_in_task, scene, tool_words, without_object
from inftool.synth.language.phrasing import PERSONAS, Phraser
from inftool.synth.language.units import unit_in
from inftool.synth.language.wording import label, task_phrase, value_text
from inftool.synth.values.names import normalise

REPO = Path(__file__).resolve().parents[2]
CATALOGS = sorted((REPO / "catalog").glob("*.yaml")) + [REPO / "catalog" / "openapi" / "library.yaml"]


@pytest.fixture(scope="module")
def tools() -> dict[str, Tool]:
    return {t.name: t for path in CATALOGS for t in read_spec(path).tools}


@pytest.fixture(scope="module")
def bfcl() -> dict[str, Tool]:
    try:
        return {t.name: t for t in read_bfcl(["simple_python", "multiple", "parallel", "parallel_multiple"]).tools}
    except DataUnavailableError as exc:
        pytest.skip(f"BFCL data unavailable: {exc}")


def leaves(value):
    """The scalar values inside an argument value, as they must appear in a non-vague request."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def single(tool: Tool, arguments: dict) -> Goal:
    return Goal("single", tool.name, [tool.name], [[Call(tool.name, arguments)]])


def test_personas_and_task_phrases():
    assert len(PERSONAS) >= 30 and len(set(PERSONAS)) == len(PERSONAS)
    assert task_phrase("Calculates the area of a triangle given base and height.", "t") == \
        ("calculate the area of a triangle", "the area of a triangle")
    assert task_phrase("Search one-way or round-trip flights between two airports on given dates, optionally "
                       "filtered by cabin.", "t")[0] == "search one-way or round-trip flights between two airports"
    assert task_phrase("Current weather for a city.", "t") == ("get the current weather for a city",
                                                                "the current weather for a city")
    assert task_phrase("Reverses a string.", "t")[0] == "reverse a string"
    assert task_phrase("Compute the greatest common divisor of two given integers.", "t")[0] == \
        "compute the greatest common divisor of two integers"  # 'given' here says nothing; it ends no clause
    assert label("X-Request-Id") == "request ID" and label("weight_kg") == "weight in kg"


def test_every_value_appears_in_the_request(tools, bfcl):
    phraser, rng = Phraser(1), random.Random(1)
    for tool in list(tools.values()) + list(bfcl.values())[:300]:
        for _ in range(3):
            arguments = phraser.values.arguments(tool, rng, optional_share=0.6)
            text = phraser.request(single(tool, arguments), {tool.name: tool}, rng, persona=rng.choice(PERSONAS),
                                   vague=False)
            stated = {k: v for k, v in arguments.items() if not isinstance(v, bool)}
            missing = [leaf for leaf in leaves(stated) if leaf not in text]
            assert not missing, (tool.name, missing, text)
            for name in arguments.keys() - stated.keys():  # a flag in words: 'including area', 'without angles'
                assert any(word in text.lower() for word in normalise(name).split("_") if len(word) > 2), \
                    (tool.name, name, text)


def test_vague_values_stay_recoverable(tools):
    phraser, rng = Phraser(0), random.Random(0)
    tool = tools["search_flights"]
    arguments = {"origin": "SFO", "destination": "NRT", "depart_date": "2025-03-14", "adults": 2,
                 "cabin_class": "premium_economy"}
    for _ in range(100):
        text = phraser.request(single(tool, arguments), tools, rng, persona="", vague=True)
        assert "SFO" in text and "NRT" in text and "premium economy" in text or "premium_economy" in text
        assert re.search(r"March 14, 2025|14 March 2025|Mar 14, 2025|2025-03-14", text), text
        assert re.search(r"\b(2|two)\b", text), text


def test_requests_take_many_shapes(bfcl, tools):
    phraser, rng = Phraser(2), random.Random(2)
    for tool in (bfcl["calculate_triangle_area"], tools["search_flights"]):
        shapes = set()
        for _ in range(1000):
            arguments = phraser.values.arguments(tool, rng)
            text = phraser.request(single(tool, arguments), {tool.name: tool}, rng, persona="a librarian",
                                   vague=False)
            for leaf in sorted(set(leaves(arguments)), key=len, reverse=True):
                text = text.replace(leaf, "<V>")
            shapes.add(re.sub(r"\d+", "<N>", text))
        assert len(shapes) >= 300, (tool.name, len(shapes))


def test_parallel_and_multiple_requests_ask_for_every_call(bfcl):
    phraser, rng = Phraser(3), random.Random(3)
    area, factorial = bfcl["calculate_triangle_area"], bfcl["math_factorial"]
    for _ in range(200):
        calls = [Call(area.name, phraser.values.arguments(area, rng)) for _ in range(rng.randint(2, 3))]
        calls.append(Call(factorial.name, {"number": rng.randint(13, 40)}))
        goal = Goal("parallel_multiple", area.name, [area.name, factorial.name], [calls])
        text = phraser.request(goal, bfcl, rng, persona=rng.choice(PERSONAS), vague=False)
        for call in calls:
            assert all(leaf in text for leaf in leaves(call.arguments)), (call, text)
        assert "factorial" in text and "triangle" in text


def test_multi_turn_request_leaves_out_the_withheld_argument(tools):
    phraser, rng = Phraser(4), random.Random(4)
    tool = tools["search_flights"]
    for _ in range(200):
        arguments = phraser.values.arguments(tool, rng, optional_share=0.7)
        goal = Goal("multi_turn", tool.name, [tool.name], [[Call(tool.name, arguments)]], withheld="depart_date")
        text = phraser.request(goal, tools, rng, persona=rng.choice(PERSONAS), vague=rng.random() < 0.5)
        assert arguments["depart_date"] not in text
        assert "depart_date" not in text and "depart date" not in text.lower()
        question = phraser.clarifying_question(tool, "depart_date", rng)
        assert "depart" in question.lower() or "date" in question.lower()
        assert arguments["depart_date"] in phraser.clarification(goal, tool, rng)


def test_multi_step_request_does_not_state_the_linked_value(tools):
    phraser, rng = Phraser(5), random.Random(5)
    search, book = tools["search_flights"], tools["book_flight"]
    for _ in range(200):
        first = Call(search.name, phraser.values.arguments(search, rng))
        second_arguments = phraser.values.arguments(book, rng)
        second_arguments["flight_id"] = "OF-LINKED-777"
        goal = Goal("multi_step", search.name, [search.name, book.name],
                    [[first], [Call(book.name, second_arguments)]],
                    links=[Link(0, 0, "offers[0].flight_id", 1, 0, "flight_id")])
        text = phraser.request(goal, tools, rng, persona=rng.choice(PERSONAS), vague=False)
        assert "OF-LINKED-777" not in text
        assert "flight ID" in text
        assert all(leaf in text for leaf in leaves(first.arguments)), text


def test_irrelevant_request_clarification_answers_and_refusal(tools, bfcl):
    phraser, rng = Phraser(6), random.Random(6)
    topic = bfcl["math_factorial"]
    for _ in range(50):
        text = phraser.irrelevant_request(topic, rng, persona=rng.choice(PERSONAS))
        assert "factorial" in text and re.search(r"\d", text)
    offered = [tools["search_flights"], tools["book_flight"]]
    refusal = phraser.refusal("What is the factorial of 5?", offered, rng)
    assert "search one-way or round-trip flights" in refusal
    call = Call("get_service", {"service_name": "checkout-api"})
    result = {"service_name": "checkout-api", "ready_replicas": 3, "events": [{"type": "normal", "message": "ok"}]}
    answer = phraser.final_answer(single(tools["get_service"], call.arguments), [(call, result)], rng)
    assert "checkout-api" in answer and "3" in answer


def test_same_rng_same_text(tools):
    def texts(seed: int) -> list[str]:
        phraser, rng = Phraser(0), random.Random(seed)
        out = []
        for tool in tools.values():
            goal = single(tool, phraser.values.arguments(tool, rng))
            out.append(phraser.request(goal, tools, rng, persona="a nurse", vague=rng.random() < 0.5))
            out.append(phraser.final_answer(goal, [(goal.calls[0], phraser.values.result(tool, goal.calls[0].arguments, rng))], rng))
        return out

    assert texts(1) == texts(1)
    assert texts(1) != texts(2)


def _tool(name: str, description: str, properties: dict) -> Tool:
    return Tool(name=name, original_name=name, source="test", description=description,
                parameters={"type": "object", "properties": properties, "required": list(properties)})


def test_a_scene_sets_up_the_thing_the_task_is_about():
    circle = _tool("circle_area", "Calculates the area of a circle.",
                   {"radius": {"type": "number"}, "unit": {"type": "string"}})
    words, rng = tool_words(circle), random.Random(0)
    texts = [scene(words, {"radius": 4.5, "unit": "cm"}, rng, False, set()) for _ in range(40)]
    for text in texts:  # the measure sets up the circle, the question names it again, the rest stays attached
        assert re.search(r"\b(a|A) circle (has|with) a radius of 4\.5\b", text), text
        assert re.search(r"\b(the|this|that) circle\b", text) and "cm" in text, text
    assert len(set(texts)) >= 10
    assert scene(words, {"unit": "cm"}, rng, False, set()) is None  # no measure: no scene
    assert scene(words, {"radius": 4.5}, rng, False, {"radius"}) is None  # a withheld value is not stated
    primes = _tool("prime_factors", "Computes the prime factors of a number.", {"number": {"type": "integer"}})
    assert scene(tool_words(primes), {"number": 60}, rng, False, set()) is None  # 'a number has a number of 60'
    flights = _tool("flights", "Search flights between two airports.", {"adults": {"type": "integer"}})
    assert scene(tool_words(flights), {"adults": 2}, rng, False, set()) is None  # the task names no single thing


def test_numbered_siblings_are_said_as_ordinals():
    mix = _tool("mix", "Mix two bodies.", {"mass1": {"type": "number"}, "mass2": {"type": "number"},
                                           "temperature_1": {"type": "number"}, "ipv4": {"type": "string"}})
    labels = {k: w.label for k, w in tool_words(mix).params.items()}
    assert labels == {"mass1": "first mass", "mass2": "second mass", "temperature_1": "temperature 1",
                      "ipv4": "ipv4"}  # a lone numbered name keeps its number


def test_ranges_bounds_and_points_read_as_people_say_them():
    tool = _tool("integrate", "Integrates a function.", {
        "start_x": {"type": "integer"}, "end_x": {"type": "integer"}, "interval": {"type": "array"},
        "x_value": {"type": "number", "description": "The point at which to evaluate."},
        "time": {"type": "number", "description": "Elapsed time in seconds."}})
    words, rng = tool_words(tool), random.Random(0)
    assert words.param("start_x").preps == ("from {v}", "from x = {v}") and "to x = {v}" in words.param("end_x").preps
    assert words.param("x_value").preps == ("at {v}",)
    assert words.param("time").preps and all(value_text(3, words.param("time"), rng, False) == "3 seconds"
                                             for _ in range(10))  # a measure's preposition takes its unit
    assert {value_text([1, 3], words.param("interval"), rng, False) for _ in range(20)} == \
        {"from 1 to 3", "between 1 and 3"}


def test_a_task_takes_the_values_it_names_in_its_own_words():
    capital = _tool("capital", "Fetch the capital city of a country.", {"country": {"type": "string"}})
    primes = _tool("primes", "Computes the prime factors of a number.", {"number": {"type": "integer"},
                                                                          "limit": {"type": "integer"}})
    rng = random.Random(0)
    words, stated = named_in_task(tool_words(capital), {"country": "New Zealand"}, rng, False, set())
    assert words.vp == "find the capital city of New Zealand" and words.np == "the capital city of New Zealand"
    assert stated == {"country"}
    words, stated = named_in_task(tool_words(primes), {"number": 60, "limit": 3}, rng, False, set())
    assert words.vp == "compute the prime factors of 60" and stated == {"number"}
    assert named_in_task(tool_words(primes), {"number": 60}, rng, False, {"number"})[1] == set()  # withheld
    long = {"country": "the United Kingdom of Great Britain"}  # more than three words reads badly there
    assert named_in_task(tool_words(capital), long, rng, False, set())[1] == set()
    phraser = Phraser(0)
    texts = [phraser.request(single(capital, {"country": "Peru"}), {"capital": capital}, rng) for _ in range(50)]
    assert all("Peru" in t for t in texts) and sum("capital city of Peru" in t for t in texts) >= 20


def test_questions_about_plural_things_ask_what_are():
    from inftool.synth.language.parts import NP_FRAMES, frame

    rng = random.Random(0)
    asked = {frame(NP_FRAMES, "the roots of a quadratic equation", rng) for _ in range(300)}
    assert "What are the roots of a quadratic equation?" in asked
    assert not any(q.startswith(("What is", "What's")) for q in asked)
    assert "What is the area of a circle?" in {frame(NP_FRAMES, "the area of a circle", rng) for _ in range(300)}


def test_flags_are_said_in_words_not_as_true_or_false():
    tool = _tool("triangle_properties_get", "Retrieve the dimensions of a triangle.", {
        "side1": {"type": "integer"}, "get_area": {"type": "boolean"}, "get_angles": {"type": "boolean"}})
    phraser, rng = Phraser(0), random.Random(0)
    for _ in range(40):
        text = phraser.request(single(tool, {"side1": 3, "get_area": True, "get_angles": False}), {tool.name: tool},
                               rng, vague=False)
        assert not re.search(r"\b(true|false)\b", text, re.I), text
        assert re.search(r"including area|area included", text, re.I), text
        assert re.search(r"(without|excluding) angles", text, re.I), text


def test_a_request_asks_about_the_thing_its_values_describe():
    circle = _tool("circle_area", "Calculates the area of a circle.", {"radius": {"type": "number"}})
    phraser, rng = Phraser(0), random.Random(0)
    texts = [phraser.request(single(circle, {"radius": 4.5}), {circle.name: circle}, rng) for _ in range(200)]
    definite = [t for t in texts if re.search(r"\bof the circle\b", t)]
    assert 40 <= len(definite) <= 140 and all("4.5" in t for t in definite)  # sometimes, not always
    assert any(re.search(r"\bof a circle\b", t) for t in texts)
    assert not any(re.search(r"\bof the circle\b", t) for t in (  # without values there is no such circle
        phraser.request(single(circle, {}), {circle.name: circle}, rng) for _ in range(50)))


def test_a_request_sometimes_leaves_out_the_thing_the_task_is_about():
    """'Calculate the displacement for 5 seconds ...': people leave out the description's generic thing ('of an
    object in motion') that the values make plain; only when it ends the task, never from its middle."""
    motion = _tool("displacement", "Calculate the displacement of an object in motion.",
                   {"time": {"type": "integer", "description": "The time in seconds."}})
    words = tool_words(motion)
    assert (without_object(words).vp, without_object(words).np) == ("calculate the displacement", "the displacement")
    wire = _tool("field", "Calculate the magnetic field at a point away from a long wire carrying a current.",
                 {"current": {"type": "number"}})
    assert without_object(tool_words(wire)) == tool_words(wire)  # 'from a long wire' is not the end of the task
    phraser, rng = Phraser(0), random.Random(0)
    texts = [phraser.request(single(motion, {"time": 5}), {motion.name: motion}, rng) for _ in range(300)]
    bare = [t for t in texts if "displacement" in t and "object" not in t]
    assert 0.1 * len(texts) <= len(bare) <= 0.4 * len(texts) and all("5" in t for t in bare), len(bare)


def test_task_phrases_drop_asides_and_description_verbs():
    assert task_phrase("Retrieve the dimensions, such as area and perimeter, of a triangle if the lengths of its "
                       "sides are given.", "t") == ("find the dimensions of a triangle", "the dimensions of a triangle")
    assert task_phrase("Obtains the boiling point of a substance.", "t")[0] == "find the boiling point of a substance"
    assert task_phrase("Lists users, e.g. admins, of a team.", "t")[0] == "list users of a team"


def test_a_unit_is_asked_for_with_in():
    tool = _tool("distance", "Compute the distance between two cities.", {
        "origin": {"type": "string"}, "unit": {"type": "string", "enum": ["km", "miles"]},
        "distance_unit": {"type": "string"}})
    words = tool_words(tool)
    assert words.param("unit").preps == ("in {v}",) and words.param("distance_unit").preps == ("in {v}",)
    service = _tool("service", "Book a cleaning service.", {"unit": {"type": "integer"}})
    assert tool_words(service).param("unit").preps == ()  # a count of service units, not a unit to answer in


def test_letters_take_their_values_as_people_write_them():
    """'a=1, b=-3' as well as 'a = 1': and never 'b -3', which reads as a subtraction."""
    roots = _tool("roots", "Find the roots of a quadratic equation.",
                  {"a": {"type": "integer"}, "b": {"type": "integer"}, "c": {"type": "integer"}})
    phraser, rng = Phraser(0), random.Random(0)
    texts = [phraser.request(single(roots, {"a": 1, "b": -3, "c": 2}), {roots.name: roots}, rng) for _ in range(300)]
    assert not [t for t in texts if re.search(r"\bb -3\b", t)]
    assert sum("b=-3" in t for t in texts) >= 20 and sum("b = -3" in t for t in texts) >= 20
    assert sum(bool(re.search(r"\bc 2\b", t)) for t in texts) >= 20  # a positive one may follow the bare letter


def test_a_range_often_goes_without_its_name():
    """'the area under x^2 from 1 to 3': a range says what it is; 'interval from 1 to 3' gave requests away."""
    area = _tool("area_under_curve", "Calculate the area under a curve.",
                 {"function": {"type": "string"}, "interval": {"type": "array", "items": {"type": "number"}}})
    phraser, rng = Phraser(0), random.Random(0)
    texts = [phraser.request(single(area, {"function": "x^2", "interval": [1.0, 3.0]}), {area.name: area}, rng)
             for _ in range(300)]
    assert all(re.search(r"(from 1\.0 to 3\.0|between 1\.0 and 3\.0)", t) for t in texts)
    named = sum("interval" in t for t in texts)
    assert 0.1 * len(texts) <= named <= 0.5 * len(texts), named


@pytest.mark.parametrize("description, unit", [
    ("The initial velocity of the object in meters/second.", "m/s"),  # a speed, not a length in meters
    ("The acceleration of the object in meters/second^2.", "m/s^2"),
    ("Acceleration of the object, m/s^2.", "m/s^2"),
    ("Distance traveled by the object, m.", "meters"),
    ("The current through the circular loop in Amperes.", "amperes"),
    ("The mass of the first body (kg).", "kg"),
    ("The initial temperature of the first body (Celsius).", "degrees Celsius"),
    ("Acceleration due to gravity. Default value is 9.81 m/s^2, earth's gravity.", "m/s^2"),
    ("The area of one plate of the capacitor in square meters.", "square meters"),
    ("The specific heat capacity of the bodies in kJ/kg/K.", ""),  # not kilograms
    ("The number of items in a batch.", ""),  # 'in a' is not a unit
    ("Number of days for the trip.", ""),  # what is counted, not a unit
])
def test_the_unit_is_read_where_a_description_puts_it(description, unit):
    assert unit_in(description) == unit


def test_measures_take_their_unit_as_people_write_it():
    tool = _tool("field", "Calculate the magnetic field.", {
        "current": {"type": "number", "description": "The current in Amperes."},
        "radius": {"type": "number", "description": "The radius of the loop."}})
    words, rng = tool_words(tool), random.Random(0)
    written = {value_text(5, words.param("current"), rng, False) for _ in range(60)}
    assert {"5 amperes", "5 A", "5"} <= written
    assert "10 units" in {value_text(10, words.param("radius"), rng, False) for _ in range(60)}  # no unit named
    circle = _tool("area", "Calculate the area of a circle.", {"radius": {"type": "number"}, "units": {"type": "string"}})
    assert tool_words(circle).param("radius").unit == ""  # the tool asks for the unit: no 'units' beside it


def test_numbered_siblings_are_often_given_together_in_their_order():
    tool = _tool("gcd", "Compute the greatest common divisor of two integers.",
                 {"number1": {"type": "integer"}, "number2": {"type": "integer"}})
    words, rng = tool_words(tool), random.Random(0)
    texts = [args_text(words, {"number1": 36, "number2": 48}, rng, False, set()) for _ in range(60)]
    together = [t for t in texts if "numbers" in t]
    assert 15 < len(together) < 45 and all("36 and 48" in t for t in together)
    assert all("first number" in t and "second number" in t for t in texts if t not in together)
    named = [named_in_task(words, {"number1": 36, "number2": 48}, rng, False, set()) for _ in range(40)]
    assert {w.vp for w, _ in named} == {"compute the greatest common divisor of 36 and 48",
                                        "compute the greatest common divisor of two integers"}
    assert all(stated == ({"number1", "number2"} if "36" in w.vp else set()) for w, stated in named)
    partial = [args_text(words, {"number1": 36}, rng, False, set()) for _ in range(20)]
    assert not any("numbers" in t for t in partial)  # one of two is not 'the numbers'


def test_a_start_at_zero_speed_is_from_rest():
    tool = _tool("final_speed", "Calculate the final speed of an object.", {
        "initial_speed": {"type": "number", "description": "The initial speed in m/s. Default is zero."},
        "time": {"type": "number", "description": "The time in seconds."}})
    words, rng = tool_words(tool), random.Random(0)
    texts = [args_text(words, {"initial_speed": 0, "time": 5}, rng, False, set()) for _ in range(40)]
    assert 8 < sum("from rest" in t for t in texts) < 32
    assert all(("from rest" in t) != bool(re.search(r"\b0\b", t)) for t in texts)  # one or the other
    assert not any("rest" in args_text(words, {"initial_speed": 4, "time": 5}, rng, False, set()) for _ in range(20))
