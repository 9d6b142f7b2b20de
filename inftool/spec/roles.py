"""The three role-players of synthesis and the model each one uses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import SpecModel


class RoleSpec(SpecModel):
    model: str = "synth"
    """Name of an entry in `models` that plays this role."""
    instructions: str | None = None
    """Instructions for an LM-backed role (the DSPy signature's docstring); default: the built-in ones."""


class UserRoleSpec(RoleSpec):
    """User Simulator: holds the hidden goal, writes the request and later turns, answers clarifications."""

    vagueness: float = Field(default=0.2, ge=0.0, le=1.0)
    """Share of requests phrased loosely (paraphrased values, implied units) rather than spelled out."""
    personas: list[str] = Field(default_factory=list)
    """Personas to write as (e.g. 'a busy nurse'); empty: the built-in set."""


class AssistantRoleSpec(RoleSpec):
    """Tool-Calling Assistant: decides whether to call, which tools, with what arguments, then answers."""


class ServerRoleSpec(RoleSpec):
    """MCP Server simulator: returns schema-consistent results, the same result for the same call, errors for invalid calls.
    With `mode: execute`, calls to the allowlisted tools of live MCP catalogs run on the real server instead."""

    mode: Literal["simulate", "execute"] = "simulate"
    """simulate: every result comes from this role's model; execute: calls to tools that came from a live MCP
    server (`source: mcp` with `command` or `url`) and match `execute` are made on that server, and the
    execution gate then means the real server accepted the call; every other call stays simulated."""
    execute: list[str] = Field(default_factory=list)
    """With `mode: execute`: the tools to call for real, by name or glob (e.g. 'get_*'); nothing else is
    executed. Each pattern must match a tool of a live MCP catalog."""
    pin: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Argument values every planned call uses, per tool name or glob, e.g. {read_file: {root: /data}}: real
    servers accept only some values (the root they were started with, an account id)."""

    @model_validator(mode="after")
    def _allowlist_with_execute(self) -> ServerRoleSpec:
        if self.mode == "execute" and not self.execute:
            raise ValueError("mode 'execute' needs `execute`: the tools to call for real, by name or glob")
        if self.mode == "simulate" and self.execute:
            raise ValueError("`execute` lists tools to call for real, which only `mode: execute` does")
        return self


class RolesSpec(SpecModel):
    user: UserRoleSpec = Field(default_factory=UserRoleSpec)
    """The User Simulator."""
    assistant: AssistantRoleSpec = Field(default_factory=AssistantRoleSpec)
    """The Tool-Calling Assistant (the teacher during synthesis)."""
    server: ServerRoleSpec = Field(default_factory=ServerRoleSpec)
    """The MCP Server simulator."""
