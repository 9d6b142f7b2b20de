"""Small building blocks of value sampling: a fast validity check, format generators, numeric ranges
by parameter name, and examples read out of descriptions ("e.g. San Francisco, CA")."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import json
import math
import random
import re
import string
import uuid
import zlib
from collections.abc import Callable
from typing import Any

from inftool.synth.values.names import id_prefix, normalise

_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _format_ok(value: str, fmt: str | None) -> bool:
    try:
        if fmt == "date":
            return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(dt.date.fromisoformat(value))
        if fmt == "date-time":
            return "T" in value and bool(dt.datetime.fromisoformat(value).tzinfo)
        if fmt == "email":
            return "@" in value
        if fmt == "uuid":
            return len(value) == 36 and bool(uuid.UUID(value))
        if fmt in ("ipv4", "ipv6"):
            return bool(ipaddress.ip_address(value)) and (":" in value) == (fmt == "ipv6")
    except ValueError:
        return False
    return fmt is None or _format_checker().conforms(value, fmt)


@functools.cache
def _format_checker() -> Any:
    """jsonschema's checker for every other format (time, uri, hostname, duration, ...): the one the
    argument check uses, so a value that fits here passes there."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator.FORMAT_CHECKER


def fits(value: Any, schema: Any) -> bool:
    """Whether ``value`` satisfies the common JSON Schema keywords of ``schema`` (a fast, partial check)."""
    if not isinstance(schema, dict):
        return schema is not False
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES.get(k, lambda v: True)(value) for k in kinds):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", math.inf):
            return False
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return False
        return _format_ok(value, schema.get("format"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_ok(value, schema)
    if isinstance(value, list):
        items = schema.get("items")
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", math.inf):
            return False
        if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) < len(value):
            return False
        return not isinstance(items, dict) or all(fits(v, items) for v in value)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        if any(k not in value for k in schema.get("required", [])):
            return False
        if schema.get("additionalProperties") is False and any(k not in props for k in value):
            return False
        return all(fits(v, props[k]) for k, v in value.items() if k in props)
    return True


def _number_ok(value: float, schema: dict) -> bool:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if xlo is True:  # draft 4 booleans
        xlo, lo = lo, None
    if xhi is True:
        xhi, hi = hi, None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return False
    if (isinstance(xlo, (int, float)) and value <= xlo) or (isinstance(xhi, (int, float)) and value >= xhi):
        return False
    step = schema.get("multipleOf")
    if step:
        quotient = value / step
        return int(quotient) == quotient if isinstance(step, float) else value % step == 0
    return True


# --- formats -------------------------------------------------------------------------------------

_DAY0 = dt.date(2025, 1, 1).toordinal()
_ALNUM = string.ascii_lowercase + string.digits


def date_range(name: str) -> tuple[int, int]:
    """Ordinal day range for a date parameter: past for births, later for expiries, else 2025-2026."""
    norm = normalise(name)
    if "birth" in norm or "dob" in norm.split("_") or "born" in norm:
        return dt.date(1950, 1, 1).toordinal(), dt.date(2006, 12, 31).toordinal()
    if "expir" in norm or "valid_until" in norm:
        return dt.date(2026, 6, 1).toordinal(), dt.date(2033, 12, 31).toordinal()
    return _DAY0, _DAY0 + 729


def _date(name: str) -> Callable[[random.Random], str]:
    lo, hi = date_range(name)
    return lambda rng: dt.date.fromordinal(rng.randint(lo, hi)).isoformat()


_OFFSETS = ("Z", "Z", "+00:00", "-05:00", "+01:00", "-08:00", "+09:00", "+05:30")


def _clock(rng: random.Random) -> str:
    return f"{rng.randint(6, 21):02d}:{rng.choice((0, 0, 15, 30, 45)):02d}:00"


def _datetime(name: str) -> Callable[[random.Random], str]:
    day = _date(name)
    return lambda rng: f"{day(rng)}T{_clock(rng)}{rng.choice(_OFFSETS)}"


def _ipv4(rng: random.Random) -> str:
    return f"{rng.choice((10, 172, 192, 34, 52, 104))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def format_generator(fmt: str, name: str, pool: Callable[[str], list[str]]) -> Callable[[random.Random], str] | None:
    """A generator for a JSON Schema ``format``, or None for formats left to other rules."""
    if fmt == "date":
        return _date(name)
    if fmt == "date-time":
        return _datetime(name)
    if fmt == "time":
        return lambda rng: _clock(rng) + rng.choice(_OFFSETS)
    if fmt == "uuid":
        return lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if fmt == "ipv4":
        return _ipv4
    if fmt in ("email", "idn-email"):
        emails = pool("email")
        return lambda rng: rng.choice(emails)
    if fmt in ("uri", "url", "iri", "uri-reference", "iri-reference"):
        urls = pool("url")
        return lambda rng: rng.choice(urls)
    if fmt in ("hostname", "idn-hostname"):
        domains = pool("domain")
        return lambda rng: rng.choice(("", "", "api.", "www.", "mail.")) + rng.choice(domains)
    if fmt == "ipv6":
        addresses = pool("ipv6")
        return lambda rng: rng.choice(addresses)
    if fmt == "duration":
        return lambda rng: rng.choice(("P1D", "PT2H", "PT30M", "P2W", "P1M", "PT90S", "P3D"))
    return None


def id_generator(name: str) -> Callable[[random.Random], str]:
    """Made-up identifiers in one style per parameter name (``ORD-48213``, ``PTN3039310``, ``usr_k3j9x0aa``)."""
    prefix = id_prefix(name)
    style = zlib.crc32(normalise(name).encode()) % 4
    if style == 0:
        return lambda rng: f"{prefix}-{rng.randint(10000, 999999)}"
    if style == 1:
        return lambda rng: f"{prefix}{rng.randint(1000000, 9999999)}"
    if style == 2:
        low = prefix.lower()
        return lambda rng: f"{low}_{''.join(rng.choices(_ALNUM, k=8))}"
    return lambda rng: str(rng.randint(100000, 99999999))


_FUNCTIONS = ("sin", "cos", "exp", "log", "sqrt")


def expression(rng: random.Random) -> str:
    """A made-up formula in x, written as people write them: ``3x^2 - 2x + 5``, ``x**3 + 4*x``, ``2*sin(x)``."""
    caret = rng.random() < 0.5
    if rng.random() < 0.2:
        function = f"{rng.choice(_FUNCTIONS)}(x)"
        factor = rng.choice(("", "", "2*", "3*", "0.5*"))
        return factor + function + (f" + x{'^' if caret else '**'}2" if rng.random() < 0.4 else "")
    terms = []
    for power in range(rng.randint(1, 4), -1, -1):
        coefficient = rng.randint(-9, 9) if terms else rng.choice((1, 1, 2, 3, 4, 5, -1, -2))
        if coefficient == 0 or (power == 0 and terms and rng.random() < 0.4):
            continue
        x = "" if power == 0 else "x" if power == 1 else f"x^{power}" if caret else f"x**{power}"
        size = abs(coefficient)
        number = str(size) if power == 0 or size != 1 else ""
        body = f"{number}{'' if caret or not number or not x else '*'}{x}"
        if terms:
            terms.append(f"{'-' if coefficient < 0 else '+'} {body}")
        else:
            terms.append(body if coefficient > 0 else f"-{body}")
    return " ".join(terms) or "x"


_DATE_LAYOUT = re.compile(r"\b(yyyy|mm|dd)([-/.])(yyyy|mm|dd)\2(yyyy|mm|dd)\b", re.IGNORECASE)


def date_text(name: str, desc: str) -> Callable[[random.Random], str]:
    """A date as a plain string, in the layout the description names (ISO by default)."""
    low, high = date_range(name)
    match = _DATE_LAYOUT.search(desc)
    layout = "%Y-%m-%d"
    if match:
        codes = {"yyyy": "%Y", "mm": "%m", "dd": "%d"}
        layout = match.group(2).join(codes[match.group(i).lower()] for i in (1, 3, 4))
    return lambda rng: dt.date.fromordinal(rng.randint(low, high)).strftime(layout)


# --- numbers -------------------------------------------------------------------------------------

_R = tuple[float, float, int | None]
NUMERIC_EXACT: dict[str, _R] = {
    "a": (1, 10, 0), "b": (-10, 10, 0), "c": (-10, 10, 0), "n": (2, 12, 0), "k": (1, 5, 0), "x": (-10, 10, 0),
    "y": (-10, 10, 0), "z": (-10, 10, 0), "p": (0.05, 0.95, 2), "page_size": (10, 50, 0), "max_results": (5, 25, 0),
    "serving_amount": (0.5, 3, 1), "nightly_rate": (60, 450, 0), "max_nightly_rate": (80, 450, 0),
    "hourly_rate": (15, 150, 0), "daily_rate": (40, 300, 0), "systolic": (100, 145, 0), "diastolic": (60, 95, 0),
    "dose_mg": (5, 500, 0), "dose": (5, 500, 0), "loan_amount": (5000, 500000, 0),
}
NUMERIC_TOKENS: dict[str, _R] = {}
for _names, _range in (
    ("year", (1990, 2024, 0)), ("century", (15, 21, 0)), ("age", (18, 80, 0)),
    ("lat latitude", (-45.0, 60.0, 4)), ("lon lng longitude", (-120.0, 150.0, 4)),
    ("rate interest yield inflation growth discount", (0.01, 0.12, 3)), ("percent percentage pct", (2, 60, 0)),
    ("probability prob alpha significance threshold confidence", (0.05, 0.95, 2)),
    ("price cost amount fee budget total subtotal payment deposit balance", (10, 5000, 2)),
    ("income salary revenue earnings", (20000, 250000, 0)), ("servings serving", (1, 4, 0)),
    ("principal loan investment mortgage", (5000, 500000, 0)),
    ("quantity count qty number num copies shares item items", (1, 10, 0)),
    ("adults guests people players passengers rooms bedrooms bathrooms attendees members", (1, 6, 0)),
    ("children kids infants dependents", (0, 3, 0)), ("days nights", (1, 14, 0)), ("hours", (1, 24, 0)),
    ("minutes", (5, 120, 0)), ("seconds", (1, 300, 0)), ("weeks", (1, 12, 0)), ("months term", (1, 36, 0)),
    ("years period", (1, 30, 0)), ("limit top size", (5, 50, 0)), ("page offset", (1, 10, 0)), ("index", (0, 3, 0)),
    ("rounding round decimals precision digits", (1, 4, 0)),
    ("point coordinate coordinates coord coords", (-5, 20, None)),
    ("rating stars", (1, 5, 1)), ("score grade mark", (50, 100, 0)), ("temperature temp", (-10, 40, 1)),
    ("weight mass kg", (1, 100, 1)), ("current", (1, 20, 1)), ("timeframe horizon", (1, 30, 0)),
    ("height width length radius distance depth side base diameter breadth", (1, 50, 1)),
    ("speed velocity", (5, 100, 1)), ("acceleration", (1, 20, 1)), ("time duration", (1, 60, 0)),
    ("id", (1000, 99999, 0)), ("port", (1024, 9000, 0)), ("replicas", (1, 10, 0)), ("bpm", (55, 110, 0)),
):
    for _token in _names.split():
        NUMERIC_TOKENS[_token] = _range


OPEN_ENDED = frozenset(("height width length radius distance depth side base diameter breadth weight mass kg "
                        "speed velocity acceleration time duration current").split())
"""Measures whose range above is where most values fall, not a limit: now and then one is bigger ('a 150 meter
building', 'a distance of 300 meters')."""


def _range_token(norm: str) -> str | None:
    """The token of a normalised name that ``NUMERIC_TOKENS`` reads its range by (the last one it knows)."""
    tokens = [t.rstrip("0123456789") or t for t in norm.split("_")]
    if tokens in (["number"], ["num"]):  # the number itself (factorial(number), gcd(number1, number2)), not a count
        return None
    return next((t for t in reversed(tokens) if t in NUMERIC_TOKENS), None)


def open_ended(name: str) -> bool:
    """Whether a numeric parameter's range by name is a typical one that bigger values go beyond (``OPEN_ENDED``)."""
    norm = normalise(name)
    return norm not in NUMERIC_EXACT and _range_token(norm) in OPEN_ENDED


def numeric_range(name: str, description: str, integer: bool) -> _R | None:
    """A realistic (low, high, decimals) for a numeric parameter by its name, or None."""
    norm = normalise(name)
    found = NUMERIC_EXACT.get(norm)
    if found is None:
        token = _range_token(norm)
        found = NUMERIC_TOKENS[token] if token else None
    if found and found[2] == 3 and re.search(r"percent|%", description, re.IGNORECASE):
        found = (1.0, 12.0, 1)  # a rate given in percent
    if found and integer and found[1] - found[0] < 2:
        found = (1, 10, 0)
    return found


# --- examples in descriptions --------------------------------------------------------------------

_MARKER = re.compile(r"\b(?:e\.g\.?|for example|for instance|such as|example(?=[:,]))[:,]?\s*", re.IGNORECASE)
_CHOICES = re.compile(r"\b(?:can be|could be|may be|must be|should be|one of|either|i\.e\.?|(?:choices|options) are|"
                      r"(?:allowed|possible|supported|valid) values(?: are)?|defaults? (?:value )?(?:is|to))[:,]?\s*",
                      re.IGNORECASE)
"""Clauses that name a parameter's values ('Can be 'melting', 'freezing'', 'Default is 'vacuum''): only their
quoted values count, since what follows such words unquoted is usually prose ('can be any positive number')."""
_PLACEHOLDER = re.compile(r"[ymdhs]{1,4}(?:[-/:. T][ymdhs]{1,4})+", re.IGNORECASE)
"""A format written as letters ('YYYY-MM-DD', 'HH:MM'), which a description quotes as if it were a value."""
_STOP = re.compile(r"\)|;|\.\s+[A-Z(]|\.$|\s+etc\b|\s+-\s+|\n")
_QUOTED = re.compile(r"'([^']{1,60})'|\"([^\"]{1,60})\"|`([^`]{1,60})`")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _span(rest: str) -> str:
    """The example text up to the end of its clause (a ')' closing a '(' of the example does not end it)."""
    for stop in _STOP.finditer(rest):
        if stop.group(0) != ")" or rest[: stop.start()].count("(") <= rest[: stop.start()].count(")"):
            return rest[: stop.start()]
    return rest


def description_examples(description: str, pairs: bool = False) -> list[str]:
    """Example values a description mentions, as text, e.g. 'City and state, e.g. Boston, MA' -> ['Boston, MA'],
    "Can be 'melting' or 'freezing'" -> ['melting', 'freezing'].

    ``pairs``: two capitalised comma parts are one value ('Lisbon, Portugal'), as for locations.
    """
    found: list[str] = []
    markers = sorted([(m, False) for m in _MARKER.finditer(description or "")] +
                     [(m, True) for m in _CHOICES.finditer(description or "")], key=lambda pair: pair[0].start())
    for marker, quoted_only in markers:
        span = _span(description[marker.end():]).strip().rstrip(".,")
        quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(span)]
        if quoted and not re.sub(r"[\s,/]|\bor\b|\band\b|\betc\b", "", _QUOTED.sub("", span)):
            found += quoted  # "'IPR', 'Patent' or 'Commercial'"
            continue
        if quoted_only:
            continue
        if re.search(r"[(){}=]|\[.*\]", span.strip("[]")):
            found += [span] if len(span) <= 80 else []  # an expression: one example, not a list
            continue
        parts = [p.strip() for p in span.strip("[]").split(",") if p.strip()]
        city, region = (parts + ["", ""])[:2]
        if len(parts) == 2 and not re.fullmatch(r"[A-Z]{2,3}", city) and (
                re.fullmatch(r"[A-Z]{2}\.?", region) or (pairs and city[:1].isupper() and region[:1].isupper())):
            parts = [f"{parts[0]}, {parts[1].rstrip('.')}"]  # 'Boston, MA' is one value
        else:
            parts = [q.strip() for p in parts for q in re.split(r"\s+or\s+|\s+and\s+", p) if q.strip()]
        found += [p for p in parts if len(p) <= 60 and len(p.split()) <= 6]
    return list(dict.fromkeys(f for f in found if not _PLACEHOLDER.fullmatch(f)))


_DEFAULT_NUMBER = re.compile(r"\bdefaults?(?: value)?(?: is| to|:)?\s+(?:set to\s+)?"
                             r"(-?\d+(?:\.\d+)?(?![\d.]?[\deE])(?!\s*[x×*]\s*10)|zero)\b", re.IGNORECASE)


def default_number(description: str, integer: bool) -> float | None:
    """The default a numeric parameter's description states ('Default is 9.81 m/s^2' -> 9.81, 'Default is zero'
    -> 0): a value people often give. None without one, or for a default in exponent notation ('12.57e10',
    '8.854 x 10^-12')."""
    found = _DEFAULT_NUMBER.search(description or "")
    if not found:
        return None
    return 0 if found.group(1).lower() == "zero" else as_number(found.group(1), integer)


def as_number(text: str, integer: bool) -> float | None:
    """The number an example means, if it is one ('850' -> 850, '0.05' -> 0.05)."""
    numbers = _NUMBER.findall(text.replace(",", ""))
    if len(numbers) != 1 or len(text.split()) > 3:
        return None
    value = float(numbers[0])
    if integer:
        return int(value) if value.is_integer() else None
    return int(value) if value.is_integer() else value
