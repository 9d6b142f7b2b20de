"""Java and JavaScript arguments: source-code strings read as values, and values written as source.

For BFCL's ``simple_java`` and ``simple_javascript`` categories a model gives every argument as a
string of source code (``"42L"``, ``"new ArrayList<>(Arrays.asList(1, 2))"``, ``"{key: 'v'}"``).
The leaderboard reads such a string into a value according to the parameter's declared type and
then judges the value like a Python one. Its reading is deliberately shallow (regular expressions,
no real parser) and falls back to the raw string whenever a form is not recognised; the rules here
reproduce that reading, so that e.g. ``"5"`` for a Java ``long`` stays the string ``"5"`` (only
``"5L"`` is a long) and a quoted string inside a Java array keeps its quotes.

`render_java` / `render_javascript` do the reverse for ground-truth values: source text that reads
back as the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

JAVA_CLASSES: dict[str, type] = {
    "byte": int, "short": int, "integer": int, "long": int, "float": float, "double": float,
    "boolean": bool, "char": str, "String": str, "any": str, "Array": list, "ArrayList": list,
    "Queue": list, "Stack": list, "HashMap": dict, "Hashtable": dict, "Set": set,
}
JAVASCRIPT_CLASSES: dict[str, type] = {
    "String": str, "integer": int, "float": float, "Bigint": int, "Boolean": bool, "dict": dict,
    "array": list, "any": str,
}
JAVA_ITEM_TYPED = frozenset({"Array", "ArrayList", "array"})
JAVASCRIPT_ITEM_TYPED = frozenset({"Array", "ArrayList", "array"})

# Every pattern is used with re.match (anchored at the start); "$" also matches before a final newline.
_INTEGER = re.compile(r"-?\d+$")
_JAVA_FLOAT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[fF]$")
_JAVA_DOUBLE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_JAVA_LONG = re.compile(r"-?\d+[lL]$")
_JS_FLOAT = re.compile(r"-?\d+(?:\.\d+)?$")
_JS_BIGINT = re.compile(r"-?\d+n$")


def _drop_suffix(text: str) -> str:
    """The text without its one-letter type suffix (``5L`` -> ``5``), a final newline kept out of the way."""
    return text.removesuffix("\n")[:-1]


def _scalar(pattern: re.Pattern[str], convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        return convert(text) if pattern.match(text) else text
    return read


def _boolean(text: str) -> Any:
    return text == "true" if text in ("true", "false") else text


# ---------------------------------------------------------------- Java

_JAVA_ARRAY = re.compile(r"new\s+\w+\[\]\s*\{(.*?)\}")
_JAVA_AS_LIST = re.compile(r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)")
_JAVA_ADDS = re.compile(r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", re.DOTALL)
_JAVA_ADD = re.compile(r"add\((.+?)\)")
_JAVA_EMPTY_LIST = re.compile(r"new\s+ArrayList<\w*>\(\)")
_JAVA_MAP = re.compile(r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", re.DOTALL)
_JAVA_PUT = re.compile(r"put\(\"(.*?)\",\s*(.*?)\)")
_JAVA_EMPTY_MAP = re.compile(r"new\s+HashMap<.*?>\s*\(\)")


def java_literal(text: str) -> Any:
    """A Java literal of unknown type: boolean, "string", long, float, number, else the text."""
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    try:
        if _JAVA_LONG.match(text):
            return int(text[:-1])
        if _JAVA_FLOAT.match(text):
            return float(_drop_suffix(text))
    except ValueError:
        return text
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def _java_element(text: str, item_type: str | None, strip_quotes: bool) -> Any:
    if strip_quotes and item_type in ("char", "String"):
        return text[1:-1]
    return java_value(text, item_type) if item_type else java_literal(text)


def _java_array(text: str, item_type: str | None) -> Any:
    found = _JAVA_ARRAY.search(text)
    if not found:
        return text
    parts = (part.strip() for part in found.group(1).split(","))
    return [_java_element(part, item_type, strip_quotes=False) for part in parts if part]


def _java_array_list(text: str, item_type: str | None) -> Any:
    found = _JAVA_AS_LIST.search(text)
    if found:
        return [_java_element(p.strip(), item_type, True) for p in found.group(1).split(",")]
    found = _JAVA_ADDS.search(text)
    if found:
        return [_java_element(p.strip(), item_type, True) for p in _JAVA_ADD.findall(found.group(1))]
    return [] if _JAVA_EMPTY_LIST.search(text) else text


def _java_map(text: str, item_type: str | None = None) -> Any:
    found = _JAVA_MAP.search(text)
    if found:
        body = found.group(1)
        if not body.strip():
            return {}
        return {key: java_literal(raw.strip()) for key, raw in _JAVA_PUT.findall(body)}
    return {} if _JAVA_EMPTY_MAP.search(text) else text


_JAVA_READERS: dict[str, Callable[[str], Any]] = {
    "byte": _scalar(_INTEGER, int), "short": _scalar(_INTEGER, int), "integer": _scalar(_INTEGER, int),
    "long": _scalar(_JAVA_LONG, lambda t: int(_drop_suffix(t))),
    "float": _scalar(_JAVA_FLOAT, lambda t: float(_drop_suffix(t))),
    "double": _scalar(_JAVA_DOUBLE, float),
    "boolean": _boolean,
}
_JAVA_COLLECTIONS: dict[str, Callable[[str, str | None], Any]] = {
    "Array": _java_array, "ArrayList": _java_array_list, "HashMap": _java_map,
}


def java_value(text: str, declared: str, item_type: str | None = None) -> Any:
    """Read a Java argument string as a value of its declared type (the text itself if not readable).

    Strings, chars and ``any`` stay as written. Set, Hashtable, Queue and Stack are not read (the
    leaderboard does not implement them either) and stay strings.
    """
    reader = _JAVA_READERS.get(declared)
    if reader is not None:
        try:
            return reader(text)
        except ValueError:
            return text
    collection = _JAVA_COLLECTIONS.get(declared)
    if collection is not None:
        return collection(text, item_type)
    return text


# ---------------------------------------------------------------- JavaScript

_JS_2D = re.compile(r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)")
_JS_ROW = re.compile(r"\[(.*?)\]")
_JS_1D = re.compile(r"\[(.*?)\]|\bnew\s+Array\((.*?)\)")
_JS_OBJECT = re.compile(r"\{(.*?)\}")
_JS_PAIR = re.compile(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)")


def js_literal(text: str) -> Any:
    """A JavaScript literal of unknown type: boolean, quoted string, number, else the text."""
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    if len(text) >= 1 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def _js_array(code: str, item_type: str | None) -> Any:
    whole = _JS_2D.match(code)
    if whole:
        rows = []
        for index, row in enumerate(_JS_ROW.findall(whole.group(0))):
            row = row.strip()
            if index == 0 and row.startswith("["):
                row = row[1:]
            rows.append([js_literal(element.strip()) for element in row.split(",")])
        return rows
    flat = _JS_1D.match(code)
    if not flat:
        return code
    body = (flat.group(1) if flat.group(1) is not None else flat.group(2) or "").strip()
    elements = body.split(",") if body else []
    if not item_type:
        return [js_literal(element.strip()) for element in elements]
    out = []
    for element in elements:
        element = element.strip()
        quoted = element.startswith(("'", '"'))
        out.append(javascript_value(element, item_type, "String" if quoted else None, strict=True))
    return out


def _js_object(code: str) -> Any:
    if code == "{}":
        return {}
    found = _JS_OBJECT.match(code)
    if not found:
        return code
    result: dict[str, Any] = {}
    for key, raw in _JS_PAIR.findall(found.group(1)):
        key, raw = key.strip().strip("'\""), raw.strip()
        if raw.startswith("[") and raw.endswith("]"):
            result[key] = _js_collection(raw, "array", None)
        elif raw.startswith("{") and raw.endswith("}"):
            result[key] = _js_collection(raw, "dict", None)
        else:
            result[key] = js_literal(raw.strip("'\""))
    return result


def _js_collection(code: str, kind: str, item_type: str | None) -> Any:
    code = code.strip()
    try:
        return _js_object(code) if kind == "dict" else _js_array(code, item_type)
    except _Unreadable:
        return code


class _Unreadable(Exception):
    """An array element of a type that cannot be read: the whole array stays a string."""


def _js_string(text: str) -> str:
    if len(text) >= 1 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


_JS_READERS: dict[str, Callable[[str], Any]] = {
    "String": _js_string,
    "integer": _scalar(_INTEGER, int),
    "float": _scalar(_JS_FLOAT, float),
    "Bigint": _scalar(_JS_BIGINT, lambda t: int(t[:-1])),
    "Boolean": _boolean,
    "any": str,
}


def javascript_value(text: str, declared: str, item_type: str | None = None, *, strict: bool = False) -> Any:
    """Read a JavaScript argument string as a value of its declared type (the text itself if not readable).

    ``strict`` (for array elements) makes an unknown declared type abort the enclosing array.
    """
    reader = _JS_READERS.get(declared)
    if reader is not None:
        try:
            return reader(text)
        except ValueError:
            if strict:
                raise _Unreadable from None
            return text
    if declared in ("dict", "array"):
        return _js_collection(text, declared, item_type)
    if strict:
        raise _Unreadable
    return text


# ---------------------------------------------------------------- values -> source text


def render_java(value: Any, declared: str, item_type: str | None = None) -> str:
    """Java source for a value of a declared type, as a model would write it (reads back as the value)."""
    if isinstance(value, str) and declared not in ("Array", "ArrayList", "HashMap"):
        return value  # strings (and variables) are given unquoted at the top level
    if isinstance(value, bool):
        return "true" if value else "false"
    if declared == "long" and isinstance(value, int):
        return f"{value}L"
    if declared == "float" and isinstance(value, (int, float)):
        return f"{float(value)!r}f"
    if declared == "double" and isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        inner = item_type or "any"
        if declared == "ArrayList":
            parts = [_java_element_source(v, inner, quoted=True) for v in value]
            return f"new ArrayList<>(Arrays.asList({', '.join(parts)}))" if parts else "new ArrayList<>()"
        parts = [_java_element_source(v, inner, quoted=False) for v in value]
        return f"new {_JAVA_ARRAY_TYPE.get(inner, 'Object')}[]{{{', '.join(parts)}}}"
    if isinstance(value, dict):
        puts = " ".join(f'put("{k}", {_java_element_source(v, "any", quoted=True)});' for k, v in value.items())
        return f"new HashMap<String, Object>() {{{{ {puts} }}}}" if puts else "new HashMap<>()"
    return str(value)


_JAVA_ARRAY_TYPE = {"integer": "int", "long": "long", "double": "double", "float": "float",
                    "boolean": "boolean", "char": "char", "String": "String", "byte": "byte", "short": "short"}


def _java_element_source(value: Any, item_type: str, *, quoted: bool) -> str:
    if isinstance(value, str):
        if item_type in ("char", "String") and quoted:
            return f'"{value}"'
        return value if item_type in ("char", "String", "any") else json.dumps(value)
    if isinstance(value, list):
        return render_java(value, "Array", None)
    return render_java(value, item_type if item_type in _JAVA_READERS else "any")


def render_javascript(value: Any, declared: str, item_type: str | None = None) -> str:
    """JavaScript source for a value of a declared type (reads back as the value)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and declared == "float" and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return f"{value}n" if declared == "Bigint" else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_js_element_source(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{" + ", ".join(f"{k}: {_js_element_source(v)}" for k, v in value.items()) + "}"
    return str(value)


def _js_element_source(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    return render_javascript(value, "any")
