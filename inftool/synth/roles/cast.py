"""Casting: which backend plays each role, as the recipe says (procedural, or an LM through DSPy; for the
server, real MCP servers too)."""

from __future__ import annotations

from contextlib import ExitStack

from inftool.catalog import Tool
from inftool.catalog.arguments import ArgumentChecks
from inftool.compile import Plan
from inftool.synth.language.phrasing import Phraser
from inftool.synth.roles.dialogue import Cast
from inftool.synth.roles.procedural import ProceduralAssistant, ProceduralServer, ProceduralUser
from inftool.synth.values.sampler import ValueSampler


def cast_roles(spec, plan: Plan, values: ValueSampler, checks: ArgumentChecks, catalog: dict[str, Tool],
               resources: ExitStack) -> tuple[Cast, int]:
    """The cast for a run, and how many episodes may be played at once (1 unless an LM plays a role).

    With ``roles.server.mode: execute`` the allowlisted live MCP servers are started now; closing
    ``resources`` stops them."""
    phraser = Phraser(plan.seed)
    procedural = {
        "user": lambda: ProceduralUser(phraser, catalog, spec.roles.user.vagueness),
        "assistant": lambda: ProceduralAssistant(phraser),
        "server": lambda: ProceduralServer(values, checks),
    }
    players, concurrency, lm_roles = {}, 1, None
    for program in plan.roles:
        model = spec.models[program.model]
        if model.backend == "procedural":
            players[program.role] = procedural[program.role]()
        else:  # openai or engine: the recipe allows no other backend for a role
            from inftool.synth.roles import lm_factory

            lm_roles = lm_roles or lm_factory.RoleFactory()
            players[program.role] = lm_roles.build(program.role, model, program.instructions)
            concurrency = max(concurrency, model.concurrency)
    server = players["server"]
    if spec.roles.server.mode == "execute":
        from inftool.synth.roles.live import start_executing

        server = start_executing(server, spec.roles.server.execute, catalog.values(), resources)
    return Cast(players["user"], players["assistant"], server), concurrency
