"""Command: evaluate a policy on BFCL and on the run's held-out synthetic episodes."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click

from inftool.cli.base import _bfcl_categories, _load, _stderr, _stdout, main, recipe_argument


@main.command("eval")
@recipe_argument
@click.option("--policy", default="oracle", show_default=True,
              help="oracle, no-call, a model of the recipe (backend openai, or local with checkpoint_path), "
                   "or a local Hugging Face checkpoint directory.")
@click.option("--categories", help="Comma-separated BFCL categories (default: the recipe's evaluate.bfcl).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many questions per BFCL category.")
@click.option("--iteration", type=click.IntRange(min=0), default=0, show_default=True, help="Iteration to record.")
@click.option("--heldout/--no-heldout", default=True, show_default=True, help="Also score the held-out synthetic episodes (iteration 0's, at most evaluate.heldout_limit).")
@click.option("--decoding", type=click.Choice(["free", "constrained"]), default="free", show_default=True,
              help="A local checkpoint's decoding; constrained holds it to the offered tools' schemas and stores "
                   "the verdicts as POLICY+constrained.")
def evaluate_(recipe: Path, overrides: tuple[str, ...], policy: str, categories: str | None, limit: int | None,
              iteration: int, heldout: bool, decoding: str) -> None:
    """Score a policy with the BFCL-compatible checker; results go to the run's store (eval_results).

    The items and the decoding are the loop's (the evaluation stage), so a checkpoint the loop evaluated
    gets the verdicts the loop stored. Items an endpoint could not answer are stored as not_evaluated, left
    out of accuracy, and fail the command (exit 1) past evaluate.max_not_evaluated."""
    from inftool import render
    from inftool.compile import compile_recipe
    from inftool.evaluate import runner
    from inftool.evaluate.stage import decoded_label, evaluate_into, items_for, policy_for, require_evaluated
    from inftool.progress import Progress
    from inftool.store import Store

    loaded = _load(recipe, overrides)
    answer, concurrency = policy_for(loaded.spec, policy, decoding)
    label = decoded_label(policy, decoding)
    compiled = compile_recipe(loaded)
    chosen = _bfcl_categories(categories, evaluation=True) if categories else None
    with Store.open(compiled.plan.run_dir) as store:
        run_id = store.ensure_run(compiled.plan)
        items, aside = items_for(loaded.spec, compiled.catalog, store, run_id, categories=chosen, limit=limit,
                                 heldout=heldout)
        results = evaluate_into(store, run_id, iteration, label, answer, items, concurrency=concurrency,
                                progress=Progress(bar=_bar))
    render.evaluation(_stdout(), runner.accuracy(results), label, runner.not_evaluated(results))
    if aside:
        click.echo(f"set aside {len(aside)} BFCL questions whose own ground truth the checker rejects: "
                   + ", ".join(i.item_id for i in aside[:10]) + (" ..." if len(aside) > 10 else ""))
    require_evaluated(results, loaded.spec.evaluate.max_not_evaluated)


@contextmanager
def _bar(label: str, total: int):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), console=_stderr(), transient=True) as bar:
        task = bar.add_task("eval", total=total)
        yield lambda n=1: bar.advance(task, n)
