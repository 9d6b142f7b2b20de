"""Calls parse right from every model: what each chat template TRL bundles writes for an assistant's tool
calls, ``parse_calls`` reads back as those calls.

For every ``trl/chat_templates/*.jinja`` whose text mentions ``tool_calls``, a conversation [user, assistant]
is rendered the way transformers renders it (``render_jinja_template``, with ``tools=``), the assistant turn
with one call, with two calls (arguments: strings, ints, floats, bools, nested lists and objects, given as
objects via ``for_template``), and with a plain answer. The assistant's text is the rendering past its
longest common prefix with the prompt rendered with ``add_generation_prompt=True``: what the model would
have generated. ``parse_calls`` must give the calls back, and ``[]`` for the plain answer. Templates that
cannot render a call at all are listed in `NO_TOOL_CALLS` with the reason, and cases a template cannot
render are skipped with theirs.

Then: the formats no TRL template renders (Mistral v11, DeepSeek V3.1, Granite, Kimi-K2, functionary,
Cohere, ...), outputs that carry a format's call markers but cannot be read (None, never ``[]``), and
prose that must stay a plain answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inftool.core.episode import Call
from inftool.core.messages import for_template
from inftool.evaluate import parse_calls

trl = pytest.importorskip("trl", reason="the chat templates come with trl (the train extra)")
chat_template_utils = pytest.importorskip("transformers.utils.chat_template_utils")

TEMPLATES = Path(trl.__file__).parent / "chat_templates"

NO_TOOL_CALLS = {
    **dict.fromkeys(["cohere", "cohere_training", "cohere2", "cohere2_training"],
                    "Command R / R7B templates render message content only: no tools, no tool calls"),
    **dict.fromkeys(["gemma", "gemma_training", "gemma3", "gemma3_training"], "Gemma 1-3: no tool support"),
    **dict.fromkeys(["llama3", "llama3_training"], "Llama 3.0: no tool support (3.1 and 3.2 have it)"),
    **dict.fromkeys(["phi3", "phi3_training", "phi3_5", "phi3_5_training"], "Phi-3 / 3.5: no tool support"),
    **dict.fromkeys(["lfm2", "lfm2_training"],
                    "LFM2 v1 lists the tools but leaves calls to the assistant's own content text (the LFM2.5 "
                    "templates render them; the same reader reads both)"),
    **dict.fromkeys(["idefics3", "idefics3_training", "llava_next", "llava_next_training", "smolvlm",
                     "smolvlm_training", "qwen2_5_vl", "qwen2_5_vl_training"],
                    "vision-language template without tool support"),
}
"""Templates that do not mention ``tool_calls``: they cannot render a call (checked below)."""

SINGLE_CALL = {
    **dict.fromkeys(["llama3_1", "llama3_2"], "the template raises 'This model only supports single tool-calls'"),
    **dict.fromkeys(["gptoss", "gptoss_training"],
                    "harmony: one call per message (the model stops at <|call|>); the template renders tool_calls[0]"),
}
"""Templates that render one call per assistant turn: the two-call case is skipped."""

WIRE_FORM = {
    "deepseekv3": "concatenates the arguments as a string: given OpenAI's wire form (JSON text)",
    **dict.fromkeys(["deepseek_r1_distill", "deepseek_r1_distill_training"],
                    "renders calls only when content is None, and concatenates the arguments as a string"),
}
"""Templates given the stored (wire) form of the messages: arguments as JSON text, content None."""

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "The weather forecast for a city.",
                                      "parameters": {"type": "object", "required": ["city"], "properties": {
                                          "city": {"type": "string", "description": "City name."},
                                          "days": {"type": "integer", "description": "Days ahead."}}}}},
    {"type": "function", "function": {"name": "get_time", "description": "The time in a time zone.",
                                      "parameters": {"type": "object", "properties": {
                                          "zone": {"type": "string", "description": "Time zone."}}}}},
]
WEATHER = Call("get_weather", {"city": "New York, NY", "days": 3, "precise": True, "ratio": -0.25,
                               "units": ["celsius", 2, False, 1.5],
                               "options": {"lang": "Zürich", "max": 10, "alerts": {"wind": True, "levels": [1, 2]}}})
TIME = Call("get_time", {"zone": "Central European Time", "verbose": False, "offset": 1.0})
CASES = {"one call": [WEATHER], "two calls": [WEATHER, TIME], "plain answer": []}
ANSWER = "It is sunny in Paris today."


def tool_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.jinja") if "tool_calls" in p.read_text(encoding="utf-8"))


def render(template: str, messages: list[dict[str, Any]], *, generation_prompt: bool = False) -> str:
    rendered, _ = chat_template_utils.render_jinja_template(
        [messages], tools=TOOLS, chat_template=template, add_generation_prompt=generation_prompt,
        bos_token="<s>", eos_token="</s>")
    return rendered[0]


def conversation(name: str, calls: list[Call]) -> list[dict[str, Any]]:
    """[user, assistant] in the stored wire form, then as the template wants it."""
    tool_calls = [{"id": f"call_{i}", "type": "function",
                   "function": {"name": c.name, "arguments": json.dumps(c.arguments)}} for i, c in enumerate(calls)]
    assistant = ({"role": "assistant", "content": None, "tool_calls": tool_calls} if calls else
                 {"role": "assistant", "content": ANSWER})
    messages = [{"role": "user", "content": "What is the weather in New York?"}, assistant]
    return messages if name in WIRE_FORM else for_template(messages)


def assistant_text(template: str, messages: list[dict[str, Any]]) -> str:
    """The assistant turn as the model would have generated it after the prompt."""
    full = render(template, messages)
    prompt = render(template, messages[:1], generation_prompt=True)
    common = 0
    for a, b in zip(full, prompt, strict=False):
        if a != b:
            break
        common += 1
    return full[common:]


def test_every_template_is_classified() -> None:
    every = {p.stem for p in TEMPLATES.glob("*.jinja")}
    assert every == set(tool_templates()) | set(NO_TOOL_CALLS), "a TRL template to classify (tool calls or not)"
    assert not set(tool_templates()) & set(NO_TOOL_CALLS)


@pytest.mark.parametrize("name", sorted(NO_TOOL_CALLS))
def test_templates_without_tool_calls_cannot_render_one(name: str) -> None:
    """The skip reasons hold: the call's name never reaches the rendering (or the template refuses)."""
    template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    try:
        text = assistant_text(template, conversation(name, [WEATHER]))
    except Exception:  # noqa: BLE001 - a vision template fails on text content: no call rendered either
        return
    assert WEATHER.name not in text


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", tool_templates())
def test_rendered_calls_parse_back(name: str, case: str) -> None:
    calls = CASES[case]
    if len(calls) > 1 and name in SINGLE_CALL:
        pytest.skip(f"{name}: {SINGLE_CALL[name]}")
    template = (TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8")
    text = assistant_text(template, conversation(name, calls))
    assert parse_calls(text) == calls, text


# ---------------------------------------------------------------- formats no TRL template renders


SAMPLES = {
    "mistral v11": '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"zone": "CET"}</s>',
    "mistral v13 call id": '[TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}',
    "mistral list": '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, '
                    '{"name": "get_time", "arguments": {"zone": "CET"}}]',
    "deepseek v3.1": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Paris\"}"
                     "<｜tool▁call▁end｜><｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{\"zone\": \"CET\"}"
                     "<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "granite": '<|tool_call|>[{"arguments": {"city": "Paris"}, "name": "get_weather"}, '
               '{"arguments": {"zone": "CET"}, "name": "get_time"}]<|end_of_text|>',
    "phi-4-mini": '<|tool_call|>[{"name": "get_weather", "arguments": {"city": "Paris"}}]<|/tool_call|>'
                  '<|tool_call|>[{"name": "get_time", "arguments": {"zone": "CET"}}]<|/tool_call|>',
    "phi-4 functools": 'functools[{"name": "get_weather", "arguments": {"city": "Paris"}}, '
                       '{"name": "get_time", "arguments": {"zone": "CET"}}]',
    "kimi-k2": "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
               '{"city": "Paris"}<|tool_call_end|><|tool_call_begin|>functions.get_time:1'
               '<|tool_call_argument_begin|>{"zone": "CET"}<|tool_call_end|><|tool_calls_section_end|><|im_end|>',
    "functionary v3": '>>>all\nLet me look.>>>get_weather\n{"city": "Paris"}>>>get_time\n{"zone": "CET"}',
    "functionary v2": '<|from|>assistant\n<|recipient|>get_weather\n<|content|>{"city": "Paris"}\n'
                      '<|from|>assistant\n<|recipient|>get_time\n<|content|>{"zone": "CET"}<|stop|>',
    "llama 3.1 function tag": '<function=get_weather>{"city": "Paris"}</function>'
                              '<function=get_time>{"zone": "CET"}</function><|eom_id|>',
    "qwen3-coder without tool_call": "<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n"
                                     "<function=get_time>\n<parameter=zone>\nCET\n</parameter>\n</function>",
    "qwen3-coder unclosed parameter": "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</function>\n"
                                      "</tool_call><tool_call>\n<function=get_time>\n<parameter=zone>\nCET\n"
                                      "</parameter>\n</function>\n</tool_call>",
    "glm without arguments": "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
                             "</tool_call><tool_call>get_time</tool_call>",
    "gpt-oss after analysis": "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant"
                              "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
                              '{"city": "Paris"}<|call|>',
    "minimax invoke": '<minimax:tool_call>\n<invoke name="get_weather">\n<parameter name="city">Paris</parameter>\n'
                      '</invoke>\n<invoke name="get_time">\n<parameter name="zone">CET</parameter>\n</invoke>\n'
                      "</minimax:tool_call>",
    "cohere command a": '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "get_weather", "parameters": '
                        '{"city": "Paris"}}, {"tool_call_id": "1", "tool_name": "get_time", "parameters": '
                        '{"zone": "CET"}}]<|END_ACTION|>',
    "lfm2 json values": "<|tool_call_start|>[get_weather(city='Paris', extra={\"hourly\": true, \"x\": null}), "
                        "get_time(zone='CET')]<|tool_call_end|>",
}
PARIS, CET = Call("get_weather", {"city": "Paris"}), Call("get_time", {"zone": "CET"})
EXPECTED = {name: [PARIS, CET] for name in SAMPLES}
EXPECTED |= {"mistral v13 call id": [PARIS], "gpt-oss after analysis": [PARIS],
             "glm without arguments": [PARIS, Call("get_time", {})],
             "lfm2 json values": [Call("get_weather", {"city": "Paris", "extra": {"hourly": True, "x": None}}), CET]}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_other_model_formats(name: str) -> None:
    assert parse_calls(SAMPLES[name]) == EXPECTED[name]


def test_qwen_xml_values_are_json_when_they_read_as_json() -> None:
    text = ("<tool_call>\n<function=f>\n<parameter=n>\n42\n</parameter>\n<parameter=s>\n two words \n</parameter>\n"
            "<parameter=b>\nTrue\n</parameter>\n<parameter=l>\n[1, \"a\"]\n</parameter>\n</function>\n</tool_call>")
    assert parse_calls(text) == [Call("f", {"n": 42, "s": "two words", "b": True, "l": [1, "a"]})]


UNREADABLE = {
    "qwen xml without parameters": "<tool_call>\n<function=get_weather>\ncity: Paris\n</function>\n</tool_call>",
    "glm value without tags": "<tool_call>get_weather\n<arg_key>city</arg_key>\nParis\n</tool_call>",
    "tool_call prose": "<tool_call>I would like the weather</tool_call>",
    "mistral v11 cut": '[TOOL_CALLS]get_weather[ARGS]{"city": "Par',
    "mistral v11 no args": "[TOOL_CALLS]get_weather",
    "deepseek bad json": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n"
                         '{"city": \n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>',
    "deepseek no call": "<｜tool▁calls▁begin｜>oops<｜tool▁calls▁end｜>",
    "deepseek no separator": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>get_weather{}<｜tool▁call▁end｜>",
    "granite bad json": '<|tool_call|>[{"name": "get_weather", "arguments": {"city": }]',
    "kimi no argument section": "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
                                '{"city": "Paris"}<|tool_call_end|><|tool_calls_section_end|>',
    "functionary cut": '>>>get_weather\n{"city": "Par',
    "function tag bad json": '<function=get_weather>{"city": </function>',
    "harmony bad json": '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": <|call|>',
    "harmony call without recipient": '<|channel|>commentary json<|message|>{"city": "Paris"}<|call|>',
    "harmony cut before the message": "<|channel|>commentary to=functions.get_weather <|constrain|>json",
    "gemma unterminated string": '<|tool_call>call:get_weather{city:<|"|>Paris}<tool_call|>',
    "gemma no name": "<|tool_call>{city:3}<tool_call|>",
    "lfm2 cut": "<|tool_call_start|>[get_weather(city='Paris']<|tool_call_end|>",
    "invoke prose": '<invoke name="get_weather">city=Paris</invoke>',
    "cohere bad json": '<|START_ACTION|>[{"tool_name": "get_weather", "parameters": {"city": "Paris"}]<|END_ACTION|>',
    "python tag prose": "<|python_tag|>the weather please",
    "empty mistral": "[TOOL_CALLS]",
}


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_call_markers_that_cannot_be_read_are_unreadable_not_no_call(name: str) -> None:
    assert parse_calls(UNREADABLE[name]) is None


PROSE = [
    "Use <b>bold</b> for emphasis: 5 > 3 and 2 < 4.",
    "In the Python shell, type >>> print(1) and press enter.",
    "The [citation needed] tag marks claims; function=f is a keyword argument.",
    "<|channel|>final<|message|>It is sunny in Paris.<|return|>",
    ">>>all\nIt is sunny in Paris.",
    "<think>\nNo tool fits.\n</think>\n\nI cannot book flights.<|im_end|>",
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_stays_a_plain_answer(text: str) -> None:
    assert parse_calls(text) == []
