"""Function-calling names, without dependencies: the reward file OpenRLHF loads imports this."""

from __future__ import annotations

import hashlib
import re

MAX_NAME_LENGTH = 64  # OpenAI-style function names: ^[a-zA-Z0-9_-]{1,64}$
_INVALID_RUN = re.compile(r"[^A-Za-z0-9_-]+")


def function_name(raw: str) -> str:
    """A name valid for function calling, made from any spec name (``math.factorial`` -> ``math_factorial``)."""
    name = _INVALID_RUN.sub("_", raw).strip("_") or "tool"
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha1(raw.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME_LENGTH - 9]}_{digest}"
    return name
