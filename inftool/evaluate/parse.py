"""Read tool calls out of a model's output, whatever form they come in.

`parse_calls` accepts:

* an OpenAI assistant message (``{"role": "assistant", "content": ..., "tool_calls": [...]}``), a
  list of its ``tool_calls`` objects (``{"id", "type", "function": {"name", "arguments"}}``), with
  arguments as a JSON string or a dict;
* a bare JSON object ``{"name", "arguments" | "parameters"}`` (Llama 3.x writes ``parameters``), a list
  of them (xLAM), either one wrapped as ``{"function": {...}}``, Cohere's ``{"tool_name", "parameters"}``,
  or BFCL's decoded form ``[{"func": {"arg": value}}]``;
* BFCL's Python-call syntax ``[f(a=1, b="x"), g.h(c=[1, 2], d={"k": 1.5})]``, read with `ast`
  (never evaluated) into the values BFCL's own decoder gives: literals (negative numbers, tuples,
  nested lists and dicts, True / False / None), bare names as strings, calls without keyword
  arguments as their source text, calls with keyword arguments as ``{name: {arg: value}}``,
  arithmetic on numbers computed. Positional arguments are ignored, as BFCL does;
* the text formats of the model families (the family readers are in `inftool.evaluate.formats`):

  - Hermes / Qwen2.5 / Qwen3: ``<tool_call>{"name": ..., "arguments": ...}</tool_call>`` blocks;
  - Qwen3.5 / Qwen3-Coder / Nemotron 3: ``<tool_call><function=NAME><parameter=KEY>VALUE</parameter>...
    </function></tool_call>``, also without the ``<tool_call>`` wrapper; values are JSON when they
    parse as JSON (and Python's True / False / None), else the stripped text;
  - GLM-4.5 / GLM4-MoE: ``<tool_call>NAME<arg_key>K</arg_key><arg_value>V</arg_value>...</tool_call>``;
  - Mistral: ``[TOOL_CALLS] [{...}, ...]`` and v11's ``[TOOL_CALLS]NAME[ARGS]{...}`` (several);
  - Llama 3.1 ``<|python_tag|>{...}`` and ``<function=NAME>{...}</function>`` (also functionary v3.1);
  - DeepSeek V3 / R1 ``<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>``
    and V3.1 ``<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{...}<｜tool▁call▁end｜>``;
  - Granite / Phi-4-mini ``<|tool_call|>[...]`` (closed by ``<|/tool_call|>`` or not), Phi-4
    ``functools[...]``, Cohere Command A ``<|START_ACTION|>[...]<|END_ACTION|>``;
  - Kimi-K2 ``<|tool_call_begin|>functions.NAME:0<|tool_call_argument_begin|>{...}<|tool_call_end|>``;
  - functionary v3 ``>>>NAME\n{...}`` and v2 ``<|recipient|>NAME\n<|content|>{...}``;
  - gpt-oss (harmony) ``<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{...}<|call|>``;
  - Gemma 4 ``<|tool_call>call:NAME{key:<|"|>text<|"|>,n:3}<tool_call|>``;
  - LFM2 / LFM2.5 ``<|tool_call_start|>[f(a='x', b={"k": true})]<|tool_call_end|>`` (Python calls whose
    object values are JSON);
  - ``<invoke name="NAME"><parameter name="K">V</parameter></invoke>`` XML, namespaced or not (Muse
    Glimmer's ``<atem:invoke>``, MiniMax-M2);
  - BFCL's ``<TOOLCALL>[...]</TOOLCALL>``.

A ``<think>...</think>`` block before the answer, trailing end-of-turn tokens (``<|im_end|>``,
``<|eot_id|>``, ``</s>``, ...) and code fences around JSON or Python calls are ignored. When an output
holds the markers of several formats, the one that comes first decides. It returns the calls, ``[]``
when the output is a plain answer with no call in it, and ``None`` when it tries to make calls that
cannot be read (any format's call marker, or JSON / a call list that does not read as calls): that is
scored as a failed call, never as a correct "no call". It never raises.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
import warnings
from collections.abc import Callable
from typing import Any

from inftool.core.episode import Call
from inftool.evaluate import formats
from inftool.evaluate.formats import Unreadable as _Unreadable

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_BFCL_TAG = re.compile(r"<TOOLCALL>(.*?)(?:</TOOLCALL>|$)", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_CALL_START = re.compile(r"\[?\s*[A-Za-z_][\w.]*\s*\(")
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")
_JSON_WORDS = {"true": True, "false": False, "null": None}


def parse_calls(output: Any) -> list[Call] | None:
    """The tool calls in a model output; [] for a plain answer, None when calls cannot be read."""
    try:
        return _parse(output)
    except Exception:  # noqa: BLE001 - _Unreadable, and anything unforeseen in odd input: never raise
        return None


def _parse(output: Any) -> list[Call]:
    if output is None:
        raise _Unreadable("no output")
    if isinstance(output, Call):
        return [output]
    if isinstance(output, str):
        return _parse_text(output)
    if isinstance(output, dict):
        return _parse_mapping(output)
    if isinstance(output, (list, tuple)):
        return [call for item in output for call in _parse_item(item)]
    raise _Unreadable(f"unsupported output type {type(output).__name__}")


def _parse_item(item: Any) -> list[Call]:
    if isinstance(item, Call):
        return [item]
    if isinstance(item, dict):
        calls = _parse_mapping(item)
        if not calls:
            raise _Unreadable("an item of a call list is not a call")
        return calls
    raise _Unreadable("an item of a call list is not a call")


def _is_message(data: dict[str, Any]) -> bool:
    return "tool_calls" in data or "role" in data or ("content" in data and "name" not in data)


def _parse_mapping(data: dict[str, Any]) -> list[Call]:
    if _is_message(data):
        tool_calls = data.get("tool_calls")
        if tool_calls:
            if not isinstance(tool_calls, list):
                raise _Unreadable("tool_calls is not a list")
            return [call for item in tool_calls for call in _parse_item(item)]
        if isinstance(data.get("function_call"), dict):
            return [_call_from(data["function_call"])]
        return _parse_content(data.get("content"))
    if isinstance(data.get("function"), dict):
        return [_call_from(data["function"])]
    if "name" in data or isinstance(data.get("tool_name"), str):  # Cohere: {"tool_name", "parameters"}
        return [_call_from(data)]
    if len(data) == 1:
        (name, arguments), = data.items()
        if isinstance(name, str) and name and isinstance(arguments, (dict, str)):
            return [Call(name, _arguments(arguments))]  # BFCL's decoded form {"func": {...}}
    raise _Unreadable("not a call")


def _parse_content(content: Any) -> list[Call]:
    if content is None:
        return []
    if isinstance(content, str):
        return _parse_text(content)
    if isinstance(content, list):  # multi-part content: [{"type": "text", "text": ...}]
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        return _parse_text("\n".join(t for t in texts if isinstance(t, str)))
    raise _Unreadable("unsupported message content")


def _call_from(data: dict[str, Any]) -> Call:
    name = data["name"] if "name" in data else data.get("tool_name")  # Cohere: tool_name
    raw = next((data[key] for key in _ARGUMENT_KEYS if key in data), None)
    return Call(_name(name), _arguments(raw))


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise _Unreadable("a call without a name")
    return name.strip()


def _arguments(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    for _ in range(2):  # arguments encoded twice ("\"{...}\"") are read through
        if not isinstance(raw, str):
            break
        text = raw.strip()
        if not text:
            return {}
        try:
            raw = json.loads(text)
        except ValueError:
            raw = _literal(text)
    if not isinstance(raw, dict):
        raise _Unreadable("arguments are not an object")
    return raw


def _literal(text: str) -> Any:
    """A Python-style literal (single quotes, True/None), read without evaluating anything."""
    try:
        tree = _ast_parse(text)
    except (SyntaxError, ValueError):
        raise _Unreadable("not JSON nor a literal") from None
    return _value(tree.body)


def _parse_text(text: str) -> list[Call]:
    if "</think>" in text:
        text = _THINK.sub("", text)
        if "</think>" in text:  # the prompt opened the thinking block
            text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:  # reasoning cut off before it ended: no answer at all, not a plain "no call"
        raise _Unreadable("the output ends inside its <think> block")
    text = text.strip()
    marker = formats.MARKER.search(text)
    if marker is not None:
        if marker.lastgroup == "tagged":  # the common case; the blocks close themselves: no end tokens to cut
            return _tagged(text)
        return _MARKED[marker.lastgroup](formats.cut_end_tokens(text))
    if text.endswith(">"):
        text = formats.cut_end_tokens(text)
    if not text:
        return []
    if text.startswith("functools["):  # Phi-4
        return _parse_payload(text[len("functools"):], strict=True)
    calls = _parse_payload(text, strict=False)
    if calls is not None:
        return calls
    fenced = [block.strip() for block in _FENCE.findall(text)]
    for block in fenced:
        calls = _parse_payload(block, strict=False)
        if calls is not None:
            return calls
    if _attempted(text) or any(_attempted(block) for block in fenced):
        raise _Unreadable("the output looks like a call but cannot be read")
    return []  # a plain answer


def _attempted(text: str) -> bool:
    """Does this text look like an attempt at a call (JSON, a call list, a function call)?"""
    return bool(text) and (text[0] in "{[" or bool(_CALL_START.match(text)))


def _parse_payload(text: str, *, strict: bool) -> list[Call] | None:
    """Calls in a JSON or Python-call text; None (or _Unreadable when strict) if it is neither."""
    if not text:
        if strict:
            raise _Unreadable("an empty call block")
        return None
    if text[0] in "{[":
        try:
            return _from_data(json.loads(text))
        except ValueError:
            pass
        except _Unreadable:
            if strict:
                raise
    calls = _python_calls(text)
    if calls is None and text[:1] == "{":
        try:
            calls = _from_data(_literal(text))
        except _Unreadable:
            calls = None
    if calls is None and strict:
        raise _Unreadable("unreadable call")
    return calls


def _from_data(data: Any) -> list[Call]:
    if isinstance(data, dict):
        return _parse_mapping(data)
    if isinstance(data, list):
        return [call for item in data for call in _parse_item(item)]
    raise _Unreadable("JSON that is not a call")


# ---------------------------------------------------------------- the formats with call markers


def _read(reader: Callable[[str], list[formats.RawCall]], text: str) -> list[Call]:
    """Calls from a family reader's ``(name, arguments)`` pairs, arguments decoded and checked."""
    return [Call(_name(name), _arguments(arguments)) for name, arguments in reader(text)]


def _tagged(text: str) -> list[Call]:
    """``<tool_call>`` blocks: Hermes / Qwen JSON, Qwen3.5 XML, GLM, or Python calls."""
    calls = []
    for block in _TAGGED.findall(text):
        block = block.strip()
        calls += _parse_payload(block, strict=True) if block[:1] in "{[" else _tool_call_block(block)
    return calls


def _tool_call_block(block: str) -> list[Call]:
    if block.startswith("<function="):
        return _read(formats.function_tags, block)
    if formats.is_glm(block):
        return _read(formats.glm_block, block)
    return _parse_payload(block, strict=True)


def _mistral(text: str) -> list[Call]:
    rest = text.split("[TOOL_CALLS]", 1)[1].strip()
    if rest[:1] in "[{":  # the list form (also an empty rest: unreadable)
        return _parse_payload(rest, strict=True)
    return _read(formats.mistral_v11, text)


def _blocks(opening: str, closing: str, read: Callable[[str], list[Call]]) -> Callable[[str], list[Call]]:
    """A reader for payloads between ``opening`` and ``closing`` (which the output may leave out at its end)."""
    def blocks(text: str) -> list[Call]:
        return [call for part in text.split(opening)[1:] for call in read(part.split(closing, 1)[0].strip())]
    return blocks


def _strict(payload: str) -> list[Call]:
    return _parse_payload(payload, strict=True)


def _lfm(payload: str) -> list[Call]:
    """LFM2's Python calls, whose object values are written as JSON (true / false / null)."""
    calls = _python_calls(payload, names=_JSON_WORDS)
    return calls if calls is not None else _parse_payload(payload, strict=True)


def _family(reader: Callable[[str], list[formats.RawCall]]) -> Callable[[str], list[Call]]:
    return lambda text: _read(reader, text)


_MARKED: dict[str, Callable[[str], list[Call]]] = {
    "tagged": _tagged,
    "bfcl": lambda text: [call for block in _BFCL_TAG.findall(text) for call in _strict(block.strip())],
    "mistral": _mistral,
    "python_tag": lambda text: _strict(text.split("<|python_tag|>", 1)[1].strip()),
    "function": _family(formats.function_tags),
    "deepseek": _family(formats.deepseek),
    "granite": _blocks("<|tool_call|>", "<|/tool_call|>", _strict),
    "kimi": _family(formats.kimi),
    "functionary_v3": _family(formats.functionary_v3),
    "functionary_v2": _family(formats.functionary_v2),
    "harmony": _family(formats.harmony),
    "gemma": _family(formats.gemma4),
    "lfm": _blocks("<|tool_call_start|>", "<|tool_call_end|>", _lfm),
    "invoke": _family(formats.invoke_xml),
    "cohere": _blocks("<|START_ACTION|>", "<|END_ACTION|>", _strict),
}
"""The reader for each group of `formats.MARKER`."""


# ---------------------------------------------------------------- BFCL Python-call syntax


def _ast_parse(text: str) -> ast.Expression:
    with warnings.catch_warnings():  # invalid escapes in model text are not our warnings to show
        warnings.simplefilter("ignore")
        return ast.parse(text, mode="eval")


def _python_calls(text: str, names: dict[str, Any] | None = None) -> list[Call] | None:
    """``[f(a=1), g(b=2)]`` (brackets optional) as calls; None if the text is not such a list. ``names``: values
    of bare names (BFCL keeps a name as a string)."""
    text = text.strip().strip("'").strip()
    for candidate in (text, f"[{text}]"):
        try:
            tree = _ast_parse(candidate)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        body = tree.body
        elements = [body] if isinstance(body, ast.Call) else getattr(body, "elts", None)
        if elements is None or not isinstance(body, (ast.Call, ast.List, ast.Tuple)):
            return None
        if not all(isinstance(e, ast.Call) for e in elements):
            return None
        try:
            return [Call(*_call(e, names)) for e in elements]
        except _Unreadable:
            return None
    return None


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise _Unreadable("a called object that is not a (dotted) name")
    parts.append(node.id)
    return ".".join(reversed(parts))


def _call(node: ast.Call, names: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    arguments = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise _Unreadable("**kwargs in a call")
        arguments[keyword.arg] = _value(keyword.value, names)
    return _dotted(node.func), arguments


_MAX_POWER = 10_000


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, (int, float)) and abs(exponent) * math.log2(abs(base) + 2) > _MAX_POWER:
        raise _Unreadable("number too large")
    return operator.pow(base, exponent)


def _repeat(left: Any, right: Any) -> Any:
    size = (len(left) * right if isinstance(left, (str, list, tuple)) and isinstance(right, int) else
            len(right) * left if isinstance(right, (str, list, tuple)) and isinstance(left, int) else 0)
    if size > 1_000_000:
        raise _Unreadable("value too large")
    return operator.mul(left, right)


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: _repeat, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: _power,
}


def _value(node: ast.expr, names: dict[str, Any] | None = None) -> Any:
    """The value BFCL's decoder gives an argument expression, without evaluating code."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _value(node.operand, names)
        if type(operand) not in (int, float, complex, bool):
            raise _Unreadable("a sign before a value that is not a number")
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.List):
        return [_value(e, names) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e, names) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _Unreadable("** in a dict")
        return {_value(k, names): _value(v, names) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Name):  # a variable: BFCL keeps its name as a string
        return names.get(node.id, node.id) if names else node.id
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        name, arguments = _call(node, names)
        return {name: arguments}
    if isinstance(node, ast.Subscript):
        return ast.unparse(node)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_value(node.left, names), _value(node.right, names))
        except (TypeError, ValueError, ArithmeticError) as error:
            raise _Unreadable(f"arithmetic failed: {error}") from None
    raise _Unreadable(f"unsupported expression {type(node).__name__}")
