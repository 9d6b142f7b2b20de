"""Reading spec documents (JSON or YAML) into plain Python data, with located errors."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inftool.errors import CatalogError

from .tool import Tool


@dataclass
class Converted:
    """What a converter produced: the tools, a warning for every part it had to skip, and notes."""

    tools: list[Tool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Informational: what was normalised on purpose (e.g. repeated BFCL docs), not a problem."""


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts: ``pointer("paths", "/pets", "get")`` -> ``/paths/~1pets/get``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def display_path(path: Path) -> str:
    """A path as a person wants to read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _plain(value: Any) -> Any:
    """YAML dates and times become ISO strings, so every document is JSON-compatible."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def parse_text(text: str, name: str, *, yaml: bool) -> Any:
    """Parse JSON or YAML text; syntax errors become a CatalogError naming ``name:line``."""
    if not yaml:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{name}:{exc.lineno}", "", f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    loader = YAML(typ="safe", pure=False)
    try:
        return _plain(loader.load(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise CatalogError(f"{name}{line}", "", f"invalid YAML: {exc.problem or exc.context}") from None


def read_document(path: Path) -> Any:
    """Load a ``.json``, ``.yaml`` or ``.yml`` file (JSON Lines too) into plain data."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(name, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(name, "", f"cannot read file: {exc}") from None
    if path.suffix.lower() in {".yaml", ".yml"}:
        return parse_text(text, name, yaml=True)
    if path.suffix.lower() == ".jsonl":
        return [parse_text(line, f"{name}:{i}", yaml=False) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return parse_text(text, name, yaml=False)
    return parse_text(text, name, yaml=True)
