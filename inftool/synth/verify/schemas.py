"""Checking call arguments against tools' JSON Schemas: compiled once per tool, reasons people can read.

The same call is usually checked twice (by the simulated server, then by the schema gate), so
verdicts are remembered for a while, keyed by the call's canonical text.
"""

from __future__ import annotations

import json
from typing import Any

_REMEMBERED = 4096

from inftool.catalog import Tool


class SchemaChecks:
    """Cached jsonschema validators (Draft 2020-12, with format checks) keyed by tool name."""

    def __init__(self) -> None:
        from jsonschema import Draft202012Validator

        self._validator_class = Draft202012Validator
        self._validators: dict[str, Any] = {}
        self._recent: dict[str, str | None] = {}

    def problem(self, tool: Tool, arguments: Any) -> str | None:
        """Why ``arguments`` are not valid for ``tool``, or None when they are."""
        key = tool.name + json.dumps(arguments, default=str)  # the gate parses what the server saw: same key order
        if key not in self._recent:
            if len(self._recent) >= _REMEMBERED:
                self._recent.clear()
            self._recent[key] = self._check(tool, arguments)
        return self._recent[key]

    def _check(self, tool: Tool, arguments: Any) -> str | None:
        if not isinstance(arguments, dict):
            return f"arguments must be a JSON object, got {type(arguments).__name__}"
        if tool.parameters.get("additionalProperties") is not True:
            unknown = [name for name in arguments if name not in tool.properties]
            if unknown:
                return f"{tool.name}: unknown argument '{unknown[0]}' (expected one of: {', '.join(tool.properties) or 'none'})"
        validator = self._validators.get(tool.name)
        if validator is None:
            cls = self._validator_class
            validator = self._validators[tool.name] = cls(tool.parameters, format_checker=cls.FORMAT_CHECKER)
        error = next(validator.iter_errors(arguments), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{tool.name}: argument '{where}': {error.message}" if where else f"{tool.name}: {error.message}"
