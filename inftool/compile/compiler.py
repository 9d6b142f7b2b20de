"""Recipe + catalogs -> Plan. Pure and deterministic: the same inputs give the same plan and hash."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from inftool.catalog import Catalog, LoadedCatalogs, load_catalogs
from inftool.catalog.refine import refine
from inftool.errors import CatalogError, Problem, RecipeError, UsageError
from inftool.rundir import RunDir
from inftool.spec import LoadedRecipe
from inftool.spec.base import is_path_key
from inftool.spec.scenarios import COMPLEXITIES

from . import programs
from .plan import (CatalogEntry, Evaluation, Gates, LoopSchedule, Plan, RefineGroup, RefineResult, RoleProgram,
                   ScenarioCell, Scenarios, TrainingJob, content_hash)

TRAINING_STAGES = {"local": ("sft", "grpo"), "openrlhf": ("emit", "launch")}
"""What trains the policy in each iteration, by trainer (OpenRLHF: write the job, then launch it)."""

_ELIGIBLE = {
    "single": (lambda t: True, 1, "any tool"),
    "parallel": (lambda t: bool(t.properties), 1, "a tool with parameters"),
    "multiple": (lambda t: True, 2, "at least two tools"),
    "parallel_multiple": (lambda t: bool(t.properties), 2, "at least two tools, one with parameters"),
    "multi_step": (lambda t: bool(t.properties), 2, "at least two tools, one with parameters"),
    "multi_turn": (lambda t: bool(t.required), 1, "a tool with a required parameter"),
    "irrelevance": (lambda t: True, 1, "any tool"),
    "stateful": (lambda t: "env" in t.meta, 1, "a tool of a stateful environment (source: bfcl_env)"),
}
"""complexity -> (which tools can be a cell's target, least catalog size, what that means in words)."""


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    catalog: Catalog


def read_catalogs(loaded: LoadedRecipe, *, live: bool = True) -> LoadedCatalogs:
    """The recipe's catalogs; a bad spec file, or a live MCP server that cannot be used, is reported at the
    recipe line that names it. Without ``live``, live MCP servers are not started (they add no tools)."""
    try:
        return load_catalogs(loaded.spec.catalogs, live=live)
    except CatalogError as exc:
        index = getattr(exc, "catalog_index", 0)
        raise RecipeError([Problem(loaded.where(("catalogs", index)), f"catalogs.{index}", str(exc))]) from None


def compile_recipe(loaded: LoadedRecipe, catalogs: LoadedCatalogs | None = None) -> Compiled:
    spec = loaded.spec
    catalogs = catalogs or read_catalogs(loaded)
    catalog, refined = catalogs.catalog, None
    if spec.refine is not None:
        before = len(catalog)
        catalog, merges = refine(catalog, spec.refine.threshold, spec.refine.action)
        refined = RefineResult(threshold=spec.refine.threshold, action=spec.refine.action, tools_before=before,
                               tools_after=len(catalog), groups=[RefineGroup(kept=m.kept, absorbed=list(m.absorbed),
                                                                             similarity=list(m.similarity)) for m in merges])
    problems = _server_problems(loaded, catalog) + _policy_problems(loaded)
    if problems:
        raise RecipeError(problems)
    scenarios, warnings = _scenarios(loaded, catalog)
    plan = Plan(
        name=spec.name,
        recipe=str(loaded.path),
        seed=spec.seed,
        run_dir=str(RunDir.of(spec).root),
        content_hash=content_hash(_settings(loaded), [t.model_dump(exclude={"source"}) for t in catalog]),
        catalogs=[CatalogEntry(**vars(s)) for s in catalogs.summaries],
        warnings=warnings,
        tools=len(catalog),
        refine=refined,
        scenarios=scenarios,
        roles=[_role(spec, role, catalog) for role in programs.ROLE_IO],
        gates=Gates(verify=[g for g in ("format", "schema", "execution", "consistency", "dedup") if g in spec.verify.gates],
                    dedup_threshold=spec.verify.dedup_threshold,
                    reward=[g for g in ("format", "function_names", "arguments", "execution") if g in spec.reward.gates],
                    reward_values={g: spec.reward.values.get(g, 0.0) for g in spec.reward.gates},
                    partial_credit=spec.reward.partial_credit, state_reward=spec.reward.state),
        training=_training(spec),
        loop=LoopSchedule(**spec.loop.model_dump(), stages=loop_stages(spec.loop.iterations, spec.train.trainer)),
        evaluation=Evaluation(**spec.evaluate.model_dump()),
    )
    return Compiled(plan=plan, catalog=catalog)


def loop_stages(iterations: int, trainer: str) -> list[tuple[int, str]]:
    """The (iteration, stage) pairs the loop runs, in order: iteration 0 also builds the policy, scores it
    untrained (``baseline``) and, with the local trainer, after its first SFT (``eval_sft``); every
    iteration but the last ends with gap targeting."""
    first, second = TRAINING_STAGES[trainer]
    stages = []
    for k in range(iterations):
        stages.append((k, "synthesize"))
        if k == 0:
            stages += [(0, "policy"), (0, "baseline")]
        stages.append((k, first))
        if k == 0 and trainer == "local":
            stages.append((0, "eval_sft"))
        stages += [(k, second), (k, "evaluate")]
        if k + 1 < iterations:
            stages.append((k, "target"))
    return stages


def _settings(loaded: LoadedRecipe) -> Any:
    """The recipe's settings for hashing: paths relative to the recipe, so the hash is the same on every machine,
    and only the values that differ from their defaults, so a new recipe key with a default (a later
    version of inftool) leaves existing runs, and their episodes' train/held-out split, as they were."""
    base = loaded.path.parent

    def portable(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: portable(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [portable(v, key) for v in node]
        if isinstance(node, str) and is_path_key(key) and os.path.isabs(node):
            return os.path.relpath(node, base)
        return node

    return portable(loaded.spec.model_dump(mode="json", exclude={"extends", "run_dir"}, exclude_defaults=True))


def _scenarios(loaded: LoadedRecipe, catalog: Catalog) -> tuple[Scenarios, list[str]]:
    """Cells per complexity and eligible tool. A kind no tool can serve is an error at its line in a mix
    the recipe wrote; the default mix instead drops it and shares its weight out (with a warning)."""
    spec = loaded.spec.scenarios
    written = ("scenarios", "mix") in loaded.locations
    targets, problems, dropped = {}, [], []
    for complexity in COMPLEXITIES:
        share = spec.mix.get(complexity, 0.0)
        if share <= 0:
            continue
        fits, least, needs = _ELIGIBLE[complexity]
        targets[complexity] = [t.name for t in catalog if fits(t)] if len(catalog) >= least else []
        if targets[complexity]:
            continue
        if written:
            key = ("scenarios", "mix", complexity)
            problems.append(Problem(loaded.where(key), ".".join(key), f"no tool in the catalog can serve '{complexity}' "
                                    "scenarios", expected=f"{needs}",
                                    hint=f"set its share to 0 or add such tools ({len(catalog)} tools now)"))
        dropped.append(f"'{complexity}' ({needs})")
    if problems:
        raise RecipeError(problems)
    mix = {c: spec.mix[c] for c, names in targets.items() if names}
    total = sum(mix.values())
    mix = {c: share / total for c, share in mix.items()}
    cells = [ScenarioCell(complexity=c, tool=name, weight=share / len(targets[c])) for c, share in mix.items()
             for name in targets[c]]
    warnings = [f"the default scenario mix drops {', '.join(dropped)}: no tool in the catalog can serve them; "
                "the other kinds share their weight (set scenarios.mix to choose)"] if dropped else []
    return Scenarios(mix=mix, distractors=spec.distractors, max_parallel=spec.max_parallel, near_miss=spec.near_miss,
                     cells=cells), warnings


def _server_problems(loaded: LoadedRecipe, catalog: Catalog) -> list[Problem]:
    """``roles.server.execute`` patterns must each match a tool of a live MCP server, and ``roles.server.pin``
    must name tools and arguments of the catalog, with values that fit the arguments' schemas."""
    from inftool.mcp.origin import Origin

    problems = []
    live = [t.name for t in catalog if Origin.from_meta(t.meta)]
    for i, pattern in enumerate(loaded.spec.roles.server.execute):
        if not any(catalog[name].matches([pattern]) for name in live):
            key = ("roles", "server", "execute", i)
            problems.append(Problem(loaded.where(key), ".".join(map(str, key)), f"'{pattern}' matches no tool of a "
                                    "live MCP server", expected=f"one of: {', '.join(live)}" if live else None,
                                    hint=None if live else "add a `source: mcp` catalog with `command` or `url`"))
    for pattern, values in loaded.spec.roles.server.pin.items():
        problems += _pin_problems(loaded, catalog, pattern, values)
    return problems


def _policy_problems(loaded: LoadedRecipe) -> list[Problem]:
    """A trained policy named by a hub id must be in the local Hugging Face cache (looked up offline): found now,
    not after synthesis. The training stage starts from the snapshot it resolves to."""
    name = loaded.spec.train.policy
    model = loaded.spec.models[name]
    if not getattr(model, "from_hub", False):
        return []
    try:
        model.start()
    except UsageError as exc:
        key = ("models", name, "model")
        return [Problem(loaded.where(key), ".".join(key), str(exc))]
    return []


def _pin_problems(loaded: LoadedRecipe, catalog: Catalog, pattern: str, values: dict[str, Any]) -> list[Problem]:
    from jsonschema import Draft202012Validator

    matched = [t for t in catalog if t.matches([pattern])]
    if not matched:
        key = ("roles", "server", "pin", pattern)
        return [Problem(loaded.where(key), ".".join(key), f"'{pattern}' matches no tool")]
    problems = []
    for argument, value in values.items():
        key = ("roles", "server", "pin", pattern, argument)
        fits = [t for t in matched if argument in t.properties]
        if not fits:
            problems.append(Problem(loaded.where(key), ".".join(key), f"no tool matching '{pattern}' has an argument "
                                    f"'{argument}'"))
        for tool in fits:
            error = next(Draft202012Validator({**tool.parameters, "required": []}).iter_errors({argument: value}), None)
            if error is not None:
                problems.append(Problem(loaded.where(key), ".".join(key),
                                        f"{value!r} does not fit {tool.name}({argument}): {error.message}"))
    return problems


def _role(spec: Any, role: str, catalog: Catalog) -> RoleProgram:
    from .executed import executed_tools

    role_spec = getattr(spec.roles, role)
    executed = list(executed_tools(catalog, spec.roles.server.execute)) if role == "server" else []
    model = spec.models[role_spec.model]
    engine = {"procedural": "procedural", "openai": getattr(model, "model", ""), "engine": getattr(model, "factory", ""),
              "local": getattr(model, "model", "")}[model.backend]
    return RoleProgram(role=role, model=role_spec.model, backend=model.backend, engine=engine,
                       signature=programs.signature(role),
                       instructions=role_spec.instructions or programs.DEFAULT_INSTRUCTIONS[role], executed=executed)


def _training(spec: Any) -> TrainingJob:
    train = spec.train
    policy = spec.models[train.policy]
    if train.trainer == "openrlhf":
        options = train.cluster.model_dump()
    else:
        options = {"device": train.device, "threads": train.threads, "precision": train.precision,
                   "lora": train.lora.model_dump() if train.lora else None, "report_to": train.report_to}
    return TrainingJob(trainer=train.trainer, policy={"name": train.policy, **policy.model_dump(mode="json")},
                       sft=train.sft.model_dump(), grpo=train.grpo.model_dump(), options=options)
