"""The public API: what ``import inftool`` offers, pinned, and each name importable."""

from __future__ import annotations

import subprocess
import sys

import inftool

PUBLIC = ["CatalogError", "DataUnavailableError", "InftoolError", "LoadedRecipe", "Loop", "LoopResult", "Plan",
          "Progress", "RecipeError", "RecipeSpec", "StageError", "Tool", "UsageError", "Catalog", "compile_recipe",
          "load_catalogs", "load_recipe", "read_spec", "recipe_json_schema", "run_recipe", "write_plan"]


def test_all_is_pinned():
    assert inftool.__all__ == sorted(PUBLIC)


def test_every_public_name_resolves():
    for name in inftool.__all__:
        assert getattr(inftool, name) is not None, name


def test_importing_inftool_stays_light():
    heavy = ("torch", "duckdb", "dspy", "inftool.loop")
    code = f"import sys, inftool; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
