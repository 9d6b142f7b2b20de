"""Lists of function definitions -> Tools: OpenAI ``tools`` JSON and MCP ``tools/list`` results.

Both are a list of {name, description, <schema>}; they differ in where the list sits and what the
schema key is called. Entries that cannot be used are skipped with a warning naming the pointer.
"""

from __future__ import annotations

from typing import Any

from inftool.errors import CatalogError

from .document import Converted, pointer
from .tool import Tool, function_name

def _entries(doc: Any, file: str, keys: tuple[str, ...], what: str) -> tuple[list[Any], tuple[str, ...]]:
    """The list of definitions and its pointer, wherever the document keeps it."""
    if isinstance(doc, list):
        return doc, ()
    node: Any = doc
    for path in keys:
        node, where = doc, ()
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
            where = (*where, part)
        if isinstance(node, list):
            return node, where
    raise CatalogError(file, "", f"no {what} found", hint=f"expected a list, or a mapping with a list under {' or '.join(repr(k) for k in keys)}")


def _tool(entry: dict, schema: dict, output: Any, *, source: str, meta: dict) -> Tool:
    return Tool(
        name=function_name(str(entry["name"])),
        original_name=str(entry["name"]),
        description=str(entry.get("description") or entry.get("title") or ""),
        parameters={"type": "object", "properties": {}, **schema},
        output_schema=output if isinstance(output, dict) else None,
        source=source,
        meta=meta,
    )


def _problem(entry: Any, schema: Any, schema_key: str) -> str | None:
    if not isinstance(entry, dict):
        return f"expected a mapping, got {type(entry).__name__}"
    if not isinstance(entry.get("name"), str) or not entry["name"]:
        return "no 'name'"
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return f"'{schema_key}' must be a JSON Schema of type object"
    return None


def convert_openai(doc: Any, *, file: str, source: str) -> Converted:
    """OpenAI tools: [{type: function, function: {...}}], bare functions, or {tools: [...]} / {functions: [...]}."""
    entries, where = _entries(doc, file, ("tools", "functions"), "OpenAI tools")
    result = Converted()
    for i, item in enumerate(entries):
        entry = item.get("function") if isinstance(item, dict) and item.get("type") == "function" else item
        schema = entry.get("parameters", {}) if isinstance(entry, dict) else None
        problem = _problem(entry, schema, "parameters")
        if problem:
            result.warnings.append(f"{file}#{pointer(*where, i)}: {problem}; tool skipped")
            continue
        output = entry.get("output_schema", entry.get("outputSchema"))
        result.tools.append(_tool(entry, schema, output, source=source, meta={}))
    return result


def convert_mcp(doc: Any, *, file: str, source: str) -> Converted:
    """An MCP tools/list result: {tools: [...]}, a JSON-RPC response {result: {tools: [...]}}, or a list."""
    entries, where = _entries(doc, file, ("tools", "result.tools"), "MCP tools")
    result = Converted()
    for i, entry in enumerate(entries):
        schema = entry.get("inputSchema") if isinstance(entry, dict) else None
        problem = _problem(entry, schema, "inputSchema")
        if problem:
            result.warnings.append(f"{file}#{pointer(*where, i)}: {problem}; tool skipped")
            continue
        meta = {k: entry[k] for k in ("title", "annotations") if k in entry}
        result.tools.append(_tool(entry, schema, entry.get("outputSchema"), source=source, meta=meta))
    return result
