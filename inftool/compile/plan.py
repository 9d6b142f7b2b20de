"""The compiled plan: everything a run will do, resolved, serialisable and content-hashed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from inftool.core.scenarios import ScenarioCell

PLAN_SCHEMA_VERSION = 1


class _PlanModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CatalogEntry(_PlanModel):
    name: str
    source: str
    location: str
    tools: int
    warnings: list[str] = []
    notes: list[str] = []


class RefineGroup(_PlanModel):
    kept: str
    absorbed: list[str]
    similarity: list[float]


class RefineResult(_PlanModel):
    threshold: float
    action: str
    tools_before: int
    tools_after: int
    groups: list[RefineGroup]


class Scenarios(_PlanModel):
    mix: dict[str, float]
    distractors: int
    max_parallel: int
    near_miss: float = 0.0
    cells: list[ScenarioCell]


class RoleProgram(_PlanModel):
    role: str
    model: str
    backend: str
    engine: str
    """The model as the backend names it ('procedural', an endpoint model name, a factory)."""
    signature: str
    instructions: str
    executed: list[str] = []
    """The server role in ``mode: execute``: tools whose calls run on their live MCP server."""


class Gates(_PlanModel):
    verify: list[str]
    dedup_threshold: float
    reward: list[str]
    reward_values: dict[str, float]
    partial_credit: bool
    state_reward: float = 1.0
    """What a stateful rollout whose turn ends in the planned state adds (``reward.state``)."""


class TrainingJob(_PlanModel):
    trainer: str
    policy: dict[str, Any]
    sft: dict[str, Any]
    grpo: dict[str, Any]
    options: dict[str, Any]
    """Trainer-specific settings (device for local; cluster placement for openrlhf)."""


class LoopSchedule(_PlanModel):
    iterations: int
    episodes_per_iteration: int
    targeting: str
    floor: float
    stages: list[tuple[int, str]]
    """The (iteration, stage) pairs ``inftool run`` runs, in order (``compile.loop_stages``)."""


class Evaluation(_PlanModel):
    bfcl: list[str]
    bfcl_limit: int | None
    heldout: float
    heldout_limit: int | None
    max_new_tokens: int
    max_not_evaluated: float = 0.02
    decoding: list[str] = ["free"]


class Plan(_PlanModel):
    """What `inftool run` will do. ``content_hash`` covers the recipe settings and every tool."""

    schema_version: Literal[1] = PLAN_SCHEMA_VERSION
    name: str
    recipe: str
    seed: int
    run_dir: str
    content_hash: str
    catalogs: list[CatalogEntry]
    warnings: list[str] = []
    """What compiling adapted on its own (e.g. scenario kinds the default mix had to drop)."""
    tools: int
    refine: RefineResult | None
    scenarios: Scenarios
    roles: list[RoleProgram]
    gates: Gates
    training: TrainingJob
    loop: LoopSchedule
    evaluation: Evaluation

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)


def content_hash(*parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts``."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
