"""Verification gates for synthesised episodes, and the gated reward for training and evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import SpecModel

VerifyGate = Literal["format", "schema", "execution", "consistency", "dedup"]
VERIFY_GATES: tuple[VerifyGate, ...] = VerifyGate.__args__  # type: ignore[attr-defined]

RewardGate = Literal["format", "function_names", "arguments", "execution"]
REWARD_GATES: tuple[RewardGate, ...] = RewardGate.__args__  # type: ignore[attr-defined]


def _unique(gates: list[str]) -> list[str]:
    repeated = sorted({g for g in gates if gates.count(g) > 1})
    if repeated:
        raise ValueError(f"each gate may appear once, repeated: {', '.join(repeated)}")
    return gates


class VerifySpec(SpecModel):
    gates: list[VerifyGate] = Field(default_factory=lambda: list(VERIFY_GATES), min_length=1)
    """Gates an episode must pass to be kept, run in the order format -> schema -> execution ->
    consistency -> dedup whatever order they are listed in. Rejected episodes are kept with their reason."""
    dedup_threshold: float = Field(default=0.9, gt=0.0, le=1.0)
    """Jaccard similarity (MinHash over normalised request text) at or above which a request is a near-duplicate."""

    @field_validator("gates")
    @classmethod
    def _no_repeats(cls, gates: list[str]) -> list[str]:
        return _unique(gates)


class RewardSpec(SpecModel):
    gates: list[RewardGate] = Field(default_factory=lambda: ["format", "function_names", "arguments"], min_length=1)
    """Reward gates, in the order format -> function_names -> arguments -> execution: a gate pays only
    when every earlier gate passed."""
    values: dict[RewardGate, float] = Field(
        default_factory=lambda: {"format": 0.1, "function_names": 0.3, "arguments": 0.6, "execution": 0.0}
    )
    """What each passed gate adds to the reward."""
    partial_credit: bool = False
    """Pay the arguments gate in proportion to the share of argument values that are right instead of all or
    nothing: per expected call, of the arguments the answer makes and the required ones it leaves out (a GRPO
    signal for each value copied right, not only for whole calls)."""
    state: float = Field(default=1.0, ge=0.0)
    """What a rollout on a stateful environment (multi-turn GRPO on `stateful` episodes) adds on top of the gates
    when its turn ends where the plan does: the world in the planned state, something called if the plan calls
    something, and every planned call's result shown to the policy (BFCL's multi-turn check). Never paid when one
    of the rollout's answers cannot be read (no state credit for malformed calls)."""

    @field_validator("gates")
    @classmethod
    def _no_repeats(cls, gates: list[str]) -> list[str]:
        return _unique(gates)

    @model_validator(mode="after")
    def _values_for_listed_gates(self) -> RewardSpec:
        if not any(self.values.get(g, 0.0) > 0 for g in self.gates):
            raise ValueError("no listed reward gate pays anything: give at least one of them a positive value")
        return self
