"""Command: evaluate a policy on BFCL and on the run's held-out synthetic episodes."""

from __future__ import annotations

from pathlib import Path

import click

from inftool.cli import _bfcl_categories, _load, _stderr, _stdout, main, recipe_argument


@main.command("eval")
@recipe_argument
@click.option("--policy", default="oracle", show_default=True,
              help="oracle, no-call, a model of the recipe (backend openai, or local with checkpoint_path), "
                   "or a local Hugging Face checkpoint directory.")
@click.option("--categories", help="Comma-separated BFCL categories (default: the recipe's evaluate.bfcl).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many questions per BFCL category.")
@click.option("--iteration", type=click.IntRange(min=0), default=0, show_default=True, help="Iteration to record.")
@click.option("--heldout/--no-heldout", default=True, show_default=True, help="Also score held-out synthetic episodes.")
def evaluate_(recipe: Path, overrides: tuple[str, ...], policy: str, categories: str | None, limit: int | None,
              iteration: int, heldout: bool) -> None:
    """Score a policy with the BFCL-compatible checker; results go to the run's store (eval_results)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from inftool import render
    from inftool.compile import compile_recipe
    from inftool.evaluate import runner
    from inftool.store import Store

    loaded = _load(recipe, overrides)
    spec = loaded.spec
    answer, concurrency = _policy(spec, policy)
    chosen = _bfcl_categories(categories) if categories else list(spec.evaluate.bfcl)
    compiled = compile_recipe(loaded)
    items, aside = runner.scorable(runner.bfcl_items(chosen, limit or spec.evaluate.bfcl_limit,
                                                     runner.tool_names(compiled.catalog)))
    with Store.open(compiled.plan.run_dir) as store:
        run_id = store.ensure_run(compiled.plan)
        if heldout:
            items += runner.episode_items(store.episodes(run_id, accepted=True, split="heldout"))
        with Progress(TextColumn(f"evaluating {policy}"), BarColumn(), MofNCompleteColumn(),
                      console=_stderr(), transient=True) as bar:
            task = bar.add_task("eval", total=len(items))
            results = runner.evaluate(items, answer, concurrency, progress=lambda n: bar.advance(task, n))
        store.write_eval(run_id, iteration, policy, results)
    render.evaluation(_stdout(), runner.accuracy(results), policy)
    if aside:
        click.echo(f"set aside {len(aside)} BFCL questions whose own ground truth the checker rejects: "
                   + ", ".join(i.item_id for i in aside[:10]) + (" ..." if len(aside) > 10 else ""))


def _policy(spec, policy: str):
    from inftool.errors import UsageError, did_you_mean
    from inftool.evaluate import runner

    if policy == "oracle":
        return runner.oracle, 1
    if policy == "no-call":
        return runner.no_call, 1
    model = spec.models.get(policy)
    if model is not None and model.backend == "openai":
        return runner.endpoint_policy(model), model.concurrency
    checkpoint = model.checkpoint_path if model is not None and model.backend == "local" else Path(policy)
    if checkpoint is not None and Path(checkpoint).is_dir():
        from inftool.evaluate.local import LocalPolicy

        return LocalPolicy(Path(checkpoint)), 1
    candidates = ["oracle", "no-call", *(n for n, m in spec.models.items() if m.backend in ("openai", "local"))]
    hint = did_you_mean(policy, candidates)
    raise UsageError(f"--policy {policy!r}: expected one of: {', '.join(candidates)}, or a checkpoint directory"
                     + (f" (did you mean {hint!r}?)" if hint else "")
                     + (f"; model {policy!r} has no checkpoint_path yet" if model is not None else ""))
