"""Role-play synthesis: scenario planning (stateful goals on live worlds: ``worlds``), the three role-players,
verification gates, and the stage.

Exports load lazily, so that light modules (``episode``, used by the reward) import without the stage.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"run_stage": "inftool.synth.stage", "SynthReport": "inftool.synth.synthesize",
            "Synthesizer": "inftool.synth.synthesize"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'inftool.synth' has no attribute {name!r}")
