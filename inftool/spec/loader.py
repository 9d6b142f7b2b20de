"""Loading a recipe: YAML with line numbers, `extends:` inheritance, `--set` overrides, relative paths.

Every value remembers where it was set (``file:line`` or ``--set key=value``) so that any problem
can be reported where the user can fix it. Keys named ``path`` or ``cwd`` or ending in ``_path``, ``_dir``
or ``_file`` (and ``extends``) are filesystem paths: they resolve relative to the file that sets them,
or to the working directory for ``--set``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inftool.errors import Problem, RecipeError, UsageError

from .base import is_path_key
from .diagnostics import problems_from_validation
from .recipe import RecipeSpec

Key = tuple[str | int, ...]
Locations = dict[Key, str]


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe and where each of its values was set."""

    path: Path
    spec: RecipeSpec
    locations: Locations

    def where(self, key: Key) -> str:
        """``file:line`` of the closest enclosing key that was written somewhere."""
        return locate(self.locations, key, self.path)


def locate(locations: Locations, key: Key, root: Path) -> str:
    for end in range(len(key), 0, -1):
        if key[:end] in locations:
            return locations[key[:end]]
    return f"{_shown(root)}:1"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_recipe(path: str | Path, overrides: list[str] = ()) -> LoadedRecipe:
    """Read, merge, override and validate a recipe. Raises RecipeError listing every problem."""
    path = Path(path).expanduser().absolute()
    data, locations = _load_layers(path, chain=())
    for expression in overrides:
        _apply_override(data, locations, expression)
    data.setdefault("name", re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem))
    try:
        spec = RecipeSpec.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(problems_from_validation(exc, data, lambda key: locate(locations, key, path))) from None
    return LoadedRecipe(path=path, spec=spec, locations=locations)


def _load_layers(path: Path, chain: tuple[Path, ...]) -> tuple[dict, Locations]:
    """The recipe at ``path`` merged over everything it extends."""
    if path in chain:
        cycle = " -> ".join(_shown(p) for p in (*chain, path))
        raise RecipeError([Problem(f"{_shown(chain[-1])}:1", "extends", f"`extends` forms a cycle: {cycle}",
                                   hint="remove one of the links")])
    data, locations = _read_yaml(path, chain[-1] if chain else None)
    parents = data.pop("extends", None)
    parents = [parents] if isinstance(parents, str) else parents or []
    merged: dict = {}
    merged_locations: Locations = {}
    for parent in parents:
        parent_data, parent_locations = _load_layers(Path(parent), (*chain, path))
        _merge(merged, merged_locations, parent_data, parent_locations, ())
    _merge(merged, merged_locations, data, {k: v for k, v in locations.items() if k[:1] != ("extends",)}, ())
    return merged, merged_locations


def _read_yaml(path: Path, parent: Path | None) -> tuple[dict, Locations]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    shown = _shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        where = f"{_shown(parent)}:1" if parent else shown
        reason = "file not found" if isinstance(exc, FileNotFoundError) else f"cannot read it: {exc.strerror}"
        raise RecipeError([Problem(where, "extends" if parent else "", f"{shown}: {reason}",
                                   hint="paths resolve relative to the recipe that names them" if parent else None)]) from None
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise RecipeError([Problem(f"{shown}:{line}", "", f"invalid YAML: {exc.problem or exc.context}")]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise RecipeError([Problem(f"{shown}:1", "", f"a recipe must be a mapping of keys, got a {type(document).__name__}",
                                   expected="e.g. `name: my-run` and `catalogs: [...]`")])
    locations: Locations = {}
    _record(document, (), shown, locations)
    return _plain(document, path.parent, ()), locations


def _record(node: Any, key: Key, file: str, out: Locations) -> None:
    """Note the line of every key and list item of a ruamel round-trip document."""
    if isinstance(node, dict):
        for k in node:
            out[(*key, str(k))] = f"{file}:{node.lc.key(k)[0] + 1}"
            _record(node[k], (*key, str(k)), file, out)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out[(*key, i)] = f"{file}:{node.lc.item(i)[0] + 1}"
            _record(item, (*key, i), file, out)


def _plain(node: Any, base: Path, key: Key) -> Any:
    """Plain Python values, with path-valued keys made absolute relative to ``base``."""
    if isinstance(node, dict):
        return {str(k): _plain(v, base, (*key, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, base, (*key, i)) for i, v in enumerate(node)]
    if isinstance(node, str):
        named = next((k for k in reversed(key) if isinstance(k, str)), "")
        if is_path_key(named) or named == "extends":
            return str(_absolute(node, base))
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime.date):  # YAML timestamps: recipes hold them as text
        return node.isoformat()
    return _plain(str(node.value), base, key) if hasattr(node, "value") else node  # explicitly tagged scalars


def _absolute(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _merge(into: dict, into_locations: Locations, over: dict, over_locations: Locations, key: Key) -> None:
    """Deep-merge ``over`` into ``into``: mappings merge, everything else (lists too) replaces."""
    for k, value in over.items():
        here = (*key, k)
        if isinstance(value, dict) and isinstance(into.get(k), dict):
            if here in over_locations:
                into_locations[here] = over_locations[here]
            _merge(into[k], into_locations, value, over_locations, here)
            continue
        for stale in [loc for loc in into_locations if loc[: len(here)] == here]:
            del into_locations[stale]
        into[k] = value
        into_locations.update({loc: w for loc, w in over_locations.items() if loc[: len(here)] == here})


def _apply_override(data: dict, locations: Locations, expression: str) -> None:
    """Apply ``a.b.0.c=value`` (value in YAML syntax) to the merged recipe data."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    dotted, sep, raw = expression.partition("=")
    dotted = dotted.strip()
    if not sep or not dotted:
        raise UsageError(f"--set expects KEY=VALUE (e.g. --set loop.iterations=2), got {expression!r}")
    where = f"--set {expression}"
    try:
        value = YAML(typ="safe").load(raw) if raw.strip() else None
    except YAMLError as exc:
        raise RecipeError([Problem(where, dotted, f"value is not valid YAML: {exc}")]) from None
    node: Any = data
    key: list[str | int] = []
    names = dotted.split(".")
    for depth, name in enumerate(names):
        if isinstance(node, list):
            if not (name.isdigit() and int(name) < len(node)):
                raise RecipeError([Problem(where, ".".join(names[: depth + 1]), f"no item {name} in a list of {len(node)}",
                                           expected=f"expected an index from 0 to {len(node) - 1}")])
            step: str | int = int(name)
        elif isinstance(node, dict):
            step = name
        else:
            raise RecipeError([Problem(where, ".".join(names[:depth]), "cannot set a key inside a plain value")])
        key.append(step)
        if depth == len(names) - 1:
            node[step] = _plain(value, Path.cwd(), tuple(key))
        else:
            if isinstance(node, dict) and not isinstance(node.get(step), (dict, list)):
                node[step] = {}
            node = node[step]
    here = tuple(key)
    for stale in [loc for loc in locations if loc[: len(here)] == here]:
        del locations[stale]
    _mark(_get(data, here), here, where, locations)


def _get(data: Any, key: Key) -> Any:
    for step in key:
        data = data[step]
    return data


def _mark(value: Any, key: Key, where: str, out: Locations) -> None:
    out[key] = where
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, (*key, k), where, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _mark(v, (*key, i), where, out)
