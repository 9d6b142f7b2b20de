"""Several environments acting as one: the world of a BFCL multi-turn entry, which involves several APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Environment, PythonEnvironment, unknown_tool


class EnvironmentGroup:
    """Environments under keys (BFCL's class names: ``GorillaFileSystem``, ``TwitterAPI``, ...), one world.

    ``tools()`` is every member's, in order; a call goes to the member that has the tool (the later member
    when two have it, as BFCL's executor decides); ``reset(config)`` gives each member ``config[key]``
    ({} when absent), ``state()`` is ``{key: member state}``. A group is an `Environment` itself.
    """

    def __init__(self, members: Mapping[str, Environment], *, name: str | None = None):
        self.members = dict(members)
        self.name = name or "+".join(self.members)
        self._route: dict[str, Environment] = {}
        for member in self.members.values():
            for tool in _callable(member):
                self._route[tool] = member

    def tools(self) -> list[dict[str, Any]]:
        return [tool for member in self.members.values() for tool in member.tools()]

    def reset(self, config: Mapping[str, Any] | None = None, *, long_context: bool = False) -> None:
        config = config or {}
        for key, member in self.members.items():
            member.reset(config.get(key) or {}, long_context=long_context)

    def call(self, name: str, arguments: Mapping[str, Any]) -> str:
        member = self._route.get(name)
        return unknown_tool(name) if member is None else member.call(name, arguments)

    def state(self) -> dict[str, Any]:
        return {key: member.state() for key, member in self.members.items()}

    def member_for(self, name: str) -> Environment | None:
        """The member that executes tool ``name`` (None: no member has it)."""
        return self._route.get(name)

    def parameter_names(self, name: str) -> list[str]:
        """The parameters of tool ``name`` in positional order (its member's signature when it has one, else
        the order of the tool's schema)."""
        member = self._route[name]
        if hasattr(member, "parameter_names"):
            return member.parameter_names(name)
        tool = next(t for t in member.tools() if t["function"]["name"] == name)
        return list(tool["function"]["parameters"].get("properties", {}))


def _callable(member: Environment) -> list[str]:
    """The tools a member executes: a Python environment's methods (offered or not: BFCL's executor runs a
    method whose doc is held back), another environment's listed tools."""
    if isinstance(member, PythonEnvironment):
        return member.method_names
    return [tool["function"]["name"] for tool in member.tools()]
