"""Readers for the tool-call text formats of particular model families, used by `inftool.evaluate.parse`.

`MARKER` finds the first call marker of any family in a text (the name of its group says which family),
`cut_end_tokens` cuts the end-of-turn tokens a decoded generation may end with.

Each reader takes the model's text (thinking removed, trailing end-of-turn tokens cut) and returns the
calls it finds as ``(name, arguments)`` pairs, the arguments either an object or the JSON text of one
(`parse` decodes and checks it the same way for every format). A reader raises `Unreadable` when the
text carries its family's call markers but a call in it cannot be read, and returns ``[]`` only when the
text is an answer in that family's framing with no call in it (gpt-oss's final channel, functionary's
``>>>all``).

Values written as text inside XML-like tags (Qwen3.5, GLM-4.5, ``<invoke>``) are read as JSON when they
parse as JSON, and kept as text otherwise: a string argument that reads as a number or a boolean
(``"75001"``, ``"true"``) cannot be told apart from one, the templates write both the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

RawCall = tuple[str, Any]
"""A call's name and its arguments (an object, or the JSON text of one)."""


class Unreadable(Exception):
    """The output tries to make calls that cannot be read."""


MARKER = re.compile(  # every branch starts with a literal character, so the search skips fast to candidates
    r"<(?:(?P<tagged>tool_call>)|(?P<bfcl>TOOLCALL>)|(?P<python_tag>\|python_tag\|>)|(?P<function>function=)"
    r"|(?P<deepseek>[｜|]tool▁calls?▁begin[｜|]>)|(?P<granite>\|tool_call\|>)"
    r"|(?P<kimi>\|tool_calls_section_begin\|>|\|tool_call_begin\|>)|(?P<functionary_v2>\|recipient\|>)"
    r"|(?P<harmony>\|channel\|>)|(?P<gemma>\|tool_call>)|(?P<lfm>\|tool_call_start\|>)"
    r"|(?P<invoke>(?:[\w-]+:)?invoke\s+name=)|(?P<cohere>\|START_ACTION\|>))"
    r"|\[(?P<mistral>TOOL_CALLS\])|>(?P<functionary_v3>>>[A-Za-z_][\w.-]*\n)")
"""The first call marker of any format in a text; the group's name says which."""
_END_TOKENS = frozenset({
    "<|im_end|>", "<|endoftext|>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<|return|>",
    "<|eot|>", "<|eom|>", "</s>", "<eos>", "<end_of_turn>", "<turn|>", "<|tool_response>",
    "<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>", "<|END_OF_TURN_TOKEN|>", "<|END_RESPONSE|>", "<|observation|>",
    "<|user|>", "<|stop|>"})
"""End-of-turn tokens a decoded generation may still end with (cut before reading)."""


def cut_end_tokens(text: str) -> str:
    """The text without the end-of-turn tokens (and the spaces between them) it ends with."""
    end = len(text)
    while text.endswith(">", 0, end):
        start = text.rfind("<", 0, end)
        if start < 0 or text[start:end] not in _END_TOKENS:
            break
        end = start
        while end and text[end - 1].isspace():
            end -= 1
    return text[:end]


_PYTHON_WORDS = {"True": True, "False": False, "None": None}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _loose(text: str, *, strip: bool, python_words: bool = False) -> Any:
    """A tag's value: JSON when it parses as JSON (NaN and Infinity stay text), else the text itself (stripped
    when ``strip``)."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError:
        pass
    value = text.strip() if strip else text
    if python_words and value in _PYTHON_WORDS:  # templates that write non-strings with Jinja's `string` filter
        return _PYTHON_WORDS[value]
    return value


def _ensure_blank(rest: str, what: str) -> None:
    if rest.strip():
        raise Unreadable(f"unexpected text in {what}: {rest.strip()[:40]!r}")


def _unfence(text: str) -> str:
    """Text without a surrounding Markdown code fence (```json ... ```)."""
    text = text.strip()
    if text.startswith("```"):
        newline = text.find("\n")
        text = text[newline + 1:] if newline >= 0 else text[3:]
        text = text.rstrip().removesuffix("```")
    return text.strip()


# ---------------------------------------------------------------- Qwen3.5 / Qwen3-Coder / Nemotron 3, Llama 3.1


_FUNCTION = re.compile(r"<function=([^<>\n]*)>(.*?)(?:</function>|\Z)", re.DOTALL)
_PARAMETER = re.compile(r"<parameter=([^<>\n]*)>(.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.DOTALL)


def function_tags(text: str) -> list[RawCall]:
    """``<function=NAME>`` blocks: Qwen3.5/Qwen3-Coder ``<parameter=KEY>VALUE</parameter>`` lines, or a JSON
    object (Llama 3.1 custom tools, functionary v2/v3.1: ``<function=NAME>{...}</function>``)."""
    calls = []
    for match in _FUNCTION.finditer(text):
        name, body = match.group(1), match.group(2).strip()
        if not body:
            calls.append((name, {}))
        elif body[0] == "{":
            calls.append((name, body))
        elif body.startswith("<parameter="):
            calls.append((name, _parameters(body)))
        else:
            raise Unreadable(f"a <function={name}> block that is neither parameters nor JSON")
    if not calls:
        raise Unreadable("a <function=...> tag without a call")
    return calls


def _parameters(body: str) -> dict[str, Any]:
    arguments = {}
    for match in _PARAMETER.finditer(body):
        arguments[match.group(1).strip()] = _loose(match.group(2), strip=True, python_words=True)
    _ensure_blank(_PARAMETER.sub("", body), "a <function=...> block")
    return arguments


# ---------------------------------------------------------------- GLM-4.5 / GLM-4.6 (GLM4-MoE)


_GLM_NAME = re.compile(r"([^\s<>{}\[\]()\"',=]+)\s*(?=<arg_key>|\Z)")
_GLM_ARGUMENT = re.compile(r"<arg_key>([^<]*)</arg_key>\s*<arg_value>(.*?)(?:</arg_value>|\Z)", re.DOTALL)


def is_glm(block: str) -> bool:
    """Is this ``<tool_call>`` block's text GLM's ``NAME\\n<arg_key>..`` form (or a bare name: a call without
    arguments)?"""
    return _GLM_NAME.match(block) is not None


def glm_block(block: str) -> list[RawCall]:
    """The body of ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>...</tool_call>``."""
    match = _GLM_NAME.match(block)
    if match is None:
        raise Unreadable("a GLM call without a name")
    rest = block[match.end():]
    arguments = {m.group(1).strip(): _loose(m.group(2), strip=False) for m in _GLM_ARGUMENT.finditer(rest)}
    _ensure_blank(_GLM_ARGUMENT.sub("", rest), "a GLM call")
    return [(match.group(1), arguments)]


# ---------------------------------------------------------------- Mistral v11+ ([TOOL_CALLS]NAME[ARGS]{...})


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"\s*")


def mistral_v11(text: str) -> list[RawCall]:
    """``[TOOL_CALLS]NAME[ARGS]{...}`` (also with ``[CALL_ID]ID`` after the name), one or several, each after
    its own ``[TOOL_CALLS]`` or one after the other."""
    calls = []
    for segment in text.split("[TOOL_CALLS]")[1:]:
        position = _SPACE.match(segment).end()
        while position < len(segment):
            marker = segment.find("[ARGS]", position)
            if marker < 0:
                raise Unreadable("[TOOL_CALLS] without [ARGS]")
            name = segment[position:marker].partition("[CALL_ID]")[0].strip()
            try:
                arguments, position = _DECODER.raw_decode(segment, _SPACE.match(segment, marker + 6).end())
            except ValueError:
                raise Unreadable("Mistral arguments that are not JSON") from None
            calls.append((name, arguments))
            position = _SPACE.match(segment, position).end()
    return calls


# ---------------------------------------------------------------- DeepSeek V3 / R1 / V3.1


_DEEPSEEK_CALL = re.compile(r"<[｜|]tool▁call▁begin[｜|]>(.*?)(?:<[｜|]tool▁call▁end[｜|]>|\Z)", re.DOTALL)
_DEEPSEEK_SEP = re.compile(r"<[｜|]tool▁sep[｜|]>")


def deepseek(text: str) -> list[RawCall]:
    """V3/R1 ``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\\n```json\\n{...}\\n```<｜tool▁call▁end｜>`` and V3.1
    ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>``."""
    calls = [_deepseek_call(match.group(1)) for match in _DEEPSEEK_CALL.finditer(text)]
    if not calls:
        raise Unreadable("DeepSeek tool-call markers without a call")
    return calls


def _deepseek_call(block: str) -> RawCall:
    """The name and arguments text of one DeepSeek call block."""
    parts = _DEEPSEEK_SEP.split(block, maxsplit=1)
    if len(parts) != 2:
        raise Unreadable("a DeepSeek call without <｜tool▁sep｜>")
    head, body = parts[0].strip(), parts[1].strip()
    if head in ("function", "") and "\n" in body:  # V3 / R1: the call's type, then NAME on its own line
        name, _, body = body.partition("\n")
        return name.strip(), _unfence(body)
    return head, _unfence(body)


# ---------------------------------------------------------------- Kimi-K2


_KIMI_CALL = re.compile(r"<\|tool_call_begin\|>([^<]*)<\|tool_call_argument_begin\|>(.*?)(?:<\|tool_call_end\|>|\Z)",
                        re.DOTALL)


def kimi(text: str) -> list[RawCall]:
    """``<|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{...}<|tool_call_end|>`` calls (inside
    ``<|tool_calls_section_begin|>...<|tool_calls_section_end|>``)."""
    calls = [(_kimi_name(m.group(1)), m.group(2)) for m in _KIMI_CALL.finditer(text)]
    if len(calls) != text.count("<|tool_call_begin|>") or not calls:
        raise Unreadable("a Kimi tool call without its argument section")
    return calls


def _kimi_name(call_id: str) -> str:
    """``functions.NAME:0`` -> NAME."""
    name, colon, index = _strip_namespace(call_id.strip()).rpartition(":")
    return name if colon and index.isdigit() else call_id.strip()


# ---------------------------------------------------------------- functionary (MeetKai)


_FUNCTIONARY_V3 = re.compile(r">>>([A-Za-z_][\w.-]*)\n")
_RECIPIENT = re.compile(r"<\|recipient\|>\s*([^\n<]*?)\s*<\|content\|>(.*?)(?=<\|from\|>|<\|recipient\|>|\Z)",
                        re.DOTALL)


def functionary_v3(text: str) -> list[RawCall]:
    """``>>>NAME\\n{...}`` blocks, one after the other; ``>>>all`` introduces text, not a call."""
    headers = list(_FUNCTIONARY_V3.finditer(text))
    calls = []
    for header, following in zip(headers, headers[1:] + [None], strict=True):
        body = text[header.end(): following.start() if following else len(text)]
        if header.group(1) != "all":
            calls.append((header.group(1), body.strip()))
    return calls


def functionary_v2(text: str) -> list[RawCall]:
    """``<|recipient|>NAME\\n<|content|>{...}`` turns; the recipient ``all`` is the user (text, not a call)."""
    turns = list(_RECIPIENT.finditer(text))
    if len(turns) != text.count("<|recipient|>"):
        raise Unreadable("a functionary recipient without content")
    return [(m.group(1), m.group(2).strip()) for m in turns if m.group(1) != "all"]


# ---------------------------------------------------------------- gpt-oss (harmony)


_HARMONY_CALL = re.compile(r"to=([^\s<]{1,256})[^<]{0,64}(?:<\|(?:channel|constrain)\|>[^<]{0,64}){0,3}<\|message\|>"
                           r"(.*?)(?=<\|call\|>|<\|end\|>|<\|return\|>|<\|start\|>|\Z)", re.DOTALL)


def harmony(text: str) -> list[RawCall]:
    """gpt-oss messages addressed to a function: ``<|channel|>commentary to=functions.NAME <|constrain|>json
    <|message|>{...}<|call|>`` (or ``to=`` first, as its chat template writes it). Messages on the analysis or
    final channel are text."""
    calls = [(_strip_namespace(m.group(1)), m.group(2)) for m in _HARMONY_CALL.finditer(text)]
    if (not calls and "<|call|>" in text) or text.count("to=functions.") > len(calls):
        raise Unreadable("a harmony call without its recipient or its message")
    return calls


def _strip_namespace(name: str) -> str:
    return name.removeprefix("functions.")


# ---------------------------------------------------------------- Gemma 4


_GEMMA_CALL = re.compile(r"<\|tool_call>call:([^{<\s]+)(.*?)(?:<tool_call\|>|\Z)", re.DOTALL)
_GEMMA_QUOTE = '<|"|>'
_GEMMA_KEY = re.compile(r"([{,]\s*)([^\s\"{}\[\],:]+)(\s*:)")


def gemma4(text: str) -> list[RawCall]:
    """``<|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>`` calls."""
    calls = [(m.group(1), _gemma_arguments(m.group(2).strip())) for m in _GEMMA_CALL.finditer(text)]
    if len(calls) != text.count("<|tool_call>") or not calls:
        raise Unreadable("a Gemma tool call without a name")
    return calls


def _gemma_arguments(body: str) -> dict[str, Any]:
    """Gemma's argument notation (unquoted keys, strings between <|"|> marks) read as JSON."""
    if not body:
        return {}
    parts = body.split(_GEMMA_QUOTE)
    if len(parts) % 2 == 0:
        raise Unreadable("an unterminated Gemma string")
    text = "".join(json.dumps(part) if i % 2 else _GEMMA_KEY.sub(r'\1"\2"\3', part) for i, part in enumerate(parts))
    try:
        arguments = json.loads(text)
    except ValueError:
        raise Unreadable("Gemma arguments that cannot be read") from None
    if not isinstance(arguments, dict):
        raise Unreadable("Gemma arguments that are not an object")
    return arguments


# ---------------------------------------------------------------- <invoke name=...> XML (Muse, MiniMax-M2, ...)


_INVOKE = re.compile(r'<(?:[\w-]+:)?invoke\s+name="([^"<>]*)"\s*>(.*?)(?:</(?:[\w-]+:)?invoke>|\Z)', re.DOTALL)
_INVOKE_PARAMETER = re.compile(
    r'<(?:[\w-]+:)?parameter\s+name="([^"<>]*)"\s*>(.*?)(?:</(?:[\w-]+:)?parameter>|\Z)', re.DOTALL)


def invoke_xml(text: str) -> list[RawCall]:
    """``<invoke name="NAME"><parameter name="KEY">VALUE</parameter>...</invoke>`` blocks, the tags possibly
    namespaced (``<atem:invoke>``, inside ``<minimax:tool_call>`` or ``<function_calls>``)."""
    calls = []
    for match in _INVOKE.finditer(text):
        body = match.group(2)
        arguments = {m.group(1): _loose(m.group(2), strip=False) for m in _INVOKE_PARAMETER.finditer(body)}
        _ensure_blank(_INVOKE_PARAMETER.sub("", body), "an <invoke> block")
        calls.append((match.group(1), arguments))
    if not calls:
        raise Unreadable("an <invoke> tag without a call")
    return calls
