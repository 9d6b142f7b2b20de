"""The three role-players of synthesis and the model each one uses."""

from __future__ import annotations

from pydantic import Field

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
    """MCP Server simulator: returns schema-consistent results, the same result for the same call, errors for invalid calls."""


class RolesSpec(SpecModel):
    user: UserRoleSpec = Field(default_factory=UserRoleSpec)
    """The User Simulator."""
    assistant: AssistantRoleSpec = Field(default_factory=AssistantRoleSpec)
    """The Tool-Calling Assistant (the teacher during synthesis)."""
    server: ServerRoleSpec = Field(default_factory=ServerRoleSpec)
    """The MCP Server simulator."""
