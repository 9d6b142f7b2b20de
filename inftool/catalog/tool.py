"""The one normalised tool every source converts to, and the set of tools a recipe works with."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inftool.function_names import MAX_NAME_LENGTH, function_name

__all__ = ["MAX_NAME_LENGTH", "Catalog", "Tool", "function_name"]


class Tool(BaseModel):
    """A tool as every part of inftool sees it, whatever spec it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Name valid for function calling (^[A-Za-z0-9_-]{1,64}$), unique in a catalog.")
    original_name: str = Field(description="The name as written in the source spec (e.g. 'math.factorial').")
    description: str = ""
    parameters: dict[str, Any] = Field(description="JSON Schema of the arguments (type: object).")
    output_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of the result, if known.")
    source: str = Field(description="Where the tool came from, e.g. 'openapi:catalog/travel.yaml'.")
    meta: dict[str, Any] = Field(default_factory=dict, description="Source details (HTTP binding, BFCL language).")

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.parameters.get("properties", {}))

    def matches(self, patterns: Iterable[str]) -> bool:
        """Whether the name or the spec name matches one of the glob ``patterns`` (e.g. ``get_*``)."""
        return any(fnmatch.fnmatchcase(name, p) for name in (self.name, self.original_name) for p in patterns)

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry: ``{"type": "function", "function": {...}}``."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class Catalog:
    """An ordered set of tools with unique function-calling names and the reversible name mapping.

    Adding a tool whose sanitised name is taken gives it a numbered name (``search_2``); the
    original spec name is kept on the tool, so ``original(name)`` and ``name_for(original)``
    translate both ways.
    """

    def __init__(self, tools: Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        self._by_original: dict[str, str] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> Tool:
        name, n = tool.name, 1
        while name in self._tools:
            n += 1
            suffix = f"_{n}"
            name = tool.name[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if name != tool.name:
            tool = tool.model_copy(update={"name": name})
        self._tools[name] = tool
        for original in (tool.original_name, *tool.meta.get("aliases", [])):
            self._by_original.setdefault(original, name)
        return tool

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def original(self, name: str) -> str:
        """The spec name of a function-calling name (``math_factorial`` -> ``math.factorial``)."""
        return self._tools[name].original_name

    def name_for(self, original: str) -> str:
        """The function-calling name of a spec name (``math.factorial`` -> ``math_factorial``), aliases included."""
        return self._by_original[original]
