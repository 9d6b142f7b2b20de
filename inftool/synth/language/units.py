"""Units of measure: the one a numeric parameter's description names ('... in meters/second', '(kg)',
'Default is 9.81 m/s^2', ', m.'), and the ways people write it after a number ('4 m/s^2', '20 amperes', '20 A')."""

from __future__ import annotations

import re
from collections.abc import Iterable

from inftool.synth.values.names import normalise

_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    # (how people write it, the first being its name; how descriptions write it). Compound units come before
    # their parts, so that 'meters/second' is a speed, not a length.
    (("m/s^2",), r"m/s\^?2|m/s²|(?i:met(?:er|re)s?/s(?:ec(?:ond)?)?\^?2|"
                                              r"met(?:er|re)s? per second squared)"),
    (("m/s",), r"m/s|(?i:met(?:er|re)s?/s(?:ec(?:ond)?)?|met(?:er|re)s? per second)"),
    (("km/h",), r"km/h|(?i:kilomet(?:er|re)s? per hour)"),
    (("mph", "miles per hour"), r"mph|(?i:miles per hour)"),
    (("square meters", "m^2"), r"m\^2|m²|(?i:square met(?:er|re)s)"),
    (("kilometers", "km"), r"km|(?i:kilomet(?:er|re)s)"),
    (("centimeters", "cm"), r"cm|(?i:centimet(?:er|re)s)"),
    (("millimeters", "mm"), r"mm|(?i:millimet(?:er|re)s)"),
    (("meters", "m"), r"m|(?i:met(?:er|re)s)"),
    (("kg", "kilograms"), r"kg|(?i:kilograms)"),
    (("grams", "g"), r"g|(?i:grams)"),
    (("seconds",), r"(?i:seconds)"),
    (("minutes",), r"(?i:minutes)"),
    (("hours",), r"(?i:hours)"),
    (("days",), r"(?i:days)"),
    (("weeks",), r"(?i:weeks)"),
    (("months",), r"(?i:months)"),
    (("years",), r"(?i:years)"),
    (("miles",), r"(?i:miles)"),
    (("feet",), r"(?i:feet)"),
    (("inches",), r"(?i:inches)"),
    (("liters",), r"(?i:lit(?:er|re)s)"),
    (("newtons",), r"(?i:newtons)"),
    (("joules",), r"(?i:joules)"),
    (("watts",), r"(?i:watts)"),
    (("volts", "V"), r"(?i:volts)"),
    (("ohms",), r"(?i:ohms)"),
    (("amperes", "A", "amps"), r"(?i:amperes|amps)"),
    (("coulombs", "C"), r"(?i:coulombs)"),
    (("farads",), r"(?i:farads)"),
    (("henries",), r"(?i:henries|henrys)"),
    (("hertz", "Hz"), r"Hz|(?i:hertz)"),
    (("pascals",), r"(?i:pascals)"),
    (("kelvin",), r"(?i:kelvin)"),
    (("degrees Celsius", "°C"), r"°C|(?i:celsius)"),
    (("degrees Fahrenheit", "°F"), r"°F|(?i:fahrenheit)"),
    (("radians",), r"(?i:radians)"),
    (("degrees",), r"(?i:degrees)"),
    (("dollars", "$"), r"(?i:dollars)"),
    (("percent",), r"(?i:percent)"),
)
_PLACE = r"(?:\b[Ii]n (?:the )?(?:units? of )?\(?|\(|, |(?<=\d) )"
"""Where a description names a unit: 'in meters', 'in units of kg', '(Celsius)', 'the object, m/s^2' and after a
number ('Default is 9.81 m/s^2')."""
_FOUND = tuple((forms, re.compile(rf"{_PLACE}(?:{pattern})(?![\w/^²])")) for forms, pattern in _KINDS)
_FORMS = {forms[0]: forms for forms, _ in _KINDS}
UNIT_NAME = re.compile(r"^(units?|[a-z_]+_units?|unit_of_measure|measurement_system)$")
"""A (normalised) parameter name that asks for a unit: a string is the unit to answer in ('in kilometers'; an integer
``unit`` is a count), and beside it a length needs no plain 'units'."""
_PLAIN: tuple[tuple[str, re.Pattern, re.Pattern], ...] = (
    # (the unit, the parameters given in it, a sibling that asks for the unit instead)
    ("units", re.compile(r"(?:^|_)(?:radius|diameter|base|height|side\d?|length|width)$"), UNIT_NAME),
    ("dollars", re.compile(r"(?:^|_)(?:price|cost|budget|fee|amount|salary|income|rent|payment)$"),
     re.compile(r"(?:^|_)currency(?:$|_)")),
)


def unit_in(description: str) -> str:
    """The unit a numeric parameter's description measures it in, by its name ('meters per second' -> 'm/s'),
    or ''."""
    return next((forms[0] for forms, found in _FOUND if found.search(description or "")), "")


def plain_unit(name: str, siblings: Iterable[str]) -> str:
    """The unit people give a parameter in when its description names none: a length in 'units' ('a radius of
    10 units'), money in dollars ('a budget of $200'); '' for anything else, or when a sibling parameter asks
    for the unit or currency."""
    name = normalise(name)
    return next((unit for unit, given, asked in _PLAIN if given.search(name)
                 and not any(asked.search(normalise(other)) for other in siblings)), "")


def unit_forms(unit: str) -> tuple[str, ...]:
    """The ways a unit is written after a number: 'meters' -> ('meters', 'm')."""
    return _FORMS.get(unit, (unit,))
