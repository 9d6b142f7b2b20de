"""Casting LM role-players: one ``LMClient`` per model spec and one failure budget for a stage's LM roles."""

from __future__ import annotations

import threading
from typing import Any

from inftool.errors import UsageError
from inftool.spec.backends import EngineModelSpec, OpenAIModelSpec
from inftool.synth.roles.lm import DEFAULT_FAILURE_CAP, FailureBudget, LMClient, client_for
from inftool.synth.roles.lm_roles import ROLES


class RoleFactory:
    """Builds the LM role-players of one synthesis stage: one ``LMClient`` per model spec (so roles on the
    same model share its connection pool and concurrency limit) and one ``FailureBudget`` for all of them,
    capped at the smallest ``max_failures`` of the specs it has seen (unless a budget is given)."""

    def __init__(self, budget: FailureBudget | None = None):
        self.budget = budget
        self._own_budget = budget is None
        self._clients: dict[str, LMClient] = {}
        self._lock = threading.Lock()

    def client(self, spec: OpenAIModelSpec | EngineModelSpec) -> LMClient:
        key = spec.model_dump_json()
        with self._lock:
            cap = getattr(spec, "max_failures", DEFAULT_FAILURE_CAP)
            if self.budget is None:
                self.budget = FailureBudget(cap)
            elif self._own_budget:
                self.budget.cap = min(self.budget.cap, cap)
            if key not in self._clients:
                self._clients[key] = client_for(spec, self.budget)
            return self._clients[key]

    def build(self, role: str, spec: OpenAIModelSpec | EngineModelSpec, instructions: str | None = None) -> Any:
        """The ``UserSimulator``, ``Assistant`` or ``ToolServer`` for ``role`` ('user', 'assistant', 'server')."""
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r} (expected one of {sorted(ROLES)})")
        return ROLES[role](self.client(spec), instructions)
