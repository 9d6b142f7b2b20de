"""Shipped recipes, catalogs and the committed JSON Schema stay true."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from inftool.compile import compile_recipe
from inftool.shipped import list_recipes
from inftool.spec import RecipeSpec, load_recipe, recipe_json_schema

REPO = Path(__file__).resolve().parents[1]

RECIPES = sorted((REPO / "recipes").glob("*.yaml"))


def test_committed_schema_equals_the_generated_one():
    committed = json.loads((REPO / "schemas" / "recipe.schema.json").read_text())
    assert committed == recipe_json_schema(), "regenerate with: inftool schema > schemas/recipe.schema.json"


def test_every_recipe_field_is_documented():
    seen, missing = set(), []

    def models_in(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for a in typing.get_args(annotation) for m in models_in(a)]

    def walk(model):
        if model in seen:
            return
        seen.add(model)
        for name, field in model.model_fields.items():
            if not field.description:
                missing.append(f"{model.__name__}.{name}")
            for sub in models_in(field.annotation):
                walk(sub)

    walk(RecipeSpec)
    assert missing == []


def test_shipped_recipes_are_listed():
    assert {r.name for r in list_recipes()} == {p.stem for p in RECIPES} >= {"bfcl", "library_openapi", "assistants"}
    assert all(r.summary for r in list_recipes())


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_shipped_recipe_validates_compiles_and_has_the_modeline(path):
    assert path.read_text().splitlines()[0] == "# yaml-language-server: $schema=../schemas/recipe.schema.json"
    schema = json.loads((REPO / "schemas" / "recipe.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(YAML(typ="safe").load(path.read_text()))
    plan = compile_recipe(load_recipe(path)).plan
    assert plan.tools > 0 and plan.scenarios.cells
    assert all(not c.warnings for c in plan.catalogs), [c.warnings for c in plan.catalogs]


def test_shipped_sources_are_covered():
    sources = {c.source for p in RECIPES for c in load_recipe(p).spec.catalogs}
    assert {"bfcl", "openapi", "openai"} <= sources
