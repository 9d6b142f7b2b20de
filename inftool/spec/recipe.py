"""The root of a recipe: everything `inftool run` needs to close the loop, in one YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from inftool.errors import did_you_mean

from .backends import LocalModelSpec, ModelSpec, ProceduralModelSpec
from .base import SpecModel
from .catalogs import BfclEvalCategory, CatalogSpec, RefineSpec
from .gates import RewardSpec, VerifySpec
from .roles import RolesSpec
from .scenarios import ScenariosSpec
from .training import LocalTrainSpec, TrainSpec


class LoopSpec(SpecModel):
    """The closed loop: synthesise -> verify -> train -> evaluate -> target gaps, repeated."""

    iterations: int = Field(default=3, ge=1)
    """Rounds of synthesise -> train -> evaluate -> target."""
    episodes_per_iteration: int = Field(default=2000, ge=1)
    """Episodes synthesised per round (before verification)."""
    targeting: Literal["gaps", "uniform"] = "gaps"
    """gaps: sample the next iteration's scenarios where the policy failed; uniform: keep the mix."""
    floor: float = Field(default=0.05, ge=0.0, le=1.0)
    """Least share of its base weight a scenario cell keeps under gap targeting, so nothing is starved."""


class EvaluateSpec(SpecModel):
    bfcl: list[BfclEvalCategory] = Field(
        default_factory=lambda: ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]
    )
    """BFCL v4 categories the policy is evaluated on; the multi_turn_* ones drive the policy through whole
    conversations with BFCL's stateful environments and judge them by state, as BFCL's multi-turn checker does."""
    bfcl_limit: int | None = Field(default=None, ge=1)
    """At most this many questions per BFCL category (default: all)."""
    heldout: float = Field(default=0.1, ge=0.0, lt=1.0)
    """Share of verified synthetic episodes held out of training for evaluation."""
    heldout_limit: int | None = Field(default=200, ge=1)
    """At most this many held-out episodes (of iteration 0, the same at every evaluation) are scored."""
    max_new_tokens: int = Field(default=96, ge=1)
    """Longest answer the evaluated policy may generate."""
    decoding: list[Literal["free", "constrained"]] = Field(default_factory=lambda: ["free"], min_length=1)
    """How a local policy decodes, each mode scored and stored on its own (never mixed): ``free`` greedy
    decoding; ``constrained``, greedy decoding held to the offered tools (plain text, or Hermes calls naming an
    offered tool with arguments its JSON Schema accepts), stored as ``<label>+constrained``. The loop's
    targeting reads the first mode's verdicts."""
    max_not_evaluated: float = Field(default=0.02, ge=0.0, le=1.0)
    """Largest share of items that may go without a verdict (an endpoint policy that still failed after its
    retries: the items are stored as not_evaluated and left out of accuracy); past it the evaluation fails."""

    @field_validator("decoding")
    @classmethod
    def _modes_once(cls, modes: list[str]) -> list[str]:
        repeated = sorted({m for m in modes if modes.count(m) > 1})
        if repeated:
            raise ValueError(f"lists {', '.join(repeated)} more than once (each mode is evaluated and stored once; "
                             f"hint: decoding: [{', '.join(dict.fromkeys(modes))}])")
        return modes


def _default_models() -> dict[str, ModelSpec]:
    return {"synth": ProceduralModelSpec(backend="procedural"), "policy": LocalModelSpec(backend="local")}


def reference_errors(data: Any) -> list[PydanticCustomError]:
    """Roles and training must name models that exist; the trained policy must be local.

    Works on raw recipe data as well as on a validated recipe's dump, so that these problems are
    reported together with every other one even when other parts of the recipe are invalid.
    """
    data = data if isinstance(data, dict) else {}
    models = data.get("models", {"synth": {"backend": "procedural"}, "policy": {"backend": "local"}})
    if not isinstance(models, dict):
        return []
    refs: list[tuple[tuple[str, ...], Any]] = []
    roles = data.get("roles") if isinstance(data.get("roles"), dict) else {}
    for role in ("user", "assistant", "server"):
        section = roles.get(role) if isinstance(roles.get(role), dict) else {}
        refs.append((("roles", role, "model"), section.get("model", "synth")))
    train = data.get("train") if isinstance(data.get("train"), dict) else {}
    refs.append((("train", "policy"), train.get("policy", "policy")))
    errors = []
    for key, name in refs:
        if not isinstance(name, str):
            continue
        if name not in models:
            hint = did_you_mean(name, models)
            errors.append(PydanticCustomError(
                "unknown_model",
                "no model named '{name}' (expected one of the names under `models`: {known}{hint})",
                {"name": name, "known": ", ".join(models) or "none defined",
                 "hint": f"; did you mean '{hint}'?" if hint else "", "subpath": key},
            ))
        elif isinstance(models[name], dict):
            backend = models[name].get("backend")
            if key[0] == "train" and backend != "local":
                errors.append(PydanticCustomError(
                    "policy_not_local",
                    "model '{name}' has backend '{backend}' (expected backend 'local': the trained policy is a local or hub checkpoint)",
                    {"name": name, "backend": backend, "subpath": key},
                ))
            elif key[0] == "roles" and backend == "local":
                errors.append(PydanticCustomError(
                    "role_model_local",
                    "model '{name}' has backend 'local' (expected procedural, openai or engine: the local policy is "
                    "trained and evaluated, it does not play synthesis roles)",
                    {"name": name, "subpath": key},
                ))
    return errors


class RecipeSpec(SpecModel):
    """An inftool recipe. Paths resolve relative to the recipe file that sets them."""

    extends: str | list[str] | None = None
    """Recipe file(s) this one builds on; keys set here override theirs (mappings merge, lists replace)."""
    name: str = Field(default="recipe", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Name of the run (default: the recipe file's stem); runs go to runs/<name>."""
    seed: int = 0
    """Seed for everything random: same recipe and seed, same episodes."""
    run_dir: Path | None = None
    """Where the run's plan, store, datasets and checkpoints go (default: runs/<name> in the working directory)."""
    catalogs: list[CatalogSpec] = Field(min_length=1)
    """Tool catalogs to read; their tools are merged into one catalog with unique names."""
    refine: RefineSpec | None = None
    """Merge or drop near-duplicate tools before synthesis (off when absent)."""
    models: dict[str, ModelSpec] = Field(default_factory=_default_models)
    """Named models that roles and training refer to."""
    roles: RolesSpec = Field(default_factory=RolesSpec)
    """Which model plays each of the three roles of synthesis."""
    scenarios: ScenariosSpec = Field(default_factory=ScenariosSpec)
    """The scenario complexity mix."""
    verify: VerifySpec = Field(default_factory=VerifySpec)
    """Verification gates for synthesised episodes."""
    reward: RewardSpec = Field(default_factory=RewardSpec)
    """The gated reward shared by training and evaluation."""
    train: TrainSpec = Field(default_factory=lambda: LocalTrainSpec(trainer="local"))
    """How the policy is trained (local TRL, or OpenRLHF on a cluster)."""
    loop: LoopSpec = Field(default_factory=LoopSpec)
    """The closed-loop schedule."""
    evaluate: EvaluateSpec = Field(default_factory=EvaluateSpec)
    """What the policy is evaluated on after each iteration."""

    @model_validator(mode="after")
    def _references_resolve(self) -> RecipeSpec:
        errors = reference_errors(self.model_dump(include={"models", "roles", "train"}))
        if errors:
            raise errors[0]
        return self
