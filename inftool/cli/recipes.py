"""Commands about recipes: check, compile, the JSON Schema, and the shipped recipes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inftool.cli.base import _load, _report, _stderr, _verbose, main, recipe_argument


@main.command()
@recipe_argument
def validate(recipe: Path, overrides: tuple[str, ...]) -> None:
    """Check a recipe and read its catalogs (live MCP servers are not started: compile asks them); stops
    before compiling."""
    from inftool import render
    from inftool.compile import read_catalogs

    loaded = _load(recipe, overrides)
    catalogs = read_catalogs(loaded, live=False)
    render.warnings(_stderr(), catalogs.warnings, catalogs.notes, verbose=_verbose())
    live = sum(1 for c in loaded.spec.catalogs if c.source == "mcp" and c.live)
    servers = f"{live} live MCP server" + ("s: compile starts them" if live > 1 else ": compile starts it")
    unasked = f", not counting {servers}" if live else ""
    click.echo(f"{recipe}: ok ({len(catalogs.catalog)} tools from {len(catalogs.summaries)} catalogs{unasked})")


@main.command("compile")
@recipe_argument
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def compile_(recipe: Path, overrides: tuple[str, ...], as_json: bool) -> None:
    """Compile a recipe into a plan; writes <run_dir>/plan.json and tools.json and prints the plan."""
    from inftool.compile import compile_recipe, write_plan

    compiled = compile_recipe(_load(recipe, overrides))
    path = write_plan(compiled)
    if as_json:
        click.echo(compiled.plan.model_dump_json(indent=2))
        return
    _report(compiled.plan)
    click.echo(f"plan written to {path}")


@main.command()
def schema() -> None:
    """Print the recipe JSON Schema (the one committed in schemas/recipe.schema.json)."""
    from inftool.spec import recipe_json_schema

    click.echo(json.dumps(recipe_json_schema(), indent=2))


@main.command("ls")
def ls() -> None:
    """List the shipped recipes."""
    from inftool.shipped import list_recipes

    for recipe in list_recipes():
        click.echo(f"{recipe.name:<20} {recipe.summary}")


@main.command("cp")
@click.argument("name")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite DEST if it exists.")
def cp(name: str, dest: Path, force: bool) -> None:
    """Copy shipped recipe NAME to DEST to edit it (relative paths are rewritten to keep working)."""
    from inftool.shipped import copy_recipe

    click.echo(f"copied {name} to {copy_recipe(name, dest, force=force)}")
