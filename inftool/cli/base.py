"""The command group, its error handling, and the helpers the commands share."""

from __future__ import annotations

import logging
from pathlib import Path

import click

SET_HELP = "Override a recipe value, e.g. --set loop.iterations=2 (YAML syntax; repeatable)."


class _Group(click.Group):
    """Maps inftool errors to a one-line message and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):
        from rich.markup import escape

        from inftool.errors import InftoolError

        try:
            return super().invoke(ctx)
        except InftoolError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _stderr().print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for --debug
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _stderr().print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (run with --debug for a traceback)",
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


def _report(plan, *, show_plan: bool = True) -> None:
    """The catalogs' warnings (and notes with --verbose), then the plan unless ``show_plan`` is off."""
    from inftool import render

    entries = plan.catalogs
    render.warnings(_stderr(), [*(w for c in entries for w in c.warnings), *plan.warnings],
                    [n for c in entries for n in c.notes], verbose=_verbose())
    if show_plan:
        render.plan(_stdout(), plan)


def _bfcl_categories(text: str, *, evaluation: bool = False) -> list[str]:
    """Comma-separated BFCL category names, each checked (a usage error with "did you mean" otherwise); with
    ``evaluation``, the multi-turn categories too."""
    from typing import get_args

    from inftool.errors import UsageError, did_you_mean
    from inftool.spec.catalogs import BfclCategory, BfclEvalCategory

    known = get_args(BfclEvalCategory if evaluation else BfclCategory)
    categories = [c.strip() for c in text.split(",") if c.strip()]
    for category in categories or [""]:
        if category not in known:
            hint = did_you_mean(category, known)
            raise UsageError(f"unknown BFCL category {category!r} (expected one of: {', '.join(known)}"
                             + (f"; did you mean {hint!r}?)" if hint else ")"))
    return categories


def _load(recipe: Path, overrides: tuple[str, ...]):
    from inftool.spec import load_recipe

    return load_recipe(recipe, list(overrides))

