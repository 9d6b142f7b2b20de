"""Spec -> plan: resolve catalogs, expand scenario cells, describe roles, gates, training and loop."""

from __future__ import annotations

import json
from pathlib import Path

from .compiler import STAGES, Compiled, compile_recipe, read_catalogs, run_dir
from .plan import Plan


def write_plan(compiled: Compiled) -> Path:
    """Write ``plan.json`` and the resolved catalog ``tools.json`` into the run directory; returns the plan path."""
    run_dir = Path(compiled.plan.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tools = run_dir / "tools.json"
    tmp = tools.with_suffix(".tmp")
    tmp.write_text(json.dumps([t.model_dump() for t in compiled.catalog], indent=1) + "\n", encoding="utf-8")
    tmp.replace(tools)
    compiled.plan.write(run_dir / "plan.json")
    return run_dir / "plan.json"


__all__ = ["STAGES", "Compiled", "Plan", "compile_recipe", "read_catalogs", "run_dir", "write_plan"]
