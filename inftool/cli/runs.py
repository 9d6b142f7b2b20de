"""Commands about a run: run the loop, synthesise, and query or export the run's store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inftool.cli.base import _load, _report, _stderr, _stdout, main, recipe_argument


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
    from inftool.compile import compile_recipe
    from inftool.errors import UsageError
    from inftool.loop import run_recipe
    from inftool.store import Store

    if resume and fresh:
        raise UsageError("--resume and --fresh contradict each other (hint: pick one)")
    loaded = _load(recipe, overrides)
    compiled = compile_recipe(loaded)
    _report(compiled.plan)
    try:
        result = run_recipe(loaded, compiled=compiled, resume=resume, fresh=fresh, launch=launch,
                            progress=_loop_progress())
    except KeyboardInterrupt:
        raise UsageError(f"interrupted; the store is consistent: continue with `inftool run {recipe} "
                         "--resume`") from None
    if result.already_complete:
        click.echo("this run is already complete (start over with --fresh)")
    if result.stopped_because:
        click.echo(result.stopped_because)
    with Store.open(result.run_dir, read_only=True) as store:
        render.loop_summary(_stdout(), store, result.run_id)
    _where(str(result.run_dir), report=result.report, recipe=recipe, datasets=result.datasets)


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
    from inftool.rundir import RunDir

    shown = recipe or "RECIPE"
    if report is not None:
        click.echo(f"report: {report}  (rebuild: inftool report {shown})")
    click.echo(f"store: {RunDir(Path(run_dir)).store}  (inftool gaps {shown}; inftool sql {shown} \"SELECT ...\")")
    for split, (path, count) in (datasets or {}).items():
        click.echo(f"dataset ({split}): {path}  ({count} verified episodes, OpenAI chat format)")
    if datasets:
        click.echo(f"checkpoints: {RunDir(Path(run_dir)).all_checkpoints}")


def _open_store(recipe: Path, overrides: tuple[str, ...]):
    from inftool.errors import UsageError
    from inftool.rundir import RunDir
    from inftool.store import Store

    directory = RunDir.of(_load(recipe, overrides).spec)
    if not directory.store.is_file():
        raise UsageError(f"no store at {directory.store} (hint: run `inftool synth {recipe}` first)")
    return Store.open(directory.root, read_only=True)


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
        found, rates = store.gaps(limit=limit), store.gate_pass_rates()
    rows = [(g.rank, g.complexity, g.tool, g.expected, g.accepted, g.rejected, g.score, g.top_reason) for g in found]
    render.rows(_stdout(), ["rank", "complexity", "tool", "expected", "accepted", "rejected", "score", "top_reason"],
                rows, title=f"Top {limit} gaps")
    render.rows(_stdout(), ["gate", "complexity", "evaluated", "passed", "pass_rate"], rates, title="Gate pass rates")


@main.command("export")
@recipe_argument
@click.option("--format", "fmt", required=True,
              type=click.Choice(["openai", "sharegpt", "parquet", "mcp", "grpo", "verl", "rejected"]),
              help="openai/parquet/sharegpt/mcp: verified conversations; grpo/verl: RL prompts with the gated "
                   "reward's label; rejected: rejected episodes with the failed gate and reason.")
@click.option("--wire-arguments", is_flag=True,
              help="openai/parquet: tool-call arguments as JSON strings (OpenAI's wire form, for OpenAI's fine-tuning "
                   "API) instead of objects (what chat templates and Hugging Face trainers want).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Directory (default: <run_dir>/export/<format>).")
def export_(recipe: Path, overrides: tuple[str, ...], fmt: str, wire_arguments: bool, out: Path | None) -> None:
    """Write the run's episodes for trainers: train and held-out splits (split fixed by the seed) and a dataset
    card (README.md) that `datasets.load_dataset(DIR)` reads."""
    from inftool.errors import UsageError
    from inftool.export import export
    from inftool.rundir import RunDir

    out = out or RunDir.of(_load(recipe, overrides).spec).export(fmt)
    with _open_store(recipe, overrides) as store:
        run_id = store.current_run()
        if run_id is None:
            raise UsageError("the store holds no run yet (hint: run `inftool synth RECIPE` first)")
        written = export(store, run_id, fmt, out, wire_arguments=wire_arguments)
    kind = "rejected episodes" if fmt == "rejected" else "prompts" if fmt in ("grpo", "verl") else "episodes"
    for split, (path, count) in written.items():
        click.echo(f"{split}: {count} {kind} -> {path}")
    reward = f"; reward: {out / 'compute_score.py'}" if fmt == "verl" else ""
    click.echo(f"dataset card: {out / 'README.md'}{reward}")
