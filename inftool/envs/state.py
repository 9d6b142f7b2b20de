"""A world's state as plain data: to store it, hash it, and say where two states differ.

``Environment.state()`` is a dict that two worlds compare with ``==`` (BFCL's classes compare their own objects:
a file system's directories and files). `plain` turns such a state into JSON data: an object becomes its class
name and public attributes, a set a sorted list, a key text, and an attribute that points back to an object
being converted (a directory's ``parent``) is left out. `state_digest` hashes the plain form, the same on every
machine; `first_difference` names the first place where two states' plain forms differ.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DIGEST_LENGTH = 16
"""Hex characters of a state digest."""


def plain(value: Any, _open: tuple[int, ...] = ()) -> Any:
    """``value`` as JSON data (see the module docstring). ``_open``: the ids of the objects being converted."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(key): plain(item, _open) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item, _open) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item, _open) for item in value), key=_canonical)
    attributes = getattr(value, "__dict__", None)
    if attributes is None:
        return str(value)
    inside = (*_open, id(value))
    return {"__class__": type(value).__name__,
            **{key: plain(item, inside) for key, item in attributes.items()
               if not key.startswith("_") and id(item) not in inside}}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def state_digest(state: Any) -> str:
    """A short hash of a state's plain form: equal states (``==``) have equal digests."""
    return hashlib.sha256(_canonical(plain(state)).encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def first_difference(left: Any, right: Any, path: str = "state") -> str | None:
    """Where two states first differ, as a path with both values (``state.root.contents.a: 'x' != 'y'``), or
    None when their plain forms are equal."""
    return _difference(plain(left), plain(right), path)


def _difference(left: Any, right: Any, path: str) -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in [*left, *(k for k in right if k not in left)]:
            if key not in left or key not in right:
                return f"{path}.{key}: {'missing' if key not in left else 'present'} != " \
                       f"{'missing' if key not in right else 'present'}"
            found = _difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = _difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    if left == right:
        return None
    return f"{path}: {_short(left)} != {_short(right)}"


def _short(value: Any) -> str:
    text = _canonical(value)
    return text if len(text) <= 80 else text[:77] + "..."
