"""Turning pydantic's validation errors into problems a person can act on.

Each problem names where the value was set, the key path as written in YAML (``catalogs.0.path``),
what is wrong, what was expected, and a "did you mean" when a name is misspelled.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from inftool.errors import Problem, did_you_mean

Key = tuple[str | int, ...]


def problems_from_validation(exc: ValidationError, data: Any, where: Callable[[Key], str]) -> list[Problem]:
    """One Problem per pydantic error, sorted by file and line."""
    from .recipe import RecipeSpec, reference_errors
    from .training import trl_option_errors

    problems = [_problem(error, data, where, RecipeSpec) for error in exc.errors()]
    for error in [*reference_errors(data), *trl_option_errors(data)]:  # all of them, even those pydantic skipped
        key = tuple(error.context["subpath"])
        problems.append(Problem(where(key), ".".join(map(str, key)), error.message()))
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=_order)


def _order(problem: Problem) -> tuple:
    """Problems in files first, by file, line and key; then those from --set overrides."""
    file, _, line = problem.where.rpartition(":")
    if problem.where.startswith("--set") or not line.isdigit():
        return (1, problem.where, 0, problem.key)
    return (0, file, int(line), problem.key)


def _problem(error: dict, data: Any, where: Callable[[Key], str], root: type[BaseModel]) -> Problem:
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    dict_key = bool(loc) and loc[-1] == "[key]"
    if dict_key:
        loc = loc[:-1]
    key = _data_key(loc, data) + tuple(ctx.get("subpath", ()))
    kind = error["type"]
    dotted = ".".join(map(str, key))
    value = error.get("input")
    if kind == "extra_forbidden" or dict_key:
        allowed = _allowed_keys(root, loc[:-1]) if kind == "extra_forbidden" else _quoted(ctx.get("expected", ""))
        return Problem(where(key), dotted, f"unknown key '{key[-1]}'", _one_of(allowed), _suggest(key[-1], allowed))
    if kind in {"literal_error", "enum"}:
        allowed = _quoted(ctx.get("expected", ""))
        return Problem(where(key), dotted, f"{value!r} is not allowed", _one_of(allowed), _suggest(value, allowed))
    if kind == "union_tag_invalid":
        allowed = _quoted(ctx.get("expected_tags", ""))
        tag_key = (*key, ctx.get("discriminator", "").strip("'"))
        return Problem(where(tag_key), ".".join(map(str, tag_key)), f"unknown {tag_key[-1]} {ctx.get('tag')!r}",
                       _one_of(allowed), _suggest(ctx.get("tag"), allowed))
    if kind == "union_tag_not_found":
        name = ctx.get("discriminator", "").strip("'")
        return Problem(where(key), f"{dotted}.{name}" if dotted else name, f"missing key '{name}'",
                       _one_of(_allowed_tags(root, loc)))
    if kind == "missing":
        doc = _field_doc(root, loc)
        return Problem(where(key), dotted, "missing required key", f"expected: {_lower(doc)}" if doc else None)
    message = _lower(error["msg"].removeprefix("Value error, "))
    if kind in {"unknown_model", "policy_not_local", "role_model_local", "file_not_found", "value_error", "trl_option",
                "package_missing", "request_key"}:
        return Problem(where(key), dotted, message)
    if kind == "secret_env":  # never "got <value>": the value is the secret
        return Problem(where(key), dotted, message, None, ctx.get("hint"))
    return Problem(where(key), dotted, message, f"got {_short(value)}")


def _data_key(loc: tuple, data: Any) -> Key:
    """The error location as a path into the YAML data, without pydantic's union tags."""
    key: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and any(v == part for v in node.values()):
            continue  # a discriminated union's tag, e.g. 'openapi' in ('catalogs', 0, 'openapi', 'path')
        elif isinstance(part, str) and (part.startswith("function-") or "[" in part):
            continue  # pydantic's name for a validator or a parametrised type
        else:
            node = None
        key.append(part)
    return tuple(key)


def _annotation_at(root: type[BaseModel], loc: tuple) -> Any:
    """The type annotation at pydantic's location ``loc`` (union tags included), or None."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        members = _models_in(annotation)
        if len(members) > 1:  # a discriminated union: the location names the chosen member
            chosen = [m for m in members if part in _tags(m)]
            if chosen:
                annotation = chosen[0]
                continue
            return None
        origin = typing.get_origin(annotation)
        if members and part in members[0].model_fields:
            annotation = members[0].model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    return _unwrap(annotation)


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``loc``."""
    members = _models_in(_annotation_at(root, loc))
    return members[0] if len(members) == 1 else None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models_in(_unwrap(a))]
    return []


def _tags(model: type[BaseModel]) -> set[str]:
    tags: set[str] = set()
    for field in model.model_fields.values():
        if typing.get_origin(field.annotation) is typing.Literal and field.is_required():
            tags.update(str(a) for a in typing.get_args(field.annotation))
    return tags


def _allowed_keys(root: type[BaseModel], loc: tuple) -> list[str]:
    model = _model_at(root, loc)
    return list(model.model_fields) if model else []


def _allowed_tags(root: type[BaseModel], loc: tuple) -> list[str]:
    return sorted(t for m in _models_in(_annotation_at(root, loc)) for t in _tags(m))


def _field_doc(root: type[BaseModel], loc: tuple) -> str | None:
    model = _model_at(root, loc[:-1])
    field = model.model_fields.get(str(loc[-1])) if model else None
    return field.description.split("\n")[0] if field and field.description else None


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:].rstrip(".")


def _quoted(expected: str) -> list[str]:
    return re.findall(r"'([^']*)'", expected)


def _one_of(allowed: list[str]) -> str | None:
    return f"expected one of: {', '.join(allowed)}" if allowed else None


def _suggest(word: Any, allowed: list[str]) -> str | None:
    match = did_you_mean(str(word), allowed) if allowed else None
    return f"did you mean '{match}'?" if match else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
