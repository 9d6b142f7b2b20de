"""The short turns around a request: the assistant's clarifying question, the user's clarification,
the assistant's final answer summarising results, and its refusal when no offered tool fits."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from inftool.catalog import Tool
from inftool.core.episode import Call, Goal
from inftool.synth.language.parts import ToolWords, capitalise
from inftool.synth.language.wording import ParamWords, base_verb, join, label, value_text
from inftool.synth.values.names import normalise, singular
from inftool.synth.values.rules import description_examples

_ACKS = ("Sure!", "Happy to help.", "Got it.", "I can do that.", "Okay.", "Of course.", "Sounds good.")
_ASKS = (
    "What {n} should I use?", "Could you tell me the {n}?", "Which {n} would you like?", "What's the {n}?",
    "Before I {vp}, I need the {n}. What is it?", "I just need one more detail: the {n}. What should it be?",
    "What {n} do you have in mind?", "Can you give me the {n}?", "Could you share the {n} so I can {vp}?",
    "To {vp}, I need to know the {n}. Could you provide it?", "Which {n} do you mean?",
)
_OPTIONS = ("Options are {o}.", "You can choose {o}.", "It can be {o}.", "(Choices: {o}.)")
_ANSWERS = ("It's {v}.", "The {L} is {v}.", "Oh, sorry: {v}.", "{v}.", "Use {v}.", "{Lc}: {v}, please.",
            "Let's go with {v}.", "Sorry, I forgot that: {v}.", "{v}, please.", "Make it {v}.", "Right, it's {v}.")
_MANY = ("{first} for the first one and {second} for the second.", "{all}, respectively.", "The {L}s are {all}.",
         "Use {all}, in that order.")
_SINGLE = ("Here's what I found: {s}.", "Done! {S}.", "All set: {s}.", "I got the following: {s}.",
           "The result: {s}.", "Here you go: {s}.", "Okay, {s}.", "That came back with {s}.", "{S}.")
_LEADS = ("Here's everything:", "Here are the results:", "Done.", "All done.", "Here's what came back:", "")
_ENDS = ("Let me know if you need anything else.", "Anything else I can help with?", "Hope that helps!", "",
         "Want me to do anything else with this?", "")
_REFUSALS = (
    "I'm sorry, but I can't help with that. The tools I have can only {a}.",
    "Unfortunately none of my available tools can do that; I can only {a}.",
    "That's outside what I can do here: my tools only let me {a}.",
    "I don't have a tool for that. What I can do is {a}.",
    "Sorry, I'm not able to do that with the tools available to me (they can {a}).",
)
_NOT_NOUN = re.compile(r"^(whether|if|optional|optionally|when|set|true|defaults?)\b", re.IGNORECASE)


class Replies:
    """Mixed into ``Phraser``, which provides ``words(tool)``: a tool's cached words."""

    words: Callable[[Tool], ToolWords]

    def clarifying_question(self, tool: Tool, parameter: str, rng: random.Random) -> str:
        """The assistant asks for a missing required parameter, in the words of its description."""
        words, param = self.words(tool), self.words(tool).param(parameter)
        question = rng.choice(_ASKS).format(n=_noun(param), vp=words.vp)
        if rng.random() < 0.4:
            question = f"{rng.choice(_ACKS)} {question}"
        if param.enum and rng.random() < 0.6:
            question += " " + rng.choice(_OPTIONS).format(o=join([str(e) for e in param.enum[:6]], rng, "or"))
        elif rng.random() < 0.3 and (examples := description_examples(param.description)):
            question += f" For example, {examples[0]}."
        return question

    def clarification(self, goal: Goal, tool: Tool, rng: random.Random) -> str:
        """The user's answer giving the withheld value (one per call that has it)."""
        name = goal.withheld or ""
        values = [c.arguments[name] for c in goal.calls if c.name == tool.name and name in c.arguments] or \
                 [c.arguments[name] for c in goal.calls if name in c.arguments]
        param = self.words(tool).param(name)
        texts = [value_text(v, param, rng, False) for v in values]
        lab = param.label
        if len(texts) <= 1:
            return rng.choice(_ANSWERS).format(v=texts[0] if texts else "whatever you think is best", L=lab,
                                               Lc=capitalise(lab))
        template = rng.choice(_MANY if len(texts) == 2 else _MANY[1:])
        return capitalise(template.format(first=texts[0], second=texts[-1], all=join(texts, rng), L=lab))

    def final_answer(self, goal: Goal, results: list[tuple[Call, Any]], rng: random.Random) -> str:
        """The assistant's closing message, summarising each result naturally."""
        if not results:
            return "I wasn't able to get any results for that."
        if len(results) == 1:
            summary = summarize(results[0][1])
            text = rng.choice(_SINGLE).format(s=summary, S=capitalise(summary))
        else:
            same_tool = len({call.name for call, _ in results}) == 1
            lines = [f"{capitalise(_about(call, same_tool))}: {summarize(result)}." for call, result in results]
            text = " ".join([rng.choice(_LEADS), *lines])
        return f"{text} {rng.choice(_ENDS)}".strip()

    def refusal(self, request: str, tools: list[Tool], rng: random.Random) -> str:
        """The assistant explains that none of the offered tools can do what was asked (no call)."""
        if not tools:
            return "I'm sorry, but I don't have any tools that can help with that."
        abilities = join([self.words(t).vp for t in tools[:3]], rng, "or")
        text = rng.choice(_REFUSALS).format(a=abilities)
        return text if rng.random() < 0.6 else f"{text} Is there something along those lines I can help with?"


def _noun(param: ParamWords) -> str:
    """The parameter as a noun phrase: its short description ('outbound travel date') or its label."""
    text = re.split(r",?\s*\(?(?:e\.g\.|for example|such as)|[;(]|\.\s|\.$", param.description.strip())[0].strip()
    text = re.sub(r"^(the|a|an)\s+", "", text, flags=re.IGNORECASE)
    words = text.split()
    if not words or len(words) > 7 or base_verb(words[0]) or _NOT_NOUN.match(text):
        return param.label
    return text if words[0][1:2].isupper() else text[:1].lower() + text[1:]


def _about(call: Call, same_tool: bool) -> str:
    if not same_tool:
        return call.name.replace("_", " ")
    scalars = [str(v) for v in call.arguments.values() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    return "for " + (" / ".join(scalars[:2]) if scalars else call.name.replace("_", " "))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def summarize(value: Any, depth: int = 0) -> str:
    """A result as a short phrase: 'result 25.0', '3 offers (first: flight ID FL1, total price 412.5)'."""
    if isinstance(value, dict):
        parts: list[str] = []
        for key, item in value.items():
            if len(parts) >= (4 if depth == 0 else 3):
                break
            if item is None:
                continue
            if not isinstance(item, (dict, list)):
                parts.append(f"{label(key)} {_scalar(item)}")
            elif depth == 0:
                parts.append(_nested(key, item))
        return ", ".join(parts) or "no details"
    if isinstance(value, list):
        return _nested("results", value)
    return _scalar(value)


def _nested(key: str, item: Any) -> str:
    if isinstance(item, dict):
        return f"{label(key)} ({summarize(item, 1)})"
    if not item:
        return f"no {label(key)}"
    if isinstance(item[0], dict):
        noun = label(key) if len(item) > 1 else label(singular(normalise(key)))
        return f"{len(item)} {noun} (first: {summarize(item[0], 1)})" if len(item) > 1 else f"1 {noun} ({summarize(item[0], 1)})"
    return f"{label(key)} {', '.join(_scalar(v) for v in item[:4])}"
