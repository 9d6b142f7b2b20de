"""The procedural User Simulator's language: natural first requests for a goal's calls, irrelevant
requests, clarifications, the turns of a goal of several turns, and the assistant's clarifying questions,
final answers and refusals.

Sentences are assembled from the tool's description (as a verb phrase, see ``wording``) and the
argument values, with many interchangeable frames, openings, closings, connectors and argument
layouts, so requests for one tool take many shapes. Every argument value appears in the text
(exactly, or loosely but recoverably when ``vague``; a flag in words, 'including area', 'without angles'),
except values the user must not state: the withheld argument of multi_turn goals and the linked arguments
of multi_step goals.
"""

from __future__ import annotations

import random
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.synth.language.parts import (
    CLOSINGS,
    FRAMES,
    NP_FRAMES,
    OPENINGS,
    PERSONA_INTROS,
    PLURAL_THEN,
    SEQUENCE,
    ToolWords,
    args_text,
    attach,
    capitalise,
    definite,
    finish,
    frame,
    named_in_task,
    scene,
    tool_words,
    without_object,
)
from inftool.synth.language.replies import Replies
from inftool.synth.language.turns import TurnWords
from inftool.synth.language.wording import join, label
from inftool.synth.values.sampler import ValueSampler

PERSONAS = [
    "a nurse finishing a night shift", "a small-business owner", "a graduate student on a deadline",
    "a retired teacher", "a software engineer on call", "a parent planning a family trip", "a freelance designer",
    "a high-school science teacher", "a travel agent", "a restaurant manager", "a personal-finance blogger",
    "a logistics coordinator", "a first-time home buyer", "a data analyst", "a sports journalist",
    "a museum volunteer", "a physiotherapist", "a startup founder", "a college athlete", "a busy accountant",
    "an amateur astronomer", "an event planner", "an IT support technician", "a real-estate agent",
    "a librarian", "a pharmacist", "a music producer", "a hobbyist gardener", "a consultant between flights",
    "a community organiser",
]


SAME = ("do the same for", "do the same with", "repeat it for", "the same again for")
ORDINALS = ("first", "second", "third", "fourth")
_COUNTS = {2: "two", 3: "three", 4: "four"}
_PREPOSITIONS = frozenset("with where using for from given at in on to into until through departing leaving heading "
                          "going matching returning starting".split())
NAMED_SHARE = 0.9
"""The share of single calls whose task takes the values it names in its own words (``parts.named_in_task``)."""
SCENE_SHARE = 0.3
"""The share of single-call requests set up as a scene where the task allows one (``parts.scene``)."""
DEFINITE_SHARE = 0.4
"""The share of single-call requests that ask about *the* thing their values describe (``parts.definite``)."""
UNNAMED_THING_SHARE = 0.25
"""The share of single-call requests that leave out the thing the task is about (``parts.without_object``)."""


_LOOKUP_VERBS = ("find ", "get ", "look up ")
"""Verbs of descriptions that people rarely say: they ask what the thing is ('What is the capital of ...?')."""


class Phraser(Replies, TurnWords):
    """Seeded, template-free-looking language for the procedural roles (all randomness from the caller's rng)."""

    PERSONAS = PERSONAS

    def __init__(self, seed: int = 0, values: ValueSampler | None = None):
        self.seed = seed
        self.values = values or ValueSampler(seed)
        self._words: dict[str, tuple[Any, ToolWords]] = {}

    def words(self, tool: Tool) -> ToolWords:
        entry = self._words.get(tool.name)
        if entry is None or entry[0] is not tool.parameters:
            entry = self._words[tool.name] = (tool.parameters, tool_words(tool))
        return entry[1]

    # --- requests -------------------------------------------------------------------------------

    def request(self, goal: Goal, tools: dict[str, Tool], rng: random.Random, *, persona: str = "",
                vague: bool = False) -> str:
        """The first user message asking for all of the goal's calls (see the module docstring)."""
        skip = {goal.withheld} if goal.withheld else set()
        if not goal.calls:  # nothing planned (irrelevance goals use irrelevant_request)
            return self._wrap(frame(FRAMES, "help me with something", rng), rng, persona)
        if len(goal.steps) > 1:
            body = self._steps(goal, tools, rng, vague, skip)
        else:
            body = self._one_step(goal.steps[0] if goal.steps else [], tools, rng, vague, skip)
        return self._wrap(body, rng, persona)

    def irrelevant_request(self, topic_tool: Tool, rng: random.Random, *, persona: str = "") -> str:
        """A natural request for what ``topic_tool`` does (a tool that is not offered), with plausible values."""
        call = Call(topic_tool.name, self.values.arguments(topic_tool, rng, optional_share=0.3))
        return self._wrap(self._one_step([call], {topic_tool.name: topic_tool}, rng, False, set()), rng, persona)

    def _one_step(self, calls: list[Call], tools: dict[str, Tool], rng: random.Random, vague: bool,
                  skip: set[str]) -> list[str] | str:
        groups: dict[str, list[Call]] = {}
        for call in calls:
            groups.setdefault(call.name, []).append(call)
        clauses = [self._group(self.words(tools[name]), group, rng, vague, skip) for name, group in groups.items()]
        if len(clauses) == 1 and len(calls) == 1:
            return self._framed_single(self.words(tools[calls[0].name]), calls[0], rng, vague, skip)
        return clauses

    def _framed_single(self, words: ToolWords, call: Call, rng: random.Random, vague: bool, skip: set[str]) -> str:
        named, skip = _named(words, call.arguments, rng, vague, skip)
        words = without_object(words) if named is words and rng.random() < UNNAMED_THING_SHARE else named
        if rng.random() < SCENE_SHARE:
            setup = scene(words, call.arguments, rng, vague, skip)
            if setup:
                return setup
        args = args_text(words, call.arguments, rng, vague, skip)
        if args and rng.random() < DEFINITE_SHARE:
            words = definite(words)
        if words.np and rng.random() < (0.8 if words.vp.startswith(_LOOKUP_VERBS) else 0.6):
            return frame(NP_FRAMES, rng=rng, clause=attach(words.np, args))
        if args and rng.random() < 0.15:  # details first, then the ask
            detail = args_text(words, call.arguments, rng, vague, skip, sentences=True)
            return f"{detail} {frame(FRAMES, rng=rng, clause=words.vp)}"
        return frame(FRAMES, rng=rng, clause=attach(words.vp, args))

    def _group(self, words: ToolWords, calls: list[Call], rng: random.Random, vague: bool, skip: set[str]) -> str:
        """One clause for one or more calls of the same tool, stating shared arguments once."""
        if len(calls) == 1:
            words, skip = _named(words, calls[0].arguments, rng, vague, skip)
            return attach(words.vp, args_text(words, calls[0].arguments, rng, vague, skip))
        first = calls[0].arguments
        shared = {k: v for k, v in first.items() if k not in skip and all(c.arguments.get(k, _MISSING) == v for c in calls[1:])}
        diffs = [args_text(words, {k: v for k, v in c.arguments.items() if k not in shared}, rng, vague, skip)
                 .lstrip(":,;- ") for c in calls]
        head = attach(words.vp, args_text(words, shared, rng, vague, skip))
        if not all(diffs):  # the same call more than once
            return f"{head} {'twice' if len(calls) == 2 else f'{len(calls)} times'}"
        style = rng.randrange(7)
        if style == 5:  # 'calculate X for A, then do the same for B'
            return f"{attach(head, diffs[0])}, then {rng.choice(SAME)} {join(diffs[1:], rng)}"
        if style == 6 and len(diffs) <= 4:  # 'calculate X: the first with A, the second with B'
            cases = (f"the {ORDINALS[i]} {d if d.split()[0] in _PREPOSITIONS else f'with {d}'}"
                     for i, d in enumerate(diffs))
            return f"{head} for {_COUNTS[len(diffs)]} cases: " + ", ".join(cases)
        if style == 0:
            return f"{head} for each of these: " + "; ".join(f"({i}) {d}" for i, d in enumerate(diffs, 1))
        if style == 1 and len(diffs) == 2:
            return f"{head} — once {diffs[0]} and once {diffs[1]}"
        if style == 2:
            return f"{attach(head, diffs[0])}, " + ", ".join(f"{rng.choice(PLURAL_THEN)} {d}" for d in diffs[1:])
        if style == 3:
            return attach(head, join(diffs, rng))
        return attach(head, diffs[0]) + "".join(f", and {attach(words.vp, d)}" for d in diffs[1:])

    def _steps(self, goal: Goal, tools: dict[str, Tool], rng: random.Random, vague: bool, skip: set[str]) -> str:
        """multi_step: the later steps' linked arguments are described by where they come from, not stated."""
        parts = []
        for index, step in enumerate(goal.steps):
            clauses = []
            for position, call in enumerate(step):
                linked = [lk for lk in goal.links if lk.to_step == index and lk.to_call == position]
                hidden = skip | {lk.argument for lk in linked}
                words = self.words(tools[call.name])
                clause = attach(words.vp, args_text(words, call.arguments, rng, vague, hidden))
                for link in linked:
                    clause += " " + rng.choice(SEQUENCE["source"]).format(f=_field_label(link.field))
                clauses.append(clause)
            parts.append(join(clauses, rng))
        style = rng.randrange(3)
        if style == 0:
            inline = parts[0] + "".join(f", {rng.choice(SEQUENCE['then'])} {p}" for p in parts[1:])
            return frame(FRAMES, rng=rng, clause=inline)
        if style == 1:
            return "First, " + parts[0] + ". " + " ".join(
                f"{capitalise(rng.choice(SEQUENCE['next']))} {p}." for p in parts[1:])
        goal_text = frame(FRAMES, rng=rng, clause=parts[-1])
        return f"{goal_text} {capitalise(rng.choice(SEQUENCE['prepare']))} {join(parts[:-1], rng)}."

    def _wrap(self, body: list[str] | str, rng: random.Random, persona: str) -> str:
        if isinstance(body, list):
            body = self._join_clauses(body, rng)
        pieces = []
        if rng.random() < 0.08:  # people mostly ask straight away: greetings, personas and thanks are the
            pieces.append(rng.choice(OPENINGS))  # exception (they were what gave synthetic requests away most)
        if persona and rng.random() < 0.06:
            pieces.append(rng.choice(PERSONA_INTROS).format(p=persona, P=capitalise(persona)))
        pieces.append(body)
        if rng.random() < 0.08:
            pieces.append(rng.choice(CLOSINGS))
        text = pieces[0]
        for piece in pieces[1:]:
            text += " " + (_lower_first(piece) if text.endswith(",") else piece)
        return finish(text, rng)

    def _join_clauses(self, clauses: list[str], rng: random.Random) -> str:
        if len(clauses) == 1:
            return frame(FRAMES, rng=rng, clause=clauses[0])
        style = rng.randrange(4)
        if style == 0:
            return frame(FRAMES, rng=rng, clause=join(clauses, rng, rng.choice(("and", "and also", "and then"))))
        if style == 1:
            rest = " ".join(capitalise(f"{rng.choice(SEQUENCE['also'])} {c}.") for c in clauses[1:])
            return f"{frame(FRAMES, rng=rng, clause=clauses[0])} {rest}"
        if style == 2:
            lead = rng.choice(("I need a few things:", "A couple of things, please:", "Here's what I need:",
                               f"{len(clauses)} things:" if len(clauses) > 2 else "Two things:"))
            return f"{lead} " + "; ".join(f"{i}) {c}" for i, c in enumerate(clauses, 1)) + "."
        count = len(clauses)
        ordinals = ["first,", "second,", "third,", "fourth,"][:count] if count <= 4 else \
            ["first,", *["then"] * (count - 2), "finally,"]
        return " ".join(capitalise(f"{o} {c}.") for o, c in zip(ordinals, clauses, strict=True))


_MISSING = object()


def _named(words: ToolWords, arguments: dict[str, Any], rng: random.Random, vague: bool,
           skip: set[str]) -> tuple[ToolWords, set[str]]:
    """For a ``NAMED_SHARE`` of single calls: the task with the values it names in its words, and the arguments
    left to state (``parts.named_in_task``)."""
    if rng.random() >= NAMED_SHARE:
        return words, skip
    words, stated = named_in_task(words, arguments, rng, vague, skip)
    return words, skip | stated


def _lower_first(text: str) -> str:
    """Lower-case a sentence start after 'Hello,' but keep 'I', 'I'm' and acronyms."""
    if (text[:2].isupper() and text[1:2].isalpha()) or text[:2] in ("I ", "I'"):
        return text
    return text[:1].lower() + text[1:]


def _field_label(field: str) -> str:
    return label(field.replace("]", "").split(".")[-1].split("[")[0])
