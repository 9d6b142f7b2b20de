"""Perturbations shared by the agreement tests (single-turn and multi-turn): a wrong value of the same type."""

from __future__ import annotations

from typing import Any


def wrong_value(value: Any) -> Any:
    """A value of the same type that no reasonable ground truth accepts alongside the original."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, float):
        return value + 7.25
    if isinstance(value, str):
        return value + " qx"
    if isinstance(value, (list, tuple)):
        return type(value)([*value, value[0]] if value else ["qx"])
    if isinstance(value, dict):
        return {**value, "qx_key": "qx"}
    return "qx"
