"""Stateful goals on BFCL's math API (``math_api``, stateless: its state is empty): chains of computations where
each later operand is an earlier result (the mean, then rounded; the largest and smallest, then their difference;
a conversion, then scaled), over numbers drawn per episode."""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, chain

ENV = "math_api"
METRIC = ("km", "m", "cm", "mm")
IMPERIAL = (("m", "ft"), ("ft", "m"), ("km", "miles"), ("miles", "km"), ("kg", "lb"), ("lb", "kg"), ("cm", "in"),
            ("in", "cm"), ("celsius", "fahrenheit"), ("fahrenheit", "celsius"))


def initial_state(rng: random.Random) -> dict[str, Any]:
    """The math API keeps no state."""
    return {}


def _numbers(d: Draft) -> list[float]:
    return [float(d.rng.randint(1, 400)) / d.rng.choice((1, 1, 2, 4)) for _ in range(d.rng.randint(3, 7))]


def _show(numbers: list[float]) -> str:
    return ", ".join(f"{n:g}" for n in numbers)


@chain(options=("mean", "standard_deviation"), extras=("round_number", "multiply"))
def summarise_then_round(d: Draft) -> None:
    """the mean or standard deviation of some numbers, then rounded (or scaled)."""
    numbers = _numbers(d)
    op = d.choose(("mean", "standard_deviation"))
    what = "average" if op == "mean" else "standard deviation"
    d.turn("what's the {w} of {n}?", "compute the {w} of these numbers: {n}", w=what, n=_show(numbers))
    value = d.call(op, numbers=numbers)["result"]
    follow = [m for m in ("round_number", "multiply") if d.has(m)]
    if not follow:
        return
    if (d.target if d.target in follow else d.rng.choice(follow)) == "round_number":
        places = d.rng.randint(0, 3)
        d.turn("round that to {p} decimal places", "give it to me rounded to {p} decimals", p=places)
        d.call("round_number", uses=("number",), number=value, decimal_places=places)
    else:
        factor = float(d.rng.choice((2, 3, 10, 12, 100)))
        d.turn("multiply that by {f:g}", "now scale it by {f:g}", f=factor)
        d.call("multiply", uses=("a",), a=value, b=factor)


@chain("max_value", "min_value", "subtract", extras=("absolute_value",))
def spread(d: Draft) -> None:
    """the largest and smallest of some numbers, then their difference (made positive when asked the other way)."""
    numbers = _numbers(d)
    d.turn("find the largest and the smallest of {n}", "which is the biggest and which the smallest of {n}?",
           n=_show(numbers))
    high = d.call("max_value", numbers=numbers)["result"]
    low = d.call("min_value", numbers=numbers)["result"]
    if d.has("absolute_value") and (d.target == "absolute_value" or d.rng.random() < 0.3):
        d.turn("subtract the largest from the smallest, then give me the absolute value",
               "take the smallest minus the largest and make it positive")
        gap = d.call("subtract", uses=("a", "b"), a=low, b=high)["result"]
        d.call("absolute_value", uses=("number",), number=gap)
    else:
        d.turn("what's the difference between them?", "subtract the smallest from the largest")
        d.call("subtract", uses=("a", "b"), a=high, b=low)


@chain("sum_values", options=("percentage", "divide"))
def share_of_total(d: Draft) -> None:
    """the total of some numbers, then one part as a percentage of it, or the total split evenly."""
    numbers = _numbers(d)
    d.turn("add these up: {n}", "what's the total of {n}?", n=_show(numbers))
    total = d.call("sum_values", numbers=numbers)["result"]
    if d.choose(("percentage", "divide")) == "percentage":
        part = d.rng.choice(numbers)
        d.turn("what percentage of that total is {p:g}?", "how much of the total, in percent, is {p:g}?", p=part)
        d.call("percentage", uses=("whole",), part=part, whole=total)
    else:
        people = float(d.rng.randint(2, 6))
        d.turn("split it evenly {k:g} ways", "divide the total by {k:g}", k=people)
        d.call("divide", uses=("a",), a=total, b=people)


@chain(options=("si_unit_conversion", "imperial_si_conversion"), extras=("add", "multiply"))
def convert_then_adjust(d: Draft) -> None:
    """convert a measurement, then add to it or scale it."""
    value = float(d.rng.randint(1, 500))
    if d.choose(("si_unit_conversion", "imperial_si_conversion")) == "si_unit_conversion":
        unit_in, unit_out = d.rng.sample(METRIC, 2)
        op = "si_unit_conversion"
    else:
        unit_in, unit_out = d.rng.choice(IMPERIAL)
        op = "imperial_si_conversion"
    d.turn("convert {v:g} {a} to {b}", "how much is {v:g} {a} in {b}?", v=value, a=unit_in, b=unit_out)
    result = d.call(op, value=value, unit_in=unit_in, unit_out=unit_out)["result"]
    follow = [m for m in ("add", "multiply") if d.has(m)]
    if not follow or (d.target not in follow and d.rng.random() < 0.3):
        return
    if (d.target if d.target in follow else d.rng.choice(follow)) == "add":
        extra = float(d.rng.randint(1, 50))
        d.turn("add {x:g} {b} to that", "and with {x:g} more {b}?", x=extra, b=unit_out)
        d.call("add", uses=("a",), a=result, b=extra)
    else:
        factor = float(d.rng.randint(2, 12))
        d.turn("now multiply it by {x:g}", "times {x:g}?", x=factor)
        d.call("multiply", uses=("a",), a=result, b=factor)


@chain("power", options=("square_root", "logarithm"))
def powers(d: Draft) -> None:
    """a power, then its square root or a logarithm of it, to a chosen precision."""
    base, exponent = float(d.rng.randint(2, 12)), float(d.rng.randint(2, 5))
    d.turn("what's {b:g} to the power of {e:g}?", "raise {b:g} to the {e:g}th power", b=base, e=exponent)
    value = d.call("power", base=base, exponent=exponent)["result"]
    precision = d.rng.randint(4, 12)
    if d.choose(("square_root", "logarithm")) == "square_root":
        d.turn("now the square root of that, with {p} digits of precision", "take its square root ({p} digits)",
               p=precision)
        d.call("square_root", uses=("number",), number=value, precision=precision)
    else:
        log_base = float(d.rng.choice((2, 10, base)))
        d.turn("what's the base-{l:g} logarithm of it, to {p} digits?", "log base {l:g} of that, precision {p}",
               l=log_base, p=precision)
        d.call("logarithm", uses=("value",), value=value, base=log_base, precision=precision)


CHAINS = (summarise_then_round, spread, share_of_total, convert_then_adjust, powers)
