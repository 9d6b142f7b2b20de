"""Argument-level rules of BFCL's AST checker: declared types, type checks and value matching.

An argument is judged against its declared BFCL type and the list of acceptable values of the
ground truth. The rules below reproduce how the Berkeley Function-Calling Leaderboard judges a
value (bfcl-eval 2026.3.23), including its leniencies and its oddities, so that a verdict here is
the leaderboard's verdict:

* **Types** are compared exactly (``True`` is not an integer). A Python ``int`` is accepted for a
  ``float`` parameter (it is converted first), and a tuple for a ``tuple`` parameter is read as a
  list. ``any`` means a string.
* **Variables.** When the acceptable values are not of the declared type (BFCL writes a variable
  name such as ``"myList"`` for an array parameter), a value of the acceptable values' type passes
  the type check and must then equal one of them exactly.
* **Arrays** (and tuples) whose items have a declared type check the items' types: each item must
  have the declared item type or the type of the items of an acceptable list (any acceptable value
  that is not a list, such as ``""``, lets every item through).
* **Strings** are compared after *standardisation*: spaces and the characters ``, . / - _ * ^`` are
  removed, the text is lower-cased and single quotes become double quotes. So ``"New York"``,
  ``"new-york"`` and ``"NEWYORK"`` are the same answer. Strings directly inside a list or a dict
  are standardised the same way; deeper ones are not.
* **Dicts** must use only keys of an acceptable dict, each with one of that key's acceptable
  values, and give every key whose acceptable values do not include ``""``.
* **Lists of dicts** match an acceptable list of the same length, element by element.
* Anything else must equal (``==``) one of the acceptable values.

In acceptable values, ``""`` marks an optional argument that may be left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

OMITTED = ""
"""The acceptable value that marks an argument as optional."""

PYTHON_CLASSES: dict[str, type] = {
    "string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
    "dict": dict, "any": str,
    # JSON Schema spellings (not used by BFCL's Python data, accepted for other catalogs)
    "number": float, "object": dict, "list": list, "str": str, "int": int, "bool": bool,
}
"""BFCL Python type names -> the Python class a (decoded) value must have; unknown names mean a string."""

ITEM_TYPED = frozenset({"array", "tuple", "list"})
"""Python types whose ``items`` type is checked too."""

_STRIPPED = str.maketrans({c: None for c in " ,./-_*^"} | {"'": '"'})


_STANDARD: dict[str, str] = {}
_STANDARD_LIMIT = 200_000


def standardize(text: str) -> str:
    """A string as BFCL compares it: without spaces and ``,./-_*^``, lower-cased, ``'`` as ``"``."""
    done = _STANDARD.get(text)
    if done is None:
        done = text.translate(_STRIPPED).lower()
        if len(text) <= 256:  # ground-truth strings recur across checks: remember the short ones
            if len(_STANDARD) >= _STANDARD_LIMIT:
                _STANDARD.clear()
            _STANDARD[text] = done
    return done


class Mismatch(Exception):
    """Raised inside the value rules; carries an error kind and a message."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _answer_class(accepted: Any) -> type | None:
    """The class of the first acceptable value that is not the omission marker, if any."""
    for candidate in accepted if type(accepted) is list else _items(accepted):
        if candidate != OMITTED:
            return type(candidate)
    return None


def _items(container: Any) -> Iterable[Any]:
    """Iterate acceptable values as BFCL does (a string iterates its characters); non-iterables are empty."""
    if type(container) is list or isinstance(container, (list, tuple, str, dict)):
        return container
    return ()


def check_type(param: str, value: Any, accepted: list[Any], cls: type, item_cls: type | None,
               declared: str) -> bool:
    """Check a value's type; returns whether it is a *variable* (to be matched exactly).

    Raises Mismatch("wrong_type") when the value fits neither the declared type nor the type of the
    acceptable values.
    """
    answer_cls = _answer_class(accepted)
    variable = answer_cls is not None and answer_cls is not cls
    if type(value) is cls:
        if item_cls is None or any(_items_fit(value, candidate, item_cls) for candidate in _items(accepted)):
            return variable
        raise Mismatch("wrong_type", f"argument {param!r}: the items of {value!r} are not of the declared "
                                     f"item type {item_cls.__name__}")
    if answer_cls is not None and type(value) is answer_cls:
        return True
    got = type(value).__name__
    raise Mismatch("wrong_type", f"argument {param!r}: expected type {declared}, got {got} ({value!r})")


def _items_fit(value: list[Any], candidate: Any, item_cls: type) -> bool:
    """Do the items of ``value`` have the declared item type (or the type of the candidate's items)?

    Only list candidates constrain the items; any other candidate (the omission marker, a variable
    name) lets every item through.
    """
    if type(candidate) is not list:
        return True
    candidate_cls = _answer_class(candidate)
    return all(type(item) is item_cls or (candidate_cls is not None and type(item) is candidate_cls)
               for item in value)


def match_value(param: str, value: Any, accepted: list[Any], cls: type, item_cls: type | None,
                variable: bool) -> None:
    """Check a type-checked value against the acceptable values; raises Mismatch("wrong_value")."""
    if variable:
        ok = _contains(accepted, value)
    elif cls is dict:
        ok = dict_matches(value, accepted)
    elif cls is list and item_cls is dict:
        ok = _list_of_dicts_matches(param, value, accepted)
    elif cls is str:
        target = standardize(value)
        ok = False
        for candidate in _items(accepted):
            if type(candidate) is str and standardize(candidate) == target:
                ok = True
                break
    elif cls is list:
        ok = _list_matches(value, accepted)
    else:
        ok = _contains(accepted, value)
    if not ok:
        shown = [c for c in _items(accepted) if c != OMITTED]
        raise Mismatch("wrong_value", f"argument {param!r}: {value!r} is not an acceptable value {shown!r}")


def _contains(accepted: Any, value: Any) -> bool:
    try:
        return value in accepted
    except TypeError:
        return False


def _standard_elements(values: Any) -> list[Any] | None:
    """The elements of a list with top-level strings standardised; None if not a sequence."""
    if not isinstance(values, (list, tuple, str)):
        return None
    return [standardize(v) if type(v) is str else v for v in values]


def _list_matches(value: list[Any], accepted: list[Any]) -> bool:
    mine = _standard_elements(value)
    for candidate in _items(accepted):
        # The omission marker reads as an empty list: [] is accepted for an optional list argument.
        if _standard_elements(candidate) == mine:
            return True
    return False


def dict_matches(value: Any, accepted: Any) -> bool:
    """Does a dict match one of the acceptable dicts (keys, values, required keys)?"""
    if not isinstance(value, dict):
        return False
    return any(_dict_matches_one(value, candidate) for candidate in _items(accepted)
               if candidate != OMITTED)


def _dict_matches_one(value: dict[Any, Any], candidate: Any) -> bool:
    if not isinstance(candidate, dict):
        return False
    for key, item in value.items():
        if key not in candidate:
            return False
        options = _standard_elements(candidate[key])
        if options is None:
            return False
        if (standardize(item) if type(item) is str else item) not in options:
            return False
    for key, options in candidate.items():
        if key not in value and not (isinstance(options, (list, tuple, str)) and OMITTED in options):
            return False
    return True


def _list_of_dicts_matches(param: str, value: list[Any], accepted: list[Any]) -> bool:
    sizes = []
    for candidate in _items(accepted):
        if not isinstance(candidate, (list, tuple, str, dict)):
            continue
        if len(candidate) != len(value):
            sizes.append(len(candidate))
            continue
        if all(_dict_matches_one(item, expected) if isinstance(item, dict) else False
               for item, expected in zip(value, candidate, strict=True)):
            return True
    if sizes and len(sizes) == sum(1 for c in _items(accepted) if isinstance(c, (list, tuple, str, dict))):
        raise Mismatch("wrong_count", f"argument {param!r}: {len(value)} elements, expected "
                                      f"{' or '.join(str(s) for s in sorted(set(sizes)))}")
    return False
