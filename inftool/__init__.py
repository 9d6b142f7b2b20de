"""inftool: turn raw API specifications into a model that calls tools well (InfTool, arXiv 2512.23611).

The public API is loaded lazily so that importing inftool (and `inftool --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "load_recipe": "inftool.spec",
    "RecipeSpec": "inftool.spec",
    "LoadedRecipe": "inftool.spec",
    "recipe_json_schema": "inftool.spec",
    "compile_recipe": "inftool.compile",
    "write_plan": "inftool.compile",
    "Plan": "inftool.compile",
    "run_recipe": "inftool.loop",
    "Loop": "inftool.loop",
    "LoopResult": "inftool.loop",
    "Progress": "inftool.progress",
    "Tool": "inftool.catalog",
    "Catalog": "inftool.catalog",
    "load_catalogs": "inftool.catalog",
    "read_spec": "inftool.catalog",
    "InftoolError": "inftool.errors",
    "UsageError": "inftool.errors",
    "RecipeError": "inftool.errors",
    "CatalogError": "inftool.errors",
    "DataUnavailableError": "inftool.errors",
    "StageError": "inftool.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'inftool' has no attribute {name!r}")
