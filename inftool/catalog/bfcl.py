"""BFCL function docs -> Tools.

BFCL writes parameter types in its own vocabulary (``dict``, ``float``, ``tuple``, ``any``, and
Java/JavaScript type names). Python docs convert to plain JSON Schema; Java and JavaScript docs,
whose arguments BFCL expects as source-code strings, become string parameters whose description
names the language type, as BFCL presents them to models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .document import Converted
from .tool import Tool, function_name

JSON_TYPE = {
    "integer": "integer", "int": "integer", "byte": "integer", "short": "integer", "long": "integer",
    "Bigint": "integer", "number": "number", "float": "number", "double": "number", "string": "string",
    "String": "string", "char": "string", "boolean": "boolean", "bool": "boolean", "Boolean": "boolean",
    "array": "array", "list": "array", "tuple": "array", "Array": "array", "ArrayList": "array",
    "Queue": "array", "Stack": "array", "dict": "object", "object": "object", "HashMap": "object",
    "Hashtable": "object",
}
"""BFCL type names -> JSON Schema types. 'any' (and an empty type) means no constraint."""

_KEPT = ("description", "enum", "default", "format", "minimum", "maximum", "minItems", "maxItems",
         "minLength", "maxLength", "pattern")


def language_of(category: str) -> str:
    return {"simple_java": "java", "simple_javascript": "javascript"}.get(category, "python")


def to_json_schema(node: dict[str, Any]) -> dict[str, Any]:
    """One BFCL (Python-typed) parameter schema as JSON Schema, recursively."""
    schema: dict[str, Any] = {}
    json_type = JSON_TYPE.get(str(node.get("type", "any")))
    if json_type:
        schema["type"] = json_type
    schema.update({k: node[k] for k in _KEPT if k in node})
    if isinstance(node.get("properties"), dict):
        schema["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items() if isinstance(v, dict)}
        required = [r for r in node.get("required", []) if r in schema["properties"]]
        if required:
            schema["required"] = required
    if isinstance(node.get("items"), dict):
        schema["items"] = to_json_schema(node["items"])
    return _consistent_enum(schema)


_FITS = {"integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
         "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
         "boolean": lambda v: isinstance(v, bool), "object": lambda v: isinstance(v, dict)}


def _consistent_enum(schema: dict[str, Any]) -> dict[str, Any]:
    """BFCL puts an array's allowed item values on the array itself, and string enums on booleans
    ("True", "False", "dontcare"); as JSON Schema no value could satisfy those. An array's enum moves
    to its items; enum values that do not fit a non-string type are dropped (the enum too if none fit)."""
    if "enum" not in schema or not isinstance(schema["enum"], list):
        return schema
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        enum = schema.pop("enum")
        schema["items"] = {**items, "enum": items.get("enum", enum)}
    elif kind in _FITS:
        fitting = [v for v in schema["enum"] if _FITS[kind](v)]
        if fitting:
            schema["enum"] = fitting
        else:
            schema.pop("enum")
    return schema


def _as_source_string(name: str, node: dict[str, Any], language: str) -> dict[str, Any]:
    """A Java/JavaScript parameter: a string holding source code of the declared type."""
    label = {"java": "Java", "javascript": "JavaScript"}[language]
    declared = str(node.get("type") or "any")
    kind = f"any {label} value" if declared in ("any", "") else f"a {label} {declared}"
    note = f" Give {kind} written as {label} source code in a string."
    if isinstance(node.get("items"), dict):
        note += f" Its elements are of type {node['items'].get('type', 'any')}."
    if isinstance(node.get("properties"), dict):
        note += f" Its entries follow this schema: {json.dumps(node['properties'])}."
    schema = {"type": "string", "description": str(node.get("description", "")).rstrip() + note}
    return schema | ({"enum": node["enum"]} if "enum" in node else {})


def convert_function(doc: dict[str, Any], *, language: str, source: str) -> Tool:
    """A BFCL function doc ({name, description, parameters: {type: dict, ...}}) as a Tool."""
    params = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
    properties = {k: v for k, v in (params.get("properties") or {}).items() if isinstance(v, dict)}
    if language == "python":
        converted = {k: to_json_schema(v) for k, v in properties.items()}
    else:
        converted = {k: _as_source_string(k, v, language) for k, v in properties.items()}
    schema: dict[str, Any] = {"type": "object", "properties": converted}
    required = [r for r in params.get("required", []) if r in converted]
    if required:
        schema["required"] = required
    return Tool(
        name=function_name(doc["name"]),
        original_name=doc["name"],
        description=str(doc.get("description", "")),
        parameters=schema,
        source=source,
        meta={"language": language},
    )


def convert_questions(entries: Iterable[dict[str, Any]], *, category: str, seen: set[str] | None = None) -> Converted:
    """The function docs of a category's questions as Tools, one per function name.

    BFCL repeats a function under the same name with slightly different docs across questions;
    the first doc of each name is kept (checkers match calls by name) and the rest are counted.
    Pass the same ``seen`` set across categories to keep one doc per name over all of them.
    """
    result, seen = Converted(), set() if seen is None else seen
    language, variants = language_of(category), 0
    for entry in entries:
        for i, doc in enumerate(entry.get("function") or []):
            if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"]:
                result.warnings.append(f"bfcl:{category}#{entry.get('id')}/function/{i}: no function name; skipped")
            elif doc["name"] in seen:
                variants += 1
            else:
                seen.add(doc["name"])
                result.tools.append(convert_function(doc, language=language, source=f"bfcl:{category}"))
    if variants:
        result.notes.append(f"bfcl:{category}: {variants} repeated docs of functions already read were skipped (one doc per name)")
    return result
