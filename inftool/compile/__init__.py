"""Spec -> plan: resolve catalogs, expand scenario cells, describe roles, gates, training and loop."""

from __future__ import annotations

import json
from pathlib import Path

from inftool.rundir import RunDir

from .compiler import Compiled, compile_recipe, loop_stages, read_catalogs
from .plan import Plan


def write_plan(compiled: Compiled) -> Path:
    """Write ``plan.json`` and the resolved catalog ``tools.json`` into the run directory; returns the plan path."""
    run_dir = RunDir(Path(compiled.plan.run_dir))
    run_dir.root.mkdir(parents=True, exist_ok=True)
    tmp = run_dir.tools.with_suffix(".tmp")
    tmp.write_text(json.dumps([t.model_dump() for t in compiled.catalog], indent=1) + "\n", encoding="utf-8")
    tmp.replace(run_dir.tools)
    compiled.plan.write(run_dir.plan)
    return run_dir.plan


__all__ = ["Compiled", "Plan", "compile_recipe", "loop_stages", "read_catalogs", "write_plan"]
