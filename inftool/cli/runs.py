"""Commands about a run: run the loop, synthesise, and query or export the run's store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inftool.cli import _load, _report, _stderr, _stdout, main, recipe_argument


@main.command()
@recipe_argument
def run(recipe: Path, overrides: tuple[str, ...]) -> None:
    """Run the closed loop of a recipe (stages available in this version: compile, synthesize)."""
    from inftool.compile import compile_recipe

    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    _report(compiled.plan)
    _synthesize(loaded, compiled, iteration=0, episodes=None)
    click.echo("stages not available in this version yet: train, evaluate, target; the run stops after "
               "synthesising iteration 0.")
    _where(compiled.plan.run_dir)


@main.command()
@recipe_argument
@click.option("-n", "--episodes", type=click.IntRange(min=1), help="Episodes to make (default: loop.episodes_per_iteration).")
@click.option("--iteration", type=click.IntRange(min=0), default=0, show_default=True, help="Loop iteration to fill.")
def synth(recipe: Path, overrides: tuple[str, ...], episodes: int | None, iteration: int) -> None:
    """Synthesise verified episodes into the run's DuckDB store (resumable: stored episodes are kept)."""
    from inftool.compile import compile_recipe

    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    _report(compiled.plan, show_plan=False)
    _synthesize(loaded, compiled, iteration=iteration, episodes=episodes)
    _where(compiled.plan.run_dir)


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


def _where(run_dir: str) -> None:
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
