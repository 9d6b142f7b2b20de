"""Planning a stateful goal on a live world: chains of calls whose later arguments come from earlier results.

A `Chain` is a small planning program for one environment: given a `Draft` (a fresh planning world and the
episode's rng), it opens the user's turns (``draft.turn(...)``: what the user asks for, in words) and makes the
calls that fulfil them (``draft.call(...)``). Each call runs on the planning world at once, so the chain reads
its real result and chooses the next call's arguments from it (the folder a ``find`` found, the ticket id a
``create_ticket`` returned); an argument taken from a result is named in ``uses`` and becomes a `Link` to the
step whose result holds it. Arguments always come from the world's own state, never invented: a chain that
finds nothing to work on (no file fits) raises `Infeasible` and the planner draws another world.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from inftool.core.episode import Call, Link, UserTurn
from inftool.envs import ERROR_PREFIX, Environment, result_data


class Infeasible(Exception):
    """This world offers nothing the chain can work on (the planner draws another world)."""


class PlanError(Exception):
    """A planned call failed on the planning world: a chain asked for something its world refuses."""


@dataclass(frozen=True)
class Chain:
    """A planning program over one environment's tools."""

    name: str
    needs: frozenset[str]
    """Methods the chain always calls: every one must be offered."""
    options: frozenset[str]
    """Methods it may call instead of others (``draft.choose``): at least one must be offered when there are any."""
    extras: frozenset[str]
    """Methods it calls when they are offered (always when one is the target), and does without otherwise."""
    build: Callable[[Draft], None]

    @property
    def covers(self) -> frozenset[str]:
        """Every method the chain may call."""
        return self.needs | self.options | self.extras

    def usable(self, offered: Iterable[str]) -> bool:
        offered = set(offered)
        return self.needs <= offered and (not self.options or bool(self.options & offered))


def chain(*needs: str, options: Iterable[str] = (), extras: Iterable[str] = ()
          ) -> Callable[[Callable[[Draft], None]], Chain]:
    """Decorator: a function ``build(draft)`` as a `Chain` that always calls ``needs``, one of ``options``, and
    ``extras`` when offered."""
    def wrap(build: Callable[[Draft], None]) -> Chain:
        return Chain(build.__name__, frozenset(needs), frozenset(options), frozenset(extras), build)
    return wrap


class Draft:
    """A goal being planned: the user's turns, the calls (by method name) with their real results, and links."""

    def __init__(self, world: Environment, rng: random.Random, target: str, offered: Iterable[str]):
        self.world, self.rng, self.target = world, rng, target
        self.offered = set(offered)
        self.calls: list[Call] = []
        self.results: list[Any] = []
        self.links: list[Link] = []
        self.turns: list[UserTurn] = []
        self._asks: list[str] = []
        self._counts: list[int] = []

    def turn(self, *templates: str, **values: Any) -> None:
        """Open a user turn asking for one of ``templates`` (chosen by the rng), formatted with ``values``."""
        self._asks.append(self.rng.choice(templates).format(**values))
        self._counts.append(0)

    def call(self, method: str, uses: Iterable[str] = (), refusal: bool = False, **arguments: Any) -> Any:
        """Run ``method(**arguments)`` on the planning world now and return its result (JSON data, or the text).

        ``uses``: the arguments whose values come from earlier results (each must be found in one). ``refusal``:
        the API's own refusal (``{"error": ...}``) is the expected result. Any other failure is a `PlanError`."""
        if not self._asks:
            raise PlanError(f"{method}: a call before the user asked for anything (call draft.turn first)")
        if method not in self.offered:
            raise PlanError(f"{method} is not offered")
        text = self.world.call(method, arguments)
        value = result_data(text)
        if text.startswith(ERROR_PREFIX) or (refused(value) and not refusal):
            shown = json.dumps(arguments, default=str)
            raise PlanError(f"{method}({shown}) failed on the planning world: {text[:300]}")
        step = len(self.calls)
        for argument in uses:
            self.links.append(self._link(step, argument, arguments[argument]))
        self.calls.append(Call(method, arguments))
        self.results.append(value)
        self._counts[-1] += 1
        return value

    def choose(self, options: Iterable[str]) -> str:
        """One of ``options`` that is offered: the target when it is one of them, else a random one."""
        offered = [o for o in options if o in self.offered]
        if not offered:
            raise PlanError(f"none of {sorted(options)} is offered")
        return self.target if self.target in offered else self.rng.choice(offered)

    def has(self, method: str) -> bool:
        return method in self.offered

    def peek(self, method: str, **arguments: Any) -> Any | None:
        """``method(**arguments)`` on the planning world without planning it, for a lookup that changes nothing
        (which routes a price table knows); None when it fails or is refused."""
        text = self.world.call(method, arguments)
        value = result_data(text)
        return None if text.startswith(ERROR_PREFIX) or refused(value) else value

    def state(self) -> dict[str, Any]:
        """The planning world's state now (what the user knows of their own world)."""
        return self.world.state()

    def finish(self) -> list[UserTurn]:
        """The user's turns, each with the number of steps it took (a turn without a call is an error)."""
        empty = [ask for ask, count in zip(self._asks, self._counts, strict=True) if count == 0]
        if empty:
            raise PlanError(f"a turn without calls: {empty[0]!r}")
        self.turns = [UserTurn(count, ask) for ask, count in zip(self._asks, self._counts, strict=True)]
        return self.turns

    def _link(self, step: int, argument: str, value: Any) -> Link:
        """The latest earlier result that holds ``value``, as a Link to the argument."""
        for earlier in range(step - 1, -1, -1):
            path = field_path(self.results[earlier], value)
            if path is not None:
                return Link(earlier, 0, path, step, 0, argument)
        raise PlanError(f"argument {argument!r} = {value!r} is in no earlier result")


def refused(value: Any) -> bool:
    """Whether an API answered with its own refusal: ``{"error": ...}`` (alone or in a one-item list), or an
    ``Error: ...`` text."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        return "error" in value
    return isinstance(value, str) and value.startswith("Error")


def field_path(result: Any, value: Any) -> str | None:
    """Where ``value`` is in ``result``: a field path (``matches[0]``, ``stats.count``) whose value equals it, or
    (for a text value) a path whose text holds it as a path part or a word, or a key of a dict; for a list value
    that no field equals, the path of its first item when every item is somewhere. None when it is nowhere."""
    found = _path(result, value, "")
    if found is None and isinstance(value, list) and value:
        paths = [_path(result, item, "") for item in value]
        found = paths[0] if all(p is not None for p in paths) else None
    return found


def _path(result: Any, value: Any, path: str) -> str | None:
    if isinstance(result, dict):
        for key, item in result.items():
            found = _path(item, value, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
        if isinstance(value, str) and value in result:  # a dict keyed by ids: the key itself
            return f"{path}.{value}" if path else value
        return None
    if isinstance(result, list):
        if result == value:
            return path or "result"
        for index, item in enumerate(result):
            found = _path(item, value, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if _same(result, value):
        return path or "result"
    if isinstance(result, str) and isinstance(value, str) and value and value in result.replace("/", " ").split():
        return path or "result"
    return None


def _same(result: Any, value: Any) -> bool:
    if isinstance(result, bool) or isinstance(value, bool):
        return result is value
    if isinstance(result, (int, float)) and isinstance(value, (int, float)):
        return float(result) == float(value)
    return isinstance(result, str) and result == value


def quoted(rng: random.Random, text: str) -> str:
    """A name as people write it: bare, or in quotes."""
    return rng.choice((text, text, f"'{text}'", f'"{text}"'))
