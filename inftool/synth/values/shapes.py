"""Generators for numbers, booleans, arrays and objects (strings live in ``values``)."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from collections.abc import Callable
from typing import Any

from inftool.synth.values import rules
from inftool.synth.values.names import POINT_NAME, RANGE_NAME, normalise, singular

Gen = Callable[[random.Random], Any]
_NICE = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000)
_ROUND = (2, 3, 4, 5, 10, 15, 20, 25, 50, 100, 200, 500, 1000, 5000, 10000)
"""The numbers people reach for when any will do: ``_int_draw`` on a wide range gives one of them 3 times in 10."""
LONG_SHARE = 0.1
"""How often an integer that nothing bounds (no name rule, no example) has 3 to 7 digits ('prime factors of 123456'),
and a measure whose range is only typical (``rules.OPEN_ENDED``) is up to ten times its top: mostly people give
small numbers, but a policy that never saw a long one cuts it short when copying."""


def _compile(s: Any, name: str, schema: Any, desc: str = "") -> Gen:
    """The generator for a nested schema, compiled by the sampler ``s`` (it owns the string generators)."""
    return s.compile(name, schema, desc)


def null_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    return lambda rng: None


def boolean_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    return lambda rng: rng.random() < 0.5


# --- numbers -------------------------------------------------------------------------------------


def integer_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    return _numeric(s, name, schema, desc, integer=True)


def number_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    return _numeric(s, name, schema, desc, integer=False)


def _bounds(schema: dict) -> tuple[float | None, float | None]:
    """The inclusive-or-exclusive lower and upper bounds (exclusiveness is re-checked by ``fits``)."""
    low, high = schema.get("minimum"), schema.get("maximum")
    for key, pick in (("exclusiveMinimum", max), ("exclusiveMaximum", min)):
        bound = schema.get(key)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            current = low if key == "exclusiveMinimum" else high
            bound = bound if current is None else pick(bound, current)
            if key == "exclusiveMinimum":
                low = bound
            else:
                high = bound
    return low, high


def _span(name: str, schema: dict, desc: str, integer: bool, examples: list) -> tuple[float, float, int | None]:
    rule = rules.numeric_range(name, desc, integer)
    if rule is None and examples and examples[0]:
        x = abs(examples[0])
        decimals = 0 if float(x).is_integer() else min(3, len(repr(float(x)).split(".")[1]))
        rule = (x / 4, x * 3, decimals)
    a, b, decimals = rule or ((1, 100, 0) if integer else (1, 100, None))  # people mostly give small numbers
    low, high = _bounds(schema)
    a = max(a, low) if low is not None else a
    b = min(b, high) if high is not None else b
    if a > b or (a == b and not rules._number_ok(a, schema)):
        if low is not None and high is not None:
            a, b = low, high
        elif low is not None:
            a, b = low, low + max(10, abs(low))
        else:
            a, b = high - max(10, abs(high)), high
    return a, b, decimals


def _numeric(s: Any, name: str, schema: dict, desc: str, integer: bool) -> Gen:
    examples = [rules.as_number(e, integer) for e in rules.description_examples(desc)] + \
        [rules.default_number(desc, integer)]
    examples = [e for e in examples if e is not None and rules.fits(e, schema)]
    a, b, decimals = _span(name, schema, desc, integer, examples)
    step = schema.get("multipleOf")
    draw = _multiple(a, b, step, integer) if step else _int_draw(a, b) if integer or decimals == 0 else _float_draw(a, b, decimals)
    rng0 = random.Random(1)
    fallback = next((v for v in (draw(rng0) for _ in range(50)) if rules.fits(v, schema)), None)
    if fallback is None and not integer and not step:  # e.g. an open interval (0, 1): decimals only
        draw = _float_draw(a, b, max(decimals or 0, 2))
        fallback = next((v for v in (draw(rng0) for _ in range(50)) if rules.fits(v, schema)), None)
    if fallback is None:
        fallback = next((v for v in examples), None)
    if fallback is None:
        s.note_unsatisfiable(name, f"no {'integer' if integer else 'number'} in the bounds of {schema}")
        fallback = a

    tail: Gen | None = None  # now and then beyond the usual draw (``LONG_SHARE``)
    if integer and not examples and rules.numeric_range(name, desc, integer) is None:
        tail = _long_integer  # 'the prime factors of 123456'
    elif rules.open_ended(name) and _bounds(schema)[1] is None and b >= 1:  # 'a 150 meter building'
        tail = _int_draw(b, 10 * b) if integer or decimals == 0 else _float_draw(b, 10 * b, decimals)

    def gen(rng: random.Random) -> float:
        if examples and rng.random() < 0.2:
            return rng.choice(examples) if integer else float(rng.choice(examples))
        if tail and rng.random() < LONG_SHARE:
            value = tail(rng)
            if rules._number_ok(value, schema):
                return value if integer else float(value)
        for _ in range(4):
            value = draw(rng)
            if rules._number_ok(value, schema):
                return value if integer else float(value)  # a 'number' is drawn as a float: BFCL reads
        return fallback if integer else float(fallback)     # 449 in a list of floats as a wrong type

    return gen


def _long_integer(rng: random.Random) -> int:
    """An integer of 3 to 7 digits, each length as likely."""
    digits = rng.randint(3, 7)
    return rng.randint(10 ** (digits - 1), 10 ** digits - 1)


def _nice_step(span: float) -> int:
    return max((q for q in _NICE if q <= span / 8), default=1)


def _int_draw(a: float, b: float) -> Gen:
    low, high = math.ceil(a), math.floor(b)
    if low > high:
        return lambda rng: low
    if _wide(low, high):
        magnitude, favourites = _magnitude(low, high), [n for n in _ROUND if low <= n <= high]

        def human(rng: random.Random) -> int:
            if favourites and rng.random() < 0.3:
                return rng.choice(favourites)
            value = int(magnitude(rng))  # then 35, 150, 2500: rounded at the number's own size
            value = _rounded(value, 10 ** int(math.log10(value)) // 2 if value >= 20 else 1, low, high, rng)
            return min(max(value, low), high)

        return human
    quantum = _nice_step(high - low)
    return lambda rng: _rounded(rng.randint(low, high), quantum, low, high, rng)


def _rounded(value: int, quantum: int, low: int, high: int, rng: random.Random) -> int:
    """Half the time ``value`` rounded to a multiple of ``quantum`` (when that stays within the bounds)."""
    if quantum > 1 and rng.random() < 0.5:
        nice = round(value / quantum) * quantum
        return nice if low <= nice <= high else value
    return value


def _wide(low: float, high: float) -> bool:
    """A range from (near) zero over an order of magnitude or more, where the numbers people give are mostly small
    (5, 10, 3, sometimes 150): drawn on a log scale rather than uniformly (which makes most of them 40-99)."""
    return low >= 0 and high >= 10 * max(low, 1)


def _magnitude(low: float, high: float) -> Gen:
    """Log-uniform over [max(low, 1), high + 1): as likely in 1-10 as in 10-100."""
    bottom, top = math.log(max(low, 1)), math.log(high + 1)
    return lambda rng: min(math.exp(rng.uniform(bottom, top)), high)


def _float_draw(a: float, b: float, decimals: int | None) -> Gen:
    ints = _int_draw(a, b)
    spread = _magnitude(a, b) if _wide(a, b) else (lambda rng: rng.uniform(a, b))

    def draw(rng: random.Random) -> float:
        places = decimals if decimals is not None else rng.choice((0, 0, 1, 1, 2))
        if places == 0 and math.ceil(a) <= math.floor(b):
            return ints(rng)
        return round(spread(rng), max(places, 1))

    return draw


def _multiple(a: float, b: float, step: float, integer: bool) -> Gen:
    low, high = math.ceil(a / step), math.floor(b / step)
    places = max(0, -math.floor(math.log10(step))) + 2 if isinstance(step, float) else 0

    def draw(rng: random.Random) -> float:
        value = rng.randint(low, max(low, high)) * step
        return round(value, places) if isinstance(step, float) else int(value)

    return draw


# --- arrays --------------------------------------------------------------------------------------


def array_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    items = schema.get("items")
    item_name = singular(normalise(name)) if name else "item"
    prefix = [_compile(s, f"{item_name}_{i}", p, desc) for i, p in enumerate(schema.get("prefixItems") or [])]
    item = _compile(s, item_name, items if isinstance(items, dict) else {}, desc)
    low, high = schema.get("minItems", 0), schema.get("maxItems")
    top = max(low, 1) + 2 if high is None else min(high, max(low, 1) + 2)
    bottom = min(max(low, 1), top)
    if prefix:
        bottom = top = max(low, min(len(prefix), high if high is not None else len(prefix)))
    unique = bool(schema.get("uniqueItems"))
    scalar = isinstance(items, dict) and items.get("type") in ("string", "integer", "number") and not prefix
    if scalar and items.get("type") != "string" and RANGE_NAME.match(normalise(name)) and bottom <= 2 <= top:
        return _range_gen(item)
    if scalar and items.get("type") != "string" and POINT_NAME.match(normalise(name)) and bottom <= 2 <= top:
        return lambda rng: [item(rng) for _ in range(3 if top >= 3 and rng.random() < 0.2 else 2)]  # (x, y)

    def gen(rng: random.Random) -> list:
        count = rng.randint(bottom, top)
        values = [p(rng) for p in prefix[:count]]
        if not unique and not scalar:
            values += [item(rng) for _ in range(count - len(values))]
            return values
        seen = {json.dumps(v, sort_keys=True) for v in values} if values else set()
        for _ in range(count * 6):
            if len(values) >= count:
                break
            value = item(rng)
            key = (type(value).__name__, value) if scalar else json.dumps(value, sort_keys=True)
            if key not in seen:
                seen.add(key)
                values.append(value)
        while not unique and len(values) < count:  # duplicates are allowed, just not preferred
            values.append(item(rng))
        return values

    return gen


def _range_gen(item: Gen) -> Gen:
    """Two different numbers, the lower first: an interval's ends (a lone draw when they keep coming out equal)."""

    def gen(rng: random.Random) -> list:
        for _ in range(8):
            ends = sorted((item(rng), item(rng)))
            if ends[0] != ends[1]:
                return ends
        return ends

    return gen


# --- objects -------------------------------------------------------------------------------------

_PAIRS = (("start", "end"), ("from", "to"), ("begin", "end"), ("min", "max"), ("lower", "upper"), ("low", "high"),
          ("depart", "return"), ("arrival", "departure"), ("in", "out"), ("first", "last"))


def ordered_pairs(keys: list[str]) -> list[tuple[str, str]]:
    """Pairs of keys whose values must be ordered (``start_date``/``end_date``, ``min_price``/``max_price``)."""
    norm = {normalise(k): k for k in keys}
    found = []
    for key in keys:
        tokens = normalise(key).split("_")
        for first, second in _PAIRS:
            if first in tokens:
                other = "_".join(second if t == first else t for t in tokens)
                if other in norm and norm[other] != key:
                    found.append((key, norm[other]))
    return found


_GENERIC = ("name", "title", "type", "value", "label", "code", "kind")


def _in_context(parent: str, key: str) -> str:
    """``name`` inside ``medications`` items reads as ``medication_name``; other keys stay as they are."""
    if normalise(key) in _GENERIC and parent and parent not in ("arguments", "result", "value", "item"):
        return f"{parent}_{key}"
    return key


class ObjectGen:
    """Objects with every required property and a share of the optional ones, in schema order."""

    def __init__(self, s: Any, name: str, schema: dict, desc: str = ""):
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        self.fields = [(k, _compile(s, _in_context(name, k), v), k in required) for k, v in props.items()]
        self.fields += [(k, _compile(s, k, {}), True) for k in required if k not in props]
        self.pairs = [(a, b, props[a], props[b]) for a, b in ordered_pairs(list(props))]
        self.min_props = schema.get("minProperties", 0)
        self.share = getattr(s, "object_share", 0.5)
        self.nested = name not in ("arguments", "result")
        self.free: Gen | None = None
        extra = schema.get("additionalProperties", True)
        if not props and extra is not False and name != "arguments":  # a tool without parameters takes none
            self.free = _free_form(s, name, extra if isinstance(extra, dict) else {}, desc)

    def __call__(self, rng: random.Random) -> dict[str, Any]:
        return self.sample(rng, self.share)

    def sample(self, rng: random.Random, share: float) -> dict[str, Any]:
        out = {key: gen(rng) for key, gen, required in self.fields if required or rng.random() < share}
        if len(out) < max(self.min_props, 1 if self.nested else 0):  # nested objects are never empty
            for key, gen, _ in self.fields:
                if len(out) >= max(self.min_props, 1 if self.nested else 0):
                    break
                out.setdefault(key, gen(rng))
        for first, second, first_schema, second_schema in self.pairs:
            if first in out and second in out:
                _order(out, first, second, first_schema, second_schema, rng)
        if self.free is not None:
            out.update({k: v for k, v in self.free(rng).items() if k not in out})
        return out


def object_gen(s: Any, name: str, schema: dict, desc: str) -> Gen:
    return ObjectGen(s, name, schema, desc)


_KEYS = re.compile(r"\bkeys?\s+(?:\w+\s+){0,2}?(?:represent\w*|are|is|as|being)\s+(?:the\s+)?([a-z]+)", re.IGNORECASE)
_VALUES = re.compile(r"\bvalues?\s+(?:\w+\s+){0,2}?(?:represent\w*|are|is|as|being)\s+(?:the\s+|their\s+|its\s+|"
                     r"corresponding\s+)*([a-z]+)", re.IGNORECASE)


def _free_form(s: Any, name: str, values: dict, desc: str = "") -> Gen:
    """A free-form map: two or three entries of the kinds the description names ('keys represent subjects and
    values represent scores': {'physics': 87, 'history': 74}), else one or two pool words to strings."""
    keys_named, values_named = _KEYS.search(desc), _VALUES.search(desc)
    if keys_named:
        key_gen = _compile(s, singular(keys_named.group(1).lower()), {"type": "string"})
    else:
        words = s.pool("word")
        key_gen = lambda rng: rng.choice(words)  # noqa: E731
    value_name = singular(values_named.group(1).lower()) if values_named else "value"
    if not values.get("type"):  # untyped values: numbers when their name says so ('scores'), else strings
        found = rules.numeric_range(value_name, "", integer=False) if values_named else None
        values = {**values, "type": ("integer" if found[2] == 0 else "number") if found else "string"}
    value = _compile(s, value_name, values)
    low = 2 if keys_named else 1
    return lambda rng: {key_gen(rng): value(rng) for _ in range(rng.randint(low, low + 1))}


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def _order(out: dict, first: str, second: str, first_schema: Any, second_schema: Any, rng: random.Random) -> None:
    """Make ``out[second]`` come after ``out[first]``: a later ISO date (same layout), or the larger number."""
    a, b = out[first], out[second]
    if isinstance(a, str) and isinstance(b, str) and _ISO.match(a) and _ISO.match(b):
        try:
            day = dt.date.fromisoformat(a[:10]) + dt.timedelta(days=rng.randint(1, 10))
        except ValueError:
            return
        later = day.isoformat() + b[10:]
        if rules.fits(later, second_schema):
            out[second] = later
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a > b \
            and rules.fits(a, second_schema) and rules.fits(b, first_schema):
        out[first], out[second] = b, a
