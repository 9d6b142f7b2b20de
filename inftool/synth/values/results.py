"""Tool results for the simulated server: from the output schema when there is one (argument values
echoed into same-named fields), else a plausible object guessed from the tool's name and description."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

from inftool.catalog import Tool
from inftool.synth.values import rules
from inftool.synth.values.names import kind_for, normalise

_CALC = re.compile(r"calculat|comput|solve|convert|estimat|predict|factorial|average|mean|median|area|volume|"
                   r"probabilit|integra|derivat|root|sum\b|gcd|lcm|hypot|velocity|force|energy|"
                   r"ratio|density|frequency|equation|math|physics|statistic", re.IGNORECASE)
_VERBS = {"get", "fetch", "find", "search", "list", "retrieve", "lookup", "look", "check", "calculate", "compute",
          "query", "show", "read", "info", "details", "data", "api", "by"}
_SEARCH = frozenset(("search", "find", "list", "lookup", "query", "recommend", "locate", "browse", "filter", "discover"))
_ACTION = frozenset(("book", "reserve", "create", "order", "buy", "purchase", "send", "schedule", "add", "update",
                     "set", "cancel", "delete", "remove", "register", "submit", "post", "transfer", "pay", "play",
                     "restart", "enable", "disable", "assign", "apply", "make", "place", "rent", "hire"))
_STATUS = ("confirmed", "success", "completed", "ok")
_DOMAIN: tuple[tuple[re.Pattern, Callable[[random.Random], dict]], ...] = tuple((re.compile(p, re.IGNORECASE), f) for p, f in (
    (r"weather|forecast|temperature", lambda r: {"temperature": r.randint(-5, 34), "conditions": r.choice(
        ("sunny", "partly cloudy", "light rain", "overcast", "clear", "windy")), "humidity": r.randint(25, 95)}),
    (r"stock|share price|ticker|market", lambda r: {"price": round(r.uniform(12, 900), 2), "currency": "USD",
                                                   "change_percent": round(r.uniform(-4, 4), 2)}),
    (r"population", lambda r: {"population": r.randint(50, 9000) * 1000}),
    (r"route|direction|travel time|commute", lambda r: {"distance_km": round(r.uniform(2, 900), 1),
                                                       "duration_minutes": r.randint(8, 600)}),
    (r"rating|review", lambda r: {"rating": round(r.uniform(3, 5), 1), "review_count": r.randint(5, 4000)}),
    (r"score|match|fixture", lambda r: {"score": f"{r.randint(0, 4)}-{r.randint(0, 4)}"}),
    (r"nutrition|calorie|diet", lambda r: {"calories": r.randint(90, 900), "protein_g": r.randint(1, 45)}),
    (r"exchange|currenc", lambda r: {"rate": round(r.uniform(0.5, 1.6), 4)}),
    (r"time ?zone|local time|current time", lambda r: {"local_time": f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"}),
))


def make_result(s: Any, tool: Tool, arguments: dict[str, Any], rng: random.Random,
                must_include: dict[str, Any] | None) -> Any:
    if tool.output_schema:
        gen = s._cached(s._results, tool.name, tool.output_schema, lambda: _compile_output(s, tool.output_schema))
        value = echo(gen(rng), tool.output_schema, arguments)
    else:
        value = plausible(s, tool, arguments, rng)
    for field, forced in (must_include or {}).items():
        value = force(value, field, copy.deepcopy(forced), tool.output_schema)
    return value


def _compile_output(s: Any, schema: dict) -> Callable[[random.Random], Any]:
    s.object_share = 0.85  # results show most optional fields
    try:
        return s.compile("result", schema)
    finally:
        del s.object_share


def echo(value: Any, schema: Any, arguments: dict[str, Any]) -> Any:
    """``value`` with argument values copied into same-named fields whose schema they fit."""
    if isinstance(value, dict) and isinstance(schema, dict):
        props = schema.get("properties") or {}
        for key in value:
            if key in arguments and arguments[key] is not None and rules.fits(arguments[key], props.get(key, {})):
                value[key] = copy.deepcopy(arguments[key])
            elif key in props and isinstance(value[key], (dict, list)):
                echo(value[key], props[key], arguments)
    elif isinstance(value, list) and isinstance(schema, dict) and isinstance(schema.get("items"), dict):
        for item in value:
            echo(item, schema["items"], arguments)
    return value


_PATH = re.compile(r"[^.\[\]]+")


def force(value: Any, field: str, forced: Any, schema: Any) -> Any:
    """Put ``forced`` at ``field``: a path (``offers[0].flight_id``), or a name set where the schema has it."""
    parts = [int(p) if p.isdigit() else p for p in _PATH.findall(field)]
    if len(parts) > 1:
        return _set_path(value, parts, forced)
    target = _holder(value, schema, field) if isinstance(schema, dict) else None
    if target is None:
        if not isinstance(value, dict):
            return {"result": value, field: forced}
        target = value
    target[field] = forced
    return value


def _set_path(value: Any, parts: list, forced: Any) -> Any:
    root = value if isinstance(value, (dict, list)) else {}
    node = root
    for part, following in zip(parts, parts[1:] + [None], strict=True):
        if following is None:
            break
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(part, int) and isinstance(node, list):
            while len(node) <= part:
                node.append(copy.deepcopy(node[-1]) if node else empty)
            node = node[part]
        elif isinstance(node, dict):
            node = node.setdefault(part, empty)
    last = parts[-1]
    if isinstance(last, int) and isinstance(node, list):
        node.extend([forced] * (last + 1 - len(node)))
        node[last] = forced
    elif isinstance(node, dict):
        node[last] = forced
    return root


def _holder(value: Any, schema: dict, field: str) -> dict | None:
    """The first object (breadth-first, first array item) whose schema or content has ``field``."""
    queue = [(value, schema)]
    while queue:
        node, node_schema = queue.pop(0)
        props = node_schema.get("properties") or {} if isinstance(node_schema, dict) else {}
        if isinstance(node, dict):
            if field in node or field in props:
                return node
            queue += [(node[k], props.get(k, {})) for k in node if isinstance(node[k], (dict, list))]
        elif isinstance(node, list) and node:
            queue.append((node[0], node_schema.get("items", {}) if isinstance(node_schema, dict) else {}))
    return None


# --- results without an output schema ------------------------------------------------------------


def _scalars(arguments: dict[str, Any], limit: int) -> dict[str, Any]:
    return {k: v for k, v in list(arguments.items())[:limit] if isinstance(v, (str, int, float)) and v is not None}


def plausible(s: Any, tool: Tool, arguments: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A result object guessed from what the tool is (an action, search, domain lookup, calculation or lookup)."""
    plan = s._cached(s._results, tool.name, tool.parameters, lambda: _plan(s, tool))
    return plan(arguments, rng)


def _plan(s: Any, tool: Tool) -> Callable[[dict, random.Random], dict]:
    name = normalise(tool.name)
    text = f"{tool.name.replace('_', ' ')} {tool.description}"
    domain = next((f for p, f in _DOMAIN if p.search(text)), None)
    tokens = set(name.split("_"))
    if tokens & _ACTION and not name.startswith(("get", "calculate", "compute", "find", "search")):
        return lambda args, rng: {"status": rng.choice(_STATUS), **_scalars(args, 3),
                                  "confirmation_id": f"{rng.choice('BCRX')}{rng.randint(100000, 999999)}"}
    if tokens & _SEARCH:
        entry = _entry_plan(s, tool, domain)

        def search(args: dict, rng: random.Random) -> dict:
            found = [entry(args, rng) for _ in range(rng.randint(1, 3))]
            return {"results": found, "count": len(found)}

        return search
    if domain is not None:
        return lambda args, rng: {**_scalars(args, 2), **domain(rng)}
    numeric = all(isinstance(p, dict) and p.get("type") in ("integer", "number") for p in tool.properties.values())
    if _CALC.search(text) or numeric:
        unit_keys = [k for k in tool.properties if "unit" in k]

        def calculation(args: dict, rng: random.Random) -> dict:
            out: dict[str, Any] = {"result": round(rng.uniform(0.5, 1000), rng.choice((0, 2, 2, 3)))}
            unit = next((args[k] for k in unit_keys if isinstance(args.get(k), str)), None)
            return {**out, "unit": unit} if unit else out

        return calculation
    target = _target(name)
    if kind_for(target) or rules.numeric_range(target, "", False):
        gen = s.compile(target, {})
        return lambda args, rng: {**_scalars(args, 2), target: gen(rng)}
    label = target.replace("_", " ").capitalize()

    def lookup(args: dict, rng: random.Random) -> dict:
        echoed = _scalars(args, 2)
        about = next((v for v in echoed.values() if isinstance(v, str)), "your request")
        return {**echoed, target: f"{label} for {about}"}

    return lookup


def _target(name: str) -> str:
    """What a lookup tool returns, from its name: ``religion_get_core_beliefs`` -> ``core_beliefs``."""
    tokens = [t for t in name.split("_") if t]
    verbs = [i for i, t in enumerate(tokens) if t in _VERBS]
    after = [t for t in tokens[verbs[-1] + 1:] if t not in _VERBS] if verbs else []
    before = [t for t in tokens[: verbs[-1]] if t not in _VERBS][-2:] if verbs else tokens[-2:]
    return "_".join(after or before) or "result"


def _entry_plan(s: Any, tool: Tool, domain: Any) -> Callable[[dict, random.Random], dict]:
    tokens = [t for t in normalise(tool.name).split("_") if t not in _VERBS]
    kind = next((k for t in reversed(tokens) if (k := kind_for(t)) and k not in ("id", "query")), None)
    pool = s.pool(kind) if kind else []
    noun = tokens[-1].title() if tokens else "Result"

    def entry(args: dict, rng: random.Random) -> dict:
        out: dict[str, Any] = {"name": rng.choice(pool) if pool else f"{noun} {rng.randint(1, 99)}",
                               "id": f"{rng.choice('ABCDEFGHKLMNPRST')}{rng.randint(1000, 99999)}"}
        out.update({k: v for k, v in _scalars(args, 2).items() if k not in out})
        out.update(domain(rng) if domain is not None else {"rating": round(rng.uniform(3.2, 5), 1)})
        return out

    return entry
