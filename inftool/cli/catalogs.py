"""Commands about tool catalogs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inftool.cli.base import _bfcl_categories, _stderr, _stdout, _verbose, main


@main.group()
def catalog() -> None:
    """Inspect tool catalogs."""


@catalog.command("show")
@click.argument("spec")
@click.option("--source", type=click.Choice(["openai", "openapi", "mcp", "bfcl"]), help="Spec kind (default: detected).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: a list of OpenAI-style tool objects.")
@click.option("--refine", "threshold", type=click.FloatRange(0, 1, min_open=True), metavar="THRESHOLD",
              help="Also merge near-duplicates at this similarity and report the groups.")
def catalog_show(spec: str, source: str | None, fmt: str, threshold: float | None) -> None:
    """Print the normalised tools of SPEC: a spec file, or bfcl:CATEGORY[,CATEGORY...]."""
    from inftool import render
    from inftool.catalog import Catalog, read_bfcl, read_spec
    from inftool.catalog.refine import refine

    if spec.startswith("bfcl:"):
        converted = read_bfcl(_bfcl_categories(spec.removeprefix("bfcl:")))
    else:
        if not Path(spec).is_file():
            raise click.BadParameter(f"no such file: {spec}", param_hint="SPEC")
        converted = read_spec(Path(spec), source)
    tools, merges = Catalog(converted.tools), []
    if threshold is not None:
        tools, merges = refine(tools, threshold, "merge")
    render.warnings(_stderr(), converted.warnings, converted.notes, verbose=_verbose())
    for m in merges:
        _stderr().print(f"merged into {m.kept}: " + ", ".join(f"{a} ({s:.2f})" for a, s in zip(m.absorbed, m.similarity, strict=True)))
    if fmt == "json":
        click.echo(json.dumps([t.to_openai() for t in tools], indent=2))
    else:
        render.tools(_stdout(), tools)
