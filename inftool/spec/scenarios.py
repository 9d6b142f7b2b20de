"""The scenario complexity mix: what kinds of tool-use episodes are synthesised, and how often."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from .base import SpecModel

Complexity = Literal["single", "parallel", "multiple", "parallel_multiple", "multi_step", "multi_turn", "irrelevance",
                     "stateful"]
COMPLEXITIES: tuple[Complexity, ...] = Complexity.__args__  # type: ignore[attr-defined]

DEFAULT_MIX: dict[Complexity, float] = {
    "single": 0.3,
    "parallel": 0.15,
    "multiple": 0.2,
    "parallel_multiple": 0.1,
    "multi_step": 0.1,
    "multi_turn": 0.1,
    "irrelevance": 0.05,
}


class ScenariosSpec(SpecModel):
    mix: dict[Complexity, float] = Field(default_factory=lambda: dict(DEFAULT_MIX))
    """Share of each complexity: single, parallel (several calls of one tool), multiple (pick among
    distractors), parallel_multiple, multi_step (a call uses an earlier result), multi_turn (clarify a
    missing parameter), irrelevance (no offered tool fits), stateful (a goal over several turns on an executed
    environment, `source: bfcl_env` tools; not in the default mix). Shares must sum to 1; omitted kinds get 0."""
    distractors: int = Field(default=3, ge=1, le=16)
    """Most plausible (same-domain) extra tools offered beside the ones a goal needs: one to this many in
    'multiple' scenarios, up to this many in 'parallel_multiple' ones; 'irrelevance' scenarios offer as many tools
    as a call scenario of a kind drawn by the mix would, so the count never tells whether to call."""
    max_parallel: int = Field(default=3, ge=2, le=8)
    """Most calls in one parallel scenario."""
    near_miss: float = Field(default=0.0, ge=0, le=1)
    """Share of irrelevance scenarios that ask for what the target tool does while offering only its distractors
    (the request of a 'single' or 'multiple' episode, without the tool that serves it), instead of asking for what
    a far tool does: whether to call then depends on the offered tools, not on the request alone."""

    @field_validator("mix")
    @classmethod
    def _shares_sum_to_one(cls, mix: dict[str, float]) -> dict[str, float]:
        negative = sorted(k for k, v in mix.items() if v < 0)
        if negative:
            raise ValueError(f"shares must be >= 0, got a negative share for {', '.join(negative)}")
        total = sum(mix.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"shares must sum to 1, they sum to {total:g}")
        return mix
