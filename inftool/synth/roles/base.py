"""The three role-players' interfaces. Each role has a procedural backend and an LM (DSPy) backend.

- User Simulator: holds the hidden Goal; writes the first request and answers clarifying questions (and, for a
  goal of several turns, opens each later turn).
- Assistant: sees the conversation and the offered tools (never the goal, unless it is the
  procedural teacher, which replays the goal's calls); answers with tool calls or with text.
- Tool Server (the MCP server simulator): answers one call with a result, the same result for the
  same call within an episode, or with an error when the call is invalid (in ``mode: execute``,
  allowlisted calls to live MCP tools are answered by the real server: ``live``; in a stateful episode the
  episode's environment itself answers every call: ``environment``).

An ``rng`` (``random.Random``) is passed in by the caller, seeded per episode, so procedural
backends are deterministic. LM backends raise ``RoleError`` when the LM fails or answers in a form
that cannot be used; the episode is then rejected with that reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal


class RoleError(Exception):
    """A role could not produce a usable answer (LM failure after retries, or a malformed answer)."""


@dataclass(frozen=True)
class Turn:
    """The assistant's move: tool calls, or a text message (an answer, or a clarifying question)."""

    calls: list[Call] = field(default_factory=list)
    content: str | None = None


@dataclass(frozen=True)
class Result:
    """The server's answer to one call: JSON-serialisable ``content``; ``error`` when the call was rejected."""

    content: Any
    error: bool = False
    failure: str | None = None
    """Why a call executed on a real server failed (its error, a timeout), in the words the execution gate
    reports as they are: ``mcp error (TOOL): ...`` or ``mcp timeout (TOOL) after N s``. None when simulated."""
    text: str | None = None
    """The result exactly as the tool message shows it, when a real environment produced it (its output is
    text, not always JSON: ``None`` for a call that returns nothing); None: the JSON of ``content``."""


class UserRole(Protocol):
    def request(self, goal: Goal, tools: dict[str, Tool], rng: random.Random) -> str:
        """The first message: asks for the goal in natural language (leaving out ``goal.withheld``)."""

    def clarify(self, goal: Goal, question: str, rng: random.Random) -> str:
        """Answer the assistant's question, giving the withheld value."""

    def follow_up(self, goal: Goal, turn: int, messages: list[dict[str, Any]], rng: random.Random) -> str:
        """The message opening turn ``turn`` (1, 2, ...) of a goal of several turns (``goal.turns``), after the
        conversation so far."""


class AssistantRole(Protocol):
    def respond(self, messages: list[dict[str, Any]], tools: list[Tool], goal: Goal, rng: random.Random) -> Turn:
        """The next assistant turn. Only the procedural teacher may look at ``goal``."""


class ServerRole(Protocol):
    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]], rng: random.Random) -> Result:
        """The result of one call, consistent with the tool's output schema and with earlier results."""
