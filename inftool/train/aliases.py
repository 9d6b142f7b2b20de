"""Tools offered under other names, for SFT.

A policy trained on a fixed catalog can learn each request's tool by heart and write its name without
reading the offered list: it then calls tools that are not offered (BFCL irrelevance) and cannot call a tool
it never saw. ``renamed`` rewrites a share of the training episodes so that every offered tool goes by
another name made of the same words: a verb swapped for a common synonym (``calculate`` / ``compute``,
``get`` / ``fetch``), the last two words swapped, another case style (``circleArea``, ``CircleArea``). The
list, the calls and the tool results all use the new name, so the name to write can only come from the
list, and "no listed tool fits" from reading it.

Parameters keep their names (the values bind to them). Deterministic: the choice of episodes and of names
follows the seed and the episode's place (iteration and index), not the run's id, so two runs of a recipe that
differ in training settings rename the same episodes alike.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Collection, Iterable
from typing import Any

VERBS = (("calculate", "compute", "calc", "determine", "estimate", "evaluate"),
         ("get", "fetch", "retrieve", "lookup", "query", "read"),
         ("find", "search", "locate", "lookup"),
         ("create", "make", "add", "new"),
         ("delete", "remove", "drop"),
         ("update", "set", "modify", "change"),
         ("list", "enumerate", "show"),
         ("analyze", "assess", "examine"),
         ("solve", "resolve"))
"""Verbs that API names are made of, each row interchangeable."""

_SYNONYMS = {verb: tuple(other for other in row if other != verb) for row in VERBS for verb in row}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def words(name: str) -> list[str]:
    """The lower-case words of a function name: snake_case, camelCase, dotted and digits split."""
    return [w.lower() for w in _WORD.findall(name)]


def alias(name: str, rng: random.Random, taken: Collection[str] = ()) -> str | None:
    """Another name for ``name`` from its own words, none of ``taken``; None when its words give no other."""
    parts = words(name)
    if not parts:
        return None
    for _ in range(8):
        new = list(parts)
        verb = next((j for j, word in enumerate(new) if word in _SYNONYMS), None)
        if verb is not None and rng.random() < 0.7:
            new[verb] = rng.choice(_SYNONYMS[new[verb]])
        if len(new) >= 2 and rng.random() < 0.3:
            new[-2], new[-1] = new[-1], new[-2]
        styles = ["snake", "snake", "camel", "pascal"]
        rng.shuffle(styles)
        for style in dict.fromkeys(styles):
            joined = ("_".join(new) if style == "snake" else
                      new[0] + "".join(w.capitalize() for w in new[1:]) if style == "camel" else
                      "".join(w.capitalize() for w in new))
            if joined != name and joined not in taken and _NAME.fullmatch(joined):
                return joined
    return None


def renamed(episodes: Iterable[dict[str, Any]], share: float, seed: int,
            reserved: Collection[str] = ()) -> list[dict[str, Any]]:
    """The episodes, ``share`` of them (by seed and place) with every offered tool under another name.
    ``reserved``: names no alias may take (the catalog's, so an alias never names another real tool)."""
    out = []
    for episode in episodes:
        rng = random.Random(f"{seed}:alias:{episode.get('iteration', 0)}:{episode.get('idx', 0)}")
        out.append(_rename(episode, rng, reserved) if share > 0 and rng.random() < share else episode)
    return out


def _rename(episode: dict[str, Any], rng: random.Random, reserved: Collection[str]) -> dict[str, Any]:
    names = [_function(tool)["name"] for tool in episode["tools"]]
    taken, mapping = set(reserved) | set(names), {}
    for name in names:
        new = alias(name, rng, taken)
        if new:
            mapping[name] = new
            taken.add(new)
    if not mapping:
        return episode
    episode = copy.deepcopy(episode)
    for tool in episode["tools"]:
        function = _function(tool)
        function["name"] = mapping.get(function["name"], function["name"])
    for message in episode["messages"]:
        for call in message.get("tool_calls") or []:
            call["function"]["name"] = mapping.get(call["function"]["name"], call["function"]["name"])
        if message.get("role") == "tool" and message.get("name"):
            message["name"] = mapping.get(message["name"], message["name"])
    return episode


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    return tool["function"] if "function" in tool else tool
