"""Commands about a run: run the loop, synthesise, and query or export the run's store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inftool.cli import _load, _report, _stderr, _stdout, main, recipe_argument


@main.command()
@recipe_argument
@click.option("--resume", is_flag=True, help="Continue this run after its last finished stage.")
@click.option("--fresh", is_flag=True, help="Delete this run directory's store, checkpoints and jobs first.")
@click.option("--launch", is_flag=True, help="trainer: openrlhf: run the emitted job here and follow its log.")
def run(recipe: Path, overrides: tuple[str, ...], resume: bool, fresh: bool, launch: bool) -> None:
    """Run the closed loop: synthesise -> train (SFT, GRPO) -> evaluate -> target gaps, loop.iterations times.

    Every stage is recorded in the run's store; after Ctrl-C or a crash, --resume continues from the
    last finished stage. Ends with a summary, report.html, and where the store and datasets are."""
    from inftool import render
    from inftool.compile import compile_recipe, write_plan
    from inftool.errors import UsageError
    from inftool.export import export
    from inftool.loop import Loop
    from inftool.store import FILENAME, Store

    if resume and fresh:
        raise UsageError("--resume and --fresh contradict each other (hint: pick one)")
    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    run_dir = Path(compiled.plan.run_dir)
    if fresh:
        _clear(run_dir)
    _report(compiled.plan)
    write_plan(compiled)
    with Store.open(run_dir) as store:
        run_id = store.ensure_run(compiled.plan)
        recorded = store.stages(run_id)
        if recorded and not resume:
            pending = [s for s in recorded if s.status != "done"]
            if pending or len(recorded) < len(Loop(loaded, compiled, store, launch=launch).stages()):
                raise UsageError(f"{run_dir / FILENAME} already holds part of this run ({len(recorded)} stages "
                                 f"recorded); continue it with `inftool run {recipe} --resume`, or start over "
                                 "with --fresh")
            click.echo("this run is already complete (start over with --fresh)")
        else:
            loop = Loop(loaded, compiled, store, progress=_loop_progress(), launch=launch)
            try:
                result = loop.run()
            except KeyboardInterrupt:
                raise UsageError(f"interrupted; the store is consistent: continue with `inftool run {recipe} "
                                 "--resume`") from None
            if result.stopped_because:
                click.echo(result.stopped_because)
        render.loop_summary(_stdout(), store, run_id)
        report = _build_report(store, run_id, run_dir)
        datasets = export(store, run_id, "openai", run_dir / "datasets")
    _where(str(run_dir), report=report, recipe=recipe, datasets=datasets)


def _clear(run_dir: Path) -> None:
    import shutil

    from inftool.store import FILENAME

    for name in (FILENAME, FILENAME + ".wal", "checkpoints", "openrlhf", "export", "datasets", "report",
                 "report.html"):
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def _loop_progress():
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from inftool.loop import Progress as LoopProgress

    @contextmanager
    def bar(label: str, total: int):
        columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=_stderr(), transient=True) as progress:
            task = progress.add_task(label, total=total)
            yield lambda n=1: progress.advance(task, n)
        _stderr().print(f"[green]done[/] {label}", highlight=False)

    return LoopProgress(bar=bar, say=lambda text: _stderr().print(text, highlight=False, markup=False))


def _build_report(store, run_id: str, run_dir: Path) -> Path:
    from inftool.report import build_report

    return build_report(store, run_id, run_dir)


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


def _where(run_dir: str, *, report: Path | None = None, recipe: Path | None = None,
           datasets: dict[str, tuple[Path, int]] | None = None) -> None:
    from inftool.store import FILENAME

    shown = recipe or "RECIPE"
    if report is not None:
        click.echo(f"report: {report}  (rebuild: inftool report {shown})")
    click.echo(f"store: {Path(run_dir) / FILENAME}  (inftool gaps {shown}; inftool sql {shown} \"SELECT ...\")")
    for split, (path, count) in (datasets or {}).items():
        click.echo(f"dataset ({split}): {path}  ({count} verified episodes, OpenAI chat format)")
    if datasets:
        click.echo(f"checkpoints: {Path(run_dir) / 'checkpoints'}")


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
@click.option("--format", "fmt", type=click.Choice(["openai", "sharegpt", "parquet", "mcp"]), required=True)
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
