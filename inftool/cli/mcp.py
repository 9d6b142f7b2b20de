"""Commands about MCP: serve a catalog as an MCP server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from inftool.cli.base import SET_HELP, _bfcl_categories, _load, _stderr, _verbose, main

if TYPE_CHECKING:
    from inftool.catalog import Tool


@main.command("serve-mcp")
@click.argument("target", metavar="CATALOG_OR_RECIPE")
@click.option("--source", type=click.Choice(["openai", "openapi", "mcp", "bfcl"]), help="Spec kind (default: detected).")
@click.option("--http", "http", is_flag=True, help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="With --http: the loopback port (0: any free one; the URL is printed on stderr).")
@click.option("--page-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Tools per tools/list page.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP + " Recipes only.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Environments only: the initial state of every session's world (JSON or YAML; for a BFCL "
                   "environment, its class's part of a multi-turn entry's initial_config).")
@click.option("--long-context", is_flag=True, help="Environments only: BFCL's long-context variant of the world.")
def serve_mcp(target: str, source: str | None, http: bool, port: int, page_size: int, overrides: tuple[str, ...],
              config_file: Path | None, long_context: bool) -> None:
    """Serve a catalog as an MCP server: its tools with their exact JSON Schemas, calls answered by the
    ToolServer role (arguments checked against the schema; an invalid call gets an isError result); or
    serve a stateful environment, one world per client session.

    CATALOG_OR_RECIPE is a recipe (its compiled catalog and its roles.server: procedural, an LM, or in
    mode: execute the real server for allowlisted tools), a spec file (OpenAI tools, OpenAPI, a saved MCP
    tools/list, BFCL function docs; procedural results), bfcl:CATEGORY[,CATEGORY...], or an environment:
    bfcl_env:NAME (one of BFCL's eight API simulators, e.g. bfcl_env:gorilla_file_system) or
    python:MODULE:CLASS (a class whose public methods are the tools)."""
    from contextlib import ExitStack

    from inftool import serve_mcp as mcp_server
    from inftool.errors import UsageError

    environment = target.split(":", 1)[0] in ("bfcl_env", "python")
    if (config_file or long_context) and not environment:
        raise UsageError("--config and --long-context apply to environments only (bfcl_env:NAME, python:MODULE:CLASS)")
    with ExitStack() as resources:
        if environment:
            if overrides:
                raise UsageError("--set applies to recipes only (hint: CATALOG_OR_RECIPE is an environment here)")
            served = mcp_server.for_environment(target, config=_config(config_file), long_context=long_context,
                                                page_size=page_size)
        elif target.startswith("bfcl:") or not _is_recipe(target):
            if overrides:
                raise UsageError("--set applies to recipes only (hint: CATALOG_OR_RECIPE is a spec file here)")
            served = mcp_server.for_tools(_tools(target, source), page_size=page_size)
        else:
            served = mcp_server.for_recipe(_load(Path(target), overrides), resources, page_size=page_size)
        what = f"{len(served.tools)} tools from {target}"
        if not http:
            click.echo(f"serving {what} over stdio", err=True)
            mcp_server.serve_stdio(served)
            return
        try:
            mcp_server.serve_http(served, port, lambda url: click.echo(f"serving {what} at {url}", err=True))
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} (hint: --port 0 picks a "
                             "free port)") from None


def _config(path: Path | None) -> dict | None:
    """An environment's initial state from a JSON or YAML file (a mapping), or None."""
    if path is None:
        return None
    from inftool.catalog.document import read_document
    from inftool.errors import UsageError

    config = read_document(path)
    if not isinstance(config, dict):
        raise UsageError(f"{path}: an environment's initial state must be a mapping")
    return config


def _is_recipe(target: str) -> bool:
    """Whether a file is a recipe (a mapping with ``catalogs`` or ``extends``) rather than a tool spec."""
    from inftool.catalog.document import read_document

    path = Path(target)
    if not path.is_file():
        raise click.BadParameter(f"no such file: {target}", param_hint="CATALOG_OR_RECIPE")
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        return False
    doc = read_document(path)
    return isinstance(doc, dict) and ("catalogs" in doc or "extends" in doc)


def _tools(target: str, source: str | None) -> list[Tool]:
    from inftool import render
    from inftool.catalog import Catalog, read_bfcl, read_spec

    if target.startswith("bfcl:"):
        converted = read_bfcl(_bfcl_categories(target.removeprefix("bfcl:")))
    else:
        converted = read_spec(Path(target), source)
    render.warnings(_stderr(), converted.warnings, converted.notes, verbose=_verbose())
    return list(Catalog(converted.tools))
