"""Checking call arguments against a tool's parameter schema: one check for every part of inftool.

The synthesis ``schema`` gate, the server roles, ``inftool serve-mcp`` and the reward's ``execution``
gate all ask ``ArgumentChecks.problem``: JSON Schema Draft 2020-12 with format checks, and an argument
the schema does not name is rejected unless ``additionalProperties`` is true. Validators are compiled
once per tool (keyed by name: one instance serves one catalog), and the reasons are written for people.
The same call is usually checked twice (by the simulated server, then by the schema gate), so verdicts
are remembered for a while, keyed by the call's canonical text.
"""

from __future__ import annotations

import json
from typing import Any

from .tool import Tool

_REMEMBERED = 4096


class ArgumentChecks:
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
                expected = ", ".join(tool.properties) or "none"
                return f"{tool.name}: unknown argument '{unknown[0]}' (expected one of: {expected})"
        validator = self._validators.get(tool.name)
        if validator is None:
            cls = self._validator_class
            validator = self._validators[tool.name] = cls(tool.parameters, format_checker=cls.FORMAT_CHECKER)
        error = next(validator.iter_errors(arguments), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{tool.name}: argument '{where}': {error.message}" if where else f"{tool.name}: {error.message}"
