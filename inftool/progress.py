"""How long work shows itself: stages report progress through a ``Progress``, which the CLI fills with rich
bars and lines and the Python API leaves silent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Progress:
    """``bar(label, total)`` returns a context manager yielding an ``advance(n)`` callable; ``say(text)``
    prints a line. Both default to doing nothing."""

    bar: Callable[[str, int], Any] | None = None
    say: Callable[[str], None] = lambda text: None

    @contextmanager
    def track(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        if self.bar is None:
            yield lambda n=1: None
            return
        with self.bar(label, total) as advance:
            yield advance
