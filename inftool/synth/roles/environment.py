"""The ToolServer role played by the environment itself: in a stateful episode every call runs on the episode's
own world, and each tool message is the environment's real output.

`EnvironmentServer.open(goal)` loads the goal's environment (``goal.env``) and resets it to the goal's initial
state; the episode's calls then change that world, and ``state()`` is where it ended. A call reaches the
environment under the tool's spec name (a catalog may have renamed the tool on a clash). A result is an error,
which the execution gate rejects, only when the call raised (``Error during execution: ...``) or named a method
the environment lacks; the API's own refusals (``{"error": ...}``) are ordinary results, as BFCL shows them.
"""

from __future__ import annotations

import random
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.envs import ERROR_PREFIX, Environment, load_env, result_data
from inftool.synth.roles.base import Result, RoleError


class EnvironmentServer:
    """Answers every call of one episode by executing it on the episode's world."""

    def __init__(self, world: Environment):
        self.world = world

    @classmethod
    def open(cls, goal: Goal) -> EnvironmentServer:
        """A server on a fresh world of ``goal.env``, reset to ``goal.initial_state``."""
        if goal.env is None:
            raise RoleError(f"a '{goal.complexity}' goal has no environment to execute its calls on")
        world = load_env(goal.env)
        world.reset(goal.initial_state)
        return cls(world)

    def call(self, tool: Tool, call: Call, goal: Goal, earlier: list[tuple[Call, Result]],
             rng: random.Random) -> Result:
        text = self.world.call(tool.original_name, call.arguments)
        return Result(content=result_data(text), error=text.startswith(ERROR_PREFIX), text=text)

    def state(self) -> dict[str, Any]:
        """The world as it is now."""
        return self.world.state()
