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
def serve_mcp(target: str, source: str | None, http: bool, port: int, page_size: int, overrides: tuple[str, ...]) -> None:
    """Serve a catalog as an MCP server: its tools with their exact JSON Schemas, calls answered by the
    ToolServer role (arguments checked against the schema; an invalid call gets an isError result).

    CATALOG_OR_RECIPE is a recipe (its compiled catalog and its roles.server: procedural, an LM, or in
    mode: execute the real server for allowlisted tools), a spec file (OpenAI tools, OpenAPI, a saved MCP
    tools/list, BFCL function docs; procedural results), or bfcl:CATEGORY[,CATEGORY...]."""
    from contextlib import ExitStack

    from inftool import serve_mcp as mcp_server
    from inftool.errors import UsageError

    with ExitStack() as resources:
        if target.startswith("bfcl:") or not _is_recipe(target):
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
