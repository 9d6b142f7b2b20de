"""Words for tools and arguments: what a tool does as a verb phrase, how a parameter is called in
plain English, and argument values as text (exact, or loosely but recoverably when ``vague``)."""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field
from typing import Any

from inftool.synth.language.units import UNIT_NAME, unit_forms, unit_in
from inftool.synth.values.names import RANGE_NAME, normalise


def _words(text: str) -> list[str]:
    return text.split()


VERBS = frozenset(_words("""
add adjust allocate analyze analyse apply approve archive assess assign authenticate book browse buy calculate cancel
categorize categorise change check classify close compare compose compute configure confirm convert count create
decode delete describe design detect determine diagnose display download draw edit enable disable encode estimate
evaluate execute explain export extract fetch file filter find fit forecast generate get give identify import inspect
integrate invite issue join list load locate lock log look make manage map mark measure merge modify monitor move
notify obtain open order page pay perform pick place plan play plot post predict prepare print process provide
publish purchase query rank rate read rebalance recommend record redeem refresh register reject release remove rename
renew reorder repeat replace report request reschedule reserve reset resolve restart restore retrieve return review
roll rollback run save scale schedule score search select sell send set share show simulate solve sort split start
stop submit subscribe suggest summarize summarise sync tail track trade transfer translate transform update upgrade
upload validate verify view vote withdraw write derive approximate differentiate multiply divide sum average tell
reverse assess analyse interpret mix combine suggest research explore convert recommend visualize plot sort
train build rent examine gather shuffle invest quote retrive draw deal roll flip take
"""))
GETLIKE = frozenset(_words("get retrieve fetch find calculate compute determine return provide obtain show display estimate "
                    "predict give identify measure count look tell derive approximate"))
_LEAD = re.compile(r"^(?:(?:this|the|a|an)\s+)?(?:function|tool|api|endpoint|method|service|operation)\s+"
                   r"(?:that\s+|which\s+|to\s+|is for\s+|for\s+|is used to\s+|will\s+|can\s+|used to\s+|"
                   r"helps?\s+(?:to\s+)?|allows\s+|takes in\s+)?"
                   r"|^(?:used to|helps? (?:you )?(?:to )?|allows? (?:you|users?) to|lets? (?:you|users?))\s+", re.IGNORECASE)
_CUT = re.compile(r",\s|,?\s+(?:optionally|given|based on|using|returning|including|by providing|according to|if|which|"
                  r"whose|along with|and returns?|and optionally|such as|e\.g\.|for example|in the format|"
                  r"so that|with (?:the|a|an) (?:specified|given|provided))\b|[;:(\[]|\s[-–—]\s|\.\s|\.$")
_GIVEN = re.compile(r"\b(a|an|the|any|two|three|four|both|some|all) "
                    r"(?:given|specified|particular|provided|certain|specific) (\w)", re.IGNORECASE)
_PAREN = re.compile(r"\s*\([^()]*\)")
_ASIDE = re.compile(r",\s*(?:such as|e\.g\.|for example|like|including)\s[^,;]*,")
"""An aside between commas ('the dimensions, such as area and perimeter, of a triangle'): dropped, so the task
keeps what it is about."""
_DANGLING = frozenset(_words("a an the for of to with in on by from and or its their your at as into per"))
_DETERMINERS = frozenset(_words("a an the all one two each any your my its their information details data"))
_UNITS = {"kg": "kg", "cm": "cm", "km": "km", "mg": "mg", "ml": "ml", "m": "meters", "usd": "USD", "bpm": "bpm",
          "c": "degrees C", "g": "grams", "pct": "percent", "ms": "ms", "s": "seconds"}
_WORDS = {"id": "ID", "ids": "IDs", "url": "URL", "num": "number of", "min": "minimum", "max": "maximum",
          "qty": "quantity", "dob": "date of birth", "iata": "IATA", "isbn": "ISBN", "sku": "SKU", "skus": "SKUs",
          "api": "API", "dns": "DNS", "ip": "IP", "cpu": "CPU", "spo2": "SpO2", "bmi": "BMI", "db": "database"}
COUNT_NOUNS = {"adults": "adult", "children": "child", "guests": "guest", "rooms": "room", "nights": "night",
               "days": "day", "weeks": "week", "months": "month", "years": "year", "hours": "hour",
               "minutes": "minute", "seconds": "second", "tickets": "ticket", "passengers": "passenger",
               "people": "person", "players": "player", "copies": "copy", "shares": "share", "servings": "serving",
               "items": "item", "results": "result", "replicas": "replica", "bedrooms": "bedroom",
               "bathrooms": "bathroom", "stops": "stop", "attendees": "attendee", "dependents": "dependent",
               "rounds": "round", "bags": "bag", "trials": "trial", "successes": "success"}
_SMALL = _words("zero one two three four five six seven eight nine ten eleven twelve")
_PREPS: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^(origin|from|source|start_location|from_city|from_airport|departure_airport|start_point|starting_point)$",
     ("from {v}", "leaving from {v}", "departing {v}")),
    (r"^(destination|to|to_city|to_airport|end_location|arrival_airport|end_point|destination_city)$",
     ("to {v}", "going to {v}", "heading to {v}")),
    (r"^(location|city|place|where|region|near|venue|country)$", ("in {v}", "for {v}", "around {v}")),
    (r"^(date|depart_date|departure_date|travel_date|event_date|day|check_in|check_in_date)$", ("on {v}", "for {v}")),
    (r"^(start_date|from_date|date_from|start|since|start_time|available_from|begin_date)$", ("from {v}", "starting {v}")),
    (r"^(end_date|to_date|date_to|end|until|end_time|check_out|check_out_date)$", ("until {v}", "through {v}", "to {v}")),
    (r"^return_date$", ("returning {v}", "coming back {v}")),
    (r"^(from_currency|base_currency|source_currency|from_unit|source_language)$", ("from {v}",)),
    (r"^(to_currency|target_currency|quote_currency|to_unit|target_language|target_unit)$", ("to {v}", "into {v}")),
    (r"^(query|keyword|keywords|search_term|search_query|q|search_text)$", ("for \"{v}\"", "for {v}", "matching {v}")),
    (r"^(year|season|tax_year)$", ("in {v}", "for {v}")),
))

_MEASURE_PREPS: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^(time|duration|elapsed_time|time_elapsed|time_period|time_taken)$",
     ("for {v}", "after {v}", "in {v}", "within {v}")),
    (r"^(temperature|temp)$", ("at {v}", "at a temperature of {v}")),
    (r"^(distance|displacement)$", ("over {v}", "over a distance of {v}", "for a distance of {v}")),
    (r"^(acceleration|accel)$", ("at {v}", "accelerating at {v}", "with an acceleration of {v}")),
))
"""Measures that people give with a preposition and their unit ('for 10 seconds', 'at 25 celsius'): numeric
parameters whose description names the unit."""
_BOUND_PREPS: tuple[tuple[re.Pattern, tuple[str, ...]], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^(start_x|x_start|x_from|from_x|x_min|min_x)$", ("from {v}", "from x = {v}")),
    (r"^(end_x|x_end|x_to|to_x|x_max|max_x)$", ("to {v}", "up to {v}", "to x = {v}")),
    (r"^(lower|lower_bound|lower_limit|a_start|start_value)$", ("from {v}",)),
    (r"^(upper|upper_bound|upper_limit|end_value)$", ("to {v}", "up to {v}")),
))
"""The two ends of a numeric range ('from 2 to 5', 'from x = -2 to x = 3')."""
_AT_WHICH = re.compile(r"\b(?:at|point) (?:which|where)\b", re.IGNORECASE)
"""A number its description calls the point at which something is evaluated ('at 3')."""


def label(name: str) -> str:
    """A parameter name in plain words: ``depart_date`` -> ``depart date``, ``weight_kg`` -> ``weight in kg``."""
    tokens = normalise(name).split("_") or [name]
    if tokens[0] == "x" and len(tokens) > 1:  # X-Request-Id
        tokens = tokens[1:]
    unit = f" in {_UNITS[tokens[-1]]}" if len(tokens) > 1 and tokens[-1] in _UNITS and tokens[-2] != "per" else ""
    tokens = tokens[:-1] if unit else tokens
    words = [_WORDS.get(t, t) if t != "num" or i < len(tokens) - 1 else "number" for i, t in enumerate(tokens)]
    return " ".join(words).replace(" of of ", " of ") + unit


_SPOKEN = {"retrieve": "find", "obtain": "find", "fetch": "find"}
"""Description verbs people do not say: 'Retrieves the dimensions of a triangle' is asked as 'find ...'."""


def base_verb(word: str) -> str | None:
    """``Calculates`` -> ``calculate``; ``Searches`` -> ``search``; None when not a known verb."""
    w = word.lower()
    candidates = [w]
    if w.endswith("ies"):
        candidates.append(w[:-3] + "y")
    if w.endswith("es"):
        candidates.append(w[:-2])
    if w.endswith("s"):
        candidates.append(w[:-1])
    if w.endswith("ing"):
        candidates += [w[:-3], w[:-3] + "e"]
    return next((c for c in candidates if c in VERBS), None)


def task_phrase(description: str, tool_name: str) -> tuple[str, str | None]:
    """What a tool does as a verb phrase for requests, and a noun phrase when it answers a question.

    'Calculates the area of a triangle given base and height.' -> ('calculate the area of a triangle',
    'the area of a triangle'); 'Current weather for a city' -> ('get the current weather for a city', same np).
    """
    text = _LEAD.sub("", _ASIDE.sub("", _PAREN.sub("", (description or "").strip().split("\n")[0]))).strip()
    text = _GIVEN.sub(_article, text)
    cut = _CUT.search(text, 12)
    words = (text[: cut.start()] if cut else text).split()[:18]
    while len(words) > 2 and words[-1].lower().strip(",.") in _DANGLING:
        words.pop()
    if not words:
        words = normalise(tool_name).split("_")
    verb = base_verb(words[0]) if words else None
    if verb is None and len(words) > 1 and words[0].lower().endswith("s") and words[1].lower() in _DETERMINERS:
        verb = _strip_s(words[0].lower())  # 'Reverses a string' -> 'reverse a string'
    if verb is None:
        rest = _lower_first(" ".join(words))
        np = rest if re.match(r"(the|a|an|all|your|my)\b", rest) else f"the {rest}"
        return f"get {np}", np
    rest = " ".join(words[1:]).rstrip(",.")
    verb = _SPOKEN.get(verb, verb)
    if verb == "look" and rest.startswith("up "):
        verb, rest = "look up", rest[3:]
    vp = f"{verb} {rest}".strip()
    if verb not in GETLIKE or not rest:
        return vp, None
    return vp, rest if re.match(r"(the|a|an|all|your|my|how|what|which|whether)\b", rest) else f"the {rest}"


def _article(match: re.Match) -> str:
    """'a given integer' -> 'an integer'; 'the specified city' -> 'the city'."""
    article, first = match.group(1), match.group(2)
    if article.lower() in ("a", "an"):
        article = ("an" if first.lower() in "aeiou" else "a") if article.islower() else ("An" if first.lower() in "aeiou" else "A")
    return f"{article} {first}"


def _strip_s(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def _lower_first(text: str) -> str:
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


@dataclass
class ParamWords:
    name: str
    label: str
    preps: tuple[str, ...] = ()
    count_noun: tuple[str, str] | None = None
    bound: str = ""
    """'at most' / 'at least' for max_*/min_* counts."""
    kind: str = "string"
    description: str = ""
    enum: list = field(default_factory=list)
    sibling: tuple[str, int] | None = None
    """The stem and place of a numbered parameter that has siblings ('mass2' next to 'mass1' -> ('mass', 2))."""
    unit: str = ""
    """The unit a number is measured in, when its description names one ("... in meters/second" -> 'm/s'), else
    the plain one people use ('units' for a length, dollars for money: ``units.plain_unit``, set by the tool's
    words); always written after a measure's preposition ('for 10 seconds')."""


def param_words(name: str, schema: Any) -> ParamWords:
    schema = schema if isinstance(schema, dict) else {}
    norm = normalise(name)
    tokens = norm.split("_")
    kind = schema.get("type") if isinstance(schema.get("type"), str) else "string"
    if schema.get("format") in ("date", "date-time"):
        kind = schema["format"]
    elif kind == "string" and tokens[-1] in ("date", "dob", "birthday"):
        kind = "date"
    words = ParamWords(name, label(name), kind=kind, description=str(schema.get("description") or ""),
                       enum=list(schema.get("enum") or []))
    words.preps = next((t for p, t in _PREPS if p.match(norm)), ())
    if not words.preps and kind == "string" and UNIT_NAME.match(norm):  # 'in kilometers', not 'unit km'
        words.preps = ("in {v}",)
    if kind in ("integer", "number"):
        words.unit = unit_in(words.description)
        if words.unit:
            words.preps = words.preps or next((t for p, t in _MEASURE_PREPS if p.match(norm)), ())
        words.preps = words.preps or next((t for p, t in _BOUND_PREPS if p.match(norm)), ())
        if not words.preps and _AT_WHICH.search(words.description):  # 'the point at which to evaluate'
            words.preps = ("at {v}",)
    if kind == "integer" and tokens[-1] in COUNT_NOUNS:
        words.count_noun = (COUNT_NOUNS[tokens[-1]], tokens[-1])
        words.bound = {"max": "at most ", "min": "at least "}.get(tokens[0], "")
    return words


# --- values as text ------------------------------------------------------------------------------


def is_range(value: Any, words: ParamWords | None) -> bool:
    """Whether ``value`` is two numbers for a range parameter (written 'from 1 to 3')."""
    numbers = isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return numbers and len(value) == 2 and words is not None and bool(RANGE_NAME.match(normalise(words.name)))


def value_text(value: Any, words: ParamWords | None, rng: random.Random, vague: bool) -> str:
    """How a value is written in a request: exactly, or (``vague``) loosely but recoverably."""
    if isinstance(value, bool):
        return ("yes" if value else "no") if vague else ("true" if value else "false")
    if isinstance(value, int | float) and words is not None and words.unit and (words.preps or rng.random() < 0.6):
        unit = rng.choice(unit_forms(words.unit))  # people give measures with their unit: "10 m/s", "$200"
        return f"${value}" if unit == "$" else f"{value} {unit}"
    if isinstance(value, int) and not isinstance(value, bool):
        if vague and 0 <= value < len(_SMALL) and rng.random() < 0.7:
            return _SMALL[value]
        return f"{value:,}" if vague and abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        if value.count(" ") >= 3 and rng.random() < 0.7:
            return f'"{value}"'  # free text reads better quoted
        return _loose_string(value, words, rng) if vague else value
    if is_range(value, words):
        return rng.choice(("from {} to {}", "between {} and {}")).format(*value)
    if isinstance(value, list):
        return join([value_text(v, None, rng, vague) for v in value], rng)
    if isinstance(value, dict):
        return ", ".join(f"{k if k != k.lower() or ' ' in k else label(k)} {value_text(v, None, rng, vague)}"
                         for k, v in value.items())  # free-form keys ('New York', 'ancient Rome') as they are
    return str(value)


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
_ISO_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::00)?(Z|[+-]\d{2}:\d{2})?$")


def _loose_string(value: str, words: ParamWords | None, rng: random.Random) -> str:
    date = _ISO_DATE.match(value)
    if date:
        day = dt.date(*map(int, date.groups()))
        return day.strftime(rng.choice(("%B %-d, %Y", "%-d %B %Y", "%b %-d, %Y", "%A, %B %-d, %Y")))
    moment = _ISO_DATETIME.match(value)
    if moment:
        year, month, day_, hour, minute, zone = moment.groups()
        when = dt.datetime(int(year), int(month), int(day_), int(hour), int(minute))
        suffix = {"Z": " UTC", "+00:00": " UTC", None: ""}.get(zone, f" (UTC{zone})")
        return when.strftime("%B %-d, %Y at %-I:%M %p") + suffix
    if words is not None and words.enum and "_" in value:
        return value.replace("_", " ")
    return value


def join(items: list[str], rng: random.Random, conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (sometimes with an Oxford comma)."""
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {conjunction} {items[1]}"
    comma = "," if rng.random() < 0.4 else ""
    return f"{', '.join(items[:-1])}{comma} {conjunction} {items[-1]}"


_INCLUDING = ("include", "get", "show", "return", "calculate", "compute")
"""A flag named for something to include in the answer ('get_area', 'include_events')."""
_FLAG_VERBS = _INCLUDING + ("with", "is", "use", "allow", "send", "enable")
"""Leading words of a flag's name that its phrase leaves out ('use_cache' -> 'cache')."""


def bool_phrase(words: ParamWords, value: bool, rng: random.Random) -> str:
    """A boolean argument as words: include_events=True -> 'including events'; regex=False -> 'without regex'."""
    tokens = normalise(words.name).split("_")
    subject = label("_".join(tokens[1:])) if len(tokens) > 1 and tokens[0] in _FLAG_VERBS else words.label
    if tokens[0] in _INCLUDING and len(tokens) > 1:  # get_area=True -> 'including area'; False -> 'without area'
        return rng.choice((f"including {subject}", f"with {subject} included")) if value else \
            rng.choice((f"without {subject}", f"excluding {subject}"))
    if tokens[-1] == "only":
        return f"only {label('_'.join(tokens[:-1]))}" if value else f"not just {label('_'.join(tokens[:-1]))}"
    return rng.choice((f"with {subject} turned on", f"with {subject} enabled", f"{subject}: yes")) if value else \
        rng.choice((f"with {subject} turned off", f"with {subject} disabled", f"{subject}: no", f"no {subject}"))
