"""Turn inftool objects into columns (dicts of numpy arrays) that DuckDB inserts in one statement.

Inserting a registered dict of arrays with ``INSERT ... SELECT`` is ~30x faster than ``executemany``.
Strings and JSON text are object arrays (JSON is cast in SQL); ``VARCHAR[]`` columns are object
arrays of Python lists, built element by element so numpy never makes them 2-D.

JSON text is made with orjson when it is importable (dspy, a core dependency, requires it; 3x faster
than json here), else with json. An offered tool's JSON is made once per batch: episodes offer the same
catalog tools (``Tool.to_openai()`` shares the tool's ``parameters`` dict), so its text is reused.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

try:  # optional speed-up, see the module docstring
    import orjson
except ImportError:  # pragma: no cover - orjson comes with dspy
    orjson = None

if TYPE_CHECKING:  # the store needs none of these at run time (importing inftool.synth is not free)
    from inftool.catalog.tool import Tool
    from inftool.core.episode import Episode
    from inftool.core.scenarios import ScenarioCell

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")


def dumps(value: Any) -> str:
    """Compact JSON text; values JSON cannot hold (dates, sets) become strings, NaN and infinities null."""
    if orjson is not None:
        try:
            return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # e.g. an integer beyond 64 bits: json handles it
            pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:  # NaN or an infinity somewhere
        return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, as orjson writes them (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def loads(text: str) -> Any:
    return orjson.loads(text) if orjson is not None else json.loads(text)


def tools_json(tools: list[dict[str, Any]], cache: dict[tuple, tuple[str, Any]]) -> str:
    """JSON text of an OpenAI ``tools`` list; entries of the usual shape are dumped once per ``cache``.

    The cache key holds ``id(parameters)``; the cached value holds the dict itself, so that id cannot be
    reused by another dict while the cache lives (one batch)."""
    parts = []
    for entry in tools:
        key = _tool_key(entry)
        hit = cache.get(key) if key else None
        if hit is None:
            hit = (dumps(entry), entry["function"]["parameters"] if key else None)
            if key:
                cache[key] = hit
        parts.append(hit[0])
    return "[" + ",".join(parts) + "]"


def _tool_key(entry: Any) -> tuple | None:
    """(type, name, description, id(parameters)) of an entry shaped exactly like ``Tool.to_openai()``."""
    try:
        function = entry["function"]
        if len(entry) != 2 or len(function) != 3:
            return None
        key = (entry["type"], function["name"], function["description"], id(function["parameters"]))
        hash(key)
    except (KeyError, TypeError):
        return None
    return key


def json_type(schema: Any) -> str:
    """The JSON type of a parameter schema: the first non-null one of a type list or of anyOf/oneOf
    alternatives; 'any' when none is given."""
    if not isinstance(schema, dict):
        return "any"
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    for k in kinds:
        if k in JSON_TYPES:
            return k
    for alternative in (*schema.get("anyOf", ()), *schema.get("oneOf", ())):
        found = json_type(alternative)
        if found != "any":
            return found
    return "any"


def objects(values: Sequence[Any]) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (lists stay list elements)."""
    return np.fromiter(values, dtype=object, count=len(values))


def tool_columns(tools: Iterable[Tool]) -> dict[str, np.ndarray]:
    rows: dict[str, list[Any]] = {k: [] for k in (
        "name", "original_name", "source", "description", "parameters", "output_schema", "param_names", "param_types")}
    for tool in tools:
        properties = tool.properties
        rows["name"].append(tool.name)
        rows["original_name"].append(tool.original_name)
        rows["source"].append(tool.source)
        rows["description"].append(tool.description)
        rows["parameters"].append(dumps(tool.parameters))
        rows["output_schema"].append(None if tool.output_schema is None else dumps(tool.output_schema))
        rows["param_names"].append(list(properties))
        rows["param_types"].append([json_type(schema) for schema in properties.values()])
    return {k: objects(v) for k, v in rows.items()}


def scenario_columns(cells: Iterable[ScenarioCell]) -> dict[str, np.ndarray]:
    cells = list(cells)
    return {
        "complexity": objects([c.complexity for c in cells]),
        "tool": objects([c.tool for c in cells]),
        "weight": np.array([c.weight for c in cells], dtype=np.float64),
        "base_weight": objects([getattr(c, "base_weight", None) for c in cells]),
        "need": objects([getattr(c, "need", None) for c in cells]),
        "drivers": objects([None if getattr(c, "drivers", None) is None else dumps(c.drivers) for c in cells]),
    }


TRAIN_LOG_COLUMNS = ("loss", "reward", "reward_std", "kl", "learning_rate")


def train_log_columns(logs: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Columns of ``train_log`` rows: step, the common metrics (None when not logged), all of it as JSON."""
    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

    columns = {"step": np.array([int(log["step"]) for log in logs], dtype=np.int64)}
    for name in TRAIN_LOG_COLUMNS:
        columns[name] = objects([number(log.get(name)) for log in logs])
    columns["metrics"] = objects([dumps(log) for log in logs])
    return columns


EPISODE_COLUMNS = ("episode_id", "iteration", "idx", "complexity", "tool", "called_tools", "offered", "persona",
                   "request", "messages", "tools", "goal", "accepted", "failed_gate", "reason", "split", "error")
VERDICT_COLUMNS = ("episode_id", "position", "gate", "passed", "reason")


def episode_columns(episodes: Iterable[Episode]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Columns of the ``episodes`` rows and of their ``verdicts`` rows; an id seen twice is kept once.

    The cyclic garbage collector is paused meanwhile: the many small tuples made here would trigger
    collections that walk every live object (the caller's episodes too), doubling the time; nothing
    made here can form a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _episode_columns(episodes)
    finally:
        if enabled:
            gc.enable()


def _episode_columns(episodes: Iterable[Episode]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    episode_rows: list[tuple] = []
    verdict_rows: list[tuple] = []
    seen: set[str] = set()
    cache: dict[tuple, tuple[str, Any]] = {}
    for ep in episodes:
        eid = ep.id
        if eid in seen:
            continue
        seen.add(eid)
        goal, rejection = ep.goal, ep.rejection
        called = list(dict.fromkeys(call.name for step in goal.steps for call in step))
        episode_rows.append((
            eid, ep.iteration, ep.index, goal.complexity, goal.target, called, list(goal.offered), goal.persona,
            ep.request, dumps(ep.messages), tools_json(ep.tools, cache), dumps(goal.to_json()), ep.accepted,
            rejection and rejection.gate, rejection and rejection.reason, ep.split, ep.error))
        verdict_rows += [(eid, position, v.gate, v.passed, v.reason) for position, v in enumerate(ep.verdicts)]
    return _columns(EPISODE_COLUMNS, episode_rows), _columns(VERDICT_COLUMNS, verdict_rows)


_INTS, _BOOLS = {"iteration", "idx", "position"}, {"accepted", "passed"}


def _columns(names: Sequence[str], table: list[tuple]) -> dict[str, np.ndarray]:
    columns = list(zip(*table, strict=True)) if table else [()] * len(names)
    out = {}
    for name, values in zip(names, columns, strict=True):
        if name in _INTS:
            out[name] = np.array(values, dtype=np.int64)
        elif name in _BOOLS:
            out[name] = np.array(values, dtype=np.bool_)
        else:
            out[name] = objects(values)
    return out
