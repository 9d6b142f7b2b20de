"""Scenario cells and their targeted weights: what synthesis samples and what gap targeting changes.

A cell is one (complexity, tool) pair with its base sampling weight, as the compiled plan lists it; a
``Target`` is the weight gap targeting gives a cell for the next iteration, with its need and drivers.
The store records both in its ``scenarios`` table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict


class ScenarioCell(BaseModel):
    """One (complexity, tool) pair that synthesis samples from, with its base sampling weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    complexity: str
    tool: str
    weight: float


@dataclass(frozen=True)
class Target:
    """One scenario cell's weight for the next iteration, and why."""

    complexity: str
    tool: str
    weight: float
    base_weight: float
    need: float
    drivers: dict[str, Any] = field(default_factory=dict)
