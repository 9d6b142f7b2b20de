"""Stateful goals: multi-turn goals planned on BFCL's executed environments (the ``stateful`` scenario kind).

One module per environment gives ``ENV`` (its name), ``initial_state(rng)`` (a seeded, generated world: a file
tree, a workspace of people and messages, an account with orders...) and ``CHAINS`` (planning programs, see
``base``). `StatefulPlanner.plan(target, rng)` draws a world and a chain that calls the target tool, runs the
chain on a fresh instance of the environment (each call's real result chooses the next call's arguments), and
returns the Goal: the user's turns, the planned calls in steps of one, the links from results to arguments, the
environment, its initial state and the digest of the state the planned calls reach.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from types import ModuleType

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.envs import load_env, state_digest

from . import (
    calculator,
    file_system,
    messaging,
    posting,
    tickets,
    trading,
    travel,
    vehicle,
)
from .base import Chain, Draft, Infeasible, PlanError

WORLDS: dict[str, ModuleType] = {module.ENV: module for module in (
    file_system, messaging, posting, tickets, trading, travel, vehicle, calculator)}
"""The environments stateful goals are planned on, by BFCL name."""
ATTEMPTS = 12
"""Worlds drawn for one goal before giving up (a chain may find nothing to work on in a world)."""

__all__ = ["ATTEMPTS", "WORLDS", "Chain", "PlanError", "StatefulPlanner"]


class StatefulPlanner:
    """Plans stateful goals over a catalog's environment tools (``Tool.meta["env"]``)."""

    def __init__(self, tools: Iterable[Tool]):
        self.tool_env: dict[str, tuple[str, str]] = {}
        self.offered: dict[str, list[str]] = {}
        self.names: dict[str, dict[str, str]] = {}
        for tool in tools:
            ref = tool.meta.get("env")
            if isinstance(ref, str):
                self.tool_env[tool.name] = (ref, tool.original_name)
                self.offered.setdefault(ref, []).append(tool.name)
                self.names.setdefault(ref, {})[tool.original_name] = tool.name

    def chains(self, target: str) -> list[Chain]:
        """The chains of ``target``'s environment that call it and whose tools the catalog offers: those that
        always or alternatively call it first, else those that call it when it is the target."""
        ref, method = self.tool_env[target]
        module = WORLDS.get(ref.partition(":")[2]) if ref.startswith("bfcl_env:") else None
        if module is None:
            return []
        usable = [c for c in module.CHAINS if c.usable(self.names[ref])]
        return [c for c in usable if method in c.needs | c.options] or [c for c in usable if method in c.extras]

    def unplannable(self, targets: Iterable[str]) -> list[str]:
        """The targets no chain can plan a goal for (an environment without chains, or tools left out)."""
        return [t for t in targets if t not in self.tool_env or not self.chains(t)]

    def plan(self, target: str, rng: random.Random) -> Goal:
        """A stateful goal calling ``target`` (a catalog name), all of whose randomness comes from ``rng``."""
        chains = self.chains(target) if target in self.tool_env else []
        if not chains:
            raise PlanError(f"no stateful chain calls '{target}' with the tools the catalog offers")
        ref, method = self.tool_env[target]
        module = WORLDS[ref.partition(":")[2]]
        for _ in range(ATTEMPTS):
            config = module.initial_state(rng)
            world = load_env(ref)
            world.reset(config)
            draft = Draft(world, rng, method, self.names[ref])
            try:
                rng.choice(chains).build(draft)
            except Infeasible:
                continue
            if method in {call.name for call in draft.calls}:
                return self._goal(target, ref, config, draft, state_digest(world.state()))
        raise PlanError(f"no stateful goal calling '{target}' found in {ATTEMPTS} worlds of {ref}")

    def _goal(self, target: str, ref: str, config: dict, draft: Draft, digest: str) -> Goal:
        names = self.names[ref]
        steps = [[Call(names[call.name], call.arguments)] for call in draft.calls]
        return Goal("stateful", target, list(self.offered[ref]), steps, links=draft.links, env=ref,
                    initial_state=config, turns=draft.finish(), final_state=digest)
