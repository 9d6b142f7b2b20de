"""Read tool calls out of a model's output, whatever form they come in.

`parse_calls` accepts:

* an OpenAI assistant message (``{"role": "assistant", "content": ..., "tool_calls": [...]}``), a
  list of its ``tool_calls`` objects (``{"id", "type", "function": {"name", "arguments"}}``), with
  arguments as a JSON string or a dict;
* Hermes / Qwen text: one or several ``<tool_call>{"name": ..., "arguments": ...}</tool_call>``
  blocks (also after a ``<think>...</think>`` block), Mistral's ``[TOOL_CALLS] [...]``, Llama's
  ``<|python_tag|>{...}`` and BFCL's ``<TOOLCALL>[...]</TOOLCALL>``;
* a bare JSON object ``{"name", "arguments" | "parameters"}``, a list of them, either one wrapped
  as ``{"function": {...}}``, or BFCL's decoded form ``[{"func": {"arg": value}}]``;
* BFCL's Python-call syntax ``[f(a=1, b="x"), g.h(c=[1, 2], d={"k": 1.5})]``, read with `ast`
  (never evaluated) into the values BFCL's own decoder gives: literals (negative numbers, tuples,
  nested lists and dicts, True / False / None), bare names as strings, calls without keyword
  arguments as their source text, calls with keyword arguments as ``{name: {arg: value}}``,
  arithmetic on numbers computed. Positional arguments are ignored, as BFCL does.

Code fences around any of these are ignored. It returns the calls, ``[]`` when the output is a plain
answer with no call in it, and ``None`` when it tries to make calls that cannot be read. It never
raises.
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

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_BFCL_TAG = re.compile(r"<TOOLCALL>(.*?)(?:</TOOLCALL>|$)", re.DOTALL)
_FENCE = re.compile(r"```[ \t]*[\w+-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)
_CALL_START = re.compile(r"\[?\s*[A-Za-z_][\w.]*\s*\(")
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input")


class _Unreadable(Exception):
    """The output tries to make calls that cannot be read."""


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
    if "name" in data:
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
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _Unreadable("a call without a name")
    raw = next((data[key] for key in _ARGUMENT_KEYS if key in data), None)
    return Call(name.strip(), _arguments(raw))


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
    text = _THINK.sub("", text)
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    text = text.strip()
    if not text:
        return []
    for tag in (_TAGGED, _BFCL_TAG):
        blocks = tag.findall(text)
        if blocks:
            return [call for block in blocks for call in _parse_payload(block.strip(), strict=True)]
    for marker in ("[TOOL_CALLS]", "<|python_tag|>"):
        if marker in text:
            return _parse_payload(text.split(marker, 1)[1].strip(), strict=True)
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


# ---------------------------------------------------------------- BFCL Python-call syntax


def _ast_parse(text: str) -> ast.Expression:
    with warnings.catch_warnings():  # invalid escapes in model text are not our warnings to show
        warnings.simplefilter("ignore")
        return ast.parse(text, mode="eval")


def _python_calls(text: str) -> list[Call] | None:
    """``[f(a=1), g(b=2)]`` (brackets optional) as calls; None if the text is not such a list."""
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
            return [Call(*_call(e)) for e in elements]
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


def _call(node: ast.Call) -> tuple[str, dict[str, Any]]:
    arguments = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise _Unreadable("**kwargs in a call")
        arguments[keyword.arg] = _value(keyword.value)
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


def _value(node: ast.expr) -> Any:
    """The value BFCL's decoder gives an argument expression, without evaluating code."""
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _value(node.operand)
        if type(operand) not in (int, float, complex, bool):
            raise _Unreadable("a sign before a value that is not a number")
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.List):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _Unreadable("** in a dict")
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Name):
        return node.id  # a variable: BFCL keeps its name as a string
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        name, arguments = _call(node)
        return {name: arguments}
    if isinstance(node, ast.Subscript):
        return ast.unparse(node)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        try:
            return _BINARY[type(node.op)](_value(node.left), _value(node.right))
        except (TypeError, ValueError, ArithmeticError) as error:
            raise _Unreadable(f"arithmetic failed: {error}") from None
    raise _Unreadable(f"unsupported expression {type(node).__name__}")
