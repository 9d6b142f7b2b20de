"""`inftool report`: the run report (report.html with its figures) from the run's store."""

from __future__ import annotations

from pathlib import Path

import click

from inftool.cli.base import main, recipe_argument


@main.command("report")
@recipe_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for report.html and report/*.png (default: the run directory).")
@click.option("--open", "open_browser", is_flag=True, help="Open the report in a web browser.")
def report_(recipe: Path, overrides: tuple[str, ...], out: Path | None, open_browser: bool) -> None:
    """Write report.html for the run: stages, accuracy per checkpoint, training curves, coverage heatmap,
    gate pass rates, gaps and gap-targeting weights (read-only; works on a run that only synthesised)."""
    from inftool.cli.runs import _open_store
    from inftool.errors import UsageError
    from inftool.report import build_report

    with _open_store(recipe, overrides) as store:
        run_id = store.current_run()
        if run_id is None:
            raise UsageError(f"the store holds no run yet (hint: run `inftool synth {recipe}` first)")
        path = build_report(store, run_id, out or store.path.parent)
    click.echo(f"report: {path}")
    if open_browser:
        import webbrowser

        webbrowser.open(path.resolve().as_uri())
