"""Tool catalogs: every supported spec format normalised to one `Tool`, merged into one `Catalog`.

Sources: BFCL v4 function docs (from the bfcl-eval data), the tools of BFCL's stateful environments
(``bfcl_env``), OpenAI ``tools`` JSON/YAML, OpenAPI 3.0/3.1 (one tool per operation), and MCP ``tools/list``
results, saved or asked of a live server.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.errors import CatalogError

from .document import Converted, display_path, read_document
from .tool import Catalog, Tool, function_name

SOURCES = ("bfcl", "bfcl_env", "openai", "openapi", "mcp")


@dataclass(frozen=True)
class CatalogSummary:
    """What one catalog entry of a recipe contributed."""

    name: str
    source: str
    location: str
    tools: int
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class LoadedCatalogs:
    catalog: Catalog
    summaries: list[CatalogSummary]

    @property
    def warnings(self) -> list[str]:
        return [w for s in self.summaries for w in s.warnings]

    @property
    def notes(self) -> list[str]:
        return [n for s in self.summaries for n in s.notes]


def detect_source(doc: Any, file: str) -> str:
    """Which kind of spec a parsed document is."""
    if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc):
        return "openapi"
    items = doc.get("tools", doc.get("functions")) if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        items = doc["result"].get("tools")
    first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
    parameters = first.get("parameters") if isinstance(first.get("parameters"), dict) else {}
    if "inputSchema" in first:
        return "mcp"
    if "question" in first and "function" in first or parameters.get("type") == "dict":
        return "bfcl"
    if first.get("type") == "function" or "parameters" in first or "name" in first:
        return "openai"
    raise CatalogError(file, "", "cannot tell what kind of tool spec this is",
                       hint="expected OpenAPI 3, OpenAI tools, an MCP tools/list result or BFCL function docs; pass --source")


def convert_document(doc: Any, source: str, *, file: str, base_dir: Path | None = None) -> Converted:
    """Convert a parsed spec document of a known source kind."""
    from . import bfcl, functions, openapi

    label = f"{source}:{file}"
    if source == "openapi":
        return openapi.convert_openapi(doc, file=file, base_dir=base_dir, source=label)
    if source == "mcp":
        return functions.convert_mcp(doc, file=file, source=label)
    if source == "openai":
        return functions.convert_openai(doc, file=file, source=label)
    if isinstance(doc, dict) and isinstance(doc.get("tools", doc.get("functions")), list):
        doc = doc.get("tools", doc.get("functions"))
    entries = doc if isinstance(doc, list) else [doc]
    if entries and isinstance(entries[0], dict) and "question" not in entries[0]:
        entries = [{"id": file, "function": entries}]  # a plain list of function docs
    return bfcl.convert_questions(entries, category="simple_python")


def read_spec(path: Path, source: str | None = None) -> Converted:
    """Read a spec file, detecting its kind unless ``source`` names it."""
    doc = read_document(path)
    file = display_path(path)
    return convert_document(doc, source or detect_source(doc, file), file=file, base_dir=path.parent)


def read_bfcl(categories: list[str]) -> Converted:
    """The distinct function docs of BFCL v4 categories."""
    from .bfcl import convert_questions
    from .bfcl_data import bfcl_data

    data, result, seen = bfcl_data(), Converted(), set()
    for category in categories:
        part = convert_questions(data.questions(category), category=category, seen=seen)
        result.tools += part.tools
        result.warnings += part.warnings
        result.notes += part.notes
    return result


def read_bfcl_envs(envs: list[str]) -> Converted:
    """The tools of BFCL's stateful environments (``gorilla_file_system``, ...), each keeping its environment
    in ``meta["env"]`` (``bfcl_env:<name>``, as ``inftool.envs.load_env`` and ``inftool serve-mcp`` take it)."""
    from .bfcl import convert_function
    from .bfcl_data import bfcl_data

    data, result = bfcl_data(), Converted()
    for env in envs:
        for doc in data.environment_docs(env):
            tool = convert_function(doc, language="python", source=f"bfcl_env:{env}")
            result.tools.append(tool.model_copy(update={"meta": {**tool.meta, "env": f"bfcl_env:{env}"}}))
    return result


def read_mcp_server(origin: Any) -> tuple[Converted, str]:
    """The tools of a live MCP server (an ``inftool.mcp.origin.Origin``), each with its origin in ``meta``,
    and the name the server gives itself."""
    from inftool.mcp.client import list_tools

    from .functions import convert_mcp

    listing = list_tools(origin)
    converted = convert_mcp({"tools": listing.tools}, file=str(origin), source=f"mcp:{origin}")
    converted.tools = [t.model_copy(update={"meta": {**t.meta, **origin.to_meta()}}) for t in converted.tools]
    return converted, listing.server


def load_catalogs(specs: list[Any], *, live: bool = True) -> LoadedCatalogs:
    """Read every catalog of a recipe into one Catalog with unique names, in recipe order.

    Live MCP servers (``source: mcp`` with ``command`` or ``url``) are started and asked for their tools,
    unless ``live`` is off: then they contribute no tools. A CatalogError from one catalog carries
    ``catalog_index`` so callers can point at its entry.
    """
    catalog, summaries = Catalog(), []
    for index, spec in enumerate(specs):
        try:
            converted, location, default_name = _read(spec, live)
        except CatalogError as exc:
            exc.catalog_index = index
            raise
        kept, notes = _select(converted, spec), list(converted.notes)
        for tool in kept:
            added = catalog.add(tool)
            if added.name != tool.name:
                notes.append(f"{tool.source}: tool '{tool.original_name}' is named '{added.name}' ('{tool.name}' was taken)")
        summaries.append(CatalogSummary(name=spec.name or default_name, source=spec.source, location=location,
                                        tools=len(kept), warnings=converted.warnings, notes=notes))
    return LoadedCatalogs(catalog=catalog, summaries=summaries)


def _read(spec: Any, live: bool) -> tuple[Converted, str, str]:
    """One catalog entry's tools, where they come from, and the entry's default name."""
    if spec.source == "bfcl":
        return read_bfcl(spec.categories), "bfcl:" + ",".join(spec.categories), "bfcl"
    if spec.source == "bfcl_env":
        return read_bfcl_envs(spec.envs), "bfcl_env:" + ",".join(spec.envs), "bfcl_env"
    if spec.source == "mcp" and spec.live:
        from inftool.mcp.origin import Origin

        origin = Origin.from_spec(spec)
        converted, server = read_mcp_server(origin) if live else (Converted(), "mcp")
        return converted, str(origin), server
    return read_spec(spec.path, spec.source), display_path(spec.path), Path(spec.path).stem


def _select(converted: Converted, spec: Any) -> list[Tool]:
    """Distinct, schema-valid tools that pass the spec's include/exclude/limit."""
    from jsonschema import Draft7Validator  # its metaschema checks the keywords tools use, 5x faster than 2020-12's
    from jsonschema.exceptions import SchemaError

    tools, seen, withheld = [], set(), 0
    for tool in converted.tools:
        if (spec.include and not tool.matches(spec.include)) or tool.matches(spec.exclude):
            continue
        fingerprint = json.dumps([tool.original_name, tool.description, tool.parameters], sort_keys=True)
        if fingerprint in seen:
            continue
        try:
            Draft7Validator.check_schema(tool.parameters)
        except SchemaError as exc:
            converted.warnings.append(f"{tool.source}: tool '{tool.original_name}' has an invalid parameters schema "
                                      f"({exc.message}); tool skipped")
            continue
        seen.add(fingerprint)
        if spec.holdout and withheld_by_hash(tool.original_name, spec.holdout):
            withheld += 1
            continue
        tools.append(tool)
        if spec.limit and len(tools) >= spec.limit:
            break
    if withheld:
        converted.notes.append(f"withheld {withheld} tools from synthesis (holdout {spec.holdout}): evaluation "
                               "reports their questions as unseen")
    return tools


def withheld_by_hash(name: str, share: float) -> bool:
    """Whether a tool is in the held-out ``share`` of its catalog: a hash of its name, the same everywhere."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


__all__ = ["SOURCES", "Catalog", "CatalogSummary", "Converted", "LoadedCatalogs", "Tool", "detect_source",
           "function_name", "load_catalogs", "read_bfcl", "read_bfcl_envs", "read_mcp_server", "read_spec"]
