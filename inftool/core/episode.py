"""What synthesis produces: a scenario's hidden goal, the role-played conversation, and gate verdicts.

Messages and tools are kept in OpenAI chat format, so episodes can be stored and exported as they
are: ``{"role": "user", "content": ...}``, ``{"role": "assistant", "content": None, "tool_calls":
[{"id", "type": "function", "function": {"name", "arguments": "<JSON string>"}}]}``,
``{"role": "tool", "tool_call_id", "content"}``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One tool call: a function-calling tool name and its arguments."""

    name: str
    arguments: dict[str, Any]

    def key(self) -> str:
        """Canonical text of the call (same call, same key), e.g. for caching server results."""
        return self.name + json.dumps(self.arguments, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Link:
    """multi_step: argument ``argument`` of call ``to_call`` in step ``to_step`` is field ``field`` of the
    result of call ``from_call`` in step ``from_step``."""

    from_step: int
    from_call: int
    field: str
    to_step: int
    to_call: int
    argument: str


@dataclass(frozen=True)
class UserTurn:
    """stateful: one turn of the user's goal: what the user asks for, and how many of the goal's steps it takes."""

    steps: int
    ask: str
    """What the user wants this turn, as a verb phrase ("find the file named 'notes.txt'"); the User Simulator
    phrases it in its own words."""


@dataclass
class Goal:
    """The user's hidden goal for one scenario: what should be called, in which steps, with what values."""

    complexity: str
    target: str
    """The scenario cell's tool."""
    offered: list[str]
    """Names of the tools offered to the assistant, in the order presented."""
    steps: list[list[Call]]
    """Planned calls grouped in steps: calls in a step are independent (parallel); a later step may use
    results of earlier ones (see ``links``). Empty for irrelevance: the right behaviour is no call."""
    persona: str = ""
    links: list[Link] = field(default_factory=list)
    withheld: str | None = None
    """multi_turn: the required argument the user leaves out at first and gives when asked."""
    topic: str | None = None
    """irrelevance: the out-of-scope task the user asks for (a tool's description from another domain)."""
    env: str | None = None
    """stateful: the environment every call runs on (``bfcl_env:gorilla_file_system``); None for the other kinds."""
    initial_state: dict[str, Any] | None = None
    """stateful: the world's initial configuration (JSON data, as ``Environment.reset`` takes it)."""
    turns: list[UserTurn] = field(default_factory=list)
    """stateful: the user's turns, in order; their ``steps`` add up to ``len(steps)``."""
    final_state: str | None = None
    """stateful: the digest of the state the planned calls reach from ``initial_state`` (``envs.state_digest``)."""

    @property
    def calls(self) -> list[Call]:
        return [call for step in self.steps for call in step]

    def to_json(self) -> dict[str, Any]:
        return {
            "complexity": self.complexity,
            "target": self.target,
            "offered": self.offered,
            "steps": [[{"name": c.name, "arguments": c.arguments} for c in step] for step in self.steps],
            "persona": self.persona,
            "links": [vars(link) for link in self.links],
            "withheld": self.withheld,
            "topic": self.topic,
            **self._stateful_json(),
        }

    def _stateful_json(self) -> dict[str, Any]:
        """The stateful fields, only for a goal on an environment (other goals' JSON stays as it was)."""
        if self.env is None:
            return {}
        return {"env": self.env, "initial_state": self.initial_state, "final_state": self.final_state,
                "turns": [{"steps": t.steps, "ask": t.ask} for t in self.turns]}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one gate for one episode."""

    gate: str
    passed: bool
    reason: str = ""


@dataclass
class Episode:
    """One synthesised conversation with its goal, the tools offered, and how it fared at the gates."""

    id: str
    iteration: int
    index: int
    goal: Goal
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    """The offered tools as OpenAI ``tools`` entries."""
    verdicts: list[Verdict] = field(default_factory=list)
    split: str = "train"
    """'train' or 'heldout', fixed by the seed and the episode id."""
    error: str | None = None
    """Why role-play could not finish (an LM failure or a malformed answer), if it could not."""
    call_errors: list[str] = field(default_factory=list)
    """Errors the tool server returned for calls in this episode, or a real server's failure (``mcp error
    (TOOL): ...``, ``mcp timeout (TOOL) after N s``); the execution gate fails on any."""
    final_state: dict[str, Any] | None = None
    """stateful: the state of the episode's world when role-play ended (``Environment.state()``), for the state gate."""

    @property
    def accepted(self) -> bool:
        return bool(self.verdicts) and all(v.passed for v in self.verdicts)

    @property
    def rejection(self) -> Verdict | None:
        return next((v for v in self.verdicts if not v.passed), None)

    @property
    def request(self) -> str:
        """The user's first message; for a goal of several turns (stateful), every turn's message, one per line
        (what the dedup gate compares: two conversations may open alike and go on differently)."""
        users = (m.get("content") or "" for m in self.messages if m.get("role") == "user")
        if self.goal.turns:
            return "\n".join(users)
        return next(users, "")

    @functools.cached_property
    def made_calls(self) -> list[Call]:
        """The calls the assistant actually made, in order (arguments that are not valid JSON become {}).
        Read once the conversation is complete (it is cached)."""
        calls = []
        for message in self.messages:
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                try:
                    arguments = json.loads(function.get("arguments") or "{}")
                except (TypeError, ValueError):
                    arguments = {}
                calls.append(Call(str(function.get("name")), arguments if isinstance(arguments, dict) else {}))
        return calls
