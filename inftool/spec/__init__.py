"""What the user wrote: the recipe language (pydantic models), its loader and its JSON Schema."""

from __future__ import annotations

from typing import Any

from .loader import LoadedRecipe, load_recipe
from .recipe import RecipeSpec

SCHEMA_ID = "https://inftool.dev/schemas/recipe.schema.json"


def recipe_json_schema() -> dict[str, Any]:
    """The recipe JSON Schema, as committed in schemas/recipe.schema.json."""
    schema = RecipeSpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


__all__ = ["LoadedRecipe", "RecipeSpec", "load_recipe", "recipe_json_schema"]
