"""The `inftool` command line. Thin: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 ok, 1 a stage failed, 2 bad recipe or usage. Heavy modules are imported inside
the commands that need them, so `inftool --help` starts fast.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

SET_HELP = "Override a recipe value, e.g. --set loop.iterations=2 (YAML syntax; repeatable)."


class _Group(click.Group):
    """Maps inftool errors to a one-line message and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):
        from inftool.errors import InftoolError

        try:
            return super().invoke(ctx)
        except InftoolError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _stderr().print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _stderr().print(f"[red]internal error:[/] {type(exc).__name__}: {exc} (run with --debug for a traceback)",
                            highlight=False, soft_wrap=True)
            ctx.exit(1)


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _stdout():
    from rich.console import Console

    return Console()


class _WarningHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        _stderr().print(f"[yellow]{record.levelname.lower()}:[/] {record.getMessage()}", highlight=False, soft_wrap=True)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option("-v", "--verbose", is_flag=True, help="Show notes on how tools were normalised (renames, repeats).")
@click.version_option(package_name="inftool")
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool) -> None:
    """inftool: from API specs to a model that calls tools well (multi-agent synthesis, gated GRPO, closed loop)."""
    ctx.ensure_object(dict).update(debug=debug, verbose=verbose)
    logger = logging.getLogger("inftool")
    if not logger.handlers:
        logger.addHandler(_WarningHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False


def recipe_argument(command):
    command = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)(command)
    return click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))(command)


def _verbose() -> bool:
    return bool(click.get_current_context().find_root().obj.get("verbose"))


def _report(plan) -> None:
    from inftool import render

    catalogs = plan.catalogs
    render.warnings(_stderr(), [w for c in catalogs for w in c.warnings], [n for c in catalogs for n in c.notes],
                    verbose=_verbose())
    render.plan(_stdout(), plan)


def _load(recipe: Path, overrides: tuple[str, ...]):
    from inftool.spec import load_recipe

    return load_recipe(recipe, list(overrides))


@main.command()
@recipe_argument
def validate(recipe: Path, overrides: tuple[str, ...]) -> None:
    """Check a recipe and read its catalogs; stops before compiling."""
    from inftool import render
    from inftool.compile import read_catalogs

    loaded = _load(recipe, overrides)
    catalogs = read_catalogs(loaded)
    render.warnings(_stderr(), catalogs.warnings, catalogs.notes, verbose=_verbose())
    click.echo(f"{recipe}: ok ({len(catalogs.catalog)} tools from {len(catalogs.summaries)} catalogs)")


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
@recipe_argument
def run(recipe: Path, overrides: tuple[str, ...]) -> None:
    """Run the closed loop of a recipe (stages available in this version: compile, synthesize)."""
    from inftool.compile import compile_recipe

    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    _report(compiled.plan)
    report = _synthesize(loaded, compiled, iteration=0, episodes=None)
    click.echo("stages not available in this version yet: train, evaluate, target; the run stops after "
               "synthesising iteration 0.")
    _where(compiled.plan.run_dir, report)


@main.command()
@recipe_argument
@click.option("-n", "--episodes", type=click.IntRange(min=1), help="Episodes to make (default: loop.episodes_per_iteration).")
@click.option("--iteration", type=click.IntRange(min=0), default=0, show_default=True, help="Loop iteration to fill.")
def synth(recipe: Path, overrides: tuple[str, ...], episodes: int | None, iteration: int) -> None:
    """Synthesise verified episodes into the run's DuckDB store (resumable: stored episodes are kept)."""
    from inftool.compile import compile_recipe

    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    render_warnings_only(compiled.plan)
    report = _synthesize(loaded, compiled, iteration=iteration, episodes=episodes)
    _where(compiled.plan.run_dir, report)


def render_warnings_only(plan) -> None:
    from inftool import render

    render.warnings(_stderr(), [w for c in plan.catalogs for w in c.warnings], [n for c in plan.catalogs for n in c.notes],
                    verbose=_verbose())


def _synthesize(loaded, compiled, *, iteration: int, episodes: int | None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from inftool import render
    from inftool.synth import run_stage

    total = episodes or compiled.plan.loop.episodes_per_iteration
    columns = (TextColumn(f"synthesising iteration {iteration}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=_stderr(), transient=True) as bar:
        task = bar.add_task("synth", total=total)
        report = run_stage(loaded, compiled, iteration=iteration, episodes=episodes,
                           progress=lambda n: bar.advance(task, n))
    render.synth_report(_stdout(), report)
    return report


def _where(run_dir: str, report) -> None:
    from inftool.store import FILENAME

    click.echo(f"store: {Path(run_dir) / FILENAME}  (inftool gaps RECIPE; inftool sql RECIPE \"SELECT ...\")")


def _open_store(recipe: Path, overrides: tuple[str, ...]):
    from inftool.compile import run_dir
    from inftool.errors import UsageError
    from inftool.store import FILENAME, Store

    directory = run_dir(_load(recipe, overrides).spec)
    if not (directory / FILENAME).is_file():
        raise UsageError(f"no store at {directory / FILENAME} (hint: run `inftool synth {recipe}` first)")
    return Store.open(directory, read_only=True)


@main.command()
@recipe_argument
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON objects, one per line.")
def sql(recipe: Path, overrides: tuple[str, ...], query: str, as_json: bool) -> None:
    """Run a SQL QUERY on the run's DuckDB store (tables: runs, iterations, tools, scenarios, episodes,
    verdicts; views: coverage, coverage_cells, gaps, gate_pass_rates)."""
    from inftool import render

    with _open_store(recipe, overrides) as store:
        columns, rows = store.query(query)
    if as_json:
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row, strict=True)), default=str))
    else:
        render.rows(_stdout(), columns, rows)


@main.command()
@recipe_argument
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Gaps to show.")
def gaps(recipe: Path, overrides: tuple[str, ...], limit: int) -> None:
    """Show the most under-covered or most-rejected scenario cells, and gate pass rates per complexity."""
    from inftool import render

    with _open_store(recipe, overrides) as store:
        columns, rows = store.query("SELECT rank, complexity, tool, round(expected, 1) AS expected, accepted, rejected, "
                                    f"round(score, 3) AS score, top_reason FROM gaps LIMIT {int(limit)}")
        rates = store.query("SELECT * FROM gate_pass_rates")
    render.rows(_stdout(), columns, rows, title=f"Top {limit} gaps")
    render.rows(_stdout(), *rates, title="Gate pass rates")


@main.command("export")
@recipe_argument
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "parquet"]), required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Directory (default: <run_dir>/export/<format>).")
def export_(recipe: Path, overrides: tuple[str, ...], fmt: str, out: Path | None) -> None:
    """Write verified episodes for trainers: train and held-out splits (split fixed by the seed)."""
    from inftool.compile import run_dir
    from inftool.errors import UsageError
    from inftool.export import export

    out = out or run_dir(_load(recipe, overrides).spec) / "export" / fmt
    with _open_store(recipe, overrides) as store:
        run_id = store.current_run()
        if run_id is None:
            raise UsageError("the store holds no run yet (hint: run `inftool synth RECIPE` first)")
        written = export(store, run_id, fmt, out)
    for split, (path, count) in written.items():
        click.echo(f"{split}: {count} episodes -> {path}")


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
        converted = read_bfcl(_bfcl_categories(spec))
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


def _bfcl_categories(spec: str) -> list[str]:
    from typing import get_args

    from inftool.errors import UsageError, did_you_mean
    from inftool.spec.catalogs import BfclCategory

    known = get_args(BfclCategory)
    categories = [c.strip() for c in spec.removeprefix("bfcl:").split(",") if c.strip()]
    for category in categories or [""]:
        if category not in known:
            hint = did_you_mean(category, known)
            raise UsageError(f"unknown BFCL category {category!r} (expected one of: {', '.join(known)}"
                             + (f"; did you mean {hint!r}?)" if hint else ")"))
    return categories


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
