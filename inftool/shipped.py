"""The recipes, catalogs and schema that ship with inftool, and copying a recipe out to edit it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inftool.errors import UsageError, did_you_mean
from inftool.spec.base import is_path_key

_PACKAGE = Path(__file__).resolve().parent
_MODELINE = re.compile(r"^(# yaml-language-server: \$schema=)(\S+)", re.MULTILINE)


def shipped_dir(kind: str) -> Path:
    """``recipes``, ``catalog`` or ``schemas``: inside the wheel, or at the root of a source checkout."""
    for candidate in (_PACKAGE / "_shipped" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise UsageError(f"the shipped {kind}/ folder is missing from this installation ({_PACKAGE})")


@dataclass(frozen=True)
class ShippedRecipe:
    name: str
    path: Path
    summary: str


def list_recipes() -> list[ShippedRecipe]:
    recipes = []
    for path in sorted(shipped_dir("recipes").glob("*.yaml")):
        comments = [line[1:].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
        summary = next((c for c in comments if not c.startswith("yaml-language-server")), "")
        recipes.append(ShippedRecipe(path.stem, path, summary))
    return recipes


def find_recipe(name: str) -> ShippedRecipe:
    recipes = {r.name: r for r in list_recipes()}
    if name.removesuffix(".yaml") in recipes:
        return recipes[name.removesuffix(".yaml")]
    hint = did_you_mean(name, recipes)
    raise UsageError(f"no shipped recipe named {name!r} (expected one of: {', '.join(recipes)}"
                     + (f"; did you mean {hint!r}?)" if hint else ")"))


def copy_recipe(name: str, dest: Path, *, force: bool = False) -> Path:
    """Copy a shipped recipe to ``dest`` (a file or a directory), rewriting its relative paths to still work."""
    from ruamel.yaml import YAML

    recipe = find_recipe(name)
    target = dest / recipe.path.name if dest.is_dir() else dest
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (hint: pass --force to overwrite it)")
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    document = yaml.load(recipe.path.read_text(encoding="utf-8"))
    _rebase(document, recipe.path.parent, target.parent.resolve(), "")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)
    text = target.read_text(encoding="utf-8")
    schema = shipped_dir("schemas") / "recipe.schema.json"
    text = _MODELINE.sub(lambda m: m.group(1) + _relative(schema, target.parent.resolve()), text, count=1)
    target.write_text(text, encoding="utf-8")
    return target


def _relative(path: Path, start: Path) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive on Windows
        return str(path)


def _rebase(node: Any, source: Path, target: Path, key: str) -> None:
    """Rewrite path values (see inftool.spec.base.is_path_key) so they point where they did."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, value in list(items):
        name = k if isinstance(k, str) else key
        if isinstance(value, str) and (is_path_key(name) or name == "extends") and not os.path.isabs(value):
            node[k] = type(value)(_relative((source / value).resolve(), target))  # keeps ruamel's quoting style
        else:
            _rebase(value, source, target, name)
