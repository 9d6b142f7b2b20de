"""Sentence parts for ``phrasing``: frames, openings, closings, connectors, and argument layouts."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from typing import Any

from inftool.catalog import Tool
from inftool.synth.language.units import plain_unit
from inftool.synth.language.wording import (
    ParamWords,
    bool_phrase,
    is_range,
    join,
    param_words,
    task_phrase,
    value_text,
)
from inftool.synth.values.names import plural

DIRECT_SHARE = 12
"""Most people state the task directly ("Calculate the area of a circle with radius 5."): the plain frame is
weighted as this many of the others (polite frames alone were what gave synthetic requests away most)."""
FRAMES = ("{c}.",) * DIRECT_SHARE + ("Can you {c}?",) * DIRECT_SHARE + (
    "Please {c}.", "Can you {c}?", "Could you {c}?", "Would you {c}?",
    "Can you please {c}?", "I need to {c}.",
    "I want to {c}.", "I'd like to {c}.", "I'm trying to {c}.", "Help me {c}.",
    "Could you help me {c}?", "Is it possible to {c}?", "Let's {c}.",
    "Go ahead and {c}.", "I was hoping you could {c}.", "Quick favor: {c}.",
    "Any chance you could {c}?", "Mind helping me {c}?", "I'd appreciate it if you could {c}.",
    "Can we {c}?", "Kindly {c}.",
    "Can you {c} for me?",
)
NP_FRAMES = ("What is {c}?", "Find {c}.") * (DIRECT_SHARE // 3) + (
    "What is {c}?", "What's {c}?", "Can you tell me {c}?", "Could you find out {c}?",
    "I'm looking for {c}.", "Give me {c}.", "Tell me {c}.", "I'd like to know {c}.", "Do you know {c}?",
    "I'm curious about {c}.", "Could you look up {c}?", "I want {c}.",
)
OPENINGS = (
    "Hi!", "Hello,", "Hey there.", "Hi there,", "Good morning!", "Good evening.", "Hey,", "Hi, quick question.",
    "Hope you can help.", "Okay,", "So,", "Hello there!", "Hey assistant,", "Hi, hope you're well.", "Morning!",
    "Hi, I need some help.", "Hey, got a minute?",
)
PERSONA_INTROS = (
    "I'm {p}.", "As {p}, I could use a hand.", "{P} here.", "Quick context: I'm {p}.",
    "I'm {p}, so I'm short on time.", "Speaking as {p}:", "Being {p}, I deal with this a lot.", "I work as {p}.",
    "I'm {p} and this came up today.", "Some background: I'm {p}.",
)
CLOSINGS = (
    "Thanks!", "Thank you.", "Thanks in advance.", "Appreciate it!", "Cheers.", "That would help a lot.",
    "Much appreciated.", "Thanks so much!", "Let me know what you find.", "No rush.", "I'd really appreciate it.",
    "Thank you kindly.", "Ty!", "That's all for now.", "Thanks a bunch.",
)
PLURAL_THEN = ("and also", "and then", "then", "plus", "and", "as well as", "and after that")
SEQUENCE = {
    "source": ("using the {f} you find", "with the {f} you get back", "for the {f} that turns up",
               "using whatever {f} comes back", "with the {f} from that result", "using the resulting {f}"),
    "then": ("then", "and then", "after that", "and once you have it,", "and with that,"),
    "next": ("then", "after that,", "once that's done,", "next,", "with that result,", "when you have it,"),
    "also": ("also", "and", "then", "after that,", "additionally,", "on top of that,", "next,", "plus,"),
    "prepare": ("before that,", "to figure that out, first", "for that, first", "you'll need to first",
                "to get there,", "start by having to"),
}
SCENES = ("{A} has {attrs}.", "I have {a} with {attrs}.", "Suppose {a} has {attrs}.", "Consider {a} with {attrs}.",
          "There is {a} with {attrs}.", "Take {a} with {attrs}.", "{A} with {attrs}:", "Given {a} with {attrs},")
"""Scenes: the values as properties of the thing the tool works on ('A circle has a radius of 5. What is the area
of the circle?'), the way people set up a question, rather than as the tool's arguments."""
_OBJECT = re.compile(r"\b(?:of|for|on|from) (a|an) ((?:[\w-]+ ){0,2}[\w-]*[^\Ws])"
                     r"(?=$| (?:that|in|with|carrying|after|within|between|at|from|to|on|for)\b)")
"""The thing a task is about: the first singular 'of a ...' phrase ('of a circle', 'of an object in motion')."""
# Attribute layouts: how the arguments that are not prepositional phrases are attached to the verb phrase.
_ATTR_STYLES = (
    (" with {list}", ("{L} {V}", "a {L} of {V}", "{L} of {V}")),
    (" using {list}", ("{L} {V}", "{V} as the {L}", "{V} for the {L}")),
    (" where {list}", ("the {L} {is} {V}", "{L} {is} {V}")),
    (" ({list})", ("{L}: {V}", "{L} {V}", "{L} = {V}")),
    (": {list}", ("{L} {V}", "{L}: {V}", "{L} = {V}")),
    (", {list}", ("{L} {V}", "a {L} of {V}")),
    (" - {list}", ("{L} {V}", "{L}: {V}")),
    (" given {list}", ("{L} {V}", "a {L} of {V}")),
)
_SENTENCES = ("The {L} {is} {V}.", "{Lc}: {V}.", "Use {V} for the {L}.", "{Lc} should be {V}.", "Set the {L} to {V}.",
              "It's {V} for the {L}.")
_DOUBLE_STOP = re.compile(r"(?<=[A-Za-z][.?!])[.?](?=\s|$)")
RANGE_UNNAMED_SHARE = 0.7
"""How often a range is stated without its parameter's name ('the area under x^2 from 1 to 3', not 'interval from
1 to 3')."""
_AT_REST = re.compile(r"(?:initial|starting) (?:velocity|speed)$")
"""A speed of 0 to start with is said 'from rest' half the time."""
SIBLINGS_TOGETHER_SHARE = 0.5
"""How often numbered siblings are given together ('the numbers 36 and 48', not 'first number 36 and second
number 48')."""
_LETTER = ("{L} = {V}", "{L}={V}", "{L} {V}")
"""A one-letter parameter's value as people write it ('a = 3', 'b=-3', 'c 2'; a negative number never follows
the bare letter, where 'b -3' reads as a subtraction)."""


@dataclass
class ToolWords:
    vp: str
    np: str | None
    params: dict[str, ParamWords]

    def param(self, name: str) -> ParamWords:
        words = self.params.get(name)
        if words is None:
            words = self.params[name] = param_words(name, {})
        return words


def tool_words(tool: Tool) -> ToolWords:
    vp, np = task_phrase(tool.description, tool.name)
    params = {k: param_words(k, v) for k, v in tool.properties.items()}
    _number_siblings(params)
    for words in params.values():  # 'a radius of 10 units', 'a budget of $200'
        if words.kind in ("integer", "number") and not words.unit:
            words.unit = plain_unit(words.name, params)
    return ToolWords(vp, np, params)


_NUMBERED = re.compile(r"([a-z][a-z ]*[a-z]) ?([1-4])")
_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth"}


def _number_siblings(params: dict[str, ParamWords]) -> None:
    """Numbered siblings as people say them: mass1, mass2 -> 'first mass', 'second mass' (only when at least two
    parameters share the stem, so 'ipv4' or 'http2' alone keep their names)."""
    stems: dict[str, list[tuple[ParamWords, str]]] = {}
    for words in params.values():
        found = _NUMBERED.fullmatch(words.label)
        if found:
            stems.setdefault(found.group(1), []).append((words, found.group(2)))
    for stem, numbered in stems.items():
        if len(numbered) >= 2:
            for words, digit in numbered:
                words.label = f"{_ORDINALS[digit]} {stem}"
                words.sibling = (stem, int(digit))


def definite(words: ToolWords) -> ToolWords:
    """The task about *the* thing its arguments then describe ('the area of the circle with radius 5'), the way
    people ask about the object in front of them, rather than the description's 'of a circle'."""
    found = _OBJECT.search(words.vp)
    if not found:
        return words
    indefinite = f"{found.group(1)} {found.group(2)}"
    vp = words.vp[:found.start(1)] + "the " + found.group(2) + words.vp[found.end(2):]
    return replace(words, vp=vp, np=words.np.replace(indefinite, f"the {found.group(2)}", 1) if words.np else None)


def without_object(words: ToolWords) -> ToolWords:
    """The task without the thing it is about when that ends it ('calculate the displacement of an object in
    motion' -> 'calculate the displacement'): people leave out what the values make plain, and the description's
    generic thing in every request would teach the policy to look for those words, not for what is asked."""
    found = _OBJECT.search(words.vp)
    if not found or found.end() != len(words.vp):
        return words
    phrase = found.group(0)
    np = words.np[: -len(phrase) - 1] if words.np and words.np.endswith(" " + phrase) else words.np
    return replace(words, vp=words.vp[: found.start()].rstrip(), np=np)


def attach(head: str, args: str) -> str:
    """A verb phrase and its arguments: 'search flights' + ': origin SFO' or + 'from SFO'."""
    if not args:
        return head
    return head + args if args[0] in ",:;" else f"{head} {args}"


def frame(templates: tuple[str, ...], clause: str, rng: random.Random) -> str:
    """The clause in one of the frames ('Can you {c}?'), starting with a capital letter; a question about a
    plural thing asks 'What are the roots of ...?'."""
    template = rng.choice(templates)
    if template in ("What is {c}?", "What's {c}?") and _plural_head(clause):
        template = "What are {c}?"
    text = template.format(c=clause)
    return text[:1].upper() + text[1:]


_HEAD = re.compile(r"^(?:the |a |an )?((?:[\w-]+ )*?[\w-]+)(?= (?:of|for|from|between|in|on|at|with|under|to|by)\b|$)")


def _plural_head(phrase: str) -> bool:
    """Whether a noun phrase's head is plural: 'the roots of a quadratic' yes, 'the area of a circle' no."""
    head = found.group(1).rsplit(" ", 1)[-1] if (found := _HEAD.match(phrase)) else ""
    return _is(head) == "are" and not head.endswith("ics")  # 'physics', 'economics' take 'is'


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def finish(text: str, rng: random.Random) -> str:
    """Tidy spacing; now and then a casual, lower-case message without the final full stop."""
    if "  " in text:
        text = text.replace("  ", " ")
    if ".." in text or "?." in text or "!." in text:  # a value ending with its own stop ('... a great day.')
        text = _DOUBLE_STOP.sub("", text)
    if rng.random() < 0.08 and text.endswith(".") and text[:2] not in ("I ", "I'") and not text[:2].isupper():
        text = text[:1].lower() + text[1:-1]
    return text


def _attribute(words: ParamWords, value: Any, text: str, forms: tuple[str, ...], rng: random.Random) -> str:
    if len(words.label) == 1:
        form = rng.choice(_LETTER)
        return (_LETTER[0] if form == "{L} {V}" and text.startswith("-") else form).format(L=words.label, V=text)
    form = rng.choice(forms)
    if "a {L} of" in form:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            form = "{L} {V}"
        elif words.label[:1] in "aeiou":
            form = "an {L} of {V}"
    return form.format(L=words.label, V=text, **{"is": _is(words.label)})


def _is(lab: str) -> str:
    return "are" if lab.endswith("s") and not lab.endswith(("ss", "us", "is")) else "is"


def args_text(words: ToolWords, arguments: dict[str, Any], rng: random.Random, vague: bool, skip: set[str],
              sentences: bool = False) -> str:
    """The arguments as words after the verb phrase ('from SFO to NRT with 2 adults and cabin class business')."""
    items = [(k, v) for k, v in arguments.items() if k not in skip]
    if not items:
        return ""
    if len(items) > 1 and rng.random() < 0.5:
        rng.shuffle(items)
    if sentences:
        return " ".join(_sentence(words.param(k), v, rng, vague) for k, v in items)
    connector, forms = rng.choice(_ATTR_STYLES)
    preps, attrs, values = [], [], dict(items)
    for stem, keys in _siblings_together(words, items, rng).items():
        text = join([value_text(values[key], words.param(key), rng, vague) for key in keys], rng)
        attrs.append(_attribute(replace(words.param(keys[0]), label=plural(stem)), [values[key] for key in keys],
                                text, tuple(f for f in forms if "=" not in f) or ("{L} {V}",), rng))
        items = [(k, v) for k, v in items if k not in keys]
    for key, value in items:
        param = words.param(key)
        text = value_text(value, param, rng, vague)
        if isinstance(value, bool):
            preps.append(bool_phrase(param, value, rng))
        elif value == 0 and _AT_REST.match(param.label) and rng.random() < 0.5:
            preps.append(rng.choice(("from rest", "starting from rest")))
        elif param.preps and rng.random() < 0.8:
            preps.append(rng.choice(param.preps).format(v=text))
        elif is_range(value, param) and rng.random() < RANGE_UNNAMED_SHARE:  # 'from 1 to 3' says what it is
            preps.append(text)
        elif param.count_noun and type(value) is int and rng.random() < 0.7:
            noun = param.count_noun[0 if value == 1 else 1]
            preps.append(f"with {param.bound}{text} {noun}" if param.bound else f"{rng.choice(('for', 'with'))} {text} {noun}")
        else:
            attrs.append(_attribute(param, value, text, forms, rng))
    out = " ".join(preps)
    if attrs:
        out += connector.format(list=join(attrs, rng))
    return out.strip()


def _siblings_together(words: ToolWords, items: list[tuple[str, Any]], rng: random.Random) -> dict[str, list[str]]:
    """Numbered siblings stated as one (``SIBLINGS_TOGETHER_SHARE`` of the time): 'numbers 36 and 48' for number1
    and number2, in their order, when every one of them has a number here."""
    stems: dict[str, list[tuple[int, str]]] = {}
    for key, value in items:
        sibling = words.param(key).sibling
        if sibling and isinstance(value, int | float) and not isinstance(value, bool):
            stems.setdefault(sibling[0], []).append((sibling[1], key))
    return {stem: [key for _, key in sorted(found)] for stem, found in stems.items()
            if len(found) == sum(1 for p in words.params.values() if p.sibling and p.sibling[0] == stem) >= 2
            and rng.random() < SIBLINGS_TOGETHER_SHARE}


def _sentence(words: ParamWords, value: Any, rng: random.Random, vague: bool) -> str:
    if isinstance(value, bool):
        return bool_phrase(words, value, rng).capitalize() + "."
    text = value_text(value, words, rng, vague)
    lab = words.label
    return rng.choice(_SENTENCES).format(L=lab, Lc=lab[:1].upper() + lab[1:], V=text, **{"is": _is(lab)})


def named_in_task(words: ToolWords, arguments: dict[str, Any], rng: random.Random, vague: bool,
                  skip: set[str]) -> tuple[ToolWords, set[str]]:
    """The task with the values it names put in its words ('fetch the capital city of a country' + Brazil ->
    'fetch the capital city of Brazil', 'the prime factors of a number' + 60 -> 'the prime factors of 60'),
    and the arguments now stated there. A value goes in where the task says 'a'/'an'/'the' and the parameter's
    label: a string of at most three words or an integer; two numbered siblings go where it says 'two ...s'
    ('the greatest common divisor of two integers' -> '... of 36 and 48', half the time)."""
    vp, np, stated = words.vp, words.np, set()
    for key, value in arguments.items():
        if key in skip or not (type(value) is int or (isinstance(value, str) and 0 < value.count(" ") + 1 <= 3)):
            continue
        param = words.param(key)
        slot = re.compile(rf"\b(?:a|an|the) {re.escape(param.label)}\b")
        if len(param.label) > 1 and slot.search(vp):
            text = value_text(value, param, rng, vague)
            vp = slot.sub(lambda _: text, vp, count=1)
            np = slot.sub(lambda _: text, np, count=1) if np else np
            stated.add(key)
    pair = _TWO_THINGS.search(vp)
    together = _siblings_together(words, [(k, v) for k, v in arguments.items() if k not in skip | stated], rng)
    keys = next(iter(together.values())) if len(together) == 1 else []
    if pair and len(keys) == 2:  # 'the greatest common divisor of two integers' -> '... of 36 and 48'
        text = join([value_text(arguments[key], words.param(key), rng, vague) for key in keys], rng)
        vp = vp[:pair.start()] + text + vp[pair.end():]
        np = np.replace(pair.group(0), text, 1) if np else np
        stated.update(keys)
    return (replace(words, vp=vp, np=np), stated) if stated else (words, stated)


_TWO_THINGS = re.compile(r"\b(?:the )?two [a-z]+s\b")
"""Where a task names the two things its numbered siblings are ('the greatest common divisor of two integers')."""


def scene(words: ToolWords, arguments: dict[str, Any], rng: random.Random, vague: bool, skip: set[str]) -> str | None:
    """The request as a scene (see ``SCENES``): the plain measures set up the thing the task is about, then the
    question names it again ('... of the circle'). None when the task names no such thing or no argument is a
    plain measure (a number with no preposition, count noun or one-letter name)."""
    found = _OBJECT.search(words.vp)
    if not found:
        return None
    measures, rest = [], {}
    for key, value in arguments.items():
        if key in skip:
            continue
        param = words.param(key)
        plain = type(value) in (int, float) and not param.preps and len(param.label) > 1 and \
            not (param.count_noun and type(value) is int) and param.label not in found.group(2)
        if plain:
            measures.append((key, value))
        else:
            rest[key] = value
    if not measures:
        return None
    if len(measures) > 1 and rng.random() < 0.5:
        rng.shuffle(measures)
    attrs = []
    for key, value in measures:
        param = words.param(key)
        form = "{L} of {V}" if _is(param.label) == "are" else "a {L} of {V}"
        attrs.append(_attribute(param, value, value_text(value, param, rng, vague), (form,), rng))
    described = join(attrs, rng)
    thing = f"{found.group(1)} {found.group(2)}"
    setup = rng.choice(SCENES).format(A=capitalise(thing), a=thing, attrs=described)
    named = found.group(0).replace(f" {found.group(1)} ", f" {rng.choice(('the', 'the', 'this', 'that'))} ", 1)
    vp = words.vp[: found.start()] + named + words.vp[found.end():]
    more = args_text(words, rest, rng, vague, set())
    if words.np and found.group(0) in words.np and not more and rng.random() < 0.5:
        question = frame(NP_FRAMES, rng=rng, clause=words.np.replace(found.group(0), named, 1))
    else:
        question = frame(FRAMES, rng=rng, clause=attach(vp, more))
    if setup.endswith(",") and question[:2] not in ("I ", "I'"):
        question = question[:1].lower() + question[1:]
    return f"{setup} {question}"
