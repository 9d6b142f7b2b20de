"""Strings that match a regular expression, generated from Python's own regex parse tree.

Supports literals, character classes (ranges, categories, negation), ``.``, bounded and unbounded
repeats (unbounded ones get a few extra repetitions at most), groups, alternation, back-references
and anchors. Look-arounds are skipped; every sample is checked with ``re.search`` (the JSON Schema
meaning of ``pattern``) and a pattern that cannot be sampled gives ``None``.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from functools import lru_cache

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse  # type: ignore[no-redef]

Gen = Callable[[random.Random, dict], str]

_EXTRA = 4
"""How many repetitions beyond the minimum an unbounded (or wide) repeat may add."""
_PRINTABLE = "".join(chr(c) for c in range(32, 127))
_ANY = string.ascii_letters + string.digits
_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + "-_",
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_NOT_WORD": " -.,:;!?",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": _ANY,
}


def _class_chars(items: list) -> str:
    """The characters one ``[...]`` class (or a single class item) allows, in a fixed order."""
    chars: list[str] = []
    negate = False
    for op, arg in items:
        name = op.name
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            lo, hi = arg
            chars.extend(chr(c) for c in range(lo, min(hi, lo + 255) + 1))
        elif name == "CATEGORY":
            chars.extend(_CATEGORIES.get(arg.name, ""))
    if negate:
        banned = set(chars)
        chars = [c for c in _PRINTABLE if c not in banned]
    return "".join(dict.fromkeys(chars))


def _node(op, arg) -> Gen | None:
    name = op.name
    if name == "LITERAL":
        text = chr(arg)
        return lambda rng, groups: text
    if name == "NOT_LITERAL":
        pool = _ANY.replace(chr(arg), "")
        return lambda rng, groups: rng.choice(pool)
    if name == "ANY":
        return lambda rng, groups: rng.choice(_ANY)
    if name == "IN":
        pool = _class_chars(arg)
        return (lambda rng, groups: rng.choice(pool)) if pool else None
    if name == "CATEGORY":
        pool = _CATEGORIES.get(arg.name, "")
        return (lambda rng, groups: rng.choice(pool)) if pool else None
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return _repeat(*arg)
    if name == "SUBPATTERN":
        return _group(arg[0], _sequence(arg[-1]))
    if name == "BRANCH":
        branches = [_sequence(b) for b in arg[1]]
        branches = [b for b in branches if b is not None]
        return (lambda rng, groups: rng.choice(branches)(rng, groups)) if branches else None
    if name == "GROUPREF":
        return lambda rng, groups: groups.get(arg, "")
    if name in ("AT", "ASSERT", "ASSERT_NOT"):
        return lambda rng, groups: ""
    return None  # conditional groups and other rarities: not supported


def _repeat(low: int, high: int, sub) -> Gen | None:
    inner = _sequence(sub)
    if inner is None:
        return None
    top = min(high, low + _EXTRA) if high != sre_parse.MAXREPEAT else low + _EXTRA

    def gen(rng: random.Random, groups: dict) -> str:
        return "".join(inner(rng, groups) for _ in range(rng.randint(low, top)))

    return gen


def _group(index: int | None, inner: Gen | None) -> Gen | None:
    if inner is None:
        return None

    def gen(rng: random.Random, groups: dict) -> str:
        text = inner(rng, groups)
        if index is not None:
            groups[index] = text
        return text

    return gen


def _sequence(parsed) -> Gen | None:
    parts = []
    for op, arg in parsed:
        part = _node(op, arg)
        if part is None:
            return None
        parts.append(part)
    if len(parts) == 1:
        return parts[0]
    return lambda rng, groups: "".join(p(rng, groups) for p in parts)


class PatternSampler:
    """Samples strings matching one pattern (optionally within length bounds)."""

    def __init__(self, pattern: str, min_length: int = 0, max_length: int | None = None):
        self.pattern = pattern
        self.min_length, self.max_length = min_length, max_length
        try:
            self._regex = re.compile(pattern)
            self._gen = _sequence(sre_parse.parse(pattern))
        except (re.error, RecursionError, OverflowError, TypeError):
            self._regex, self._gen = None, None

    @property
    def usable(self) -> bool:
        return self._gen is not None

    def accepts(self, text: str) -> bool:
        ok = self._regex is not None and self._regex.search(text) is not None
        return ok and self.min_length <= len(text) and (self.max_length is None or len(text) <= self.max_length)

    def sample(self, rng: random.Random, tries: int = 12) -> str | None:
        """A matching string, or None when none was found in ``tries`` attempts."""
        if self._gen is None:
            return None
        for _ in range(tries):
            text = self._gen(rng, {})
            if self.accepts(text):
                return text
        return None


@lru_cache(maxsize=4096)
def pattern_sampler(pattern: str, min_length: int = 0, max_length: int | None = None) -> PatternSampler:
    return PatternSampler(pattern, min_length, max_length)


def sample_pattern(pattern: str, rng: random.Random) -> str | None:
    """One string matching ``pattern`` (``re.search`` semantics), or None when it cannot be sampled."""
    return pattern_sampler(pattern).sample(rng)
