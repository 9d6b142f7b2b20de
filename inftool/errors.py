"""Errors inftool raises on purpose, each with a message written for a person.

    InftoolError                 exit code 1: something failed while doing the work
    ├── UsageError               exit code 2: the input is wrong (recipe, spec file, command line)
    │   ├── RecipeError          one or more located problems in a recipe (all reported at once)
    │   └── CatalogError         a tool spec that cannot be read (names the file and JSON pointer)
    ├── DataUnavailableError     BFCL data cannot be found or fetched
    └── StageError               a stage of a run failed

The CLI prints ``str(error)`` and exits with ``error.exit_code``; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelled ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return matches[0] if matches else None


@dataclass(frozen=True)
class Problem:
    """One located problem: ``where: key: message (expected; hint)``."""

    where: str
    key: str
    message: str
    expected: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        extra = "; ".join(part for part in (self.expected, self.hint) if part)
        key = f" {self.key}:" if self.key else ""
        return f"{self.where}:{key} {self.message}" + (f" ({extra})" if extra else "")


class InftoolError(Exception):
    """Base of all inftool errors. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(InftoolError):
    """The input is wrong: a recipe, a spec file or the command line."""

    exit_code = 2


class RecipeError(UsageError):
    """A recipe has problems; ``problems`` lists every one of them, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"recipe is not valid, {count}:\n" + "\n".join(str(p) for p in problems))


class CatalogError(UsageError):
    """A tool specification cannot be read: names the file and the JSON pointer inside it."""

    def __init__(self, file: str, pointer: str, message: str, hint: str | None = None):
        self.file, self.pointer, self.hint = file, pointer, hint
        where = f"{file}#{pointer}" if pointer else file
        super().__init__(f"{where}: {message}" + (f" (hint: {hint})" if hint else ""))


class DataUnavailableError(InftoolError):
    """Data a recipe needs (the BFCL v4 files) cannot be found or fetched."""


class StageError(InftoolError):
    """A stage of a run failed."""
