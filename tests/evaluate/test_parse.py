"""parse_calls: every supported output form, plain answers, unreadable attempts, and fuzzing (never raises)."""

from __future__ import annotations

import json
import random
import string

import pytest

from inftool.core.episode import Call
from inftool.evaluate import parse_calls, reference_calls

WEATHER = Call("get_weather", {"city": "Paris", "unit": "celsius"})
TIME = Call("get_time", {"zone": "CET"})


def tool_call(call: Call, *, as_string: bool = True) -> dict:
    arguments = json.dumps(call.arguments) if as_string else call.arguments
    return {"id": "call_1", "type": "function", "function": {"name": call.name, "arguments": arguments}}


# ---------------------------------------------------------------- OpenAI messages


@pytest.mark.parametrize("as_string", [True, False])
def test_openai_message_with_tool_calls(as_string: bool) -> None:
    message = {"role": "assistant", "content": None,
               "tool_calls": [tool_call(WEATHER, as_string=as_string), tool_call(TIME, as_string=as_string)]}
    assert parse_calls(message) == [WEATHER, TIME]


def test_list_of_tool_call_objects() -> None:
    assert parse_calls([tool_call(WEATHER), tool_call(TIME, as_string=False)]) == [WEATHER, TIME]


def test_message_without_tool_calls_is_a_plain_answer() -> None:
    assert parse_calls({"role": "assistant", "content": "It is sunny in Paris."}) == []
    assert parse_calls({"role": "assistant", "content": None, "tool_calls": []}) == []
    assert parse_calls({"role": "assistant", "content": [{"type": "text", "text": "Hi"}]}) == []


def test_message_with_calls_in_its_text_content() -> None:
    content = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>'
    assert parse_calls({"role": "assistant", "content": content}) == [WEATHER]


def test_legacy_function_call_and_empty_arguments() -> None:
    assert parse_calls({"role": "assistant", "function_call": {"name": "ping", "arguments": ""}}) == [Call("ping", {})]
    assert parse_calls([{"type": "function", "function": {"name": "ping", "arguments": "  "}}]) == [Call("ping", {})]


def test_arguments_encoded_twice_are_read_through() -> None:
    doubled = json.dumps(json.dumps(WEATHER.arguments))
    assert parse_calls([{"function": {"name": "get_weather", "arguments": doubled}}]) == [WEATHER]


def test_bad_arguments_are_unreadable() -> None:
    assert parse_calls([{"function": {"name": "f", "arguments": "{not json"}}]) is None
    assert parse_calls([{"function": {"name": "f", "arguments": "[1, 2]"}}]) is None
    assert parse_calls([{"function": {"arguments": "{}"}}]) is None  # no name
    assert parse_calls([{"function": {"name": "f"}}, "text"]) is None


# ---------------------------------------------------------------- Hermes / Qwen and other tagged text


def test_hermes_tool_call_blocks() -> None:
    text = ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>')
    assert parse_calls(text) == [WEATHER, TIME]


def test_hermes_after_thinking_and_without_closing_tag() -> None:
    text = ('<think>The user wants the weather; <tool_call> is how I call.</think>\n\n'
            '<tool_call>{"name": "get_time", "arguments": {"zone": "CET"}}')
    assert parse_calls(text) == [TIME]
    assert parse_calls('reasoning only</think>\nIt is 5 pm.') == []


def test_hermes_python_style_dict_and_parameters_key() -> None:
    assert parse_calls("<tool_call>{'name': 'get_time', 'parameters': {'zone': 'CET'}}</tool_call>") == [TIME]


def test_unreadable_hermes_block() -> None:
    assert parse_calls("<tool_call>{\"name\": \"get_time\", \"arguments\": {\"zone\": </tool_call>") is None
    assert parse_calls("<tool_call></tool_call>") is None
    assert parse_calls("<tool_call>just words</tool_call>") is None


def test_other_tags() -> None:
    assert parse_calls('[TOOL_CALLS] [{"name": "get_time", "arguments": {"zone": "CET"}}]') == [TIME]
    assert parse_calls('<|python_tag|>{"name": "get_time", "parameters": {"zone": "CET"}}') == [TIME]
    assert parse_calls("<TOOLCALL>[get_time(zone='CET')]</TOOLCALL>") == [TIME]


# ---------------------------------------------------------------- JSON


def test_bare_json_objects_and_lists() -> None:
    assert parse_calls('{"name": "get_time", "arguments": {"zone": "CET"}}') == [TIME]
    assert parse_calls('{"name": "get_time", "parameters": {"zone": "CET"}}') == [TIME]
    assert parse_calls('[{"name": "get_time", "arguments": {"zone": "CET"}}, '
                       '{"function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]'
                       ) == [TIME, WEATHER]
    assert parse_calls({"function": {"name": "get_time", "arguments": '{"zone": "CET"}'}}) == [TIME]
    assert parse_calls("[]") == []


def test_bfcl_decoded_form() -> None:
    assert parse_calls([{"get_time": {"zone": "CET"}}, {"math.factorial": {"n": 5}}]) == [
        TIME, Call("math.factorial", {"n": 5})]


def test_code_fences() -> None:
    assert parse_calls('```json\n{"name": "get_time", "arguments": {"zone": "CET"}}\n```') == [TIME]
    assert parse_calls("Here you go:\n```python\n[get_time(zone='CET')]\n```") == [TIME]


# ---------------------------------------------------------------- BFCL Python-call syntax


def test_python_call_syntax_values() -> None:
    text = ('[f(a=1, b="x", c=-2.5, d=(1, 2), e=[1, [2, 3]], g={"k": 1.5, "n": None}, h=True, i=False, j=None), '
            'g.h(c=[1, 2], d={"k": 1.5}), a.b.c(x=-3)]')
    assert parse_calls(text) == [
        Call("f", {"a": 1, "b": "x", "c": -2.5, "d": (1, 2), "e": [1, [2, 3]], "g": {"k": 1.5, "n": None},
                   "h": True, "i": False, "j": None}),
        Call("g.h", {"c": [1, 2], "d": {"k": 1.5}}),
        Call("a.b.c", {"x": -3}),
    ]


def test_python_call_syntax_as_bfcl_decodes_it() -> None:
    # bare names become strings, calls without keywords their source, with keywords {name: {...}},
    # arithmetic is computed, positional arguments are dropped
    calls = parse_calls("f(x=my_var, y=math.sqrt(2), z=g(k=1), w=2 ** 3 + 1, v=data[0], u=...)")
    assert calls == [Call("f", {"x": "my_var", "y": "math.sqrt(2)", "z": {"g": {"k": 1}}, "w": 9, "v": "data[0]",
                                "u": "..."})]
    assert parse_calls("f(1, b=2)") == [Call("f", {"b": 2})]
    assert parse_calls("f(a=1), g(b=2)") == [Call("f", {"a": 1}), Call("g", {"b": 2})]


def test_python_call_syntax_unreadable() -> None:
    for text in ["[f(a=1", "[f(a=lambda x: x)]", "[f(a={1, 2})]", "[f(a=x.y)]", "[f(**kw)]", "[f(a=1), 3]",
                 "[f(a=10 ** 100000)]", "[f(a=f'{x}')]", "[(lambda: 1)(a=1)]"]:
        assert parse_calls(text) is None, text
    assert parse_calls("f(a=1, a=2)") == [Call("f", {"a": 2})]  # as BFCL: the last one counts


# ---------------------------------------------------------------- plain answers and odd inputs


def test_plain_text_is_no_call() -> None:
    for text in ["", "   ", "The weather in Paris is sunny.", "I cannot help with that (sorry).", "42", "hello"]:
        assert parse_calls(text) == [], text


def test_odd_inputs_are_unreadable() -> None:
    for output in [None, 42, 3.5, b"[f(a=1)]", object(), {"foo": 1}, {}, [{}], [1, 2], {"name": ""}, "{}",
                   '{"a": 1}', "[1, 2, 3]", "[" * 10_000, "{" * 10_000, "f(" * 10_000]:
        assert parse_calls(output) is None, repr(output)[:60]


def test_calls_pass_through() -> None:
    assert parse_calls([WEATHER, TIME]) == [WEATHER, TIME]
    assert parse_calls(WEATHER) == [WEATHER]


# ---------------------------------------------------------------- round trips over BFCL ground truth


def python_source(call: Call) -> str:
    return f"{call.name}({', '.join(f'{k}={v!r}' for k, v in call.arguments.items())})"


@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel", "parallel_multiple", "live_simple",
                                      "live_multiple", "live_parallel", "live_parallel_multiple"])
def test_round_trip_of_bfcl_ground_truth(category: str, bfcl) -> None:
    data = bfcl
    answers = data.answers(category)
    checked = 0
    for question in data.questions(category):
        calls = reference_calls(question["function"], answers[question["id"]])
        as_python = "[" + ", ".join(python_source(c) for c in calls) + "]"
        assert parse_calls(as_python) == calls, as_python
        hermes = "\n".join(f"<tool_call>\n{json.dumps({'name': c.name, 'arguments': c.arguments})}\n</tool_call>"
                           for c in calls)
        as_json = [Call(c.name, json.loads(json.dumps(c.arguments))) for c in calls]
        assert parse_calls(hermes) == as_json
        message = {"role": "assistant", "content": None, "tool_calls": [tool_call(c) for c in calls]}
        assert parse_calls(message) == as_json
        checked += 1
    assert checked == len(answers)


# ---------------------------------------------------------------- fuzz: never raises


ALPHABET = string.ascii_letters + string.digits + " \n\t'\"()[]{},.:=_-+*/\\<>|`#@!?~^%$&;" + "éü中\x00"
SNIPPETS = ["<tool_call>", "</tool_call>", "<think>", "</think>", "```", "[TOOL_CALLS]", "<|python_tag|>", '"name"',
            '"arguments"', "f(", "a=", "=", "None", "True", "**", "lambda", "...", "{", "}", "[", "]", "'", '"']


def random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        if rng.random() < 0.4:
            parts.append(rng.choice(SNIPPETS))
        else:
            parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8))))
    return "".join(parts)


def random_value(rng: random.Random, depth: int = 0):
    kinds = ["none", "bool", "int", "float", "str", "bytes", "call", "set"]
    kinds += ["list", "dict", "tuple"] if depth < 3 else []
    kind = rng.choice(kinds)
    if kind == "list":
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if kind == "tuple":
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randint(0, 3)))
    if kind == "dict":
        keys = rng.choice([["name", "arguments"], ["function"], ["role", "content", "tool_calls"], ["x"], ["name"],
                           ["tool_calls"], ["parameters", "name"]])
        return {k: random_value(rng, depth + 1) for k in keys}
    return {"none": None, "bool": rng.random() < 0.5, "int": rng.randint(-5, 5), "float": rng.random(),
            "str": random_text(rng), "bytes": b"\xff", "call": WEATHER, "set": {1, 2}}[kind]


def mutated(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        choice = rng.random()
        if choice < 0.4:
            text = text[:at] + text[at + rng.randint(1, 4):]
        elif choice < 0.8:
            text = text[:at] + rng.choice(SNIPPETS + list(ALPHABET)) + text[at:]
        else:
            text = text[:at]
    return text


def test_fuzz_never_raises() -> None:
    rng = random.Random(20260323)
    valid_texts = [
        '<tool_call>{"name": "f", "arguments": {"a": [1, 2]}}</tool_call>',
        "[f(a=1, b='x'), g.h(c=[1, 2], d={'k': 1.5})]",
        '{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}',
        '[{"name": "f", "parameters": {"a": -1}}]',
    ]
    seen = 0
    for i in range(6000):
        if i % 3 == 0:
            output = random_text(rng)
        elif i % 3 == 1:
            output = mutated(rng, rng.choice(valid_texts))
        else:
            output = random_value(rng)
        result = parse_calls(output)
        assert result is None or (isinstance(result, list) and all(isinstance(c, Call) for c in result)), output
        seen += result is not None
    assert seen > 0


def test_reasoning_cut_off_is_unparseable_not_a_plain_answer():
    assert parse_calls("<think>The user wants the weather, so I should call") is None
    assert parse_calls("<think>Nothing fits.</think>No tool can help with that.") == []
